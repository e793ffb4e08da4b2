package localrun

import (
	"bytes"
	"context"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"time"

	"github.com/kgseller/kgseller/shared/config"
	"github.com/kgseller/kgseller/shared/endpoint"
	"github.com/kgseller/kgseller/shared/fakes/fakeidp"
	"github.com/kgseller/kgseller/shared/kgsign"
	"github.com/kgseller/kgseller/shared/kit/clientsecret"
	"github.com/kgseller/kgseller/shared/probe"
	"github.com/kgseller/kgseller/shared/sso"
	"github.com/kgseller/kgseller/shared/store"
)

// Local-run values of the Kit and SSO settings, used when the environment does not
// set them. They are fixed, published and therefore NOT secrets: they exist so that
// the local run works without setup, and must never be used anywhere else.
const (
	LocalDataKey    = "Y03dwbhTwJ3Q5IpLkPyfhwrg1zXKs5f69oEO1vepjQ4=" // KG_DATA_KEY
	LocalSessionKey = "4FtQrcnGJJmRBNmqCBDlBTJoOFxYVQgzLezHWJRaVp8=" // SSO_SESSION_KEY
	LocalAppID      = "local-app"                                    // SSO_APP_ID
)

// The demo tenant the fake unified login knows, pushed to the seller through the
// Kit interfaces the first time its login page is shown.
var localTenant = fakeidp.Tenant{
	ID: "local-tenant", Code: "local-demo", Name: "Local Demo Co.",
	ClientID: "local-client", ClientSecret: "local-client-secret-not-a-secret",
	Users: []fakeidp.User{
		{UserName: "alice", Name: "Alice Admin", Role: "admin", Email: "alice@example.com", OrgCode: "D001", OrgName: "Sales"},
		{UserName: "bob", Name: "Bob User", Role: "user", Email: "bob@example.com", OrgCode: "D002", OrgName: "Support"},
		// carol has an account at the auth centre but was never authorised by authSync:
		// the seller refuses her sign-in.
		{UserName: "carol", Name: "Carol Unauthorised", Role: "user", OrgCode: "D002", OrgName: "Support"},
	},
}

const localInstance = "local-demo-instance"

// kitSSO is the local run's part for the Kit and unified-login functions: their
// settings, the fake unified login at /fake-idp, and a demo application page at
// /sso-demo/app that shows the session.
type kitSSO struct {
	base   string
	logger *slog.Logger
	getenv func(string) string
	env    func(string) string
	pub    *rsa.PublicKey
	keyErr error

	mu     sync.Mutex
	seeded bool

	sessMu   sync.Mutex
	sessions *sso.Sessions // opened at the demo page's first request
}

func localKitSSO(addr string, getenv func(string) string, logger *slog.Logger) *kitSSO {
	return &kitSSO{base: "http://" + addr, getenv: getenv, logger: logger}
}

// addEnv sets the settings the functions need and the caller's environment lacks.
// Without KG_KIT_RSA_PRIVATE_KEY a fresh 3072-bit key is generated for this run.
func (k *kitSSO) addEnv(env []string) []string {
	def := func(name, value string) {
		if k.getenv(name) == "" {
			env = setEnv(env, name, value)
		}
	}
	def("KG_DATA_KEY", LocalDataKey)
	def("SSO_SESSION_KEY", LocalSessionKey)
	def("SSO_APP_ID", LocalAppID)
	def("SSO_APP_URL", k.base+"/sso-demo/app")
	def("SSO_LOGIN_URL", k.base+"/fake-idp/unified-login?ind=UNOP&appId={appId}")
	def("SSO_REDIRECT_URI", k.base+"/sso/callback")
	def("SSO_ALLOWED_REDIRECT_HOSTS", k.base[len("http://"):])
	def("SSO_ALLOW_HTTP", "true")
	if v := k.getenv("KG_KIT_RSA_PRIVATE_KEY"); v != "" {
		if key, err := clientsecret.ParsePrivateKey(v); err == nil {
			k.pub = &key.PublicKey
		} else {
			k.keyErr = fmt.Errorf("KG_KIT_RSA_PRIVATE_KEY: %w", err)
		}
	} else if key, err := clientsecret.Generate(clientsecret.MinBits); err != nil {
		k.keyErr = err
	} else if p, err := clientsecret.PrivatePEM(key); err != nil {
		k.keyErr = err
	} else {
		k.pub = &key.PublicKey
		env = setEnv(env, "KG_KIT_RSA_PRIVATE_KEY", base64.StdEncoding.EncodeToString(p))
	}
	k.env = envLookup(env)
	return env
}

// mount serves the fake unified login and the demo application page.
func (k *kitSSO) mount(mux *http.ServeMux) {
	idp := fakeidp.New(fakeidp.Options{
		Prefix: "/fake-idp", Tenants: []fakeidp.Tenant{localTenant},
		Apps:    map[string]string{k.env("SSO_APP_ID"): k.env("SSO_REDIRECT_URI")},
		Prepare: k.seed,
		Links: []fakeidp.Link{
			{Label: "Sign in to the demo application through the seller's /sso/login", URL: "/sso/login"},
			{Label: "The demo application (shows the session)", URL: "/sso-demo/app"},
		},
	})
	idp.Mount(mux)
	mux.HandleFunc("GET /sso-demo/app", k.demoApp)
	k.logger.Info("unified login (local fake)", "signIn", k.base+"/sso/login", "workbench", k.base+"/fake-idp/workbench",
		"users", "alice, bob (authorised), carol (not authorised)")
}

// close releases the demo page's database handle.
func (k *kitSSO) close() {
	k.sessMu.Lock()
	defer k.sessMu.Unlock()
	if k.sessions != nil {
		_ = k.sessions.Store.Close()
		k.sessions = nil
	}
}

// sessionReader opens the session reader the way a seller's application does: the
// session key and the database of the SSO functions.
func (k *kitSSO) sessionReader() (*sso.Sessions, error) {
	k.sessMu.Lock()
	defer k.sessMu.Unlock()
	if k.sessions != nil {
		return k.sessions, nil
	}
	st, err := store.Open(k.env("DB_DSN"), store.Options{MaxOpen: 2, MaxIdle: 1})
	if err != nil {
		return nil, err
	}
	r, err := sso.NewSessions(k.env("SSO_SESSION_KEY"), k.env("SSO_COOKIE_DOMAIN"), st)
	if err != nil {
		_ = st.Close()
		return nil, err
	}
	k.sessions = r
	return r, nil
}

// seed pushes the demo tenant, its application credential, departments and users
// through the real Kit functions, signed with the Kit key, exactly as the
// marketplace does when a buyer binds the application. It runs until it succeeds
// once.
func (k *kitSSO) seed(ctx context.Context) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.seeded {
		return nil
	}
	if k.pub == nil {
		return fmt.Errorf("no RSA key for applicationSync: %v", k.keyErr)
	}
	secret, err := clientsecret.EncryptWith(k.pub, localTenant.ClientSecret, clientsecret.JavaOAEP)
	if err != nil {
		return err
	}
	ts := time.Now().UTC().Add(8 * time.Hour).Format("20060102150405.000")
	ts = ts[:14] + ts[15:]
	common := map[string]any{"instanceId": localInstance, "tenantId": localTenant.ID, "testFlag": 1, "timeStamp": ts}
	with := func(extra map[string]any) map[string]any {
		m := map[string]any{}
		for k, v := range common {
			m[k] = v
		}
		for k, v := range extra {
			m[k] = v
		}
		return m
	}
	var users []map[string]any
	for _, u := range localTenant.Users[:2] {
		users = append(users, map[string]any{"userName": u.UserName, "name": u.Name, "orgCode": u.OrgCode, "role": u.Role,
			"enable": "true", "email": u.Email})
	}
	calls := []struct {
		path string
		body map[string]any
	}{
		{"tenantSync", with(map[string]any{"orderId": "LOCAL-DEMO-ORDER", "tenantCode": localTenant.Code, "name": localTenant.Name,
			"domainName": k.base + "/fake-idp", "flag": 1})},
		{"applicationSync", with(map[string]any{"appId": k.env("SSO_APP_ID"), "clientId": localTenant.ClientID, "clientSecret": secret, "flag": 1})},
		// The department list as the V2 example sends it: a string with unquoted keys.
		{"allOrgSync", with(map[string]any{"orgInfoList": `[{orgCode:"D001", orgName:"Sales"},{orgCode:"D002", orgName:"Support", parentCode:"D001"}]`, "flag": 1})},
		{"authSync", with(map[string]any{"appId": k.env("SSO_APP_ID"), "userList": users, "currentSyncTime": ts, "flag": 1})},
	}
	for _, c := range calls {
		if err := k.post(ctx, c.path, c.body); err != nil {
			return err
		}
	}
	k.seeded = true
	return nil
}

func (k *kitSSO) post(ctx context.Context, iface string, body map[string]any) error {
	raw, err := json.Marshal(body)
	if err != nil {
		return err
	}
	l := config.New(k.env)
	key := endpoint.LoadKeys(l, config.KeyKit).Primary()
	if err := l.Err(); err != nil {
		return err
	}
	nonce, ts := probe.NewNonce(), strconv.FormatInt(time.Now().UnixMilli(), 10)
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, k.base+"/produceAPI/v2/"+iface, bytes.NewReader(raw))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json;charset=utf8")
	req.Header.Set("x-sign", kgsign.KitSignature(key, nonce, ts, raw, l.Bool("KG_KIT_HASHED_PAYLOAD", false)))
	req.Header.Set("x-timestamp", ts)
	req.Header.Set("x-nonce", nonce)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("%s: %w", iface, err)
	}
	defer resp.Body.Close()
	answer, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<16))
	var r struct{ ResultCode, ResultMsg string }
	if err := json.Unmarshal(answer, &r); err != nil || r.ResultCode != "000000" {
		return fmt.Errorf("%s answered %d %s", iface, resp.StatusCode, answer)
	}
	return nil
}

var demoTmpl = template.Must(template.New("demo").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Demo application</title></head>
<body><h1>Demo application</h1>
{{with .}}<p id="who">Signed in as <strong>{{.Name}}</strong> ({{.UserName}}, {{.Role}}) of {{.TenantName}}.</p>
<p><a id="logout" href="/sso/logout?token={{.LogoutToken}}">Sign out</a></p>
{{else}}<p id="who">Not signed in.</p>
<p><a id="login" href="/sso/login">Sign in with the unified login</a></p>
<p><a id="workbench" href="/fake-idp/workbench">Open it from the marketplace workbench</a> (a sign-in this application did not start)</p>{{end}}
<p><small>This page stands in for the seller's application in the local run: it reads the session as an application does, from the cookie and the database.</small></p>
</body></html>
`))

// demoApp is the seller's application in the local run.
func (k *kitSSO) demoApp(w http.ResponseWriter, r *http.Request) {
	for name, v := range sso.SecurityHeaders() {
		w.Header().Set(name, v)
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	sessions, err := k.sessionReader()
	if err != nil {
		k.logger.Error("demo application: session reader", "err", err.Error())
		http.Error(w, "SSO_SESSION_KEY or DB_DSN is not usable", http.StatusInternalServerError)
		return
	}
	s, err := sessions.Session(r.Context(), r.Header.Get("Cookie"))
	switch {
	case err == nil && s.Stale(time.Now()):
		http.Redirect(w, r, "/sso/login?return="+url.QueryEscape(k.base+r.URL.RequestURI()), http.StatusFound)
		return
	case err != nil && !errors.Is(err, sso.ErrNoSession):
		k.logger.Error("demo application: reading the session", "err", err.Error())
		http.Error(w, "the session could not be checked", http.StatusServiceUnavailable)
		return
	}
	_ = demoTmpl.Execute(w, s)
}

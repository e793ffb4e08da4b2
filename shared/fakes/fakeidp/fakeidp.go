// Package fakeidp is a stand-in for the joint-operation unified login and a
// tenant's auth centre, for the local run and tests only: a login page that lets
// one pick a user, a marketplace workbench page that opens the application for a
// user without the seller's login (the callback gets code and tenant, no state),
// single-use authorization codes, the token endpoint
// (authorization_code and refresh_token grants, form-encoded), userinfo and logout,
// with the paths and answers of docs/protocol.md#unified-login. It keeps
// everything in memory and must never be deployed.
package fakeidp

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"html/template"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"sync"
	"time"
)

// User is an account of a tenant at the auth centre.
type User struct {
	UserName, Name, Email, Mobile, Role, OrgCode, OrgName string
}

// Tenant is an enterprise with its auth centre credential for the seller's app.
type Tenant struct {
	ID, Code, Name         string
	ClientID, ClientSecret string
	Users                  []User
}

// Options configure the fake.
type Options struct {
	// Prefix is the path the fake is served under, e.g. "/fake-idp"; a tenant's
	// domainName is then <origin><Prefix>.
	Prefix  string
	Tenants []Tenant
	// Apps maps a seller appId to its registered redirect URI (the /sso/callback).
	Apps map[string]string
	// AccessTTL is the access-token lifetime (default 2h, as documented).
	AccessTTL time.Duration
	// Now is the clock (default time.Now).
	Now func() time.Time
	// Prepare runs before the login page is shown; the local run uses it to push the
	// demo tenant to the seller through the Kit interfaces, as the marketplace would.
	Prepare func(ctx context.Context) error
	// Links are other pages worth opening, listed on the index page at Prefix
	// (the local run lists the seller's sign-in and demo application there).
	Links []Link
}

// Link is one entry of the index page.
type Link struct{ Label, URL string }

// IdP is the fake auth centre.
type IdP struct {
	o       Options
	mu      sync.Mutex
	codes   map[string]*grant
	access  map[string]*grant
	refresh map[string]*grant
	stats   Stats
}

// Stats counts what clients did, for tests.
type Stats struct {
	CodesIssued, CodeGrants, RefreshGrants, UserInfos, Logouts int
}

type grant struct {
	tenant   *Tenant
	user     *User
	appID    string
	redirect string
	expires  time.Time
}

// New builds the fake.
func New(o Options) *IdP {
	if o.AccessTTL <= 0 {
		o.AccessTTL = 2 * time.Hour
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	o.Prefix = strings.TrimRight(o.Prefix, "/")
	return &IdP{o: o, codes: map[string]*grant{}, access: map[string]*grant{}, refresh: map[string]*grant{}}
}

// Stats returns the counters.
func (p *IdP) Stats() Stats {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.stats
}

// Mount registers the fake's routes on mux under its prefix.
func (p *IdP) Mount(mux *http.ServeMux) {
	mux.HandleFunc("GET "+p.o.Prefix+"/{$}", p.index)
	if p.o.Prefix != "" {
		mux.HandleFunc("GET "+p.o.Prefix, p.index)
	}
	mux.HandleFunc("GET "+p.o.Prefix+"/unified-login", p.loginPage)
	mux.HandleFunc("POST "+p.o.Prefix+"/unified-login", p.loginSubmit)
	mux.HandleFunc("GET "+p.o.Prefix+"/workbench", p.workbench)
	mux.HandleFunc("POST "+p.o.Prefix+"/api/v1/oauth2/token", p.token)
	mux.HandleFunc("GET "+p.o.Prefix+"/api/v1/oauth2/userinfo", p.userinfo)
	mux.HandleFunc("GET "+p.o.Prefix+"/api/v1/logout", p.logout)
}

// Handler serves the fake alone.
func (p *IdP) Handler() http.Handler {
	mux := http.NewServeMux()
	p.Mount(mux)
	return mux
}

func headers(w http.ResponseWriter) {
	w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("X-Frame-Options", "DENY")
	w.Header().Set("Referrer-Policy", "no-referrer")
	w.Header().Set("Cache-Control", "no-store")
}

var loginTmpl = template.Must(template.New("login").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Unified login (local fake)</title>
<style>body{font-family:system-ui,sans-serif;max-width:40rem;margin:3rem auto;padding:0 1rem}button{margin:.2rem}</style></head>
<body><h1>Unified login</h1>
<p>Local stand-in for the KooGallery joint-operation unified login. Choose who signs in to application <code>{{.AppID}}</code>.</p>
{{range .Tenants}}<h2>{{.Name}}</h2>
<form method="post">
<input type="hidden" name="appId" value="{{$.AppID}}"><input type="hidden" name="state" value="{{$.State}}"><input type="hidden" name="tenant" value="{{.ID}}">
{{range .Users}}<button type="submit" name="userName" value="{{.UserName}}">{{.Name}} ({{.UserName}}, {{.Role}})</button>{{end}}
</form>{{end}}
</body></html>
`))

var workbenchTmpl = template.Must(template.New("workbench").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Marketplace workbench (local fake)</title>
<style>body{font-family:system-ui,sans-serif;max-width:40rem;margin:3rem auto;padding:0 1rem}button{margin:.2rem}</style></head>
<body><h1>Marketplace workbench</h1>
<p>Local stand-in for the KooGallery workbench, where a buyer's users open the applications their organisation bought, without the seller's login page: the seller's callback receives a code and the tenant, and no state.</p>
{{range $app := .Apps}}{{range $.Tenants}}<h2>{{.Name}}: open <code>{{$app}}</code></h2>
<form method="post" action="{{$.Action}}">
<input type="hidden" name="appId" value="{{$app}}"><input type="hidden" name="tenant" value="{{.ID}}">
{{range .Users}}<button type="submit" name="userName" value="{{.UserName}}">{{.Name}} ({{.UserName}}, {{.Role}})</button>{{end}}
</form>{{end}}{{end}}
</body></html>
`))

var indexTmpl = template.Must(template.New("index").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Unified login (local fake)</title>
<style>body{font-family:system-ui,sans-serif;max-width:40rem;margin:3rem auto;padding:0 1rem}</style></head>
<body><h1>Unified login (local fake)</h1>
<p>Local stand-in for the KooGallery joint-operation auth centre. What it offers:</p>
<ul>
<li><a id="workbench" href="{{.Prefix}}/workbench">Marketplace workbench</a>: open an application as one of the tenant's users (a sign-in the application did not start).</li>
<li><code>{{.Prefix}}/unified-login?appId=…</code>: the login page the seller's <code>/sso/login</code> sends a user to.</li>
<li><code>POST {{.Prefix}}/api/v1/oauth2/token</code>, <code>GET {{.Prefix}}/api/v1/oauth2/userinfo</code>, <code>GET {{.Prefix}}/api/v1/logout</code>: what the seller's SSO functions call.</li>
</ul>
{{with .Links}}<h2>Also open</h2>
<ul>{{range .}}<li><a href="{{.URL}}">{{.Label}}</a></li>{{end}}</ul>{{end}}
<h2>Applications</h2>
<ul>{{range .Apps}}<li><code>{{.}}</code> (<a href="{{$.Prefix}}/workbench?appId={{.}}">open from the workbench</a>)</li>{{end}}</ul>
<h2>Tenants and users</h2>
{{range .Tenants}}<h3>{{.Name}} (<code>{{.Code}}</code>)</h3>
<ul>{{range .Users}}<li>{{.Name}} ({{.UserName}}, {{.Role}})</li>{{end}}</ul>{{end}}
</body></html>
`))

var msgTmpl = template.Must(template.New("msg").Parse(`<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{{.}}</title></head><body><h1>{{.}}</h1></body></html>
`))

func message(w http.ResponseWriter, status int, msg string) {
	headers(w)
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_ = msgTmpl.Execute(w, msg)
}

func (p *IdP) loginPage(w http.ResponseWriter, r *http.Request) {
	appID := r.URL.Query().Get("appId")
	if _, ok := p.o.Apps[appID]; !ok {
		message(w, http.StatusBadRequest, "Unknown appId")
		return
	}
	if !p.prepare(w, r) {
		return
	}
	headers(w)
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	_ = loginTmpl.Execute(w, map[string]any{"AppID": appID, "State": r.URL.Query().Get("state"), "Tenants": p.o.Tenants})
}

// prepare runs Options.Prepare before a page is shown; false: it failed and the
// answer is written.
func (p *IdP) prepare(w http.ResponseWriter, r *http.Request) bool {
	if p.o.Prepare == nil {
		return true
	}
	if err := p.o.Prepare(r.Context()); err != nil {
		message(w, http.StatusBadGateway, "Preparing the demo tenant failed: "+err.Error())
		return false
	}
	return true
}

// workbench lists the users who may open each application (or the one named by
// appId); choosing one signs in at once, as the marketplace workbench does.
func (p *IdP) workbench(w http.ResponseWriter, r *http.Request) {
	var apps []string
	if appID := r.URL.Query().Get("appId"); appID != "" {
		if _, ok := p.o.Apps[appID]; !ok {
			message(w, http.StatusBadRequest, "Unknown appId")
			return
		}
		apps = []string{appID}
	} else {
		for appID := range p.o.Apps {
			apps = append(apps, appID)
		}
		sort.Strings(apps)
	}
	if !p.prepare(w, r) {
		return
	}
	headers(w)
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	_ = workbenchTmpl.Execute(w, map[string]any{"Apps": apps, "Tenants": p.o.Tenants, "Action": p.o.Prefix + "/unified-login"})
}

// index is the fake's home page: what it serves, and the applications, tenants
// and users it knows.
func (p *IdP) index(w http.ResponseWriter, r *http.Request) {
	apps := make([]string, 0, len(p.o.Apps))
	for appID := range p.o.Apps {
		apps = append(apps, appID)
	}
	sort.Strings(apps)
	headers(w)
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	_ = indexTmpl.Execute(w, map[string]any{"Prefix": p.o.Prefix, "Apps": apps, "Tenants": p.o.Tenants, "Links": p.o.Links})
}

func (p *IdP) find(tenantID, userName string) (*Tenant, *User) {
	for i := range p.o.Tenants {
		t := &p.o.Tenants[i]
		if t.ID != tenantID {
			continue
		}
		for j := range t.Users {
			if t.Users[j].UserName == userName {
				return t, &t.Users[j]
			}
		}
	}
	return nil, nil
}

func (p *IdP) loginSubmit(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		message(w, http.StatusBadRequest, "Bad form")
		return
	}
	appID := r.PostForm.Get("appId")
	redirect, ok := p.o.Apps[appID]
	if !ok {
		message(w, http.StatusBadRequest, "Unknown appId")
		return
	}
	t, u := p.find(r.PostForm.Get("tenant"), r.PostForm.Get("userName"))
	if u == nil {
		message(w, http.StatusBadRequest, "Unknown user")
		return
	}
	code := token()
	p.mu.Lock()
	p.codes[code] = &grant{tenant: t, user: u, appID: appID, redirect: redirect, expires: p.o.Now().Add(5 * time.Minute)}
	p.stats.CodesIssued++
	p.mu.Unlock()
	q := url.Values{"code": {code}, "tenant": {t.ID}}
	if st := r.PostForm.Get("state"); st != "" {
		q.Set("state", st)
	}
	sep := "?"
	if strings.Contains(redirect, "?") {
		sep = "&"
	}
	headers(w)
	http.Redirect(w, r, redirect+sep+q.Encode(), http.StatusFound)
}

func token() string {
	b := make([]byte, 20)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func jsonAnswer(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json;charset=UTF-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func oauthError(w http.ResponseWriter, status int, code, desc string) {
	jsonAnswer(w, status, map[string]string{"error": code, "error_description": desc})
}

func equal(a, b string) bool { return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1 }

func (p *IdP) token(w http.ResponseWriter, r *http.Request) {
	if !strings.HasPrefix(r.Header.Get("Content-Type"), "application/x-www-form-urlencoded") {
		oauthError(w, http.StatusBadRequest, "invalid_request", "form-encoded body required")
		return
	}
	if err := r.ParseForm(); err != nil {
		oauthError(w, http.StatusBadRequest, "invalid_request", "bad form")
		return
	}
	f := r.PostForm
	now := p.o.Now()
	p.mu.Lock()
	defer p.mu.Unlock()
	var g *grant
	switch f.Get("grant_type") {
	case "authorization_code":
		code := f.Get("code")
		g = p.codes[code]
		// Single use: the first exchange consumes the code, whatever its outcome.
		delete(p.codes, code)
		if g == nil || now.After(g.expires) {
			oauthError(w, http.StatusBadRequest, "invalid_grant", "Invalid authorization code")
			return
		}
		if ru := f.Get("redirect_uri"); ru != "" && ru != g.redirect {
			oauthError(w, http.StatusBadRequest, "invalid_grant", "Redirect URI mismatch")
			return
		}
	case "refresh_token":
		g = p.refresh[f.Get("refresh_token")]
		if g == nil || now.After(g.expires) {
			oauthError(w, http.StatusBadRequest, "invalid_grant", "Invalid refresh token")
			return
		}
	default:
		oauthError(w, http.StatusBadRequest, "unsupported_grant_type", "Unsupported grant type")
		return
	}
	if !equal(f.Get("client_id"), g.tenant.ClientID) || !equal(f.Get("client_secret"), g.tenant.ClientSecret) {
		oauthError(w, http.StatusUnauthorized, "invalid_client", "Bad client credentials")
		return
	}
	if f.Get("grant_type") == "refresh_token" {
		p.stats.RefreshGrants++
	} else {
		p.stats.CodeGrants++
	}
	access := token()
	p.access[access] = &grant{tenant: g.tenant, user: g.user, appID: g.appID, expires: now.Add(p.o.AccessTTL)}
	refresh := f.Get("refresh_token")
	if refresh == "" {
		refresh = token()
		p.refresh[refresh] = &grant{tenant: g.tenant, user: g.user, appID: g.appID, expires: now.Add(30 * 24 * time.Hour)}
	}
	jsonAnswer(w, http.StatusOK, map[string]any{
		"access_token": access, "token_type": "Bearer", "expires_in": int(p.o.AccessTTL / time.Second),
		"scope": "get_user_info", "refresh_token": refresh,
	})
}

func (p *IdP) userinfo(w http.ResponseWriter, r *http.Request) {
	auth := r.Header.Get("Authorization")
	tok, ok := strings.CutPrefix(auth, "Bearer ")
	p.mu.Lock()
	g := p.access[tok]
	if ok && g != nil && p.o.Now().Before(g.expires) {
		p.stats.UserInfos++
	} else {
		g = nil
	}
	p.mu.Unlock()
	if g == nil {
		oauthError(w, http.StatusUnauthorized, "invalid_token", "Invalid access token")
		return
	}
	u := g.user
	jsonAnswer(w, http.StatusOK, map[string]string{
		"id": "id-" + u.UserName, "userName": u.UserName, "name": u.Name, "email": u.Email, "mobile": u.Mobile,
		"role": u.Role, "organizationName": u.OrgName, "organizationCode": u.OrgCode, "userId": "uid-" + u.UserName,
		"projectName": g.tenant.Name, "tenant": g.tenant.ID,
	})
}

// RevokeRefreshTokens makes every refresh token invalid (tests of invalid_grant).
func (p *IdP) RevokeRefreshTokens() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.refresh = map[string]*grant{}
}

func (p *IdP) logout(w http.ResponseWriter, r *http.Request) {
	p.mu.Lock()
	p.stats.Logouts++
	p.mu.Unlock()
	target := r.URL.Query().Get("redirect_url")
	if u, err := url.Parse(target); err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != "" {
		headers(w)
		http.Redirect(w, r, u.String(), http.StatusFound)
		return
	}
	message(w, http.StatusOK, "Signed out")
}

package sso_test

import (
	"context"
	"fmt"
	"github.com/kgseller/kgseller/shared/tools/logbuf"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/kgseller/kgseller/shared/endpoint"
	"github.com/kgseller/kgseller/shared/fakes/fakeidp"
	"github.com/kgseller/kgseller/shared/fgruntime"
	"github.com/kgseller/kgseller/shared/kgsign"
	"github.com/kgseller/kgseller/shared/kit"
	"github.com/kgseller/kgseller/shared/marketplace"
	"github.com/kgseller/kgseller/shared/probe"
	"github.com/kgseller/kgseller/shared/secretbox"
	"github.com/kgseller/kgseller/shared/sso"
	"github.com/kgseller/kgseller/shared/store"
	"github.com/kgseller/kgseller/shared/tools/dbtest"
)

const (
	appURL   = "https://app.example.com/home"
	callback = "https://api.example.com/sso/callback"
)

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

type env struct {
	t      *testing.T
	svc    *sso.Service
	idp    *fakeidp.IdP
	idpSrv *httptest.Server
	st     *store.Store
	box    *secretbox.Box
	clock  *clock
	dsn    string
	logs   *logbuf.Buffer
	kit    map[string]fgruntime.Handler
	nonce  int
}

// newEnv wires the SSO service to a fake auth centre over TLS and a fresh database
// holding what the Kit calls would have stored.
func newEnv(t *testing.T) *env {
	t.Helper()
	c := &clock{t: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}
	tenant := fakeidp.Tenant{ID: "t-1", Code: "acme", Name: "ACME", ClientID: "client-1", ClientSecret: "s3cret-value",
		Users: []fakeidp.User{
			{UserName: "alice", Name: "Alice", Role: "admin"}, {UserName: "bob", Name: "Bob"},
			{UserName: "carol", Name: "Carol"}, {UserName: "dave", Name: "Dave"}, {UserName: "erin", Name: "Erin"},
		}}
	idp := fakeidp.New(fakeidp.Options{Prefix: "/idp", Tenants: []fakeidp.Tenant{tenant}, Apps: map[string]string{"app-1": callback}, Now: c.now})
	srv := httptest.NewTLSServer(idp.Handler())
	t.Cleanup(srv.Close)

	raw, dsn := dbtest.Open(t)
	// One clock for the service and the database, so sessions age with the test.
	st := raw.WithClock(c.now)
	dataKey, _ := secretbox.NewKey()
	box, _ := secretbox.New(dataKey)
	ctx := context.Background()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(st.UpsertKitTenant(ctx, store.KitTenant{InstanceID: "inst-1", TenantID: "t-1", TenantCode: "acme", Name: "ACME", DomainName: srv.URL + "/idp"}))
	sealed, _ := box.Seal("s3cret-value", marketplace.KitSecretContext("inst-1", "t-1", "app-1"))
	must(st.UpsertKitApp(ctx, store.KitApp{InstanceID: "inst-1", TenantID: "t-1", AppID: "app-1", ClientID: "client-1", SealedSecret: sealed}))
	must(st.UpsertKitUsers(ctx, []store.KitUser{
		{InstanceID: "inst-1", TenantID: "t-1", AppID: "app-1", UserName: "alice", Name: "Alice", Role: "admin", Enabled: true},
		{InstanceID: "inst-1", TenantID: "t-1", AppID: "app-1", UserName: "carol", Name: "Carol", Role: "user", Enabled: true},
		{InstanceID: "inst-1", TenantID: "t-1", AppID: "app-1", UserName: "dave", Name: "Dave", Role: "user", Enabled: false},
		{InstanceID: "inst-1", TenantID: "t-1", AppID: "app-1", UserName: "erin", Name: "Erin", Role: "user", Enabled: true},
	}, store.KitUsersAdd))
	must(st.RevokeKitUsers(ctx, "inst-1", "t-1", "app-1", []string{"carol"}))

	sessionKey, _ := secretbox.NewKey()
	cookies, err := sso.NewCookies(sessionKey, "")
	must(err)
	app, _ := url.Parse(appURL)
	svc := &sso.Service{
		Config: sso.Config{
			AppID: "app-1", AppURL: app, LoginURL: "https://login.example.com/unified-login/#/portal-login?ind=UNOP&appId={appId}",
			RedirectURI: callback, SessionTTL: 8 * time.Hour,
			Redirects: sso.Redirects{Hosts: []string{"app.example.com", "docs.example.com"}, Base: app},
		},
		Store: st, Box: box, Cookies: cookies, HTTP: srv.Client(), Now: c.now,
	}
	logs := &logbuf.Buffer{}
	svc.Logger = slog.New(slog.NewJSONHandler(logs, nil))
	svc.HTTP.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	svc.HTTP.Timeout = 5 * time.Second
	e := &env{t: t, svc: svc, idp: idp, idpSrv: srv, st: st, box: box, clock: c, dsn: dsn, logs: logs, kit: map[string]fgruntime.Handler{}}
	// The Kit sync functions as deployed, over the same database and clock.
	ks := &kit.Service{Store: st, Box: box}
	for name, dec := range map[string]endpoint.Decoder{"tenantSync": ks.DecodeTenantSync, "authSync": ks.DecodeAuthSync} {
		e.kit[name] = endpoint.Handler(endpoint.Config{Scope: "kit", Scheme: endpoint.KitHeaders,
			Verifier: &kgsign.Verifier{Keys: kgsign.MustKeySet(kitKey), Now: c.now}, Nonces: st, Decode: dec,
			Logger: slog.New(slog.NewJSONHandler(io.Discard, nil))})
	}
	return e
}

const kitKey = "sso-test-kit-key"

// kitSync sends a correctly signed Kit call, as the marketplace does, and requires
// success.
func (e *env) kitSync(iface, body string) {
	e.t.Helper()
	e.nonce++
	nonce, ts := fmt.Sprintf("n-%d", e.nonce), strconv.FormatInt(e.clock.now().UnixMilli(), 10)
	req := events.APIGatewayProxyRequest{HTTPMethod: "POST", Path: "/produceAPI/v2/" + iface, Body: body,
		Headers: map[string]string{"content-type": "application/json", "x-nonce": nonce, "x-timestamp": ts,
			"x-sign": kgsign.KitSignature(kgsign.NewKey([]byte(kitKey), "t"), nonce, ts, []byte(body), false)}}
	resp, err := e.kit[iface](context.Background(), req)
	if err != nil {
		e.t.Fatal(err)
	}
	m, err := probe.CheckEvent(resp, kgsign.NewKey([]byte(kitKey), "t"))
	if err != nil || m["resultCode"] != "000000" {
		e.t.Fatalf("%s %s: %v %v", iface, body, m, err)
	}
}

func get(p string, query map[string]string, cookie string) events.APIGatewayProxyRequest {
	req := events.APIGatewayProxyRequest{HTTPMethod: "GET", Path: p, QueryStringParameters: query, Headers: map[string]string{}}
	req.RequestContext.RequestID = "req-1"
	if cookie != "" {
		req.Headers["cookie"] = cookie
	}
	return req
}

func (e *env) call(h func() func(context.Context, events.APIGatewayProxyRequest) (events.APIGatewayProxyResponse, error), req events.APIGatewayProxyRequest) events.APIGatewayProxyResponse {
	e.t.Helper()
	resp, err := h()(context.Background(), req)
	if err != nil {
		e.t.Fatal(err)
	}
	checkHeaders(e.t, resp)
	return resp
}

func (e *env) login(query map[string]string, cookie string) events.APIGatewayProxyResponse {
	return e.call(func() func(context.Context, events.APIGatewayProxyRequest) (events.APIGatewayProxyResponse, error) {
		return e.svc.LoginHandler()
	}, get("/sso/login", query, cookie))
}

func (e *env) callback(query map[string]string, cookie string) events.APIGatewayProxyResponse {
	return e.call(func() func(context.Context, events.APIGatewayProxyRequest) (events.APIGatewayProxyResponse, error) {
		return e.svc.CallbackHandler()
	}, get("/sso/callback", query, cookie))
}

func (e *env) logout(query map[string]string, cookie string) events.APIGatewayProxyResponse {
	return e.call(func() func(context.Context, events.APIGatewayProxyRequest) (events.APIGatewayProxyResponse, error) {
		return e.svc.LogoutHandler()
	}, get("/sso/logout", query, cookie))
}

// checkHeaders: every answer, page or redirect, carries the browser hardening.
func checkHeaders(t *testing.T, resp events.APIGatewayProxyResponse) {
	t.Helper()
	h := resp.Headers
	csp := h["Content-Security-Policy"]
	for _, want := range []string{"default-src 'none'", "frame-ancestors 'none'", "base-uri 'none'"} {
		if !strings.Contains(csp, want) {
			t.Fatalf("CSP %q lacks %q", csp, want)
		}
	}
	for k, want := range map[string]string{
		"Strict-Transport-Security": "max-age=", "X-Content-Type-Options": "nosniff", "X-Frame-Options": "DENY",
		"Referrer-Policy": "no-referrer", "Cache-Control": "no-store", "Content-Type": "text/html; charset=utf-8",
	} {
		if !strings.Contains(h[k], want) {
			t.Fatalf("header %s = %q, want %q (status %d)", k, h[k], want, resp.StatusCode)
		}
	}
	if strings.Contains(resp.Body, "goroutine") || strings.Contains(resp.Body, ".go:") {
		t.Fatalf("answer shows internals: %s", resp.Body)
	}
}

// cookieOf returns "name=value" of the answer's cookie and checks its flags.
func cookieOf(t *testing.T, resp events.APIGatewayProxyResponse) (string, *http.Cookie) {
	t.Helper()
	raw := resp.Headers["Set-Cookie"]
	if raw == "" {
		t.Fatalf("no Set-Cookie in %d answer", resp.StatusCode)
	}
	c, err := http.ParseSetCookie(raw)
	if err != nil {
		t.Fatal(err)
	}
	if !c.HttpOnly || !c.Secure || c.SameSite != http.SameSiteLaxMode || c.Path != "/" || !strings.HasPrefix(c.Name, "__Host-") || c.Domain != "" {
		t.Fatalf("cookie flags: %q", raw)
	}
	return c.Name + "=" + c.Value, c
}

// idpLogin plays the browser at the fake unified login: sign in as user with the
// state the login redirect carried, and return the callback query.
func (e *env) idpLogin(loginLocation, user string) map[string]string {
	e.t.Helper()
	u, err := url.Parse(loginLocation)
	if err != nil {
		e.t.Fatal(err)
	}
	// The state travels inside the fragment of the unified-login URL.
	frag, _ := url.Parse(u.Fragment)
	state := frag.Query().Get("state")
	if frag.Query().Get("appId") != "app-1" || frag.Query().Get("ind") != "UNOP" || state == "" {
		e.t.Fatalf("login URL %s", loginLocation)
	}
	resp, err := e.svc.HTTP.PostForm(e.idpSrv.URL+"/idp/unified-login", url.Values{"appId": {"app-1"}, "state": {state}, "tenant": {"t-1"}, "userName": {user}})
	if err != nil {
		e.t.Fatal(err)
	}
	resp.Body.Close()
	loc, err := url.Parse(resp.Header.Get("Location"))
	if err != nil || !strings.HasPrefix(loc.String(), callback) {
		e.t.Fatalf("IdP redirected to %q", resp.Header.Get("Location"))
	}
	q := map[string]string{}
	for k, v := range loc.Query() {
		q[k] = v[0]
	}
	return q
}

// signIn runs login ⇒ IdP ⇒ callback and returns the callback's answer and the
// query it was given.
func (e *env) signIn(user string, loginQuery map[string]string) (events.APIGatewayProxyResponse, map[string]string, string) {
	e.t.Helper()
	l := e.login(loginQuery, "")
	if l.StatusCode != 302 {
		e.t.Fatalf("login answered %d: %s", l.StatusCode, l.Body)
	}
	state, _ := cookieOf(e.t, l)
	q := e.idpLogin(l.Headers["Location"], user)
	return e.callback(q, state), q, state
}

func TestSignInAndOut(t *testing.T) {
	e := newEnv(t)
	cb, _, _ := e.signIn("alice", map[string]string{"return": "/reports?x=1"})
	if cb.StatusCode != 302 || cb.Headers["Location"] != "https://app.example.com/reports?x=1" {
		t.Fatalf("callback answered %d to %q: %s", cb.StatusCode, cb.Headers["Location"], cb.Body)
	}
	session, c := cookieOf(t, cb)
	if c.MaxAge != int((8 * time.Hour).Seconds()) {
		t.Fatalf("session cookie Max-Age %d", c.MaxAge)
	}
	s, err := e.appSession(session)
	if err != nil {
		t.Fatal(err)
	}
	if s.UserName != "alice" || s.Role != "admin" || s.TenantID != "t-1" || s.InstanceID != "inst-1" || s.RefreshToken == "" || s.Stale(e.clock.now()) {
		t.Fatalf("session %+v", s)
	}
	if strings.Contains(session, "alice") || strings.Contains(session, s.RefreshToken) {
		t.Fatal("the session cookie is readable without the key")
	}
	// A signed-in user visiting /sso/login goes straight to the app.
	again := e.login(nil, session)
	if again.StatusCode != 302 || again.Headers["Location"] != appURL || again.Headers["Set-Cookie"] != "" {
		t.Fatalf("login with a session: %d %q", again.StatusCode, again.Headers["Location"])
	}
	out := e.logoutReq(map[string]string{"redirect_url": "https://docs.example.com/bye"}, session, "same-origin")
	want := e.idpSrv.URL + "/idp/api/v1/logout?redirect_url=" + url.QueryEscape("https://docs.example.com/bye")
	if out.StatusCode != 302 || out.Headers["Location"] != want {
		t.Fatalf("logout to %q, want %q", out.Headers["Location"], want)
	}
	if _, c := cookieOf(t, out); c.MaxAge >= 0 || c.Value != "" {
		t.Fatalf("logout did not clear the cookie: %+v", c)
	}
	// Without a session, logout goes straight to the default page.
	if out := e.logout(nil, ""); out.Headers["Location"] != appURL {
		t.Fatalf("logout without a session went to %q", out.Headers["Location"])
	}
}

// A pending sign-in and a state, when both are there, must match.
func TestStateMismatch(t *testing.T) {
	e := newEnv(t)
	l := e.login(map[string]string{"return": "/started"}, "")
	state, _ := cookieOf(t, l)
	q := e.idpLogin(l.Headers["Location"], "alice")
	// Another browser's pending sign-in, a different state.
	other, _ := cookieOf(t, e.login(nil, ""))
	wrong := map[string]string{"code": q["code"], "tenant": q["tenant"], "state": "forged"}
	for name, c := range map[string]struct {
		q      map[string]string
		cookie string
	}{"other browser": {q, other}, "forged state": {wrong, state}} {
		resp := e.callback(c.q, c.cookie)
		if resp.StatusCode != 400 || !strings.Contains(resp.Body, "state mismatch") {
			t.Errorf("%s: %d %s", name, resp.StatusCode, resp.Body)
		}
		if _, ck := cookieOf(t, resp); ck.MaxAge >= 0 {
			t.Errorf("%s: the pending sign-in was not cleared", name)
		}
	}
	// The code was never exchanged, so the genuine callback still works.
	if resp := e.callback(q, state); resp.StatusCode != 302 || resp.Headers["Location"] != "https://app.example.com/started" {
		t.Fatalf("genuine callback: %d %q %s", resp.StatusCode, resp.Headers["Location"], resp.Body)
	}
	if logs := e.logs.String(); !strings.Contains(logs, `"initiated":"seller, state verified"`) {
		t.Fatalf("log: %s", logs)
	}
	// A pending sign-in older than 10 minutes is no pending sign-in: the callback is
	// taken as unsolicited and goes to the application's start page.
	l = e.login(map[string]string{"return": "/started"}, "")
	state, _ = cookieOf(t, l)
	e.clock.add(11 * time.Minute) // at the unified login
	q = e.idpLogin(l.Headers["Location"], "alice")
	if resp := e.callback(q, state); resp.StatusCode != 302 || resp.Headers["Location"] != appURL {
		t.Fatalf("expired sign-in: %d %q", resp.StatusCode, resp.Headers["Location"])
	}
}

func TestInvalidGrant(t *testing.T) {
	e := newEnv(t)
	l := e.login(nil, "")
	state, _ := cookieOf(t, l)
	q := e.idpLogin(l.Headers["Location"], "alice")
	if resp := e.callback(q, state); resp.StatusCode != 302 {
		t.Fatalf("first use: %d", resp.StatusCode)
	}
	// The browser replays the callback (back button): the code is spent.
	resp := e.callback(q, state)
	if resp.StatusCode != 400 || !strings.Contains(resp.Body, "invalid_grant") || !strings.Contains(resp.Body, `href="/sso/login"`) {
		t.Fatalf("reused code: %d %s", resp.StatusCode, resp.Body)
	}
	q["code"] = "made-up"
	if resp := e.callback(q, state); resp.StatusCode != 400 || !strings.Contains(resp.Body, "invalid_grant") {
		t.Fatalf("unknown code: %d", resp.StatusCode)
	}
}

func TestUnknownTenantAndUnauthorisedUsers(t *testing.T) {
	e := newEnv(t)
	l := e.login(nil, "")
	state, _ := cookieOf(t, l)
	q := e.idpLogin(l.Headers["Location"], "alice")
	q["tenant"] = "t-unknown"
	resp := e.callback(q, state)
	if resp.StatusCode != 403 || !strings.Contains(resp.Body, "not been set up") {
		t.Fatalf("unknown tenant: %d %s", resp.StatusCode, resp.Body)
	}
	for _, user := range []string{"bob", "carol", "dave"} { // not synced, revoked (flag 3), disabled
		cb, _, _ := e.signIn(user, nil)
		if cb.StatusCode != 403 || !strings.Contains(cb.Body, "not authorised") {
			t.Errorf("%s: %d %s", user, cb.StatusCode, cb.Body)
		}
	}
	// The tenant code works as well as the tenant ID.
	l = e.login(nil, "")
	state, _ = cookieOf(t, l)
	q = e.idpLogin(l.Headers["Location"], "alice")
	q["tenant"] = "acme"
	if resp := e.callback(q, state); resp.StatusCode != 302 {
		t.Fatalf("tenant code: %d %s", resp.StatusCode, resp.Body)
	}
}

func TestWrongClientSecret(t *testing.T) {
	e := newEnv(t)
	sealed, _ := e.box.Seal("not-the-secret", marketplace.KitSecretContext("inst-1", "t-1", "app-1"))
	if err := e.st.UpsertKitApp(context.Background(), store.KitApp{InstanceID: "inst-1", TenantID: "t-1", AppID: "app-1", ClientID: "client-1", SealedSecret: sealed}); err != nil {
		t.Fatal(err)
	}
	cb, _, _ := e.signIn("alice", nil)
	if cb.StatusCode != 502 || strings.Contains(cb.Body, "not-the-secret") {
		t.Fatalf("invalid_client: %d %s", cb.StatusCode, cb.Body)
	}
}

func TestHTTPAuthCentreRefusedInProduction(t *testing.T) {
	e := newEnv(t)
	if err := e.st.ModifyKitTenant(context.Background(), store.KitTenant{InstanceID: "inst-1", TenantID: "t-1", TenantCode: "acme", Name: "ACME",
		DomainName: strings.Replace(e.idpSrv.URL, "https://", "http://", 1) + "/idp"}); err != nil {
		t.Fatal(err)
	}
	cb, _, _ := e.signIn("alice", nil)
	if cb.StatusCode != 500 || e.idp.Stats().CodeGrants != 0 {
		t.Fatalf("http token endpoint used: %d, %d grants", cb.StatusCode, e.idp.Stats().CodeGrants)
	}
}

func TestOpenRedirectAttempts(t *testing.T) {
	e := newEnv(t)
	attempts := []string{
		"https://evil.example.com/", "//evil.example.com", "///evil.example.com", "/\\evil.example.com", "\\\\evil.example.com",
		"https://app.example.com@evil.example.com/", "https://app.example.com.evil.example.com/", "javascript:alert(1)",
		"http://app.example.com/", "https:evil.example.com", "data:text/html,<script>alert(1)</script>", " //evil.example.com",
		"/\t/evil.example.com", "https://evil.example.com/?https://app.example.com", "ftp://app.example.com/",
	}
	for _, a := range attempts {
		if resp := e.login(map[string]string{"return": a}, ""); resp.StatusCode != 400 || resp.Headers["Location"] != "" || resp.Headers["Set-Cookie"] != "" {
			t.Errorf("login return %q: %d %q", a, resp.StatusCode, resp.Headers["Location"])
		}
		if resp := e.logout(map[string]string{"redirect_url": a}, ""); resp.StatusCode != 400 || resp.Headers["Location"] != "" {
			t.Errorf("logout redirect_url %q: %d %q", a, resp.StatusCode, resp.Headers["Location"])
		}
	}
	for _, ok := range []string{"https://app.example.com/x", "/x?y=1", "https://APP.example.com:443/x", "https://docs.example.com/"} {
		if _, allowed := e.svc.Redirects.Check(ok); !allowed {
			t.Errorf("%q refused", ok)
		}
	}
}

func TestRefreshToken(t *testing.T) {
	e := newEnv(t)
	cb, _, _ := e.signIn("alice", nil)
	session, _ := cookieOf(t, cb)
	// Past the access token's 2 hours the session is stale; /sso/login renews it with
	// the refresh token, without a trip through the unified login.
	e.clock.add(3 * time.Hour)
	if s, _ := e.appSession(session); s == nil || !s.Stale(e.clock.now()) {
		t.Fatal("session not stale after 3 hours")
	}
	resp := e.login(map[string]string{"return": "https://app.example.com/back"}, session)
	if resp.StatusCode != 302 || resp.Headers["Location"] != "https://app.example.com/back" || e.idp.Stats().RefreshGrants != 1 {
		t.Fatalf("refresh: %d %q, %d refresh grants", resp.StatusCode, resp.Headers["Location"], e.idp.Stats().RefreshGrants)
	}
	renewed, _ := cookieOf(t, resp)
	if s, err := e.appSession(renewed); err != nil || s.Stale(e.clock.now()) || s.UserName != "alice" {
		t.Fatalf("renewed session %+v %v", s, err)
	}
	// A refused refresh token (invalid_grant) means a fresh sign-in.
	e.clock.add(3 * time.Hour)
	e.idp.RevokeRefreshTokens()
	resp = e.login(nil, renewed)
	if resp.StatusCode != 302 || !strings.HasPrefix(resp.Headers["Location"], "https://login.example.com/") {
		t.Fatalf("after invalid_grant on refresh: %d %q", resp.StatusCode, resp.Headers["Location"])
	}
	// A user revoked since sign-in is not renewed: /sso/login starts a fresh
	// sign-in, and the pending sign-in replaces the session in the cookie.
	cb, _, _ = e.signIn("alice", nil)
	session, _ = cookieOf(t, cb)
	if err := e.st.RevokeKitUsers(context.Background(), "inst-1", "t-1", "app-1", []string{"alice"}); err != nil {
		t.Fatal(err)
	}
	e.clock.add(3 * time.Hour)
	resp = e.login(nil, session)
	if resp.StatusCode != 302 || !strings.HasPrefix(resp.Headers["Location"], "https://login.example.com/") || e.idp.Stats().RefreshGrants != 1 {
		t.Fatalf("revoked user at revalidation: %d %q, %d refresh grants", resp.StatusCode, resp.Headers["Location"], e.idp.Stats().RefreshGrants)
	}
	if _, c := cookieOf(t, resp); c.MaxAge != int((10 * time.Minute).Seconds()) {
		t.Fatalf("revoked user's cookie: %+v", c)
	}
	// Sessions end at their TTL whatever happens.
	cb, _, _ = e.signIn("erin", nil)
	session, _ = cookieOf(t, cb)
	e.clock.add(7 * time.Hour)
	if _, err := e.appSession(session); err != nil {
		t.Fatalf("session before its TTL: %v", err)
	}
	e.clock.add(time.Hour)
	if _, err := e.appSession(session); err == nil {
		t.Fatal("session outlived its TTL")
	}
}

func TestForgedCookieIgnored(t *testing.T) {
	e := newEnv(t)
	otherKey, _ := secretbox.NewKey()
	other, _ := sso.NewSessions(otherKey, "", e.st)
	cb, _, _ := e.signIn("alice", nil)
	session, _ := cookieOf(t, cb)
	name, value, _ := strings.Cut(session, "=")
	tampered := name + "=" + value[:len(value)-4] + "AAAA"
	if _, err := e.appSession(tampered); err == nil {
		t.Fatal("tampered cookie accepted")
	}
	if _, err := other.Session(context.Background(), session); err == nil {
		t.Fatal("cookie opened with another key")
	}
	// Other cookies around ours do not matter.
	if _, err := e.appSession("a=b; " + session + "; c=\"d\""); err != nil {
		t.Fatal(err)
	}
}

func TestPanicGetsAPageNotATrace(t *testing.T) {
	e := newEnv(t)
	l := e.login(nil, "")
	state, _ := cookieOf(t, l)
	q := e.idpLogin(l.Headers["Location"], "alice")
	e.svc.Store = nil // a nil store panics deep inside the callback
	resp := e.callback(q, state)
	if resp.StatusCode != 500 || !strings.Contains(resp.Body, "Sign-in is unavailable") {
		t.Fatalf("panic answered %d %s", resp.StatusCode, resp.Body)
	}
}

func TestPagesEscapeInput(t *testing.T) {
	e := newEnv(t)
	req := get("/sso/callback", map[string]string{"code": "x", "tenant": "t"}, "")
	req.RequestContext.RequestID = `<script>alert(1)</script>`
	resp, _ := e.svc.CallbackHandler()(context.Background(), req)
	if strings.Contains(resp.Body, "<script>alert") || !strings.Contains(resp.Body, "&lt;script&gt;") {
		t.Fatalf("unescaped: %s", resp.Body)
	}
}

// TestOversizedBody: every SSO route answers an oversized body with a 413 page in
// the usual shape (security headers included).
func TestOversizedBody(t *testing.T) {
	e := newEnv(t)
	for _, h := range []func(context.Context, events.APIGatewayProxyRequest) (events.APIGatewayProxyResponse, error){
		e.svc.LoginHandler(), e.svc.CallbackHandler(), e.svc.LogoutHandler(),
	} {
		req := get("/sso/login", nil, "")
		req.Body = strings.Repeat("x", 64<<10+1)
		resp, err := h(context.Background(), req)
		if err != nil {
			t.Fatal(err)
		}
		checkHeaders(t, resp)
		if resp.StatusCode != 413 || !strings.Contains(resp.Body, "req-1") {
			t.Errorf("oversized body: %d %s", resp.StatusCode, resp.Body)
		}
	}
}

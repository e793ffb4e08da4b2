package sso_test

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/kgseller/kgseller/shared/sso"
	"github.com/kgseller/kgseller/shared/store"
	"github.com/kgseller/kgseller/shared/tools/dbtest"
)

// logoutReq is GET /sso/logout as a browser sends it; fetchSite is the
// Sec-Fetch-Site header ("" for a browser that does not send it).
func (e *env) logoutReq(query map[string]string, cookie, fetchSite string) events.APIGatewayProxyResponse {
	e.t.Helper()
	req := get("/sso/logout", query, cookie)
	if fetchSite != "" {
		req.Headers["sec-fetch-site"] = fetchSite
	}
	resp, err := e.svc.LogoutHandler()(context.Background(), req)
	if err != nil {
		e.t.Fatal(err)
	}
	checkHeaders(e.t, resp)
	return resp
}

// signedIn reports whether the application and /sso/login accept the cookie as a
// signed-in session.
func (e *env) signedIn(cookie string) bool {
	e.t.Helper()
	s, err := e.appSession(cookie)
	if err != nil && !errors.Is(err, sso.ErrNoSession) {
		e.t.Fatal(err)
	}
	l := e.login(map[string]string{"return": "/x"}, cookie)
	straight := l.StatusCode == 302 && l.Headers["Location"] == "https://app.example.com/x"
	if (err == nil) != straight {
		e.t.Fatalf("the application (%v) and /sso/login (%d %q) disagree", err, l.StatusCode, l.Headers["Location"])
	}
	return err == nil && s != nil
}

func TestLogoutEndsTheSession(t *testing.T) {
	e := newEnv(t)
	cb, _, _ := e.signIn("alice", nil)
	session, _ := cookieOf(t, cb)
	other, _, _ := e.signIn("alice", nil) // the same user in another browser
	otherSession, _ := cookieOf(t, other)
	if !e.signedIn(session) {
		t.Fatal("not signed in after sign-in")
	}
	out := e.logoutReq(nil, session, "same-origin")
	if out.StatusCode != 302 || !strings.Contains(out.Headers["Location"], "/api/v1/logout") {
		t.Fatalf("logout: %d %q", out.StatusCode, out.Headers["Location"])
	}
	// A copy of the cookie taken before logout is worthless after it.
	if e.signedIn(session) {
		t.Fatal("the cookie still works after logout")
	}
	// Logout ends this browser's session only.
	if !e.signedIn(otherSession) {
		t.Fatal("logout ended the session of another browser")
	}
	// A repeated logout with the dead cookie still leaves cleanly.
	if again := e.logoutReq(nil, session, "same-origin"); again.StatusCode != 302 {
		t.Fatalf("second logout: %d", again.StatusCode)
	}
}

func TestCrossSiteLogoutRefused(t *testing.T) {
	e := newEnv(t)
	cb, _, _ := e.signIn("alice", nil)
	session, _ := cookieOf(t, cb)
	for name, c := range map[string]struct{ site, token string }{
		"cross-site link":                {"cross-site", ""},
		"sibling site":                   {"same-site", ""},
		"browser without Sec-Fetch-Site": {"", ""},
		"wrong token":                    {"cross-site", "forged"},
	} {
		q := map[string]string{"redirect_url": "https://docs.example.com/bye"}
		if c.token != "" {
			q["token"] = c.token
		}
		resp := e.logoutReq(q, session, c.site)
		if resp.StatusCode != 200 || resp.Headers["Set-Cookie"] != "" || resp.Headers["Location"] != "" {
			t.Errorf("%s: %d, Set-Cookie %q, Location %q", name, resp.StatusCode, resp.Headers["Set-Cookie"], resp.Headers["Location"])
		}
		if !strings.Contains(resp.Body, "Sign out?") {
			t.Errorf("%s: no confirmation page: %s", name, resp.Body)
		}
		if !e.signedIn(session) {
			t.Fatalf("%s signed the user out", name)
		}
	}
	// The confirmation page links to a logout with the session's token, which works
	// whatever the browser says about the request's origin.
	page := e.logoutReq(map[string]string{"redirect_url": "https://docs.example.com/bye"}, session, "cross-site")
	link := confirmLink(t, page.Body)
	u, err := url.Parse(link)
	if err != nil || u.Path != "/sso/logout" || u.Query().Get("token") == "" || u.Query().Get("redirect_url") != "https://docs.example.com/bye" {
		t.Fatalf("confirmation link %q", link)
	}
	q := map[string]string{"token": u.Query().Get("token"), "redirect_url": u.Query().Get("redirect_url")}
	// The token belongs to this session: another session's cookie does not take it.
	cb2, _, _ := e.signIn("alice", nil)
	session2, _ := cookieOf(t, cb2)
	if resp := e.logoutReq(q, session2, "cross-site"); resp.StatusCode != 200 || !e.signedIn(session2) {
		t.Fatalf("another session's token signed out: %d", resp.StatusCode)
	}
	out := e.logoutReq(q, session, "")
	if out.StatusCode != 302 || !strings.HasSuffix(out.Headers["Location"], url.QueryEscape("https://docs.example.com/bye")) {
		t.Fatalf("logout with the token: %d %q", out.StatusCode, out.Headers["Location"])
	}
	if e.signedIn(session) {
		t.Fatal("still signed in after logout with the token")
	}
	// The application builds the same link for its own pages.
	if s, err := e.appSession(session2); err != nil || s.LogoutToken() == "" || s.LogoutToken() == q["token"] {
		t.Fatalf("application's logout token: %v", err)
	}
	s2, _ := e.appSession(session2)
	if out := e.logoutReq(map[string]string{"token": s2.LogoutToken()}, session2, "cross-site"); out.StatusCode != 302 || e.signedIn(session2) {
		t.Fatalf("logout with the application's token: %d", out.StatusCode)
	}
	// A user-typed address (Sec-Fetch-Site: none) is the user's own request.
	cb3, _, _ := e.signIn("alice", nil)
	session3, _ := cookieOf(t, cb3)
	if out := e.logoutReq(nil, session3, "none"); out.StatusCode != 302 || e.signedIn(session3) {
		t.Fatalf("typed logout: %d", out.StatusCode)
	}
}

func confirmLink(t *testing.T, body string) string {
	t.Helper()
	const marker = `<a id="confirm" href="`
	i := strings.Index(body, marker)
	if i < 0 {
		t.Fatalf("no confirmation link in %s", body)
	}
	rest := body[i+len(marker):]
	link := rest[:strings.Index(rest, `"`)]
	return strings.ReplaceAll(link, "&amp;", "&")
}

// Revocation, deletion or disabling of a user by authSync, and deletion of the
// tenant by tenantSync, end that user's sessions at the next request, not at the
// next refresh.
func TestKitChangesEndSessions(t *testing.T) {
	const common = `"instanceId":"inst-1","tenantId":"t-1","appId":"app-1","testFlag":0,"timeStamp":"20260102030405000"`
	for name, c := range map[string]struct{ iface, body string }{
		"authSync revoke (flag 3)":   {"authSync", `{` + common + `,"flag":3,"userList":[{"userName":"alice"}]}`},
		"authSync delete (flag 0)":   {"authSync", `{` + common + `,"flag":0,"userList":[{"userName":"alice"}]}`},
		"authSync disable (flag 2)":  {"authSync", `{` + common + `,"flag":2,"userList":[{"userName":"alice","name":"Alice","orgCode":"D1","role":"admin","enable":"false"}]}`},
		"tenantSync delete (flag 0)": {"tenantSync", `{"instanceId":"inst-1","tenantId":"t-1","orderId":"o-1","tenantCode":"acme","name":"ACME","domainName":"https://idp.example.com","flag":0,"testFlag":0,"timeStamp":"20260102030405000"}`},
	} {
		t.Run(name, func(t *testing.T) {
			e := newEnv(t)
			cb, _, _ := e.signIn("alice", nil)
			session, _ := cookieOf(t, cb)
			erin, _, _ := e.signIn("erin", nil)
			erinSession, _ := cookieOf(t, erin)
			if !e.signedIn(session) || !e.signedIn(erinSession) {
				t.Fatal("not signed in")
			}
			e.kitSync(c.iface, c.body)
			if e.signedIn(session) {
				t.Fatalf("the session outlived %s", name)
			}
			// Other users keep theirs, unless their tenant went.
			if got, want := e.signedIn(erinSession), c.iface != "tenantSync"; got != want {
				t.Fatalf("erin signed in: %v, want %v", got, want)
			}
		})
	}
}

// A deleted user or tenant synced again is a new record: the sessions of the old
// one never come back, even when no request presented them in between.
func TestDeletedUsersSessionsStayEnded(t *testing.T) {
	const common = `"instanceId":"inst-1","tenantId":"t-1","appId":"app-1","testFlag":0,"timeStamp":"20260102030405000"`
	add := `{` + common + `,"flag":1,"userList":[{"userName":"alice","name":"Alice","orgCode":"D1","role":"admin","enable":"true"}]}`
	tenant := `"instanceId":"inst-1","tenantId":"t-1","orderId":"o-1","tenantCode":"acme","name":"ACME","testFlag":0,"timeStamp":"20260102030405000"`
	for name, steps := range map[string][][2]string{
		"user deleted, then added": {{"authSync", `{` + common + `,"flag":0,"userList":[{"userName":"alice"}]}`}, {"authSync", add}},
		"tenant deleted, then synced again": {
			{"tenantSync", `{` + tenant + `,"domainName":"https://idp.example.com","flag":0}`},
			{"tenantSync", `{` + tenant + `,"domainName":"https://idp.example.com","flag":1}`}, {"authSync", add},
		},
	} {
		t.Run(name, func(t *testing.T) {
			e := newEnv(t)
			cb, _, _ := e.signIn("alice", nil)
			session, _ := cookieOf(t, cb)
			for _, s := range steps {
				e.clock.add(time.Second)
				e.kitSync(s[0], s[1])
			}
			if e.signedIn(session) {
				t.Fatalf("the session came back after %s", name)
			}
		})
	}
}

// A session presented while its user is revoked or disabled is ended for good:
// authorising the user again does not bring it back.
func TestRefusedSessionStaysEnded(t *testing.T) {
	const common = `"instanceId":"inst-1","tenantId":"t-1","appId":"app-1","testFlag":0,"timeStamp":"20260102030405000"`
	user := `{"userName":"alice","name":"Alice","orgCode":"D1","role":"admin","enable":"%s"}`
	for name, steps := range map[string][2]string{
		"revoked, then added": {`{` + common + `,"flag":3,"userList":[{"userName":"alice"}]}`,
			`{` + common + `,"flag":1,"userList":[` + fmt.Sprintf(user, "true") + `]}`},
		"disabled, then enabled": {`{` + common + `,"flag":2,"userList":[` + fmt.Sprintf(user, "false") + `]}`,
			`{` + common + `,"flag":2,"userList":[` + fmt.Sprintf(user, "true") + `]}`},
	} {
		t.Run(name, func(t *testing.T) {
			e := newEnv(t)
			cb, _, _ := e.signIn("alice", nil)
			session, _ := cookieOf(t, cb)
			e.kitSync("authSync", steps[0])
			if e.signedIn(session) {
				t.Fatal("signed in while refused")
			}
			e.kitSync("authSync", steps[1])
			if e.signedIn(session) {
				t.Fatalf("the session came back after %s", name)
			}
			// The user signs in anew.
			if cb, _, _ := e.signIn("alice", nil); cb.StatusCode != 302 {
				t.Fatalf("new sign-in: %d", cb.StatusCode)
			}
		})
	}
}

// The application reads sessions with its own database handle and the session
// key, as documented; a valid session costs it one query.
func TestApplicationReadsSessionsWithOneQuery(t *testing.T) {
	e := newEnv(t)
	cb, _, _ := e.signIn("alice", nil)
	session, _ := cookieOf(t, cb)
	c := &dbtest.Counter{}
	st, err := store.Open(e.dsn, store.Options{MaxOpen: 1, MaxIdle: 1, Wrap: c.Wrap})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	app := &sso.Sessions{Cookies: e.svc.Cookies, Store: st.WithClock(e.clock.now), Now: e.clock.now}
	before := c.RoundTrips()
	s, err := app.Session(context.Background(), session)
	if err != nil || s.UserName != "alice" || s.Name != "Alice" || s.Role != "admin" || s.TenantName != "ACME" {
		t.Fatalf("application's session %+v %v", s, err)
	}
	if n := c.RoundTrips() - before; n != 1 {
		t.Fatalf("%d round trips to check a session", n)
	}
	// No cookie, or a cookie that does not open, costs none.
	before = c.RoundTrips()
	for _, h := range []string{"", "a=b", "__Host-kgsso=garbage"} {
		if _, err := app.Session(context.Background(), h); !errors.Is(err, sso.ErrNoSession) {
			t.Fatalf("%q: %v", h, err)
		}
	}
	if n := c.RoundTrips() - before; n != 0 {
		t.Fatalf("%d round trips without a session", n)
	}
}

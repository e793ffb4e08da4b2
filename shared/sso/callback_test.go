package sso_test

import (
	"context"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/kgseller/kgseller/shared/sso"
)

// unsolicited plays a buyer who opens the application from the marketplace
// workbench (or the unified login portal): the auth centre redirects to the
// callback with code and tenant, and no state; the seller's /sso/login never ran.
func (e *env) unsolicited(user string) map[string]string {
	e.t.Helper()
	resp, err := e.svc.HTTP.PostForm(e.idpSrv.URL+"/idp/unified-login", url.Values{"appId": {"app-1"}, "tenant": {"t-1"}, "userName": {user}})
	if err != nil {
		e.t.Fatal(err)
	}
	resp.Body.Close()
	loc, err := url.Parse(resp.Header.Get("Location"))
	if err != nil || !strings.HasPrefix(loc.String(), callback) || loc.Query().Has("state") {
		e.t.Fatalf("IdP redirected to %q", resp.Header.Get("Location"))
	}
	q := map[string]string{}
	for k, v := range loc.Query() {
		q[k] = v[0]
	}
	return q
}

// appSession is how the seller's application reads the session of a request.
func (e *env) appSession(cookie string) (*sso.Session, error) {
	return e.svc.Sessions().Session(context.Background(), cookie)
}

func TestWorkbenchSignIn(t *testing.T) {
	e := newEnv(t)
	q := e.unsolicited("alice")
	cb := e.callback(q, "")
	if cb.StatusCode != 302 || cb.Headers["Location"] != appURL {
		t.Fatalf("workbench callback answered %d to %q: %s", cb.StatusCode, cb.Headers["Location"], cb.Body)
	}
	session, _ := cookieOf(t, cb)
	s, err := e.appSession(session)
	if err != nil || s.UserName != "alice" || s.TenantID != "t-1" || s.InstanceID != "inst-1" {
		t.Fatalf("workbench session %+v %v", s, err)
	}
	if logs := e.logs.String(); !strings.Contains(logs, `"initiated":"unsolicited`) {
		t.Fatalf("the log does not say how the sign-in started: %s", logs)
	}
	// The code is single use: a replay is refused and leaves the session alone.
	if again := e.callback(q, session); again.StatusCode != 400 || !strings.Contains(again.Body, "invalid_grant") || again.Headers["Set-Cookie"] != "" {
		t.Fatalf("replayed workbench code: %d %q", again.StatusCode, again.Headers["Set-Cookie"])
	}
	// A signed-in browser that arrives from the workbench again is signed in anew.
	cb = e.callback(e.unsolicited("alice"), session)
	if cb.StatusCode != 302 {
		t.Fatalf("second workbench arrival: %d %s", cb.StatusCode, cb.Body)
	}
	// Unauthorised users are refused the same way as on a seller-started sign-in.
	for _, user := range []string{"bob", "carol", "dave"} {
		if cb := e.callback(e.unsolicited(user), ""); cb.StatusCode != 403 || cb.Headers["Set-Cookie"] != "" {
			t.Errorf("%s from the workbench: %d %q", user, cb.StatusCode, cb.Headers["Set-Cookie"])
		}
	}
}

func TestTenantParameterNames(t *testing.T) {
	e := newEnv(t)
	for _, name := range []string{"tenant", "tenant_id", "tenantId"} {
		q := e.unsolicited("alice")
		tenant := q["tenant"]
		delete(q, "tenant")
		q[name] = tenant
		if cb := e.callback(q, ""); cb.StatusCode != 302 {
			t.Errorf("tenant as %s: %d %s", name, cb.StatusCode, cb.Body)
		}
	}
	// Two names that disagree are not guessed between.
	q := e.unsolicited("alice")
	q["tenant_id"] = "t-other"
	if cb := e.callback(q, ""); cb.StatusCode != 400 || !strings.Contains(cb.Body, "Incomplete sign-in") {
		t.Fatalf("conflicting tenant parameters: %d %s", cb.StatusCode, cb.Body)
	}
	if e.idp.Stats().CodeGrants != 3 {
		t.Fatalf("%d codes exchanged, want 3", e.idp.Stats().CodeGrants)
	}
	// The same value under two names is one tenant.
	q = e.unsolicited("alice")
	q["tenantId"] = q["tenant"]
	if cb := e.callback(q, ""); cb.StatusCode != 302 {
		t.Fatalf("tenant and tenantId alike: %d %s", cb.StatusCode, cb.Body)
	}
}

func TestSellerStartedWithoutStateReturned(t *testing.T) {
	e := newEnv(t)
	l := e.login(map[string]string{"return": "/reports"}, "")
	pending, _ := cookieOf(t, l)
	q := e.idpLogin(l.Headers["Location"], "alice")
	delete(q, "state") // the documented redirect carries code and tenant only
	cb := e.callback(q, pending)
	if cb.StatusCode != 302 || cb.Headers["Location"] != "https://app.example.com/reports" {
		t.Fatalf("seller-started sign-in without state: %d %q %s", cb.StatusCode, cb.Headers["Location"], cb.Body)
	}
	if logs := e.logs.String(); !strings.Contains(logs, `"initiated":"seller, no state returned"`) {
		t.Fatalf("log: %s", logs)
	}
}

func TestRequireStateOptIn(t *testing.T) {
	e := newEnv(t)
	e.svc.RequireState = true
	if cb := e.callback(e.unsolicited("alice"), ""); cb.StatusCode != 400 || !strings.Contains(cb.Body, "state mismatch") {
		t.Fatalf("workbench callback with SSO_REQUIRE_STATE: %d %s", cb.StatusCode, cb.Body)
	}
	l := e.login(nil, "")
	pending, _ := cookieOf(t, l)
	q := e.idpLogin(l.Headers["Location"], "alice")
	noState := map[string]string{"code": q["code"], "tenant": q["tenant"]}
	if cb := e.callback(noState, pending); cb.StatusCode != 400 || !strings.Contains(cb.Body, "state mismatch") {
		t.Fatalf("no state with SSO_REQUIRE_STATE: %d", cb.StatusCode)
	}
	if cb := e.callback(q, ""); cb.StatusCode != 400 {
		t.Fatalf("no pending cookie with SSO_REQUIRE_STATE: %d", cb.StatusCode)
	}
	if cb := e.callback(q, pending); cb.StatusCode != 302 {
		t.Fatalf("state and cookie with SSO_REQUIRE_STATE: %d %s", cb.StatusCode, cb.Body)
	}
	if logs := e.logs.String(); !strings.Contains(logs, `"initiated":"seller, state verified"`) {
		t.Fatalf("log: %s", logs)
	}
	// A pending sign-in expires.
	l = e.login(nil, "")
	pending, _ = cookieOf(t, l)
	q = e.idpLogin(l.Headers["Location"], "alice")
	e.clock.add(11 * time.Minute)
	if resp := e.callback(q, pending); resp.StatusCode != 400 || !strings.Contains(resp.Body, "state mismatch") {
		t.Fatalf("expired sign-in: %d", resp.StatusCode)
	}
}

// A failing callback must not sign out whoever is signed in in that browser: a
// cross-site link to /sso/callback with a made-up code is all it would take.
func TestFailedCallbackKeepsSession(t *testing.T) {
	e := newEnv(t)
	cb, _, _ := e.signIn("alice", nil)
	session, _ := cookieOf(t, cb)
	for name, q := range map[string]map[string]string{
		"made-up code":   {"code": "made-up", "tenant": "t-1"},
		"unknown tenant": {"code": "made-up", "tenant": "t-unknown"},
		"no code":        {"tenant": "t-1"},
		"error":          {"error": "access_denied"},
		"foreign state":  {"code": "made-up", "tenant": "t-1", "state": "forged"},
	} {
		resp := e.callback(q, session)
		if resp.StatusCode < 400 || resp.Headers["Set-Cookie"] != "" {
			t.Errorf("%s: %d, Set-Cookie %q", name, resp.StatusCode, resp.Headers["Set-Cookie"])
		}
	}
	if s, err := e.appSession(session); err != nil || s.UserName != "alice" {
		t.Fatalf("session after failed callbacks: %+v %v", s, err)
	}
}

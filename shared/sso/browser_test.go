package sso_test

import (
	"context"
	"database/sql"
	"github.com/kgseller/kgseller/shared/tools/logbuf"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"github.com/kgseller/kgseller/shared/tools/dbtest"
	"github.com/kgseller/kgseller/shared/tools/localrun"
)

// chromium finds a Chromium or Chrome executable.
func chromium() string {
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	for _, p := range []string{"/usr/bin/chromium", "/usr/lib/chromium/chromium"} {
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	return ""
}

// TestBrowserSignInAndOut drives headless Chromium through the local stack (the
// real function binaries under the emulator, the fake unified login): the demo
// application ⇒ /sso/login ⇒ the unified login page ⇒ /sso/callback ⇒ the
// application with the session; a cross-site logout link that does not sign out;
// sign-out, after which the old cookie opens nothing; a sign-in started from the
// marketplace workbench (no state, no pending sign-in). On the way the fake login
// page pushes the demo tenant through the real Kit functions, signed with the Kit
// key.
func TestBrowserSignInAndOut(t *testing.T) {
	exe := chromium()
	if exe == "" {
		if os.Getenv("KG_REQUIRE_BROWSER") == "1" {
			t.Fatal("chromium is not installed (apt-get install -y chromium) and KG_REQUIRE_BROWSER=1")
		}
		t.Skip("chromium is not installed; install it (apt-get install -y chromium) or set KG_REQUIRE_BROWSER=1 to make this a failure")
	}
	dsn := dbtest.NewDatabase(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	fnLog := &logbuf.Buffer{}
	stack, err := localrun.Start(ctx, localrun.Options{
		Addr: ln.Addr().String(), ModuleDir: "../..", DSN: dsn, AccessKey: "browser-test-key",
		Env: cleanEnv(), FunctionOutput: fnLog, BuildOutput: fnLog,
	})
	if err != nil {
		t.Fatalf("%v\n%s", err, fnLog.String())
	}
	srv := &http.Server{Handler: stack.Handler(), ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { srv.Close(); stack.Close() })
	defer func() {
		if t.Failed() {
			t.Logf("function output:\n%s", fnLog.String())
		}
	}()
	base := "http://" + ln.Addr().String()

	alloc, cancelAlloc := chromedp.NewExecAllocator(ctx,
		chromedp.ExecPath(exe),
		chromedp.Flag("headless", true),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-quic", true),
		chromedp.NoFirstRun,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.NoDefaultBrowserCheck,
		chromedp.UserDataDir(t.TempDir()),
	)
	defer cancelAlloc()
	browser, cancelBrowser := chromedp.NewContext(alloc)
	defer cancelBrowser()

	text := func(step, css string) string {
		t.Helper()
		v, err := chromedp.Run(browser, chromedp.Text(chromedp.CSS(css)))
		if err != nil {
			t.Fatalf("%s: reading %s: %v", step, css, err)
		}
		return v
	}
	do := func(step string, steps ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(browser, steps...); err != nil {
			t.Fatalf("%s: %v", step, err)
		}
	}
	location := func() string {
		t.Helper()
		v, err := chromedp.Run(browser, chromedp.Location())
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	cookies := func() []*network.Cookie {
		t.Helper()
		v, err := chromedp.Run(browser, func(ctx context.Context, target *chromedp.Target) ([]*network.Cookie, error) {
			res, err := cdp.Call(ctx, target, network.GetCookies, network.GetCookiesParams{URLs: []string{base + "/"}})
			return res.Cookies, err
		})
		if err != nil {
			t.Fatal(err)
		}
		return v
	}

	do("open the application", chromedp.Navigate(base+"/sso-demo/app"), chromedp.WaitVisible(chromedp.CSS("#who")))
	if who := text("application before sign-in", "#who"); !strings.Contains(who, "Not signed in") {
		t.Fatalf("application before sign-in says %q", who)
	}
	do("go to the unified login", chromedp.Click(chromedp.CSS("#login")), chromedp.WaitVisible(chromedp.CSS(`button[value="alice"]`)))
	if loc := location(); !strings.HasPrefix(loc, base+"/fake-idp/unified-login?") || !strings.Contains(loc, "appId="+localrun.LocalAppID) || !strings.Contains(loc, "state=") {
		t.Fatalf("unified login at %q", loc)
	}
	do("sign in as alice", chromedp.Click(chromedp.CSS(`button[value="alice"]`)), chromedp.WaitVisible(chromedp.CSS("#logout")))
	if who, loc := text("after sign-in", "#who"), location(); loc != base+"/sso-demo/app" || !strings.Contains(who, "Signed in as Alice Admin (alice, admin) of Local Demo Co.") {
		t.Fatalf("after sign-in: %q at %q", who, loc)
	}
	docCookie, err := chromedp.Run(browser, chromedp.Evaluate[string]("document.cookie"))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(docCookie, "kgsso") {
		t.Fatalf("the session cookie is visible to scripts: %q", docCookie)
	}
	session := findCookie(cookies(), "__Host-kgsso")
	if session == nil {
		t.Fatal("no session cookie in the browser")
	}
	if !session.HTTPOnly || !session.Secure || session.SameSite != network.CookieSameSiteLax || session.Path != "/" {
		t.Fatalf("session cookie flags: httpOnly=%v secure=%v sameSite=%v path=%q", session.HTTPOnly, session.Secure, session.SameSite, session.Path)
	}

	// A link on another site does not sign the user out: the browser says the
	// request is cross-site, and the link lacks the session's logout token.
	evil := evilSite(t, `<a id="evil" href="`+base+`/sso/logout">Win a prize</a>`)
	do("follow a cross-site logout link", chromedp.Navigate(evil), chromedp.WaitVisible(chromedp.CSS("#evil")),
		chromedp.Click(chromedp.CSS("#evil")), chromedp.WaitVisible(chromedp.CSS("#confirm")))
	if body := text("cross-site logout", "body"); !strings.Contains(body, "Sign out?") {
		t.Fatalf("cross-site logout page: %q", body)
	}
	do("back to the application", chromedp.Navigate(base+"/sso-demo/app"), chromedp.WaitVisible(chromedp.CSS("#who")))
	if who := text("after the cross-site link", "#who"); !strings.Contains(who, "Signed in as Alice Admin") {
		t.Fatalf("the cross-site link signed alice out: %q", who)
	}

	do("sign out", chromedp.Click(chromedp.CSS("#logout")), chromedp.WaitVisible(chromedp.CSS("#login")))
	if who, loc := text("after sign-out", "#who"), location(); loc != base+"/sso-demo/app" || !strings.Contains(who, "Not signed in") {
		t.Fatalf("after sign-out: %q at %q", who, loc)
	}
	if c := findCookie(cookies(), "__Host-kgsso"); c != nil {
		t.Fatal("the session cookie survived sign-out")
	}
	// A copy of the cookie kept from before sign-out opens nothing.
	if _, err := chromedp.Run(browser, func(ctx context.Context, target *chromedp.Target) (cdp.Empty, error) {
		secure, httpOnly := true, true
		return cdp.Call(ctx, target, network.SetCookie, network.SetCookieParams{Name: session.Name, Value: session.Value, URL: base + "/",
			Path: "/", Secure: &secure, HTTPOnly: &httpOnly, SameSite: network.CookieSameSiteLax})
	}); err != nil {
		t.Fatal(err)
	}
	if c := findCookie(cookies(), "__Host-kgsso"); c == nil || c.Value != session.Value {
		t.Fatal("the old session cookie could not be put back")
	}
	do("replay the old cookie", chromedp.Navigate(base+"/sso-demo/app"), chromedp.WaitVisible(chromedp.CSS("#who")))
	if who := text("old cookie", "#who"); !strings.Contains(who, "Not signed in") {
		t.Fatalf("the cookie from before sign-out still works: %q", who)
	}

	// bob opens the application from the marketplace workbench: the callback gets
	// code and tenant, no state, and this browser has no pending sign-in.
	do("open the workbench", chromedp.Navigate(base+"/sso-demo/app"), chromedp.WaitVisible(chromedp.CSS("#workbench")),
		chromedp.Click(chromedp.CSS("#workbench")), chromedp.WaitVisible(chromedp.CSS(`button[value="bob"]`)))
	if loc := location(); loc != base+"/fake-idp/workbench" {
		t.Fatalf("workbench at %q", loc)
	}
	do("open the application as bob", chromedp.Click(chromedp.CSS(`button[value="bob"]`)), chromedp.WaitVisible(chromedp.CSS("#logout")))
	if who, loc := text("after the workbench", "#who"), location(); loc != base+"/sso-demo/app" || !strings.Contains(who, "Signed in as Bob User (bob, user) of Local Demo Co.") {
		t.Fatalf("after the workbench: %q at %q", who, loc)
	}
	if !strings.Contains(fnLog.String(), `"initiated":"unsolicited`) {
		t.Fatal("the callback did not log an unsolicited sign-in")
	}
	do("sign bob out", chromedp.Click(chromedp.CSS("#logout")), chromedp.WaitVisible(chromedp.CSS("#login")))

	// carol exists at the auth centre but authSync never authorised her.
	do("sign in as carol", chromedp.Navigate(base+"/sso/login"), chromedp.WaitVisible(chromedp.CSS(`button[value="carol"]`)),
		chromedp.Click(chromedp.CSS(`button[value="carol"]`)), chromedp.WaitVisible(chromedp.CSS(`a[href="/sso/login"]`)))
	if body := text("carol", "body"); !strings.Contains(body, "Not authorised") {
		t.Fatalf("carol's sign-in page: %q", body)
	}

	// The demo tenant reached the database through the real Kit functions.
	db, err := sql.Open("mysql", dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for table, want := range map[string]int{"kit_tenants": 1, "kit_applications": 1, "kit_users": 2, "kit_orgs": 2} {
		var n int
		if err := db.QueryRow("SELECT COUNT(*) FROM " + table).Scan(&n); err != nil || n != want {
			t.Fatalf("%s: %d rows (%v), want %d", table, n, err, want)
		}
	}
}

// evilSite serves one page on another site than the local stack (127.0.0.2 is
// another host, so another site, on the loopback network) and returns its URL.
func evilSite(t *testing.T, body string) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.2:0")
	if err != nil {
		t.Fatalf("listening on 127.0.0.2: %v", err)
	}
	srv := &http.Server{ReadHeaderTimeout: 10 * time.Second, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = w.Write([]byte("<!doctype html><html><body>" + body + "</body></html>"))
	})}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { srv.Close() })
	return "http://" + ln.Addr().String() + "/"
}

func findCookie(cookies []*network.Cookie, name string) *network.Cookie {
	for _, c := range cookies {
		if c.Name == name {
			return c
		}
	}
	return nil
}

// cleanEnv is the test process environment without settings that would change
// the local run's SSO and Kit defaults.
func cleanEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "SSO_") || strings.HasPrefix(kv, "KG_") {
			continue
		}
		env = append(env, kv)
	}
	return env
}

package fakeidp

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

func TestFakeAuthCentre(t *testing.T) {
	p := New(Options{Prefix: "/idp", Apps: map[string]string{"app": "https://seller.example.com/sso/callback"},
		Tenants: []Tenant{{ID: "t", Name: "T", ClientID: "cid", ClientSecret: "csecret", Users: []User{{UserName: "u", Name: "U"}}}}})
	srv := httptest.NewServer(p.Handler())
	defer srv.Close()
	noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

	resp, err := noFollow.PostForm(srv.URL+"/idp/unified-login", url.Values{"appId": {"app"}, "state": {"s1"}, "tenant": {"t"}, "userName": {"u"}})
	if err != nil {
		t.Fatal(err)
	}
	loc, _ := url.Parse(resp.Header.Get("Location"))
	code := loc.Query().Get("code")
	if resp.StatusCode != 302 || code == "" || loc.Query().Get("tenant") != "t" || loc.Query().Get("state") != "s1" {
		t.Fatalf("login redirect %d %s", resp.StatusCode, loc)
	}
	tokenCall := func(form url.Values) (int, map[string]any) {
		t.Helper()
		resp, err := http.PostForm(srv.URL+"/idp/api/v1/oauth2/token", form)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var m map[string]any
		_ = json.NewDecoder(resp.Body).Decode(&m)
		return resp.StatusCode, m
	}
	grant := url.Values{"grant_type": {"authorization_code"}, "code": {code}, "client_id": {"cid"}, "client_secret": {"wrong"}}
	if st, m := tokenCall(grant); st != 401 || m["error"] != "invalid_client" {
		t.Fatalf("wrong secret: %d %v", st, m)
	}
	// The failed exchange spent the code.
	grant.Set("client_secret", "csecret")
	if st, m := tokenCall(grant); st != 400 || m["error"] != "invalid_grant" {
		t.Fatalf("spent code: %d %v", st, m)
	}
	resp, _ = noFollow.PostForm(srv.URL+"/idp/unified-login", url.Values{"appId": {"app"}, "tenant": {"t"}, "userName": {"u"}})
	loc, _ = url.Parse(resp.Header.Get("Location"))
	grant.Set("code", loc.Query().Get("code"))
	grant.Set("redirect_uri", "https://seller.example.com/sso/callback")
	st, tok := tokenCall(grant)
	if st != 200 || tok["token_type"] != "Bearer" || tok["refresh_token"] == "" || tok["expires_in"].(float64) != 7200 {
		t.Fatalf("token: %d %v", st, tok)
	}
	refresh := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tok["refresh_token"].(string)}, "client_id": {"cid"}, "client_secret": {"csecret"}}
	if st, m := tokenCall(refresh); st != 200 || m["access_token"] == tok["access_token"] {
		t.Fatalf("refresh: %d %v", st, m)
	}
	if st, m := tokenCall(url.Values{"grant_type": {"password"}}); st != 400 || m["error"] != "unsupported_grant_type" {
		t.Fatalf("other grant: %d %v", st, m)
	}
	req, _ := http.NewRequest("GET", srv.URL+"/idp/api/v1/oauth2/userinfo", nil)
	req.Header.Set("Authorization", "Bearer "+tok["access_token"].(string))
	r, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var info map[string]string
	_ = json.NewDecoder(r.Body).Decode(&info)
	r.Body.Close()
	if info["userName"] != "u" || info["tenant"] != "t" {
		t.Fatalf("userinfo %v", info)
	}
	req.Header.Set("Authorization", "Bearer nope")
	if r, _ := http.DefaultClient.Do(req); r.StatusCode != 401 {
		t.Fatalf("bad token: %d", r.StatusCode)
	}
	r, _ = noFollow.Get(srv.URL + "/idp/api/v1/logout?redirect_url=" + url.QueryEscape("https://seller.example.com/bye"))
	if r.StatusCode != 302 || r.Header.Get("Location") != "https://seller.example.com/bye" {
		t.Fatalf("logout %d %q", r.StatusCode, r.Header.Get("Location"))
	}
	if s := p.Stats(); s.CodeGrants != 1 || s.RefreshGrants != 1 || s.UserInfos != 1 || s.Logouts != 1 {
		t.Fatalf("stats %+v", s)
	}
	r, _ = http.Get(srv.URL + "/idp/unified-login?appId=app&state=" + url.QueryEscape(`"><script>`))
	body := make([]byte, 4096)
	n, _ := r.Body.Read(body)
	if strings.Contains(string(body[:n]), `"><script>`) {
		t.Fatal("login page reflects the state unescaped")
	}
}

func TestWorkbench(t *testing.T) {
	prepared := 0
	p := New(Options{Prefix: "/idp", Apps: map[string]string{"app": "https://seller.example.com/sso/callback", "b<app>": "https://b.example.com/cb"},
		Tenants: []Tenant{{ID: "t", Name: "T", ClientID: "cid", ClientSecret: "csecret", Users: []User{{UserName: "u", Name: "U"}}}},
		Prepare: func(context.Context) error { prepared++; return nil }})
	srv := httptest.NewServer(p.Handler())
	defer srv.Close()
	read := func(path string) (int, string) {
		t.Helper()
		r, err := http.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		defer r.Body.Close()
		b, _ := io.ReadAll(r.Body)
		return r.StatusCode, string(b)
	}
	status, body := read("/idp/workbench")
	if status != 200 || !strings.Contains(body, `action="/idp/unified-login"`) || !strings.Contains(body, `value="app"`) ||
		!strings.Contains(body, "b&lt;app&gt;") || strings.Contains(body, `name="state"`) || prepared != 1 {
		t.Fatalf("workbench: %d, prepared %d: %s", status, prepared, body)
	}
	if status, body := read("/idp/workbench?appId=app"); status != 200 || strings.Contains(body, "b&lt;app&gt;") {
		t.Fatalf("workbench for one app: %d %s", status, body)
	}
	if status, _ := read("/idp/workbench?appId=nope"); status != 400 {
		t.Fatalf("unknown app: %d", status)
	}
	// What its form posts: a redirect to the callback with code and tenant only.
	noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := noFollow.PostForm(srv.URL+"/idp/unified-login", url.Values{"appId": {"app"}, "tenant": {"t"}, "userName": {"u"}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	loc, _ := url.Parse(resp.Header.Get("Location"))
	if q := loc.Query(); resp.StatusCode != 302 || q.Get("code") == "" || q.Get("tenant") != "t" || q.Has("state") || len(q) != 2 {
		t.Fatalf("workbench redirect %d %s", resp.StatusCode, loc)
	}
}

func TestIndexPage(t *testing.T) {
	p := New(Options{Prefix: "/idp", Apps: map[string]string{"my<app>": "https://seller.example.com/sso/callback"},
		Tenants: []Tenant{{ID: "t", Code: "tc", Name: "Tenant T", Users: []User{{UserName: "u", Name: "User U", Role: "admin"}}}},
		Links:   []Link{{Label: "Sign in", URL: "/sso/login"}}})
	srv := httptest.NewServer(p.Handler())
	defer srv.Close()
	for _, path := range []string{"/idp", "/idp/"} {
		r, err := http.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(r.Body)
		r.Body.Close()
		body := string(b)
		if r.StatusCode != 200 || !strings.HasPrefix(r.Header.Get("Content-Type"), "text/html") {
			t.Fatalf("GET %s: %d %s", path, r.StatusCode, r.Header.Get("Content-Type"))
		}
		for _, want := range []string{`href="/idp/workbench"`, `href="/idp/workbench?appId=my%3capp%3e"`, "my&lt;app&gt;",
			`href="/sso/login"`, "Tenant T", "User U (u, admin)", "/idp/api/v1/oauth2/token"} {
			if !strings.Contains(body, want) {
				t.Errorf("GET %s lacks %q:\n%s", path, want, body)
			}
		}
	}
	if r, err := http.Get(srv.URL + "/idp/nope"); err != nil || r.StatusCode != 404 {
		t.Fatalf("an unknown page is not found: %v %v", r.StatusCode, err)
	}
}

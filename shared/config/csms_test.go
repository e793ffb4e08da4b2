package config

import (
	"io"

	"github.com/huaweicloud/huaweicloud-sdk-go-v3/core/auth/basic"
	csms "github.com/huaweicloud/huaweicloud-sdk-go-v3/services/csms/v1"
	csmsmodel "github.com/huaweicloud/huaweicloud-sdk-go-v3/services/csms/v1/model"

	"github.com/kgseller/kgseller/shared/apigsign"

	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/kgseller/kgseller/shared/fakes/fakecloud"
)

const (
	csmsProject = "0123456789abcdef0123456789abcdef"
	csmsAK      = "CSMSREADERAK"
	csmsSK      = "csms-reader-secret-key"
)

func fakeCSMS(t *testing.T) (*fakecloud.Cloud, string) {
	t.Helper()
	c := fakecloud.New(csmsProject, csmsAK, csmsSK)
	return c, c.Server(t).URL
}

func TestParseSecretRef(t *testing.T) {
	for in, want := range map[string]SecretRef{
		"csms:db":            {Name: "db", Version: "latest"},
		"csms:db:v3":         {Name: "db", Version: "v3"},
		"csms:app-keys#dsn":  {Name: "app-keys", Version: "latest", Key: "dsn"},
		" csms:a.b_c:v1#k ":  {Name: "a.b_c", Version: "v1", Key: "k"},
		"csms:db:latest#key": {Name: "db", Version: "latest", Key: "key"},
	} {
		got, ok, err := ParseSecretRef(in)
		if !ok || err != nil || got != want {
			t.Errorf("%q: %+v %v %v", in, got, ok, err)
		}
	}
	for _, in := range []string{"csms:", "csms:bad name", "csms:db:2", "csms:db#", "csms:" + strings.Repeat("x", 65)} {
		if _, ok, err := ParseSecretRef(in); !ok || err == nil {
			t.Errorf("%q: ok %v err %v", in, ok, err)
		}
	}
	for _, in := range []string{"", "plain", "user:pw@tcp(h)/db", "CSMS:db"} {
		if _, ok, _ := ParseSecretRef(in); ok {
			t.Errorf("%q taken for a reference", in)
		}
	}
}

func TestResolveSecrets(t *testing.T) {
	cloud, url := fakeCSMS(t)
	cloud.PutSecret("kgseller-db", "old-dsn-value")
	cloud.PutSecret("kgseller-db", "user:db-password@tcp(rds:3306)/kgseller")
	cloud.PutSecret("kgseller-keys", `{"basic":"basic-access-key","kit":"kit-access-key"}`)
	client, err := NewCSMS(CSMSOptions{Endpoint: url, ProjectID: csmsProject, AK: csmsAK, SK: csmsSK})
	if err != nil {
		t.Fatal(err)
	}
	src := Map(map[string]string{
		"DB_DSN":              "csms:kgseller-db",
		"DB_DSN_OLD":          "csms:kgseller-db:v1",
		"KG_ACCESS_KEY_BASIC": "csms:kgseller-keys#basic",
		"KG_ACCESS_KEY_KIT":   "csms:kgseller-keys#kit",
		"LOG_LEVEL":           "debug",
	})
	names := []string{"DB_DSN", "DB_DSN_OLD", "KG_ACCESS_KEY_BASIC", "KG_ACCESS_KEY_KIT", "LOG_LEVEL", "UNSET"}
	out, err := ResolveSecrets(context.Background(), src, names, client)
	if err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]string{
		"DB_DSN": "user:db-password@tcp(rds:3306)/kgseller", "DB_DSN_OLD": "old-dsn-value",
		"KG_ACCESS_KEY_BASIC": "basic-access-key", "KG_ACCESS_KEY_KIT": "kit-access-key", "LOG_LEVEL": "debug", "UNSET": "",
	} {
		if got := out(name); got != want {
			t.Errorf("%s = %q, want %q", name, got, want)
		}
	}
	// Each secret version is fetched once, every call signed with the reader's key.
	calls := cloud.Calls()
	if len(calls) != 3 {
		t.Errorf("%d CSMS calls, want 3 (kgseller-db latest and v1, kgseller-keys)", len(calls))
	}
	for _, c := range calls {
		if c.Op != fakecloud.OpShowSecretVersion || c.Rejected != nil || c.AccessKey != csmsAK || c.Status != http.StatusOK {
			t.Errorf("call %s %s: key %q rejected %v status %d", c.Op, c.Path, c.AccessKey, c.Rejected, c.Status)
		}
	}
	// A loader over the resolved source sees the secrets as ordinary settings.
	l := New(out)
	if l.Required("DB_DSN") == "" || l.Required("KG_ACCESS_KEY_BASIC") != "basic-access-key" || l.Err() != nil {
		t.Errorf("loader: %v", l.Err())
	}
}

func TestUnresolvedSecretsNameTheSettingNeverAValue(t *testing.T) {
	cloud, url := fakeCSMS(t)
	cloud.PutSecret("plain-text", "not json but secret-plain-value")
	cloud.PutSecret("empty", "  ")
	client, err := NewCSMS(CSMSOptions{Endpoint: url, ProjectID: csmsProject, AK: csmsAK, SK: csmsSK})
	if err != nil {
		t.Fatal(err)
	}
	src := Map(map[string]string{
		"DB_DSN":              "csms:does-not-exist",
		"KG_DATA_KEY":         "csms:plain-text#key",
		"KG_ACCESS_KEY_BASIC": "csms:plain-text:v9",
		"SSO_SESSION_KEY":     "csms:empty",
		"PROVISION_SECRET":    "csms:bad name",
		"LOG_LEVEL":           "info",
	})
	names := []string{"DB_DSN", "KG_DATA_KEY", "KG_ACCESS_KEY_BASIC", "SSO_SESSION_KEY", "PROVISION_SECRET", "LOG_LEVEL"}
	out, err := ResolveSecrets(context.Background(), src, names, client)
	if err == nil {
		t.Fatal("unresolvable references accepted")
	}
	msg := err.Error()
	for _, want := range []string{"DB_DSN", "does-not-exist", "KG_DATA_KEY", "not a JSON object", "KG_ACCESS_KEY_BASIC", "v9", "SSO_SESSION_KEY", "empty", "PROVISION_SECRET"} {
		if !strings.Contains(msg, want) {
			t.Errorf("error lacks %q: %s", want, msg)
		}
	}
	if strings.Contains(msg, "secret-plain-value") {
		t.Errorf("error quotes a secret: %s", msg)
	}
	for _, n := range names[:5] {
		if v := out(n); v != "" {
			t.Errorf("%s = %q, want unset", n, v)
		}
	}
	if out("LOG_LEVEL") != "info" {
		t.Error("plain setting lost")
	}
	// The Loader then reports them as missing, by name.
	l := New(out)
	_ = l.Required("DB_DSN")
	if lerr := l.Err(); lerr == nil || !strings.Contains(lerr.Error(), "DB_DSN") {
		t.Errorf("loader: %v", lerr)
	}

	// Wrong credentials: the fake refuses the signature; the value stays unknown.
	bad, err := NewCSMS(CSMSOptions{Endpoint: url, ProjectID: csmsProject, AK: csmsAK, SK: "wrong"})
	if err != nil {
		t.Fatal(err)
	}
	cloud.Reset()
	if _, err := ResolveSecrets(context.Background(), Map(map[string]string{"DB_DSN": "csms:plain-text"}), []string{"DB_DSN"}, bad); err == nil || !strings.Contains(err.Error(), "HTTP 401") {
		t.Errorf("wrong key: %v", err)
	}
	if calls := cloud.Calls(); len(calls) != 1 || calls[0].Rejected == nil {
		t.Errorf("calls %+v", calls)
	}

	// No client at all.
	if _, err := ResolveSecrets(context.Background(), Map(map[string]string{"DB_DSN": "csms:x"}), []string{"DB_DSN"}, nil); err == nil || !strings.Contains(err.Error(), "DB_DSN") {
		t.Errorf("no client: %v", err)
	}
}

// TestResolveEnv runs the cold-start path: references in environment variables and
// in RUNTIME_USERDATA, temporary credentials with a security token, the endpoint
// and project from the function's own settings.
func TestResolveEnv(t *testing.T) {
	cloud, url := fakeCSMS(t)
	cloud.AddKey("TEMPAK", "temp-sk")
	cloud.PutSecret("db", "dsn-from-csms")
	cloud.PutSecret("keys", `{"notify":"notify-key"}`)
	t.Setenv("KGT_DB_DSN", "csms:db")
	t.Setenv("RUNTIME_USERDATA", `{"KGT_NOTIFY_KEY":"csms:keys#notify","KGT_PLAIN":"p"}`)
	t.Setenv("CSMS_ENDPOINT", url)
	t.Setenv("RUNTIME_PROJECT_ID", csmsProject)
	t.Setenv("HUAWEICLOUD_SDK_AK", "TEMPAK")
	t.Setenv("HUAWEICLOUD_SDK_SK", "temp-sk")
	t.Setenv("HUAWEICLOUD_SDK_SECURITY_TOKEN", "session-token")
	src, err := ResolveEnv(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if src("KGT_DB_DSN") != "dsn-from-csms" || src("KGT_NOTIFY_KEY") != "notify-key" || src("KGT_PLAIN") != "p" {
		t.Errorf("resolved %q %q %q", src("KGT_DB_DSN"), src("KGT_NOTIFY_KEY"), src("KGT_PLAIN"))
	}
	for _, c := range cloud.Calls() {
		if c.AccessKey != "TEMPAK" || c.SecurityToken != "session-token" {
			t.Errorf("call signed by %q with token %q", c.AccessKey, c.SecurityToken)
		}
	}
	if got := EnvWithSecrets()("KGT_DB_DSN"); got != "dsn-from-csms" {
		t.Errorf("EnvWithSecrets: %q", got)
	}

	// Without credentials the reference stays unresolved and the error says why.
	t.Setenv("HUAWEICLOUD_SDK_AK", "")
	src, err = ResolveEnv(context.Background())
	if err == nil || !strings.Contains(err.Error(), "KGT_DB_DSN") || !strings.Contains(err.Error(), "HUAWEICLOUD_SDK_AK") || src("KGT_DB_DSN") != "" {
		t.Errorf("no credentials: %v", err)
	}
}

func TestResolveEnvWithoutReferencesMakesNoCall(t *testing.T) {
	t.Setenv("KGT_PLAIN", "v")
	t.Setenv("CSMS_ENDPOINT", "http://127.0.0.1:1") // would fail if called
	src, err := ResolveEnv(context.Background())
	if err != nil || src("KGT_PLAIN") != "v" {
		t.Fatalf("%v %q", err, src("KGT_PLAIN"))
	}
}

func TestFetchHonoursContext(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { <-release }))
	t.Cleanup(srv.Close)
	t.Cleanup(func() { close(release) })
	client, err := NewCSMS(CSMSOptions{Endpoint: srv.URL, ProjectID: csmsProject, AK: csmsAK, SK: csmsSK, Timeout: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := client.FetchSecret(ctx, "x", "latest"); !errors.Is(err, context.Canceled) {
		t.Errorf("fetch with a cancelled context: %v", err)
	}
}

// TestSameRequestAsTheSDKClient: the CSMS read is the request the Huawei Cloud
// SDK's CSMS client sends for ShowSecretVersion: method, path, query, the headers
// it signs and an empty body.
func TestSameRequestAsTheSDKClient(t *testing.T) {
	type seen struct {
		method, path, query, signed string
		body                        int
	}
	capture := func(got *seen) *httptest.Server {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			b, _ := io.ReadAll(r.Body)
			a, _ := apigsign.ParseAuthorization(r.Header.Get("Authorization"))
			*got = seen{r.Method, r.URL.EscapedPath(), r.URL.RawQuery, strings.Join(a.SignedHeaders, ";"), len(b)}
			w.Header().Set("Content-Type", "application/json")
			_, _ = w.Write([]byte(`{"version":{"version_metadata":{"id":"v1","secret_name":"kgseller-db"},"secret_string":"s"}}`))
		}))
		t.Cleanup(srv.Close)
		return srv
	}
	var ours, theirs seen
	srv := capture(&ours)
	c, err := NewCSMS(CSMSOptions{Endpoint: srv.URL, ProjectID: csmsProject, AK: csmsAK, SK: csmsSK, SecurityToken: "tok"})
	if err != nil {
		t.Fatal(err)
	}
	if v, err := c.FetchSecret(context.Background(), "kgseller-db", "v1"); err != nil || v != "s" {
		t.Fatalf("fetch: %q %v", v, err)
	}
	sdkSrv := capture(&theirs)
	cred, err := basic.NewCredentialsBuilder().WithAk(csmsAK).WithSk(csmsSK).WithSecurityToken("tok").WithProjectId(csmsProject).SafeBuild()
	if err != nil {
		t.Fatal(err)
	}
	hc, err := csms.CsmsClientBuilder().WithEndpoints([]string{sdkSrv.URL}).WithCredential(cred).SafeBuild()
	if err != nil {
		t.Fatal(err)
	}
	resp, err := csms.NewCsmsClient(hc).ShowSecretVersion(&csmsmodel.ShowSecretVersionRequest{SecretName: "kgseller-db", VersionId: "v1"})
	if err != nil || resp.Version == nil || resp.Version.SecretString == nil || *resp.Version.SecretString != "s" {
		t.Fatalf("SDK client: %+v %v", resp, err)
	}
	// The SDK also signs its User-Agent; this client signs Host as well (API
	// Gateway's own backend signature requires it). The headers that carry
	// meaning are signed by both.
	for _, h := range []string{"x-project-id", "x-sdk-date", "x-security-token"} {
		if !strings.Contains(theirs.signed, h) || !strings.Contains(ours.signed, h) {
			t.Errorf("signed header %s: SDK %q, ours %q", h, theirs.signed, ours.signed)
		}
	}
	ours.signed, theirs.signed = "", ""
	if ours != theirs {
		t.Errorf("request %+v, the SDK client sends %+v", ours, theirs)
	}
}

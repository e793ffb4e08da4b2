package localrun

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite testdata/banner.golden")

// fixedBanner is a banner with fixed values (no real ports or temporary paths).
func fixedBanner(t *testing.T) Banner {
	return Banner{
		URL: "http://127.0.0.1:8080", Manifest: projectManifest(t),
		AccessKey: DefaultAccessKey, AccessKeyDefault: true,
		Database:     "embedded (in memory, 127.0.0.1:40001; data is lost on exit)",
		OpsDSN:       "root@tcp(127.0.0.1:40001)/kgseller",
		MarketURL:    "http://127.0.0.1:40002",
		Alerts:       []string{"fake SMN topic " + LocalSMNTopicURN + " at http://127.0.0.1:40003", "fake WeCom robot at http://127.0.0.1:40004/cgi-bin/webhook/send?key=local-robot-key-not-a-secret"},
		KitPublicKey: "/tmp/kgseller-local-000/kit-public.pem",
		StateFile:    "/home/seller/.cache/kgseller/local.json",
		Settings: []SettingProblem{
			{Name: "FULFIL_MODE", Kind: "invalid", Why: "must be one of async, inline, timer", Functions: []string{"license-produce", "order-notify", "saas-produce"}},
			{Name: "PROVISION_WEBHOOK_SECRET", Kind: "missing", Why: optionalSettings["PROVISION_WEBHOOK_SECRET"], Note: true,
				Functions: []string{"provision-callback", "usage-report"}},
		},
	}
}

// TestBannerGolden holds the start page of the local run to testdata/banner.golden
// (go test -run TestBannerGolden -update rewrites it) and to 100 columns.
func TestBannerGolden(t *testing.T) {
	t.Parallel()
	var b bytes.Buffer
	WriteBanner(&b, fixedBanner(t))
	golden := filepath.Join("testdata", "banner.golden")
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(golden, b.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if b.String() != string(want) {
		t.Errorf("banner differs from %s (run with -update after checking):\n%s", golden, b.String())
	}
	for i, line := range strings.Split(b.String(), "\n") {
		if columns(line) > bannerWidth {
			t.Errorf("line %d is %d columns wide: %s", i+1, columns(line), line)
		}
	}
}

// TestBannerSays: every route, every page to open, the key, the DSN for ops and
// the commands to paste.
func TestBannerSays(t *testing.T) {
	t.Parallel()
	b := fixedBanner(t)
	var out bytes.Buffer
	WriteBanner(&out, b)
	s := out.String()
	for _, r := range b.Manifest.Routes() {
		if !strings.Contains(s, r.Path) || !strings.Contains(s, r.Function) {
			t.Errorf("route %s %s -> %s missing", r.Method, r.Path, r.Function)
		}
	}
	for _, want := range []string{
		"http://127.0.0.1:8080/sso/login", "http://127.0.0.1:8080/sso-demo/app", "http://127.0.0.1:8080/fake-idp ",
		"http://127.0.0.1:8080/fake-idp/workbench", "http://127.0.0.1:8080/app/{instanceId}",
		"local-dev-access-key (default", "DB_DSN='root@tcp(127.0.0.1:40001)/kgseller' go run ./scripts/ops summary",
		"/tmp/kgseller-local-000/kit-public.pem", "go run ./scripts/sign newInstance", "go run ./scripts/kgsim -type kit",
		"error  FULFIL_MODE must be one of", "note   PROVISION_WEBHOOK_SECRET is not set",
		"生产接口地址  http://127.0.0.1:8080/license/produce",
	} {
		if !strings.Contains(s, want) {
			t.Errorf("banner lacks %q:\n%s", want, s)
		}
	}
	// A DB_DSN of the seller's own is not printed (it may hold a password).
	b.OpsDSN, b.Settings = "", nil
	out.Reset()
	WriteBanner(&out, b)
	if strings.Contains(out.String(), "DB_DSN=") || !strings.Contains(out.String(), "ok     every function finds") {
		t.Errorf("banner without DSN or problems:\n%s", out.String())
	}
}

package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/kgseller/kgseller/shared/fakes/fakecloud"
	"github.com/kgseller/kgseller/shared/kgsign"
	"github.com/kgseller/kgseller/shared/tools/buildzip"
	"github.com/kgseller/kgseller/shared/tools/manifest"
)

const projectManifest = "../../serverless.yml"

// projectEnv sets every ${env:NAME} of serverless.yml to a value the functions
// accept, of realistic length (the Kit's RSA key is a 3072-bit key's PEM,
// base64-encoded as `kitkey -format base64` writes it), so the test also proves
// that every function's settings fit FunctionGraph's 4 KB of environment
// variables.
func projectEnv(t *testing.T, fakeURL string) map[string]string {
	raw, err := os.ReadFile(projectManifest)
	if err != nil {
		t.Fatal(err)
	}
	// Comments name ${env:NAME} too; only the settings count.
	raw = regexp.MustCompile(`(?m)^\s*#.*$`).ReplaceAll(raw, nil)
	env := map[string]string{}
	for _, m := range regexp.MustCompile(`\$\{env:([A-Za-z_][A-Za-z0-9_]*)`).FindAllStringSubmatch(string(raw), -1) {
		name := m[1]
		switch {
		case strings.Contains(name, "PRIVATE_KEY"):
			pem, err := os.ReadFile("../../testdata/clientsecret/test-key.pem")
			if err != nil {
				t.Fatal(err)
			}
			env[name] = base64.StdEncoding.EncodeToString(pem)
		case name == "KG_DATA_KEY" || name == "SSO_SESSION_KEY" || name == "KG_LICENSE_SIGNING_KEY":
			env[name] = base64.StdEncoding.EncodeToString([]byte(strings.Repeat(name[:4], 8)))
		case name == "KG_LICENSE_FEATURES":
			env[name] = `{"*":["basic"],"sku-pro":["basic","pro"]}`
		case name == "KG_LICENSE_QUOTA":
			env[name] = "0"
		case name == "KG_LICENSE_DEVICE_BOUND" || name == "SSO_REQUIRE_STATE":
			env[name] = "false"
		case name == "MONITOR_SMN_TOPIC_URN":
			env[name] = "urn:smn:xx-test-1:0123456789abcdef0123456789abcdef:kgseller-alerts"
		case name == "MONITOR_WEBHOOK_FORMAT":
			env[name] = "wecom"
		case strings.HasSuffix(name, "DSN"):
			env[name] = "kgseller_app:" + strings.Repeat("p", 32) + "@tcp(rds-0123456789.internal.example:3306)/kgseller"
		case strings.HasSuffix(name, "_URL") || strings.HasSuffix(name, "_URI"):
			env[name] = "https://app.example.com/path/for/" + strings.ToLower(name)
		case strings.HasSuffix(name, "_HOSTS"):
			env[name] = "app.example.com,login.example.com"
		case strings.HasSuffix(name, "_ID"):
			env[name] = strings.Repeat("0123456789abcdef", 2)
		default:
			env[name] = strings.Repeat("s", 48)
		}
	}
	for k, v := range map[string]string{
		"HUAWEICLOUD_REGION": "xx-test-1", "HUAWEICLOUD_PROJECT_ID": "project0123", "KG_ACCESS_KEY_BASE64": "false",
		"HUAWEICLOUD_SDK_AK": "DEPLOYAK", "HUAWEICLOUD_SDK_SK": "deploy-sk", "FUNCTIONGRAPH_ENDPOINT": fakeURL, "APIG_ENDPOINT": fakeURL,
		"KG_ACCESS_KEY_BASIC": "basic-access-key-of-the-test", "KG_ACCESS_KEY": "",
		"PROVISIONER": "static", "KG_MKT_REGION": "cn", "KG_KIT_HASHED_PAYLOAD": "false", "KG_QUERY_ENCRYPT_TYPE": "",
	} {
		env[k] = v
	}
	return env
}

type harness struct {
	cloud  *fakecloud.Cloud
	env    map[string]string
	build  string
	config string
	names  []string
}

func newHarness(t *testing.T) *harness {
	h := &harness{cloud: fakecloud.New("project0123", "DEPLOYAK", "deploy-sk"), build: t.TempDir()}
	h.config = filepath.Join(t.TempDir(), "deploy.env")
	h.cloud.Region = "xx-test-1"
	url := h.cloud.Server(t).URL
	h.env = projectEnv(t, url)
	h.cloud.AddGateway(h.env["APIG_INSTANCE_ID"], h.env["APIG_GROUP_ID"])
	m, err := manifest.Load(projectManifest, func(k string) string { return h.env[k] })
	if err != nil {
		t.Fatal(err)
	}
	h.names = m.Names()
	for _, n := range h.names {
		h.zip(t, n, "v1")
	}
	key := kgsign.NewKey([]byte(h.env["KG_ACCESS_KEY_BASIC"]), "")
	// Every function answers in the APIG shape; the one behind /saas/produce checks
	// the marketplace signature and answers the unknown instance with 000003.
	h.cloud.Invoke = func(name string, payload []byte) ([]byte, error) {
		var ev struct {
			Path  string            `json:"path"`
			Body  string            `json:"body"`
			Query map[string]string `json:"queryStringParameters"`
		}
		_ = json.Unmarshal(payload, &ev)
		body, _ := base64.StdEncoding.DecodeString(ev.Body)
		code := "000001"
		if kgsign.V2Signature(key, ev.Query["nonce"], ev.Query["timestamp"], body) == ev.Query["signature"] {
			code = "000003"
		}
		answer := `{"resultCode":"` + code + `","resultMsg":"x"}`
		return json.Marshal(map[string]any{"statusCode": 200, "isBase64Encoded": false, "body": answer,
			"headers": map[string]string{"Content-Type": "application/json", "Body-Sign": kgsign.BodySignHeader(key, []byte(answer))}})
	}
	return h
}

func (h *harness) zip(t *testing.T, name, version string) {
	z, err := buildzip.Zip([]byte(name + " " + version))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(h.build, name+".zip"), z, 0o644); err != nil {
		t.Fatal(err)
	}
}

func (h *harness) run(t *testing.T, args ...string) (int, string) {
	t.Helper()
	return h.runWith(t, "", args...)
}

// runWith runs the command with stdin; the settings file is the harness's own
// (none unless a test writes it).
func (h *harness) runWith(t *testing.T, stdin string, args ...string) (int, string) {
	t.Helper()
	h.cloud.Reset()
	var out, errOut bytes.Buffer
	args = append([]string{"-manifest", projectManifest, "-build", h.build, "-config", h.config}, args...)
	code := run(context.Background(), args, func(k string) string { return h.env[k] }, strings.NewReader(stdin), &out, &errOut)
	return code, out.String() + errOut.String()
}

func (h *harness) writes() (n int, functions map[string]bool) {
	functions = map[string]bool{}
	for _, c := range h.cloud.Calls() {
		if c.Write() && c.OK() {
			n++
			for _, part := range strings.Split(c.Path, "/") {
				if p := strings.Split(part, ":"); len(p) > 6 && p[0] == "urn" {
					functions[p[6]] = true
				}
			}
		}
	}
	return n, functions
}

// TestDeployProjectManifest deploys the project's own serverless.yml to the fake
// cloud: every function, its triggers and the gateway settings; then the same
// build again (no write); then --only; then a failure (exit status 1).
func TestDeployProjectManifest(t *testing.T) {
	t.Parallel()
	h := newHarness(t)

	code, out := h.run(t, "--dry-run")
	if n, _ := h.writes(); code != 0 || n != 0 {
		t.Fatalf("dry run: exit %d, %d writes\n%s", code, n, out)
	}

	code, out = h.run(t)
	if code != 0 {
		t.Fatalf("deploy: exit %d\n%s", code, out)
	}
	for _, c := range h.cloud.Calls() {
		if c.Rejected != nil {
			t.Errorf("%s: %v", c.Op, c.Rejected)
		}
	}
	for _, n := range h.names {
		fn, ok := h.cloud.Function(n)
		if !ok {
			t.Errorf("%s not deployed", n)
			continue
		}
		if fn.Config["runtime"] != "Custom" || fn.Config["handler"] != "bootstrap" {
			t.Errorf("%s: runtime %v handler %v", n, fn.Config["runtime"], fn.Config["handler"])
		}
		if len(h.cloud.Triggers(n)) == 0 {
			t.Errorf("%s: no trigger", n)
		}
	}
	if !strings.Contains(out, "smoke saas-produce: ok (signed queryInstance answered 000003") || !strings.Contains(out, "deployment done") {
		t.Errorf("output:\n%s", out)
	}
	if strings.Contains(out, h.env["KG_ACCESS_KEY_BASIC"]) || strings.Contains(out, strings.Repeat("p", 32)) {
		t.Error("a secret appears in the output")
	}

	code, out = h.run(t)
	if n, _ := h.writes(); code != 0 || n != 0 {
		t.Fatalf("unchanged redeploy: exit %d, %d writes\n%s", code, n, out)
	}

	h.zip(t, "saas-produce", "v2")
	h.zip(t, "usage-report", "v2")
	code, out = h.run(t, "--only", "saas-produce")
	if _, fns := h.writes(); code != 0 || len(fns) != 1 || !fns["saas-produce"] {
		t.Fatalf("--only saas-produce: exit %d, wrote to %v\n%s", code, fns, out)
	}

	h.cloud.Fail(fakecloud.OpUpdateFunctionCode, http.StatusInternalServerError)
	code, out = h.run(t)
	if code != 1 || !strings.Contains(out, "usage-report") || !strings.Contains(out, "FAILED") {
		t.Fatalf("failure: exit %d\n%s", code, out)
	}

	if code, out := h.run(t, "--only", "no-such-function"); code != 1 || !strings.Contains(out, "no-such-function") {
		t.Errorf("unknown --only: exit %d\n%s", code, out)
	}
	if code, _ := h.run(t, "--bogus-flag"); code != 2 {
		t.Errorf("bad flag: exit %d", code)
	}
}

// TestMultiLineSecretsDeployWithoutBeingPrinted: a multi-line secret (a PEM key)
// is substituted after the manifest is parsed, so it cannot break the YAML, and
// neither it nor any other secret appears in the output.
func TestMultiLineSecretsDeployWithoutBeingPrinted(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.env["DB_DSN"] = "user:very-secret-password@tcp(db:3306)/x"
	pem, err := os.ReadFile("../../testdata/clientsecret/test-key.pem")
	if err != nil {
		t.Fatal(err)
	}
	keyLine := strings.Split(string(pem), "\n")[1]
	for name := range h.env {
		if strings.Contains(name, "PRIVATE_KEY") {
			h.env[name] = string(pem)
		}
	}
	code, out := h.run(t, "--dry-run")
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, out)
	}
	if strings.Contains(out, "very-secret-password") || strings.Contains(out, keyLine) {
		t.Fatalf("the output quotes a secret:\n%s", out)
	}
}

func TestEnvNames(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	code, out := h.run(t, "-env-names")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, out)
	}
	names := firstColumn(out)
	for _, want := range []string{"DB_DSN", "APIG_GROUP_ID", "HUAWEICLOUD_SDK_AK", "HUAWEICLOUD_REGION", "KG_ACCESS_KEY_BASIC"} {
		if !slices.Contains(names, want) {
			t.Errorf("-env-names lacks %s: %v", want, names)
		}
	}
	if !slices.IsSorted(names) || len(h.cloud.Calls()) != 0 {
		t.Errorf("names not sorted or the cloud was called: %v", names)
	}
	for name := range projectEnv(t, "") {
		if !slices.Contains(names, name) {
			t.Errorf("%s is set for the test but not listed", name)
		}
	}
}

// TestEnterpriseProjectFromEnvironment: on an account with enterprise projects,
// HUAWEICLOUD_ENTERPRISE_PROJECT_ID places every function; without it the cloud
// refuses the functions and the run exits 1.
func TestEnterpriseProjectFromEnvironment(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.cloud.AddEnterpriseProject("ep-0123")
	if code, out := h.run(t, "--only", "saas-produce"); code != 1 || !strings.Contains(out, "enterprise_project_id") {
		t.Fatalf("without the enterprise project: exit %d\n%s", code, out)
	}
	h.env["HUAWEICLOUD_ENTERPRISE_PROJECT_ID"] = "ep-0123"
	if code, out := h.run(t); code != 0 {
		t.Fatalf("exit %d\n%s", code, out)
	}
	for _, n := range h.names {
		if fn, ok := h.cloud.Function(n); !ok || fn.Config["enterprise_project_id"] != "ep-0123" {
			t.Errorf("%s: enterprise_project_id %v", n, fn.Config["enterprise_project_id"])
		}
	}
	if code, out := h.run(t, "-env-names"); code != 0 || !slices.Contains(firstColumn(out), "HUAWEICLOUD_ENTERPRISE_PROJECT_ID") {
		t.Errorf("-env-names does not list HUAWEICLOUD_ENTERPRISE_PROJECT_ID:\n%s", out)
	}
}

// firstColumn is what CI reads from -env-names: the first word of each line.
func firstColumn(out string) []string {
	var names []string
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		if f := strings.Fields(line); len(f) > 0 {
			names = append(names, f[0])
		}
	}
	return names
}

func TestHelpExitsZero(t *testing.T) {
	t.Parallel()
	var out, errOut bytes.Buffer
	if code := run(context.Background(), []string{"-h"}, func(string) string { return "" }, strings.NewReader(""), &out, &errOut); code != 0 {
		t.Fatalf("-h exited %d, want 0; stderr:\n%s", code, errOut.String())
	}
	if !strings.Contains(out.String()+errOut.String(), "-env-names") {
		t.Errorf("-h printed no usage:\n%s%s", out.String(), errOut.String())
	}
}

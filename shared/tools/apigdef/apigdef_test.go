package apigdef

import (
	"bytes"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/goccy/go-yaml"

	"github.com/kgseller/kgseller/shared/tools/manifest"
)

const (
	manifestPath = "../../../serverless.yml"
	templatePath = "../../../template/apig-api.yaml"
)

// TestTemplateIsCurrent keeps template/apig-api.yaml what the generator makes of
// serverless.yml, so the gateway definition never drifts from the functions.
func TestTemplateIsCurrent(t *testing.T) {
	m, err := manifest.Load(manifestPath, nil)
	if err != nil {
		t.Fatal(err)
	}
	s, err := LoadSettings(manifestPath)
	if err != nil {
		t.Fatal(err)
	}
	want, err := Generate(m, s, Placeholders)
	if err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(templatePath)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("template/apig-api.yaml is stale: run `go run ./scripts/apigdef -write` (first difference at byte %d)", firstDiff(got, want))
	}
}

func firstDiff(a, b []byte) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b))
}

type swagger struct {
	Swagger    string                               `yaml:"swagger"`
	Ratelimits map[string]map[string]any            `yaml:"x-apigateway-ratelimits"`
	Security   map[string]map[string]any            `yaml:"securityDefinitions"`
	Paths      map[string]map[string]map[string]any `yaml:"paths"`
}

// TestDefinitionCoversEveryRoute reads the committed file as YAML and checks each
// route of serverless.yml against it: one operation per route, a FUNCTION backend
// holding that function's URN and the trigger's timeout, no gateway authentication,
// CORS off, the throttling policy attached.
func TestDefinitionCoversEveryRoute(t *testing.T) {
	m, err := manifest.Load(manifestPath, nil)
	if err != nil {
		t.Fatal(err)
	}
	s, err := LoadSettings(manifestPath)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(templatePath)
	if err != nil {
		t.Fatal(err)
	}
	var doc swagger
	if err := yaml.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	if doc.Swagger != "2.0" {
		t.Fatalf("swagger %q", doc.Swagger)
	}
	if s.Throttle == nil {
		t.Fatal("serverless.yml has no custom.apig.throttle")
	}
	policy := doc.Ratelimits[s.Throttle.Name]
	if fmt.Sprint(policy["api-limit"]) != fmt.Sprint(s.Throttle.APICallLimits) || fmt.Sprint(policy["ip-limit"]) != fmt.Sprint(s.Throttle.IPCallLimits) ||
		fmt.Sprint(policy["unit"]) != s.Throttle.TimeUnit || fmt.Sprint(policy["interval"]) != fmt.Sprint(s.Throttle.TimeInterval) {
		t.Errorf("ratelimit policy %v does not match custom.apig.throttle %+v", policy, *s.Throttle)
	}
	ops := 0
	for _, p := range doc.Paths {
		ops += len(p)
	}
	routes := m.Routes()
	if ops != len(routes) {
		t.Errorf("%d operations for %d routes", ops, len(routes))
	}
	for _, r := range routes {
		method := strings.ToLower(r.Method)
		if r.Method == "ANY" {
			method = "x-apigateway-any-method"
		}
		op := doc.Paths[r.Path][method]
		if op == nil {
			t.Errorf("%s %s (%s) missing", r.Method, r.Path, r.Function)
			continue
		}
		backend, _ := op["x-apigateway-backend"].(map[string]any)
		fe, _ := backend["functionEndpoints"].(map[string]any)
		if backend["type"] != "FUNCTION" || fe["function-urn"] != Placeholders.URN(r.Function) || fe["invocation-type"] != "sync" {
			t.Errorf("%s %s: backend %v", r.Method, r.Path, backend)
		}
		if fmt.Sprint(fe["timeout"]) != fmt.Sprint(r.TimeoutMS) {
			t.Errorf("%s %s: backend timeout %v, trigger says %d", r.Method, r.Path, fe["timeout"], r.TimeoutMS)
		}
		// NONE (the functions verify the marketplace's signatures) gets no security;
		// APP or IAM (an API product's own gateway authentication) gets its scheme.
		sec, hasSec := op["security"]
		switch auth := authOf(m, r); auth {
		case "NONE":
			if hasSec {
				t.Errorf("%s %s: auth NONE but security %v", r.Method, r.Path, sec)
			}
		case "APP", "IAM":
			if want := "apig-auth-" + strings.ToLower(auth); !strings.Contains(fmt.Sprint(sec), want) || doc.Security[want] == nil {
				t.Errorf("%s %s: auth %s but security %v", r.Method, r.Path, auth, sec)
			}
		default:
			t.Errorf("%s %s: auth %q", r.Method, r.Path, auth)
		}
		if op["x-apigateway-cors"] != false || op["x-apigateway-is-send-fg-body-base64"] != true || op["x-apigateway-request-type"] != "public" {
			t.Errorf("%s %s: cors/base64/request type %v %v %v", r.Method, r.Path, op["x-apigateway-cors"], op["x-apigateway-is-send-fg-body-base64"], op["x-apigateway-request-type"])
		}
		if op["x-apigateway-ratelimit"] != s.Throttle.Name {
			t.Errorf("%s %s: throttling policy %v", r.Method, r.Path, op["x-apigateway-ratelimit"])
		}
		wantMode := "NORMAL"
		if r.Prefix {
			wantMode = "SWA"
		}
		if op["x-apigateway-match-mode"] != wantMode {
			t.Errorf("%s %s: match mode %v", r.Method, r.Path, op["x-apigateway-match-mode"])
		}
	}
}

func authOf(m *manifest.Manifest, r manifest.Route) string {
	for _, ev := range m.Functions[r.Function].Events {
		if ev.IsHTTP() && ev.String("path") == r.Path {
			return strings.ToUpper(ev.String("auth"))
		}
	}
	return ""
}

func TestGenerateRulesAndAuth(t *testing.T) {
	m, err := manifest.Parse([]byte(`
service: s
functions:
  a:
    handler: bootstrap
    events:
      - triggerTypeCode: DEDICATEDGATEWAY
        eventData: {name: a_api, path: /a, reqMethod: ANY, matchMode: SWA, auth: APP, timeout: 7000}
  b:
    handler: bootstrap
    events:
      - triggerTypeCode: TIMER
        eventData: {name: t, scheduleType: Rate, schedule: 1m}
`), nil)
	if err != nil {
		t.Fatal(err)
	}
	out, err := Generate(m, Settings{}, URNParts{"r", "p", "g"})
	if err != nil {
		t.Fatal(err)
	}
	text := string(out)
	for _, want := range []string{"x-apigateway-any-method:", "x-apigateway-auth-type: AppSigv1", "- apig-auth-app: []", "x-apigateway-match-mode: SWA", "timeout: 7000", `"urn:fss:r:p:function:g:a:latest"`} {
		if !strings.Contains(text, want) {
			t.Errorf("output lacks %q:\n%s", want, text)
		}
	}
	if strings.Contains(text, "x-apigateway-ratelimit") || strings.Contains(text, ":b:latest") {
		t.Errorf("unexpected policy or timer function in output:\n%s", text)
	}
	again, _ := Generate(m, Settings{}, URNParts{"r", "p", "g"})
	if !bytes.Equal(out, again) {
		t.Error("output is not deterministic")
	}

	for name, ev := range map[string]string{
		"no auth":     "{path: /a, reqMethod: POST}",
		"bad auth":    "{path: /a, reqMethod: POST, auth: OPEN}",
		"bad timeout": "{path: /a, reqMethod: POST, auth: NONE, timeout: 90000}",
	} {
		m, err := manifest.Parse([]byte("functions:\n  a:\n    events: [{triggerTypeCode: APIG, eventData: "+ev+"}]\n"), nil)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := Generate(m, Settings{}, Placeholders); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func TestSettingsValidation(t *testing.T) {
	good := "custom:\n  apig:\n    throttle: {name: p_1, apiCallLimits: 10, ipCallLimits: 5, timeInterval: 1, timeUnit: second}\n    requestBodySizeMB: 2\n"
	s, err := ParseSettings([]byte(good))
	if err != nil || s.Throttle.TimeUnit != "SECOND" || s.RequestBodySizeMB != 2 {
		t.Fatalf("%+v %v", s, err)
	}
	for name, raw := range map[string]string{
		"ip above api": "custom:\n  apig:\n    throttle: {name: p_1, apiCallLimits: 10, ipCallLimits: 50, timeInterval: 1, timeUnit: SECOND}\n",
		"bad unit":     "custom:\n  apig:\n    throttle: {name: p_1, apiCallLimits: 10, timeInterval: 1, timeUnit: WEEK}\n",
		"bad name":     "custom:\n  apig:\n    throttle: {name: 1x, apiCallLimits: 10, timeInterval: 1, timeUnit: SECOND}\n",
		"no interval":  "custom:\n  apig:\n    throttle: {name: p_1, apiCallLimits: 10, timeUnit: SECOND}\n",
		"body size":    "custom:\n  apig:\n    requestBodySizeMB: 10000\n",
	} {
		if _, err := ParseSettings([]byte(raw)); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	if s, err := ParseSettings([]byte("service: x\n")); err != nil || s.Throttle != nil || s.RequestBodySizeMB != 0 {
		t.Errorf("no custom section: %+v %v", s, err)
	}
}

package fakecloud

import (
	"archive/zip"
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/kgseller/kgseller/shared/aksk"
)

const (
	testProject = "0123456789abcdef0123456789abcdef"
	testRegion  = "xx-test-1"
	testAK      = "FAKEAK0123456789"
	testSK      = "fake-secret-key"
)

// env is a fake with one dedicated gateway (inst-1, group grp-1), one shared-gateway
// group (sgrp-1) and, after fn(), one function "fn" in package "pkg".
type env struct {
	t   *testing.T
	c   *Cloud
	url string
}

func newEnv(t *testing.T) *env {
	t.Helper()
	c := New(testProject, testAK, testSK)
	c.Region = testRegion
	c.BusyCalls = 0
	c.AddGateway("inst-1", "grp-1")
	c.AddSharedGroup("sgrp-1")
	c.Invoke = func(string, []byte) ([]byte, error) {
		return []byte(`{"statusCode":200,"isBase64Encoded":false,"body":"ok"}`), nil
	}
	return &env{t: t, c: c, url: c.Server(t).URL}
}

type reply struct {
	status int
	code   string
	header http.Header
	body   []byte
}

func (r reply) String() string { return fmt.Sprintf("HTTP %d %s: %.300s", r.status, r.code, r.body) }

// send signs and sends one request; body is sent as is when []byte, else as JSON.
func (e *env) send(method, path string, header map[string]string, body any) reply {
	e.t.Helper()
	var raw []byte
	switch b := body.(type) {
	case nil:
	case []byte:
		raw = b
	default:
		var err error
		if raw, err = json.Marshal(b); err != nil {
			e.t.Fatal(err)
		}
	}
	req, err := aksk.Request(aksk.Credentials{AK: testAK, SK: testSK}, e.url, time.Now().UTC().Format(aksk.Date),
		aksk.Call{Method: method, Path: path, Headers: header, Body: raw})
	if err != nil {
		e.t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	var eb struct {
		Code string `json:"error_code"`
	}
	_ = json.Unmarshal(out, &eb)
	return reply{status: resp.StatusCode, code: eb.Code, header: resp.Header, body: out}
}

func testZip(t *testing.T, content string) string {
	t.Helper()
	var buf bytes.Buffer
	w := zip.NewWriter(&buf)
	f, err := w.Create("bootstrap")
	if err != nil {
		t.Fatal(err)
	}
	_, _ = f.Write([]byte(content))
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return base64.StdEncoding.EncodeToString(buf.Bytes())
}

const fnURN = "urn:fss:" + testRegion + ":" + testProject + ":function:pkg:fn:latest"

func fgsPath(rest string) string { return "/v2/" + testProject + "/fgs/" + rest }

func apigPath(instance, rest string) string {
	return "/v2/" + testProject + "/apigw/instances/" + instance + "/" + rest
}

// createBody is a valid CreateFunction body.
func createBody(t *testing.T, name string) map[string]any {
	return map[string]any{
		"func_name": name, "package": "pkg", "runtime": "Custom", "handler": "bootstrap", "memory_size": 128, "timeout": 10,
		"code_type": "zip", "code_filename": name + ".zip", "func_code": map[string]any{"file": testZip(t, "v1 of "+name)},
		"type": "v2", "user_data": `{"A":"1"}`, "description": "d",
	}
}

// configBody is a valid UpdateFunctionConfig body for fn.
func configBody() map[string]any {
	return map[string]any{"func_name": "fn", "runtime": "Custom", "handler": "bootstrap", "memory_size": 256, "timeout": 20}
}

// codeBody is a valid UpdateFunctionCode body.
func codeBody(t *testing.T, content string) map[string]any {
	return map[string]any{"code_type": "zip", "code_filename": "fn.zip", "func_code": map[string]any{"file": testZip(t, content)}}
}

// dedicatedBody is a valid DEDICATEDGATEWAY trigger for fn.
func dedicatedBody() map[string]any {
	return map[string]any{"trigger_type_code": "DEDICATEDGATEWAY", "trigger_status": "ACTIVE", "event_data": map[string]any{
		"name": "api_fn", "instance_id": "inst-1", "group_id": "grp-1", "env_name": "RELEASE", "env_id": ReleaseEnvID,
		"protocol": "HTTPS", "req_method": "POST", "match_mode": "NORMAL", "auth": "NONE", "path": "/fn", "type": 1,
		"backend_type": "FUNCTION",
		"func_info":    map[string]any{"function_urn": strings.TrimSuffix(fnURN, ":latest"), "invocation_type": "sync", "timeout": 5000, "version": "latest"},
	}}
}

func timerBody() map[string]any {
	return map[string]any{"trigger_type_code": "TIMER", "trigger_status": "ACTIVE", "event_data": map[string]any{
		"name": "every-minute", "schedule_type": "Rate", "schedule": "1m", "user_event": "{}",
	}}
}

func throttleBody() map[string]any {
	return map[string]any{"name": "kg_default", "api_call_limits": 50, "ip_call_limits": 10, "time_interval": 1, "time_unit": "SECOND", "type": 1}
}

func (e *env) fn() {
	e.t.Helper()
	if r := e.send(http.MethodPost, fgsPath("functions"), nil, createBody(e.t, "fn")); r.status != http.StatusOK {
		e.t.Fatalf("creating fn: %v", r)
	}
}

func edit(body map[string]any, path string, value any) map[string]any {
	m := body
	keys := strings.Split(path, ".")
	for _, k := range keys[:len(keys)-1] {
		m = m[k].(map[string]any)
	}
	if value == nil {
		delete(m, keys[len(keys)-1])
	} else {
		m[keys[len(keys)-1]] = value
	}
	return body
}

// TestValidRequestsAreAccepted holds the baseline every rule test departs from:
// the same requests, unchanged, succeed.
func TestValidRequestsAreAccepted(t *testing.T) {
	e := newEnv(t)
	e.fn()
	for _, tc := range []struct {
		name, method, path string
		body               any
		want               int
	}{
		{"UpdateFunctionCode", http.MethodPut, fgsPath("functions/" + fnURN + "/code"), codeBody(t, "v2"), 200},
		{"UpdateFunctionConfig", http.MethodPut, fgsPath("functions/" + fnURN + "/config"), configBody(), 200},
		{"UpdateFunctionMaxInstanceConfig", http.MethodPut, fgsPath("functions/" + fnURN + "/config-max-instance"), map[string]any{"max_instance_num": 30}, 200},
		{"CreateFunctionTrigger DEDICATEDGATEWAY", http.MethodPost, fgsPath("triggers/" + fnURN), dedicatedBody(), 201},
		{"CreateFunctionTrigger TIMER", http.MethodPost, fgsPath("triggers/" + fnURN), timerBody(), 201},
		{"CreateRequestThrottlingPolicyV2", http.MethodPost, apigPath("inst-1", "throttles"), throttleBody(), 201},
		{"CreateFeatureV2", http.MethodPost, apigPath("inst-1", "features"), map[string]any{"name": "request_body_size", "enable": true, "config": "1048576"}, 201},
	} {
		if r := e.send(tc.method, tc.path, nil, tc.body); r.status != tc.want {
			t.Errorf("%s: %v", tc.name, r)
		}
	}
	if f, _ := e.c.Function("fn"); f.CodeUpdates != 1 || f.Config["memory_size"] != float64(256) || f.MaxInstances != 30 {
		t.Errorf("fn after the updates: %d code updates, config %v, max instances %d", f.CodeUpdates, f.Config, f.MaxInstances)
	}
}

// rule is one rule of the real contract: a valid request changed in one way,
// and the answer the fake must give it.
type rule struct {
	name       string
	method     string
	path       string
	header     map[string]string
	body       func(t *testing.T) any
	setup      func(e *env)
	wantStatus int
	wantCode   string
}

func TestFunctionGraphRules(t *testing.T) {
	create := func(mut func(t *testing.T, b map[string]any)) func(t *testing.T) any {
		return func(t *testing.T) any { b := createBody(t, "fn2"); mut(t, b); return b }
	}
	code := fgsPath("functions/" + fnURN + "/code")
	config := fgsPath("functions/" + fnURN + "/config")
	trigger := fgsPath("triggers/" + fnURN)
	maxInst := fgsPath("functions/" + fnURN + "/config-max-instance")
	withMax := func(v any) func(*testing.T) any {
		return func(*testing.T) any { return map[string]any{"max_instance_num": v} }
	}
	withConfig := func(path string, v any) func(*testing.T) any {
		return func(*testing.T) any { return edit(configBody(), path, v) }
	}
	withTrigger := func(path string, v any) func(*testing.T) any {
		return func(*testing.T) any { return edit(dedicatedBody(), path, v) }
	}
	post := http.MethodPost
	rules := []rule{
		// CreateFunctionRequestBody: unknown members, wrong types, required fields.
		{"create: unknown field", post, fgsPath("functions"), nil, create(func(_ *testing.T, b map[string]any) { b["memorySize"] = 128 }), nil, 400, "FSS.0400"},
		{"create: memory_size as a string", post, fgsPath("functions"), nil, create(func(_ *testing.T, b map[string]any) { b["memory_size"] = "128" }), nil, 400, "FSS.0400"},
		{"create: memory_size missing", post, fgsPath("functions"), nil, create(func(_ *testing.T, b map[string]any) { delete(b, "memory_size") }), nil, 400, "FSS.0400"},
		{"create: timeout missing", post, fgsPath("functions"), nil, create(func(_ *testing.T, b map[string]any) { delete(b, "timeout") }), nil, 400, "FSS.0400"},
		{"create: package missing", post, fgsPath("functions"), nil, create(func(_ *testing.T, b map[string]any) { delete(b, "package") }), nil, 400, "FSS.0400"},
		{"create: code_filename missing for a zip", post, fgsPath("functions"), nil, create(func(_ *testing.T, b map[string]any) { delete(b, "code_filename") }), nil, 400, "FSS.0400"},
		{"create: code_type missing", post, fgsPath("functions"), nil, create(func(_ *testing.T, b map[string]any) { delete(b, "code_type") }), nil, 400, "FSS.1006"},
		{"create: code_type not in the enum", post, fgsPath("functions"), nil, create(func(_ *testing.T, b map[string]any) { b["code_type"] = "tar" }), nil, 400, "FSS.1006"},
		{"create: runtime not in the enum", post, fgsPath("functions"), nil, create(func(_ *testing.T, b map[string]any) { b["runtime"] = "Go1.21" }), nil, 400, "FSS.1005"},
		{"create: memory 640 (a multiple of 128, not a size)", post, fgsPath("functions"), nil, create(func(_ *testing.T, b map[string]any) { b["memory_size"] = 640 }), nil, 400, "FSS.1007"},
		{"create: memory 10240", post, fgsPath("functions"), nil, create(func(_ *testing.T, b map[string]any) { b["memory_size"] = 10240 }), nil, 400, "FSS.1007"},
		{"create: timeout 2", post, fgsPath("functions"), nil, create(func(_ *testing.T, b map[string]any) { b["timeout"] = 2 }), nil, 400, "FSS.1008"},
		{"create: type v3", post, fgsPath("functions"), nil, create(func(_ *testing.T, b map[string]any) { b["type"] = "v3" }), nil, 400, "FSS.0400"},
		{"create: bad function name", post, fgsPath("functions"), nil, create(func(_ *testing.T, b map[string]any) { b["func_name"] = "9fn" }), nil, 400, "FSS.1002"},
		{"create: 21 variables", post, fgsPath("functions"), nil, create(func(_ *testing.T, b map[string]any) {
			vars := map[string]string{}
			for i := range 21 {
				vars[fmt.Sprintf("V%d", i)] = "x"
			}
			s, _ := json.Marshal(vars)
			b["user_data"] = string(s)
		}), nil, 400, "FSS.1017"},
		{"create: user_data not a JSON object", post, fgsPath("functions"), nil, create(func(_ *testing.T, b map[string]any) { b["user_data"] = "A=1" }), nil, 400, "FSS.1009"},
		{"create: description of 513 characters", post, fgsPath("functions"), nil, create(func(_ *testing.T, b map[string]any) { b["description"] = strings.Repeat("é", 513) }), nil, 400, "FSS.1019"},
		{"create: func_vpc without xrole", post, fgsPath("functions"), nil, create(func(_ *testing.T, b map[string]any) {
			b["func_vpc"] = map[string]any{"vpc_id": "v", "subnet_id": "s"}
		}), nil, 400, "FSS.0400"},
		{"create: func_vpc without subnet_id", post, fgsPath("functions"), nil, create(func(_ *testing.T, b map[string]any) {
			b["func_vpc"], b["xrole"] = map[string]any{"vpc_id": "v"}, "agency"
		}), nil, 400, "FSS.0400"},
		{"create: code not a zip", post, fgsPath("functions"), nil, create(func(_ *testing.T, b map[string]any) {
			b["func_code"] = map[string]any{"file": base64.StdEncoding.EncodeToString([]byte("not a zip"))}
		}), nil, 400, "FSS.1011"},
		{"create: existing name", post, fgsPath("functions"), nil, func(t *testing.T) any { return createBody(t, "fn") }, nil, 409, "FSS.1061"},
		{"create: enterprise account without enterprise_project_id", post, fgsPath("functions"), nil, create(func(*testing.T, map[string]any) {}),
			func(e *env) { e.c.AddEnterpriseProject("ep-1") }, 400, "FSS.0400"},
		{"create: unknown enterprise project", post, fgsPath("functions"), nil, create(func(_ *testing.T, b map[string]any) { b["enterprise_project_id"] = "ep-9" }),
			func(e *env) { e.c.AddEnterpriseProject("ep-1") }, 403, "FSS.1127"},

		// UpdateFunctionCodeRequestBody.
		{"code: code_filename missing", http.MethodPut, code, nil, func(t *testing.T) any { return edit(codeBody(t, "v2"), "code_filename", nil) }, nil, 400, "FSS.0400"},
		{"code: code_type missing", http.MethodPut, code, nil, func(t *testing.T) any { return edit(codeBody(t, "v2"), "code_type", nil) }, nil, 400, "FSS.0400"},
		{"code: func_code missing", http.MethodPut, code, nil, func(t *testing.T) any { return edit(codeBody(t, "v2"), "func_code", nil) }, nil, 400, "FSS.0400"},
		{"code: the code the function has", http.MethodPut, code, nil, func(t *testing.T) any { return codeBody(t, "v1 of fn") }, nil, 409, "FSS.0409"},
		{"code: unknown function", http.MethodPut, strings.Replace(code, ":fn:", ":nofn:", 1), nil, func(t *testing.T) any { return codeBody(t, "v2") }, nil, 404, "FSS.1051"},

		// UpdateFunctionConfigRequestBody.
		{"config: package (not in the update model)", http.MethodPut, config, nil, withConfig("package", "pkg"), nil, 400, "FSS.0400"},
		{"config: memory_size missing", http.MethodPut, config, nil, withConfig("memory_size", nil), nil, 400, "FSS.0400"},
		{"config: timeout as a string", http.MethodPut, config, nil, withConfig("timeout", "20"), nil, 400, "FSS.0400"},
		{"config: memory 384", http.MethodPut, config, nil, withConfig("memory_size", 384), nil, 400, "FSS.1007"},
		{"config: func_name of another function", http.MethodPut, config, nil, withConfig("func_name", "other"), nil, 400, "FSS.1002"},
		{"config: enterprise account without enterprise_project_id", http.MethodPut, config, nil, withConfig("timeout", 20),
			func(e *env) { e.c.AddEnterpriseProject("ep-1") }, 400, "FSS.0400"},

		// UpdateFunctionMaxInstanceConfigRequestBody (max_instance_num: -1 to 1000).
		{"max instances: 1001", http.MethodPut, maxInst, nil, withMax(1001), nil, 400, "FSS.0400"},
		{"max instances: -2", http.MethodPut, maxInst, nil, withMax(-2), nil, 400, "FSS.0400"},
		{"max instances: as a string", http.MethodPut, maxInst, nil, withMax("30"), nil, 400, "FSS.0400"},
		{"max instances: missing", http.MethodPut, maxInst, nil, func(*testing.T) any { return map[string]any{} }, nil, 400, "FSS.0400"},
		{"max instances: unknown field", http.MethodPut, maxInst, nil, func(*testing.T) any { return map[string]any{"maxInstanceNum": 30} }, nil, 400, "FSS.0400"},
		{"max instances: unknown function", http.MethodPut, strings.Replace(maxInst, ":fn:", ":nofn:", 1), nil, withMax(30), nil, 404, "FSS.1051"},
		{"config: strategy_config.concurrency 1001", http.MethodPut, config, nil,
			withConfig("strategy_config", map[string]any{"concurrency": 1001, "concurrent_num": 1}), nil, 400, "FSS.0400"},

		// InvokeFunction.
		{"invoke: X-CFF-Request-Version v2", post, fgsPath("functions/" + fnURN + "/invocations"), map[string]string{"X-CFF-Request-Version": "v2"},
			func(*testing.T) any { return map[string]any{"k": "v"} }, nil, 400, "FSS.0400"},
		{"invoke: event not an object", post, fgsPath("functions/" + fnURN + "/invocations"), map[string]string{"X-CFF-Request-Version": "v1"},
			func(*testing.T) any { return []byte(`[1,2]`) }, nil, 400, "FSS.0400"},

		// CreateFunctionTriggerRequestBody and its event data.
		{"trigger: unknown function", post, strings.Replace(trigger, ":fn:", ":nofn:", 1), nil, withTrigger("trigger_status", "ACTIVE"), nil, 404, "FSS.1051"},
		{"trigger: type not in the enum", post, trigger, nil, withTrigger("trigger_type_code", "WEBHOOK"), nil, 400, "FSS.1101"},
		{"trigger: status not in the enum", post, trigger, nil, withTrigger("trigger_status", "ON"), nil, 400, "FSS.0400"},
		{"trigger: unknown event_data field", post, trigger, nil, withTrigger("event_data.reqMethod", "POST"), nil, 400, "FSS.0400"},
		{"trigger: func_info.timeout missing", post, trigger, nil, withTrigger("event_data.func_info.timeout", nil), nil, 400, "FSS.0400"},
		{"trigger: func_info.timeout 60001", post, trigger, nil, withTrigger("event_data.func_info.timeout", 60001), nil, 400, "FSS.1417"},
		{"trigger: env_id missing", post, trigger, nil, withTrigger("event_data.env_id", nil), nil, 400, "FSS.1417"},
		{"trigger: protocol FTP", post, trigger, nil, withTrigger("event_data.protocol", "FTP"), nil, 400, "FSS.1417"},
		{"trigger: req_method FETCH", post, trigger, nil, withTrigger("event_data.req_method", "FETCH"), nil, 400, "FSS.1417"},
		{"trigger: match_mode PREFIX", post, trigger, nil, withTrigger("event_data.match_mode", "PREFIX"), nil, 400, "FSS.1417"},
		{"trigger: auth BASIC", post, trigger, nil, withTrigger("event_data.auth", "BASIC"), nil, 400, "FSS.1417"},
		{"trigger: type 3", post, trigger, nil, withTrigger("event_data.type", 3), nil, 400, "FSS.1417"},
		{"trigger: function_urn with :latest and version", post, trigger, nil, withTrigger("event_data.func_info.function_urn", fnURN), nil, 400, "FSS.1417"},
		{"trigger: function_urn of another function", post, trigger, nil,
			withTrigger("event_data.func_info.function_urn", strings.Replace(strings.TrimSuffix(fnURN, ":latest"), ":fn", ":other", 1)), nil, 400, "FSS.1417"},
		{"trigger: unknown gateway instance", post, trigger, nil, withTrigger("event_data.instance_id", "inst-9"), nil, 400, "FSS.1417"},
		{"trigger: unknown API group", post, trigger, nil, withTrigger("event_data.group_id", "grp-9"), nil, 400, "FSS.1417"},
		{"trigger: unknown environment", post, trigger, nil, withTrigger("event_data.env_id", "env-9"), nil, 400, "FSS.1417"},
		{"trigger: dedicated without instance_id", post, trigger, nil, withTrigger("event_data.instance_id", nil), nil, 400, "FSS.1417"},
		{"trigger: shared gateway, unknown group", post, trigger, nil, func(*testing.T) any {
			return edit(edit(dedicatedBody(), "trigger_type_code", "APIG"), "event_data.group_id", "grp-1")
		}, nil, 400, "FSS.1107"},
		{"trigger: path taken", post, trigger, nil, withTrigger("trigger_status", "ACTIVE"),
			func(e *env) { e.send(http.MethodPost, trigger, nil, dedicatedBody()) }, 409, "FSS.1147"},
		{"trigger: TIMER schedule_type Every", post, trigger, nil, func(*testing.T) any { return edit(timerBody(), "event_data.schedule_type", "Every") }, nil, 400, "FSS.1109"},
		{"trigger: TIMER Rate 90m", post, trigger, nil, func(*testing.T) any { return edit(timerBody(), "event_data.schedule", "90m") }, nil, 400, "FSS.1109"},
		{"trigger: TIMER schedule missing", post, trigger, nil, func(*testing.T) any { return edit(timerBody(), "event_data.schedule", nil) }, nil, 400, "FSS.1109"},
	}
	for _, r := range rules {
		t.Run(r.name, func(t *testing.T) { r.check(t) })
	}
}

func TestAPIGatewayRules(t *testing.T) {
	throttle := func(path string, v any) func(*testing.T) any {
		return func(*testing.T) any { return edit(throttleBody(), path, v) }
	}
	post := http.MethodPost
	throttles := apigPath("inst-1", "throttles")
	rules := []rule{
		{"throttle: unknown gateway instance", post, apigPath("inst-9", "throttles"), nil, throttle("name", "kg_default"), nil, 404, "APIG.3030"},
		{"throttle: unknown field", post, throttles, nil, throttle("apiCallLimits", 50), nil, 400, "APIG.2000"},
		{"throttle: api_call_limits as a string", post, throttles, nil, throttle("api_call_limits", "50"), nil, 400, "APIG.2000"},
		{"throttle: time_interval missing", post, throttles, nil, throttle("time_interval", nil), nil, 400, "APIG.2000"},
		{"throttle: time_unit WEEK", post, throttles, nil, throttle("time_unit", "WEEK"), nil, 400, "APIG.2012"},
		{"throttle: type 3", post, throttles, nil, throttle("type", 3), nil, 400, "APIG.2012"},
		{"throttle: ip_call_limits above api_call_limits", post, throttles, nil, throttle("ip_call_limits", 51), nil, 400, "APIG.2012"},
		{"throttle: name with a hyphen", post, throttles, nil, throttle("name", "kg-default"), nil, 400, "APIG.2012"},
		{"throttle: name taken", post, throttles, nil, throttle("name", "kg_default"),
			func(e *env) { e.send(post, throttles, nil, throttleBody()) }, 400, "APIG.3204"},
		{"binding: unknown policy", post, apigPath("inst-1", "throttle-bindings"), nil,
			func(*testing.T) any { return map[string]any{"strategy_id": "thr-9", "publish_ids": []string{"pub-1"}} }, nil, 404, "APIG.3005"},
		{"binding: unknown API", post, apigPath("inst-1", "throttle-bindings"), nil,
			func(*testing.T) any {
				return map[string]any{"strategy_id": "thr-0001", "publish_ids": []string{"pub-9"}}
			},
			func(e *env) { e.send(post, throttles, nil, throttleBody()) }, 404, "APIG.3002"},
		{"unbound APIs: throttle_id missing", http.MethodGet, apigPath("inst-1", "throttle-bindings/unbinded-apis"), nil, func(*testing.T) any { return nil }, nil, 400, "APIG.2000"},
		{"feature: enable missing", post, apigPath("inst-1", "features"), nil,
			func(*testing.T) any { return map[string]any{"name": "request_body_size", "config": "1048576"} }, nil, 400, "APIG.2000"},
		{"feature: request_body_size of 1 byte", post, apigPath("inst-1", "features"), nil,
			func(*testing.T) any {
				return map[string]any{"name": "request_body_size", "enable": true, "config": "1"}
			}, nil, 400, "APIG.2012"},
	}
	for _, r := range rules {
		t.Run(r.name, func(t *testing.T) { r.check(t) })
	}
}

func (r rule) check(t *testing.T) {
	e := newEnv(t)
	e.fn()
	if r.setup != nil {
		r.setup(e)
	}
	fBefore, _ := e.c.Function("fn")
	got := e.send(r.method, r.path, r.header, r.body(t))
	if got.status != r.wantStatus || got.code != r.wantCode {
		t.Fatalf("got %v, want HTTP %d %s", got, r.wantStatus, r.wantCode)
	}
	// A refused request changes nothing.
	if fAfter, _ := e.c.Function("fn"); fAfter.CodeUpdates != fBefore.CodeUpdates || fmt.Sprint(fAfter.Config) != fmt.Sprint(fBefore.Config) ||
		fAfter.MaxInstances != fBefore.MaxInstances {
		t.Errorf("the refused request changed fn")
	}
	if _, ok := e.c.Function("fn2"); ok {
		t.Errorf("the refused request created fn2")
	}
}

// TestEnterpriseProjectAccepted: an enterprise account takes its own project id.
func TestEnterpriseProjectAccepted(t *testing.T) {
	e := newEnv(t)
	e.c.AddEnterpriseProject("ep-1")
	b := createBody(t, "fn")
	b["enterprise_project_id"] = "ep-1"
	if r := e.send(http.MethodPost, fgsPath("functions"), nil, b); r.status != 200 {
		t.Fatal(r)
	}
	if f, _ := e.c.Function("fn"); f.Config["enterprise_project_id"] != "ep-1" {
		t.Errorf("enterprise_project_id %v", f.Config["enterprise_project_id"])
	}
}

// TestInvokeRequestVersions: without X-CFF-Request-Version (v0) the answer is the
// function's output itself; with v1 it is the {request_id, result, status} wrapper.
func TestInvokeRequestVersions(t *testing.T) {
	e := newEnv(t)
	e.fn()
	const out = `{"statusCode":200,"isBase64Encoded":false,"body":"ok"}`
	path := fgsPath("functions/" + fnURN + "/invocations")
	for _, ver := range []string{"", "v0"} {
		r := e.send(http.MethodPost, path, map[string]string{"X-CFF-Request-Version": ver}, map[string]any{"k": "v"})
		if r.status != 200 || string(r.body) != out || r.header.Get("X-Cff-Response-Version") != "v0" {
			t.Errorf("version %q: %v, X-Cff-Response-Version %q", ver, r, r.header.Get("X-Cff-Response-Version"))
		}
	}
	r := e.send(http.MethodPost, path, map[string]string{"X-CFF-Request-Version": "v1"}, map[string]any{"k": "v"})
	var w struct {
		RequestID string `json:"request_id"`
		Result    string `json:"result"`
		Status    int    `json:"status"`
	}
	if err := json.Unmarshal(r.body, &w); err != nil || r.status != 200 || w.Result != out || w.Status != 200 || w.RequestID == "" || r.header.Get("X-Cff-Response-Version") != "v1" {
		t.Errorf("v1: %v (%v)", r, err)
	}
}

// TestUpdatingWindow: after a change the function refuses writes for BusyCalls
// calls with BusyError, then takes them; reads are answered throughout.
func TestUpdatingWindow(t *testing.T) {
	e := newEnv(t)
	e.c.BusyCalls = 2
	e.fn()
	config := fgsPath("functions/" + fnURN + "/config")
	if r := e.send(http.MethodGet, config, nil, nil); r.status != 200 {
		t.Fatalf("read during the window: %v", r)
	}
	if r := e.send(http.MethodPost, fgsPath("triggers/"+fnURN), nil, timerBody()); r.status != 429 || r.code != "FSS.0429" {
		t.Fatalf("trigger during the window: %v", r)
	}
	if r := e.send(http.MethodPut, config, nil, configBody()); r.status != 200 {
		t.Fatalf("after the window: %v", r)
	}
	// The configuration change opens a new window.
	if r := e.send(http.MethodPut, fgsPath("functions/"+fnURN+"/code"), nil, codeBody(t, "v2")); r.status != 429 {
		t.Fatalf("code right after a configuration change: %v", r)
	}
	if f, _ := e.c.Function("fn"); f.CodeUpdates != 0 || f.Config["memory_size"] != float64(256) {
		t.Errorf("fn: %d code updates, memory %v", f.CodeUpdates, f.Config["memory_size"])
	}
}

// TestMaxInstances: a new function has FunctionGraph's default maximum instances
// (400); UpdateFunctionMaxInstanceConfig sets them, ShowFunctionConfig shows them
// as strategy_config.concurrency, a configuration update without strategy_config
// keeps them and one with it sets them; the update opens the updating window.
func TestMaxInstances(t *testing.T) {
	e := newEnv(t)
	e.fn()
	show := func() int {
		t.Helper()
		r := e.send(http.MethodGet, fgsPath("functions/"+fnURN+"/config"), nil, nil)
		var v struct {
			Strategy struct {
				Concurrency   *int `json:"concurrency"`
				ConcurrentNum int  `json:"concurrent_num"`
			} `json:"strategy_config"`
		}
		if err := json.Unmarshal(r.body, &v); err != nil || r.status != 200 || v.Strategy.Concurrency == nil || v.Strategy.ConcurrentNum != 1 {
			t.Fatalf("ShowFunctionConfig: %v (%v)", r, err)
		}
		return *v.Strategy.Concurrency
	}
	if n := show(); n != 400 {
		t.Fatalf("a new function has %d max instances, want FunctionGraph's default 400", n)
	}
	maxInst := fgsPath("functions/" + fnURN + "/config-max-instance")
	for _, n := range []int{30, -1, 1000, 1} {
		if r := e.send(http.MethodPut, maxInst, nil, map[string]any{"max_instance_num": n}); r.status != 200 {
			t.Fatalf("max_instance_num %d: %v", n, r)
		}
		if got := show(); got != n {
			t.Fatalf("set %d, shown %d", n, got)
		}
	}
	if r := e.send(http.MethodPut, fgsPath("functions/"+fnURN+"/config"), nil, configBody()); r.status != 200 || show() != 1 {
		t.Fatalf("a configuration update without strategy_config changed the max instances: %v, %d", r, show())
	}
	if r := e.send(http.MethodPut, fgsPath("functions/"+fnURN+"/config"), nil,
		edit(configBody(), "strategy_config", map[string]any{"concurrency": 12, "concurrent_num": 1})); r.status != 200 || show() != 12 {
		t.Fatalf("strategy_config.concurrency not applied: %v, %d", r, show())
	}
	e.c.BusyCalls = 1
	if r := e.send(http.MethodPut, maxInst, nil, map[string]any{"max_instance_num": 5}); r.status != 200 {
		t.Fatal(r)
	}
	if r := e.send(http.MethodPut, maxInst, nil, map[string]any{"max_instance_num": 6}); r.status != 429 || r.code != "FSS.0429" {
		t.Fatalf("a write right after the change: %v", r)
	}
	if got := e.c.Ops(true); got[len(got)-1] != OpUpdateMaxInstances {
		t.Errorf("recorded operations %v", got)
	}
}

// Package fakecloud is an in-memory stand-in for the Huawei Cloud APIs the deploy
// tool and the secrets loader call: FunctionGraph (functions, code, configuration,
// triggers, invocation), dedicated API Gateway (throttling policies and their
// bindings, gateway features) and CSMS (secret versions). Every request must carry
// a valid SDK-HMAC-SHA256 signature, checked with shared/apigsign; every request is
// recorded, so tests assert exactly which calls a tool made. Failures can be
// injected per operation.
package fakecloud

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/kgseller/kgseller/shared/apigsign"
)

// Operation names, as in the Huawei API reference.
const (
	OpShowFunctionConfig    = "ShowFunctionConfig"
	OpCreateFunction        = "CreateFunction"
	OpUpdateFunctionCode    = "UpdateFunctionCode"
	OpUpdateFunctionConfig  = "UpdateFunctionConfig"
	OpInvokeFunction        = "InvokeFunction"
	OpListFunctionTriggers  = "ListFunctionTriggers"
	OpCreateFunctionTrigger = "CreateFunctionTrigger"
	OpDeleteFunctionTrigger = "DeleteFunctionTrigger"
	OpListThrottles         = "ListRequestThrottlingPolicyV2"
	OpCreateThrottle        = "CreateRequestThrottlingPolicyV2"
	OpUpdateThrottle        = "UpdateRequestThrottlingPolicyV2"
	OpListUnboundAPIs       = "ListApisUnbindedToRequestThrottlingPolicyV2"
	OpListBoundAPIs         = "ListApisBindedToRequestThrottlingPolicyV2"
	OpBindThrottle          = "AssociateRequestThrottlingPolicyV2"
	OpListFeatures          = "ListFeaturesV2"
	OpCreateFeature         = "CreateFeatureV2"
	OpShowSecretVersion     = "ShowSecretVersion"
	OpUnknown               = "Unknown"
)

// Call is one recorded request.
type Call struct {
	Op            string
	Method        string
	Path          string // unescaped
	Query         url.Values
	Body          []byte
	AccessKey     string // the key that signed it ("" if rejected)
	SecurityToken string
	Rejected      error // why the signature was refused, if it was
	Status        int   // HTTP status answered
}

// Write reports whether the call could change state.
func (c Call) Write() bool { return c.Method != http.MethodGet && c.Method != http.MethodHead }

// Function is a deployed function.
type Function struct {
	Name   string
	URN    string
	Config map[string]any // the last create / update-config body, without code
	Code   []byte         // the last zip uploaded
	// CodeUpdates counts code uploads after creation.
	CodeUpdates int
}

// Trigger is a function trigger.
type Trigger struct {
	ID        string
	Type      string
	Status    string
	EventData map[string]any
}

// API is a dedicated-gateway API created by an APIG trigger.
type API struct {
	ID, PublishID, Name, GroupID, InstanceID, EnvID, EnvName, ReqURI, ReqMethod, Function string
}

// Throttle is a request throttling policy.
type Throttle struct {
	ID       string
	Body     map[string]any
	Bound    map[string]bool // publish ids
	Instance string
}

// Cloud is the fake. Create it with New; serve it with Server or Handler.
type Cloud struct {
	ProjectID string
	// Region goes into the URNs of created functions (default "fake-region").
	Region string
	// Invoke answers InvokeFunction: given the function name and the request body,
	// it returns the function's result (the string FunctionGraph puts in "result").
	// A nil Invoke answers every invocation with a function error.
	Invoke func(function string, payload []byte) (result []byte, err error)
	// Now is the verifier's clock; nil means time.Now.
	Now func() time.Time

	mu        sync.Mutex
	keys      map[string][]byte
	calls     []Call
	functions map[string]*Function
	triggers  map[string][]*Trigger // by function name
	apis      []*API
	throttles []*Throttle
	features  map[string]map[string]string // instance -> feature -> config
	secrets   map[string][]string          // name -> versions (v1, v2, ...)
	fail      map[string]int
	seq       int
}

// New returns a fake serving one project and accepting one access key pair.
func New(projectID, ak, sk string) *Cloud {
	return &Cloud{
		ProjectID: projectID,
		keys:      map[string][]byte{ak: []byte(sk)},
		functions: map[string]*Function{},
		triggers:  map[string][]*Trigger{},
		features:  map[string]map[string]string{},
		secrets:   map[string][]string{},
		fail:      map[string]int{},
	}
}

// AddKey accepts another access key pair (e.g. temporary agency credentials).
func (c *Cloud) AddKey(ak, sk string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.keys[ak] = []byte(sk)
}

// Server starts an httptest server; the test's cleanup closes it.
func (c *Cloud) Server(t interface{ Cleanup(func()) }) *httptest.Server {
	s := httptest.NewServer(c.Handler())
	t.Cleanup(s.Close)
	return s
}

// Fail makes every later call of op answer status (0 clears it).
func (c *Cloud) Fail(op string, status int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if status == 0 {
		delete(c.fail, op)
		return
	}
	c.fail[op] = status
}

// Calls returns the recorded calls.
func (c *Cloud) Calls() []Call {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]Call(nil), c.calls...)
}

// Reset forgets the recorded calls (state is kept).
func (c *Cloud) Reset() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.calls = nil
}

// Ops returns "Op" or "Op name" strings of the recorded calls, in order; only
// the writes when writesOnly.
func (c *Cloud) Ops(writesOnly bool) []string {
	var out []string
	for _, call := range c.Calls() {
		if writesOnly && !call.Write() {
			continue
		}
		out = append(out, call.Op)
	}
	return out
}

// Function returns a copy of a deployed function, or false.
func (c *Cloud) Function(name string) (Function, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	f, ok := c.functions[name]
	if !ok {
		return Function{}, false
	}
	return *f, true
}

// Triggers returns the triggers of a function.
func (c *Cloud) Triggers(name string) []Trigger {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []Trigger
	for _, t := range c.triggers[name] {
		out = append(out, *t)
	}
	return out
}

// APIs returns the gateway APIs that triggers created.
func (c *Cloud) APIs() []API {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []API
	for _, a := range c.apis {
		out = append(out, *a)
	}
	return out
}

// Throttles returns the throttling policies.
func (c *Cloud) Throttles() []Throttle {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []Throttle
	for _, t := range c.throttles {
		cp := *t
		cp.Bound = map[string]bool{}
		for k, v := range t.Bound {
			cp.Bound[k] = v
		}
		out = append(out, cp)
	}
	return out
}

// Feature returns a gateway feature's config.
func (c *Cloud) Feature(instance, name string) (string, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	v, ok := c.features[instance][name]
	return v, ok
}

// PutSecret adds a version to a CSMS secret and returns its version id (v1, v2…).
func (c *Cloud) PutSecret(name, value string) string {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.secrets[name] = append(c.secrets[name], value)
	return "v" + strconv.Itoa(len(c.secrets[name]))
}

// Handler serves the fake APIs.
func (c *Cloud) Handler() http.Handler {
	return http.HandlerFunc(c.serve)
}

type answer struct {
	status int
	body   any
}

func (c *Cloud) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(io.LimitReader(r.Body, 64<<20))
	call := Call{Method: r.Method, Path: r.URL.Path, Query: r.URL.Query(), Body: body, SecurityToken: r.Header.Get("X-Security-Token")}
	op, params := route(r.Method, r.URL.Path)
	call.Op = op

	c.mu.Lock()
	keys := c.keys
	c.mu.Unlock()
	ver := apigsign.Verifier{Secret: func(ak string) ([]byte, bool) { sk, ok := keys[ak]; return sk, ok }, Now: c.Now}
	ak, err := ver.VerifyHTTP(r, body)

	c.mu.Lock()
	defer c.mu.Unlock()
	var a answer
	switch {
	case err != nil:
		call.Rejected = err
		a = answer{http.StatusUnauthorized, apiErr("APIGW.0301", "Incorrect IAM authentication information: "+err.Error())}
	case params["project"] != c.ProjectID:
		call.AccessKey = ak
		a = answer{http.StatusForbidden, apiErr("FSS.0403", "project id does not match the credentials")}
	case c.fail[op] != 0:
		call.AccessKey = ak
		a = answer{c.fail[op], apiErr("FSS.0500", "injected failure of "+op)}
	default:
		call.AccessKey = ak
		a = c.handle(op, params, r.URL.Query(), body)
	}
	call.Status = a.status
	c.calls = append(c.calls, call)
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Request-Id", "fake-"+strconv.Itoa(len(c.calls)))
	w.WriteHeader(a.status)
	if a.body != nil {
		_ = json.NewEncoder(w).Encode(a.body)
	}
}

func apiErr(code, msg string) map[string]any {
	return map[string]any{"error_code": code, "error_msg": msg}
}

// route maps a request to its operation and path parameters.
func route(method, path string) (string, map[string]string) {
	p := strings.Split(strings.Trim(path, "/"), "/")
	params := map[string]string{}
	at := func(i int) string {
		if i < len(p) {
			return p[i]
		}
		return ""
	}
	switch {
	case at(0) == "v2" && at(2) == "fgs":
		params["project"] = at(1)
		switch at(3) {
		case "functions":
			switch {
			case len(p) == 4 && method == http.MethodPost:
				return OpCreateFunction, params
			case len(p) == 6:
				params["urn"] = at(4)
				switch {
				case at(5) == "config" && method == http.MethodGet:
					return OpShowFunctionConfig, params
				case at(5) == "config" && method == http.MethodPut:
					return OpUpdateFunctionConfig, params
				case at(5) == "code" && method == http.MethodPut:
					return OpUpdateFunctionCode, params
				case at(5) == "invocations" && method == http.MethodPost:
					return OpInvokeFunction, params
				}
			}
		case "triggers":
			params["urn"] = at(4)
			switch {
			case len(p) == 5 && method == http.MethodGet:
				return OpListFunctionTriggers, params
			case len(p) == 5 && method == http.MethodPost:
				return OpCreateFunctionTrigger, params
			case len(p) == 7 && method == http.MethodDelete:
				params["type"], params["id"] = at(5), at(6)
				return OpDeleteFunctionTrigger, params
			}
		}
	case at(0) == "v2" && at(2) == "apigw" && at(3) == "instances":
		params["project"], params["instance"] = at(1), at(4)
		switch rest := strings.Join(p[min(5, len(p)):], "/"); {
		case rest == "throttles" && method == http.MethodGet:
			return OpListThrottles, params
		case rest == "throttles" && method == http.MethodPost:
			return OpCreateThrottle, params
		case strings.HasPrefix(rest, "throttles/") && method == http.MethodPut:
			params["id"] = at(6)
			return OpUpdateThrottle, params
		case rest == "throttle-bindings/unbinded-apis" && method == http.MethodGet:
			return OpListUnboundAPIs, params
		case rest == "throttle-bindings/binded-apis" && method == http.MethodGet:
			return OpListBoundAPIs, params
		case rest == "throttle-bindings" && method == http.MethodPost:
			return OpBindThrottle, params
		case rest == "features" && method == http.MethodGet:
			return OpListFeatures, params
		case rest == "features" && method == http.MethodPost:
			return OpCreateFeature, params
		}
	case at(0) == "v1" && at(2) == "secrets" && at(4) == "versions" && len(p) == 6 && method == http.MethodGet:
		params["project"], params["secret"], params["version"] = at(1), at(3), at(5)
		return OpShowSecretVersion, params
	}
	return OpUnknown, params
}

func (c *Cloud) nextID(prefix string) string {
	c.seq++
	return fmt.Sprintf("%s%04d", prefix, c.seq)
}

// functionName reads the name from a URN urn:fss:region:project:function:package:name[:version].
func (c *Cloud) functionName(urn string) (string, bool) {
	p := strings.Split(urn, ":")
	if len(p) < 7 || p[0] != "urn" || p[1] != "fss" || p[3] != c.ProjectID || p[4] != "function" {
		return "", false
	}
	return p[6], true
}

func (c *Cloud) handle(op string, params map[string]string, q url.Values, body []byte) answer {
	var obj map[string]any
	if len(body) > 0 {
		if err := json.Unmarshal(body, &obj); err != nil {
			return answer{http.StatusBadRequest, apiErr("FSS.0400", "body is not a JSON object")}
		}
	}
	notFound := answer{http.StatusNotFound, apiErr("FSS.1051", "Not found the function")}
	switch op {
	case OpCreateFunction:
		name, _ := obj["func_name"].(string)
		pkg, _ := obj["package"].(string)
		if name == "" || pkg == "" || obj["runtime"] == nil || obj["handler"] == nil {
			return answer{http.StatusBadRequest, apiErr("FSS.0400", "func_name, package, runtime and handler are required")}
		}
		if _, dup := c.functions[name]; dup {
			return answer{http.StatusConflict, apiErr("FSS.1052", "function already exists")}
		}
		code, err := decodeCode(obj)
		if err != nil {
			return answer{http.StatusBadRequest, apiErr("FSS.0400", err.Error())}
		}
		region := c.Region
		if region == "" {
			region = "fake-region"
		}
		f := &Function{Name: name, URN: fmt.Sprintf("urn:fss:%s:%s:function:%s:%s:latest", region, c.ProjectID, pkg, name), Config: withoutCode(obj), Code: code}
		c.functions[name] = f
		return answer{http.StatusOK, c.view(f)}
	case OpShowFunctionConfig:
		name, ok := c.functionName(params["urn"])
		if f := c.functions[name]; ok && f != nil {
			return answer{http.StatusOK, c.view(f)}
		}
		return notFound
	case OpUpdateFunctionCode:
		name, ok := c.functionName(params["urn"])
		f := c.functions[name]
		if !ok || f == nil {
			return notFound
		}
		code, err := decodeCode(obj)
		if err != nil {
			return answer{http.StatusBadRequest, apiErr("FSS.0400", err.Error())}
		}
		f.Code = code
		f.CodeUpdates++
		return answer{http.StatusOK, map[string]any{"func_urn": f.URN, "func_name": f.Name, "code_size": len(code)}}
	case OpUpdateFunctionConfig:
		name, ok := c.functionName(params["urn"])
		f := c.functions[name]
		if !ok || f == nil {
			return notFound
		}
		if obj["func_name"] != f.Name {
			return answer{http.StatusBadRequest, apiErr("FSS.0400", "func_name does not match the URN")}
		}
		pkg := f.Config["package"]
		f.Config = withoutCode(obj)
		f.Config["package"] = pkg
		return answer{http.StatusOK, c.view(f)}
	case OpInvokeFunction:
		name, ok := c.functionName(params["urn"])
		if f := c.functions[name]; !ok || f == nil {
			return notFound
		}
		if c.Invoke == nil {
			return answer{http.StatusOK, map[string]any{"request_id": c.nextID("req-"), "status": 500, "result": `{"errorMessage":"no handler in the fake","errorType":"FunctionError"}`}}
		}
		c.mu.Unlock()
		result, err := c.Invoke(name, body)
		c.mu.Lock()
		if err != nil {
			return answer{http.StatusOK, map[string]any{"request_id": c.nextID("req-"), "status": 500, "result": fmt.Sprintf(`{"errorMessage":%q,"errorType":"FunctionError"}`, err.Error())}}
		}
		return answer{http.StatusOK, map[string]any{"request_id": c.nextID("req-"), "status": 200, "result": string(result), "log": ""}}
	case OpListFunctionTriggers:
		name, ok := c.functionName(params["urn"])
		if f := c.functions[name]; !ok || f == nil {
			return notFound
		}
		out := []map[string]any{}
		for _, t := range c.triggers[name] {
			out = append(out, map[string]any{"trigger_id": t.ID, "trigger_type_code": t.Type, "trigger_status": t.Status, "event_data": t.EventData})
		}
		return answer{http.StatusOK, out}
	case OpCreateFunctionTrigger:
		return c.createTrigger(params, obj)
	case OpDeleteFunctionTrigger:
		name, ok := c.functionName(params["urn"])
		if !ok {
			return notFound
		}
		list := c.triggers[name]
		for i, t := range list {
			if t.ID == params["id"] && t.Type == params["type"] {
				c.triggers[name] = append(list[:i:i], list[i+1:]...)
				if apiID, _ := t.EventData["api_id"].(string); apiID != "" {
					c.deleteAPI(apiID)
				}
				return answer{http.StatusNoContent, nil}
			}
		}
		return answer{http.StatusNotFound, apiErr("FSS.1053", "trigger not found")}
	case OpListThrottles:
		out := []map[string]any{}
		for _, t := range c.throttles {
			if t.Instance != params["instance"] {
				continue
			}
			if name := q.Get("name"); name != "" && t.Body["name"] != name {
				continue
			}
			out = append(out, t.view())
		}
		return answer{http.StatusOK, map[string]any{"size": len(out), "total": len(out), "throttles": out}}
	case OpCreateThrottle, OpUpdateThrottle:
		for _, k := range []string{"name", "api_call_limits", "time_interval", "time_unit"} {
			if obj[k] == nil {
				return answer{http.StatusBadRequest, apiErr("APIG.2000", k+" is required")}
			}
		}
		if op == OpCreateThrottle {
			for _, t := range c.throttles {
				if t.Instance == params["instance"] && t.Body["name"] == obj["name"] {
					return answer{http.StatusConflict, apiErr("APIG.3405", "throttle name already exists")}
				}
			}
			t := &Throttle{ID: c.nextID("thr-"), Body: obj, Bound: map[string]bool{}, Instance: params["instance"]}
			c.throttles = append(c.throttles, t)
			return answer{http.StatusCreated, t.view()}
		}
		for _, t := range c.throttles {
			if t.ID == params["id"] && t.Instance == params["instance"] {
				t.Body = obj
				return answer{http.StatusOK, t.view()}
			}
		}
		return answer{http.StatusNotFound, apiErr("APIG.3005", "throttle not found")}
	case OpListUnboundAPIs, OpListBoundAPIs:
		t := c.throttle(params["instance"], q.Get("throttle_id"))
		if t == nil {
			return answer{http.StatusNotFound, apiErr("APIG.3005", "throttle not found")}
		}
		out := []map[string]any{}
		for _, a := range c.apis {
			if a.InstanceID != params["instance"] || (q.Get("env_id") != "" && a.EnvID != q.Get("env_id")) || (q.Get("group_id") != "" && a.GroupID != q.Get("group_id")) {
				continue
			}
			if t.Bound[a.PublishID] == (op == OpListBoundAPIs) {
				out = append(out, map[string]any{"id": a.ID, "name": a.Name, "group_id": a.GroupID, "publish_id": a.PublishID, "run_env_id": a.EnvID, "run_env_name": a.EnvName, "req_uri": a.ReqURI, "req_method": a.ReqMethod})
			}
		}
		return answer{http.StatusOK, map[string]any{"size": len(out), "total": len(out), "apis": out}}
	case OpBindThrottle:
		t := c.throttle(params["instance"], fmt.Sprint(obj["strategy_id"]))
		if t == nil {
			return answer{http.StatusNotFound, apiErr("APIG.3005", "throttle not found")}
		}
		ids, _ := obj["publish_ids"].([]any)
		var applied []map[string]any
		for _, id := range ids {
			pid := fmt.Sprint(id)
			if !c.publishExists(params["instance"], pid) {
				return answer{http.StatusNotFound, apiErr("APIG.3002", "API publish record not found")}
			}
			t.Bound[pid] = true
			applied = append(applied, map[string]any{"id": c.nextID("bind-"), "publish_id": pid, "strategy_id": t.ID, "scope": 1})
		}
		return answer{http.StatusCreated, map[string]any{"throttle_applys": applied}}
	case OpListFeatures:
		out := []map[string]any{}
		names := make([]string, 0, len(c.features[params["instance"]]))
		for n := range c.features[params["instance"]] {
			names = append(names, n)
		}
		sort.Strings(names)
		for _, n := range names {
			out = append(out, map[string]any{"id": n, "name": n, "enable": true, "config": c.features[params["instance"]][n], "instance_id": params["instance"]})
		}
		return answer{http.StatusOK, map[string]any{"size": len(out), "total": len(out), "features": out}}
	case OpCreateFeature:
		name, _ := obj["name"].(string)
		cfg, _ := obj["config"].(string)
		if name == "" || obj["enable"] == nil {
			return answer{http.StatusBadRequest, apiErr("APIG.2000", "name and enable are required")}
		}
		if c.features[params["instance"]] == nil {
			c.features[params["instance"]] = map[string]string{}
		}
		c.features[params["instance"]][name] = cfg
		return answer{http.StatusCreated, map[string]any{"id": name, "name": name, "enable": obj["enable"], "config": cfg, "instance_id": params["instance"]}}
	case OpShowSecretVersion:
		versions := c.secrets[params["secret"]]
		if len(versions) == 0 {
			return answer{http.StatusNotFound, apiErr("CSMS.0207", "secret not found")}
		}
		idx := len(versions)
		if v := params["version"]; v != "latest" {
			n, err := strconv.Atoi(strings.TrimPrefix(v, "v"))
			if err != nil || !strings.HasPrefix(v, "v") || n < 1 || n > len(versions) {
				return answer{http.StatusNotFound, apiErr("CSMS.0208", "secret version not found")}
			}
			idx = n
		}
		return answer{http.StatusOK, map[string]any{"version": map[string]any{
			"version_metadata": map[string]any{"id": "v" + strconv.Itoa(idx), "secret_name": params["secret"], "version_stages": []string{"SYSCURRENT"}},
			"secret_string":    versions[idx-1],
		}}}
	}
	return answer{http.StatusNotFound, apiErr("APIGW.0101", "The API does not exist or has not been published in the environment")}
}

func (c *Cloud) createTrigger(params map[string]string, obj map[string]any) answer {
	name, ok := c.functionName(params["urn"])
	f := c.functions[name]
	if !ok || f == nil {
		return answer{http.StatusNotFound, apiErr("FSS.1051", "Not found the function")}
	}
	typ, _ := obj["trigger_type_code"].(string)
	ed, _ := obj["event_data"].(map[string]any)
	if ed == nil {
		return answer{http.StatusBadRequest, apiErr("FSS.0400", "event_data is required")}
	}
	status, _ := obj["trigger_status"].(string)
	if status == "" {
		status = "ACTIVE"
	}
	t := &Trigger{ID: c.nextID("trg-"), Type: typ, Status: status, EventData: ed}
	switch typ {
	case "TIMER":
		for _, k := range []string{"name", "schedule_type", "schedule"} {
			if ed[k] == nil {
				return answer{http.StatusBadRequest, apiErr("FSS.0400", "TIMER "+k+" is required")}
			}
		}
	case "APIG", "DEDICATEDGATEWAY":
		for _, k := range []string{"name", "group_id", "env_id", "path", "req_method", "match_mode", "auth", "protocol", "func_info"} {
			if ed[k] == nil || ed[k] == "" {
				return answer{http.StatusBadRequest, apiErr("FSS.0400", "APIG "+k+" is required")}
			}
		}
		if typ == "DEDICATEDGATEWAY" && (ed["instance_id"] == nil || ed["instance_id"] == "") {
			return answer{http.StatusBadRequest, apiErr("FSS.0400", "instance_id is required for a dedicated gateway")}
		}
		instance := fmt.Sprint(ed["instance_id"])
		for _, a := range c.apis {
			if a.InstanceID == instance && a.GroupID == ed["group_id"] && a.ReqURI == ed["path"] && a.ReqMethod == ed["req_method"] {
				return answer{http.StatusConflict, apiErr("APIG.3301", "an API with this method and path already exists in the group")}
			}
		}
		a := &API{ID: c.nextID("api-"), PublishID: c.nextID("pub-"), Name: fmt.Sprint(ed["name"]), GroupID: fmt.Sprint(ed["group_id"]),
			InstanceID: instance, EnvID: fmt.Sprint(ed["env_id"]), EnvName: fmt.Sprint(ed["env_name"]), ReqURI: fmt.Sprint(ed["path"]),
			ReqMethod: fmt.Sprint(ed["req_method"]), Function: name}
		c.apis = append(c.apis, a)
		ed["api_id"], ed["api_name"] = a.ID, a.Name
		ed["invoke_url"] = "https://" + a.GroupID + ".apig.fake" + a.ReqURI
	default:
		return answer{http.StatusBadRequest, apiErr("FSS.0400", "unsupported trigger type "+typ)}
	}
	c.triggers[name] = append(c.triggers[name], t)
	return answer{http.StatusOK, map[string]any{"trigger_id": t.ID, "trigger_type_code": t.Type, "trigger_status": t.Status, "event_data": t.EventData}}
}

func (c *Cloud) deleteAPI(id string) {
	for i, a := range c.apis {
		if a.ID == id {
			for _, t := range c.throttles {
				delete(t.Bound, a.PublishID)
			}
			c.apis = append(c.apis[:i:i], c.apis[i+1:]...)
			return
		}
	}
}

func (c *Cloud) throttle(instance, id string) *Throttle {
	for _, t := range c.throttles {
		if t.ID == id && t.Instance == instance {
			return t
		}
	}
	return nil
}

func (c *Cloud) publishExists(instance, pid string) bool {
	for _, a := range c.apis {
		if a.InstanceID == instance && a.PublishID == pid {
			return true
		}
	}
	return false
}

func (t *Throttle) view() map[string]any {
	out := map[string]any{}
	for k, v := range t.Body {
		out[k] = v
	}
	out["id"], out["bind_num"] = t.ID, len(t.Bound)
	return out
}

// view is the function's configuration as ShowFunctionConfig returns it; the
// encrypted variables are write-only, as they are shown masked by the platform.
func (f *Function) view() map[string]any {
	out := map[string]any{}
	for k, v := range f.Config {
		if k == "encrypted_user_data" {
			continue
		}
		out[k] = v
	}
	out["func_urn"], out["func_name"], out["code_size"] = f.URN, f.Name, len(f.Code)
	return out
}

func (c *Cloud) view(f *Function) map[string]any { return f.view() }

func withoutCode(obj map[string]any) map[string]any {
	out := map[string]any{}
	for k, v := range obj {
		if k == "func_code" {
			continue
		}
		out[k] = v
	}
	return out
}

func decodeCode(obj map[string]any) ([]byte, error) {
	fc, _ := obj["func_code"].(map[string]any)
	file, _ := fc["file"].(string)
	if file == "" {
		return nil, fmt.Errorf("func_code.file is required")
	}
	if ct, _ := obj["code_type"].(string); ct != "zip" {
		return nil, fmt.Errorf("code_type must be zip")
	}
	b, err := base64.StdEncoding.DecodeString(file)
	if err != nil {
		return nil, fmt.Errorf("func_code.file is not base64")
	}
	if len(b) < 4 || string(b[:4]) != "PK\x03\x04" {
		return nil, fmt.Errorf("func_code.file is not a zip")
	}
	return b, nil
}

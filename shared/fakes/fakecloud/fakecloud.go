// Package fakecloud is an in-memory stand-in for the Huawei Cloud APIs the deploy
// tool and the secrets loader call: FunctionGraph (functions, code, configuration,
// maximum instances, triggers, invocation), dedicated API Gateway (throttling
// policies and their bindings, gateway features) and CSMS (secret versions).
//
// It is a strict double of the real contract for those calls: every request must
// carry a valid SDK-HMAC-SHA256 signature (checked with shared/apigsign); every
// body must decode into the Huawei SDK's own request model with no unknown field
// and no wrong type, carry the model's required fields, and use only the values
// the SDK's enums list (shared/fakes/fgcontract); the referenced gateway, group and
// function must exist; the maximum instances stay within FunctionGraph's range;
// InvokeFunction answers in the format X-CFF-Request-Version asks for; and a
// function refuses writes for a moment after each change, the
// moment the real service takes to apply one. Each rule cites the SDK model or API
// reference it comes from (functiongraph.go, apig.go, csms.go). Every request is
// recorded, so tests assert exactly which calls a tool made; failures can be
// injected per operation.
package fakecloud

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
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
	OpUpdateMaxInstances    = "UpdateFunctionMaxInstanceConfig"
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
	Header        http.Header
	Body          []byte
	AccessKey     string // the key that signed it ("" if rejected)
	SecurityToken string
	Rejected      error // why the signature was refused, if it was
	Status        int   // HTTP status answered
	ErrorCode     string
}

// Write reports whether the call could change state.
func (c Call) Write() bool { return c.Method != http.MethodGet && c.Method != http.MethodHead }

// OK reports whether the call was answered with success.
func (c Call) OK() bool { return c.Status >= 200 && c.Status < 300 }

// APIError is an error answer in the Huawei shape: an HTTP status and a body
// {"error_code": ..., "error_msg": ...}.
type APIError struct {
	Status int
	Code   string
	Msg    string
}

// Function is a deployed function.
type Function struct {
	Name    string
	Package string
	URN     string
	Config  map[string]any // the last create / update-config body, without code
	Code    []byte         // the last zip uploaded
	// MaxInstances is the function's maximum instances (strategy_config.concurrency;
	// FunctionGraph's default until UpdateFunctionMaxInstanceConfig sets it).
	MaxInstances int
	// CodeUpdates counts code uploads after creation.
	CodeUpdates  int
	LastModified time.Time
	// busy counts the calls the function still refuses writes for.
	busy int
}

// Trigger is a function trigger.
type Trigger struct {
	ID        string
	Type      string
	Status    string
	EventData map[string]any
}

// API is a gateway API created by an APIG trigger.
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

// gateway is a dedicated API Gateway instance with its groups and environments.
type gateway struct {
	groups map[string]bool
	envs   map[string]string // id -> name
}

// ReleaseEnvID and ReleaseEnvName are the environment every gateway has (the APIG
// API reference names it DEFAULT_ENVIRONMENT_RELEASE_ID, "RELEASE").
const (
	ReleaseEnvID   = "DEFAULT_ENVIRONMENT_RELEASE_ID"
	ReleaseEnvName = "RELEASE"
)

// DefaultBusyCalls is how many calls a function keeps refusing writes after a
// change unless Cloud.BusyCalls says otherwise.
const DefaultBusyCalls = 2

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
	// BusyCalls is how many calls addressed to a function (reads included) pass
	// after a create, code or configuration change before it takes writes again;
	// until then writes get BusyError. The real window is a duration; counting
	// calls keeps tests deterministic, and a tool that waits for the real service
	// gets through either. New sets DefaultBusyCalls; 0 disables the window.
	BusyCalls int
	// BusyError is the answer to a write while the function is updating (New sets
	// 429 FSS.0429, see functiongraph.go).
	BusyError APIError

	mu        sync.Mutex
	keys      map[string][]byte
	calls     []Call
	functions map[string]*Function
	triggers  map[string][]*Trigger // by function name
	apis      []*API
	throttles []*Throttle
	features  map[string]map[string]string // instance -> feature -> config
	secrets   map[string][]string          // name -> versions (v1, v2, ...)
	gateways  map[string]*gateway          // dedicated gateways by instance id
	shared    map[string]bool              // API groups of the shared gateway
	projects  map[string]bool              // enterprise projects of the account
	fail      map[string]int
	seq       int
}

// New returns a fake serving one project and accepting one access key pair.
func New(projectID, ak, sk string) *Cloud {
	return &Cloud{
		ProjectID: projectID,
		BusyCalls: DefaultBusyCalls,
		BusyError: busyError,
		keys:      map[string][]byte{ak: []byte(sk)},
		functions: map[string]*Function{},
		triggers:  map[string][]*Trigger{},
		features:  map[string]map[string]string{},
		secrets:   map[string][]string{},
		gateways:  map[string]*gateway{},
		shared:    map[string]bool{},
		projects:  map[string]bool{},
		fail:      map[string]int{},
	}
}

// AddKey accepts another access key pair (e.g. temporary agency credentials).
func (c *Cloud) AddKey(ak, sk string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.keys[ak] = []byte(sk)
}

// AddGateway creates a dedicated gateway instance holding the given API groups
// and the RELEASE environment.
func (c *Cloud) AddGateway(instanceID string, groupIDs ...string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	g := c.gateways[instanceID]
	if g == nil {
		g = &gateway{groups: map[string]bool{}, envs: map[string]string{ReleaseEnvID: ReleaseEnvName}}
		c.gateways[instanceID] = g
	}
	for _, id := range groupIDs {
		g.groups[id] = true
	}
}

// AddSharedGroup creates an API group on the shared gateway (APIG triggers).
func (c *Cloud) AddSharedGroup(groupID string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.shared[groupID] = true
}

// AddEnterpriseProject makes the account an enterprise account with this
// project: from then on creating or configuring a function needs an
// enterprise_project_id the account has.
func (c *Cloud) AddEnterpriseProject(id string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.projects[id] = true
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

// Ops returns the operations of the recorded calls, in order; only the accepted
// writes when writesOnly.
func (c *Cloud) Ops(writesOnly bool) []string {
	var out []string
	for _, call := range c.Calls() {
		if writesOnly && (!call.Write() || !call.OK()) {
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

// answer is what a handler returns: a JSON body, or raw bytes (InvokeFunction v0).
type answer struct {
	status int
	body   any
	raw    []byte
	header map[string]string
}

func fail(e APIError) answer { return answer{status: e.Status, body: errBody(e)} }

// refuse is an error answer.
func refuse(status int, code, msg string) answer { return fail(APIError{status, code, msg}) }

func errBody(e APIError) map[string]any {
	return map[string]any{"error_code": e.Code, "error_msg": e.Msg}
}

// request is a parsed call handed to the handlers.
type request struct {
	op     string
	params map[string]string
	query  url.Values
	header http.Header
	body   []byte
}

func (c *Cloud) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(io.LimitReader(r.Body, 96<<20))
	call := Call{Method: r.Method, Path: r.URL.Path, Query: r.URL.Query(), Header: r.Header.Clone(), Body: body, SecurityToken: r.Header.Get("X-Security-Token")}
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
		a = fail(APIError{http.StatusUnauthorized, "APIGW.0301", "Incorrect IAM authentication information: " + err.Error()})
	case params["project"] != c.ProjectID:
		call.AccessKey = ak
		a = fail(APIError{http.StatusForbidden, "FSS.0403", "project id does not match the credentials"})
	case c.fail[op] != 0:
		call.AccessKey = ak
		a = fail(APIError{c.fail[op], "FSS.0500", "injected failure of " + op})
	default:
		call.AccessKey = ak
		a = c.handle(request{op: op, params: params, query: r.URL.Query(), header: r.Header, body: body})
	}
	call.Status = a.status
	if m, ok := a.body.(map[string]any); ok && a.status >= 400 {
		call.ErrorCode, _ = m["error_code"].(string)
	}
	c.calls = append(c.calls, call)
	for k, v := range a.header {
		w.Header().Set(k, v)
	}
	if w.Header().Get("Content-Type") == "" {
		w.Header().Set("Content-Type", "application/json")
	}
	w.Header().Set("X-Request-Id", "fake-"+strconv.Itoa(len(c.calls)))
	w.WriteHeader(a.status)
	switch {
	case a.raw != nil:
		_, _ = w.Write(a.raw)
	case a.body != nil:
		_ = json.NewEncoder(w).Encode(a.body)
	}
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
				case at(5) == "config-max-instance" && method == http.MethodPut:
					return OpUpdateMaxInstances, params
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

func (c *Cloud) region() string {
	if c.Region == "" {
		return "fake-region"
	}
	return c.Region
}

func (c *Cloud) now() time.Time {
	if c.Now != nil {
		return c.Now()
	}
	return time.Now()
}

func (c *Cloud) handle(r request) answer {
	switch r.op {
	case OpCreateFunction, OpShowFunctionConfig, OpUpdateFunctionCode, OpUpdateFunctionConfig, OpUpdateMaxInstances, OpInvokeFunction,
		OpListFunctionTriggers, OpCreateFunctionTrigger, OpDeleteFunctionTrigger:
		return c.functionGraph(r)
	case OpListThrottles, OpCreateThrottle, OpUpdateThrottle, OpListUnboundAPIs, OpListBoundAPIs, OpBindThrottle,
		OpListFeatures, OpCreateFeature:
		return c.apiGateway(r)
	case OpShowSecretVersion:
		return c.showSecretVersion(r)
	}
	return fail(APIError{http.StatusNotFound, "APIGW.0101", "The API does not exist or has not been published in the environment"})
}

package fakecloud

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"

	fgsmodel "github.com/huaweicloud/huaweicloud-sdk-go-v3/services/functiongraph/v2/model"

	"github.com/kgseller/kgseller/shared/fakes/fgcontract"
)

// The FunctionGraph rules. "SDK" cites huaweicloud-sdk-go-v3 v0.1.207,
// services/functiongraph/v2/model; "API reference" cites Huawei's FunctionGraph
// API reference (the same text is at docs.otc.t-systems.com/function-graph); the
// error codes are those of its error code table (Appendix, "Error Codes").

func invalid(msg string) answer {
	return refuse(http.StatusBadRequest, "FSS.0400", "Invalid parameter: "+msg)
}

var (
	// FSS.1051 "The function does not exist" (the example of "Executing a
	// Function Synchronously" shows this exact body).
	functionNotFound = APIError{http.StatusNotFound, "FSS.1051", "Not found the function"}

	// busyError answers a write while a function applies its last change. The API
	// reference documents no function state and no error code for this (its error
	// table has none, ShowFunctionConfigResponse has no status field); 429
	// FSS.0429 "Too many concurrent requests. Please try again later." is the
	// documented answer closest to it. Cloud.BusyError changes it, so a test can
	// check that a tool waits through the other transient answers too.
	busyError = APIError{http.StatusTooManyRequests, "FSS.0429", "Too many concurrent requests. Please try again later."}
)

// funcName is the API reference's rule for func_name (CreateFunction): letters,
// digits, hyphens and underscores, at most 60, starting with a letter and ending
// with a letter or digit.
var funcName = regexp.MustCompile(`^[A-Za-z]([A-Za-z0-9_-]{0,58}[A-Za-z0-9])?$`)

// The limits of user_data and encrypted_user_data (SDK, CreateFunctionRequestBody
// and UpdateFunctionConfigRequestBody: "最多定义20个，总长度不超过4KB").
const (
	maxVariables     = 20
	maxVariableBytes = 4096
)

// maxCodeBytes is the largest zip UpdateFunctionCode and CreateFunction take
// (FSS.1071: "exceeds the maximum allowed limit (50 MB)").
const maxCodeBytes = 50 << 20

// writes are the operations a function refuses while it is updating.
var writes = map[string]bool{OpUpdateFunctionCode: true, OpUpdateFunctionConfig: true, OpUpdateMaxInstances: true, OpCreateFunctionTrigger: true, OpDeleteFunctionTrigger: true}

func (c *Cloud) functionGraph(r request) answer {
	if r.op == OpCreateFunction {
		return c.createFunction(r.body)
	}
	f, version, ok := c.lookup(r.params["urn"])
	if !ok {
		return fail(functionNotFound)
	}
	if version != "" && version != "latest" {
		// The fake publishes no versions: latest is the only one.
		return refuse(http.StatusNotFound, "FSS.1052", "The version does not exist.")
	}
	if f.busy > 0 {
		f.busy--
		if writes[r.op] {
			return fail(c.BusyError)
		}
	}
	switch r.op {
	case OpShowFunctionConfig:
		return answer{status: http.StatusOK, body: c.view(f)}
	case OpUpdateFunctionCode:
		return c.updateCode(f, r.body)
	case OpUpdateFunctionConfig:
		return c.updateConfig(f, r.body)
	case OpUpdateMaxInstances:
		return c.updateMaxInstances(f, r.body)
	case OpInvokeFunction:
		return c.invoke(f, r)
	case OpListFunctionTriggers:
		out := []map[string]any{}
		for _, t := range c.triggers[f.Name] {
			out = append(out, t.view())
		}
		return answer{status: http.StatusOK, body: out}
	case OpCreateFunctionTrigger:
		return c.createTrigger(f, r.body)
	case OpDeleteFunctionTrigger:
		return c.deleteTrigger(f, r.params["type"], r.params["id"])
	}
	return fail(functionNotFound)
}

// lookup finds the function of a URN: urn:fss:<region>:<project>:function:
// <package>:<name>[:<version>] (API reference, "Function Model": the 7- and
// 8-field forms; the shorter forms it allows are not used by the project).
func (c *Cloud) lookup(urn string) (*Function, string, bool) {
	p := strings.Split(urn, ":")
	if (len(p) != 7 && len(p) != 8) || p[0] != "urn" || p[1] != "fss" || p[2] != c.region() || p[3] != c.ProjectID || p[4] != "function" {
		return nil, "", false
	}
	f := c.functions[p[6]]
	if f == nil || f.Package != p[5] {
		return nil, "", false
	}
	version := ""
	if len(p) == 8 {
		version = p[7]
	}
	return f, version, true
}

// unqualifiedURN is the function's 7-field URN (no version).
func (f *Function) unqualifiedURN() string { return strings.TrimSuffix(f.URN, ":latest") }

func (c *Cloud) createFunction(body []byte) answer {
	// SDK: CreateFunctionRequestBody; required (no omitempty): func_name, package,
	// runtime, timeout, handler, memory_size.
	o, err := decodeStrict(body, &fgsmodel.CreateFunctionRequestBody{})
	if err != nil {
		return invalid(err.Error())
	}
	if a, bad := c.checkConfig(o, fgcontract.Runtimes()); bad {
		return a
	}
	codeType := o.str("code_type")
	switch {
	// SDK, code_type: "创建自定义镜像函数此参数非必填，其他类型函数此参数必填".
	case !o.has("code_type") && o.str("runtime") != "Custom Image":
		return refuse(http.StatusBadRequest, "FSS.1006", "Invalid code type: code_type is required")
	case o.has("code_type") && !fgcontract.OneOf(codeType, fgcontract.CodeTypes()):
		return refuse(http.StatusBadRequest, "FSS.1006", "Invalid code type: "+codeType+" is not one of "+strings.Join(fgcontract.CodeTypes(), ", "))
	// SDK, type: v1 or v2 (CreateFunctionRequestBodyType).
	case o.has("type") && !fgcontract.OneOf(o.str("type"), fgcontract.FunctionTypes()):
		return invalid("type must be one of " + strings.Join(fgcontract.FunctionTypes(), ", "))
	}
	var code []byte
	if codeType == "zip" || codeType == "jar" {
		if a, bad := checkFilename(o, codeType); bad {
			return a
		}
		// API reference, func_code.file: "If this parameter is left blank, the
		// default code is used."
		if file := o.sub("func_code").str("file"); file != "" {
			b, a, bad := decodeZip(file)
			if bad {
				return a
			}
			code = b
		}
	}
	name := o.str("func_name")
	if _, dup := c.functions[name]; dup {
		return refuse(http.StatusConflict, "FSS.1061", "The function already exists.")
	}
	cfg := o.plain()
	delete(cfg, "func_code")
	if cfg["enterprise_project_id"] == nil {
		cfg["enterprise_project_id"] = "0"
	}
	f := &Function{
		Name: name, Package: o.str("package"), Config: cfg, Code: code, LastModified: c.now(), MaxInstances: fgcontract.MaxInstancesDefault,
		URN: fmt.Sprintf("urn:fss:%s:%s:function:%s:%s:latest", c.region(), c.ProjectID, o.str("package"), name),
	}
	f.busy = c.BusyCalls
	c.functions[name] = f
	return answer{status: http.StatusOK, body: c.view(f)}
}

// checkConfig applies the rules CreateFunction and UpdateFunctionConfig share.
func (c *Cloud) checkConfig(o object, runtimes []string) (answer, bool) {
	name := o.str("func_name")
	if !funcName.MatchString(name) {
		return refuse(http.StatusBadRequest, "FSS.1002", "Invalid function name: "+strconv.Quote(name)), true
	}
	// SDK, runtime: CreateFunctionRequestBodyRuntime / UpdateFunctionConfigRequestBodyRuntime.
	if rt := o.str("runtime"); !fgcontract.OneOf(rt, runtimes) {
		return refuse(http.StatusBadRequest, "FSS.1005", "Invalid runtime: "+strconv.Quote(rt)), true
	}
	// SDK, memory_size: 128 … 4096, listed in its comment (fgcontract.MemorySizes).
	if mem := o.num("memory_size"); !fgcontract.MemorySizeOK(int(mem)) {
		return refuse(http.StatusBadRequest, "FSS.1007", fmt.Sprintf("Invalid memory: %d is not one of %s", mem, fgcontract.MemorySizesText())), true
	}
	// SDK, timeout: "范围3～259200秒".
	if t := o.num("timeout"); t < fgcontract.TimeoutMin || t > fgcontract.TimeoutMax {
		return refuse(http.StatusBadRequest, "FSS.1008", fmt.Sprintf("Invalid timeout: %d s", t)), true
	}
	if o.str("handler") == "" {
		return refuse(http.StatusBadRequest, "FSS.1003", "Invalid function handler"), true
	}
	if o.has("package") && o.str("package") == "" {
		return refuse(http.StatusBadRequest, "FSS.1004", "Invalid Package"), true
	}
	for _, k := range []string{"user_data", "encrypted_user_data"} {
		if !o.has(k) {
			continue
		}
		var vars map[string]string
		if err := json.Unmarshal([]byte(o.str(k)), &vars); err != nil {
			return refuse(http.StatusBadRequest, "FSS.1009", "Invalid function UserData: "+k+" is not a JSON object of strings"), true
		}
		if len(vars) > maxVariables {
			return refuse(http.StatusBadRequest, "FSS.1017", fmt.Sprintf("%s holds %d variables, at most %d are allowed", k, len(vars), maxVariables)), true
		}
		if n := len(o.str(k)); n > maxVariableBytes {
			return refuse(http.StatusBadRequest, "FSS.1018", fmt.Sprintf("%s takes %d bytes, at most %d are allowed", k, n, maxVariableBytes)), true
		}
	}
	// FSS.1019: "The maximum length is 512 characters."
	if d := o.str("description"); utf8.RuneCountInString(d) > 512 {
		return refuse(http.StatusBadRequest, "FSS.1019", "The description exceeds the maximum allowed limit."), true
	}
	// API reference, func_vpc: "An agency with VPC permissions must be configured
	// for the function."
	if o.has("func_vpc") && o.str("xrole") == "" {
		return invalid("func_vpc needs an agency (xrole)"), true
	}
	// SDK, enterprise_project_id: "企业项目ID，在企业用户创建函数时必填" (required when an
	// enterprise user creates a function); "0" is the default project.
	ep := o.str("enterprise_project_id")
	switch {
	case len(c.projects) > 0 && ep == "":
		return invalid("enterprise_project_id is required: the account uses enterprise projects"), true
	case ep != "" && ep != "0" && !c.projects[ep]:
		return refuse(http.StatusForbidden, "FSS.1127", "The EPS user does not have permissions to call the API: enterprise project "+strconv.Quote(ep)+" not found"), true
	}
	return answer{}, false
}

// checkFilename: SDK, code_filename: "当CodeType为jar/zip时必须提供该字段" (required
// when code_type is jar or zip).
func checkFilename(o object, codeType string) (answer, bool) {
	if o.str("code_filename") == "" {
		return invalid("code_filename is required when code_type is " + codeType), true
	}
	return answer{}, false
}

func decodeZip(file string) ([]byte, answer, bool) {
	b, err := base64.StdEncoding.DecodeString(file)
	if err != nil {
		return nil, refuse(http.StatusBadRequest, "FSS.1011", "Invalid function code: func_code.file is not base64"), true
	}
	if len(b) > maxCodeBytes {
		return nil, refuse(http.StatusRequestEntityTooLarge, "FSS.1071", "The size of the code package to be uploaded exceeds the maximum allowed limit (50 MB)."), true
	}
	if len(b) < 4 || string(b[:4]) != "PK\x03\x04" {
		return nil, refuse(http.StatusBadRequest, "FSS.1011", "zip: not a valid zip file"), true
	}
	return b, answer{}, false
}

func (c *Cloud) updateCode(f *Function, body []byte) answer {
	// SDK: UpdateFunctionCodeRequestBody; required: code_type, func_code.
	o, err := decodeStrict(body, &fgsmodel.UpdateFunctionCodeRequestBody{})
	if err != nil {
		return invalid(err.Error())
	}
	codeType := o.str("code_type")
	if !fgcontract.OneOf(codeType, fgcontract.UpdateCodeTypes()) {
		return refuse(http.StatusBadRequest, "FSS.1006", "Invalid code type: "+strconv.Quote(codeType))
	}
	if codeType != "zip" {
		return invalid("the fake takes zip code only")
	}
	if a, bad := checkFilename(o, codeType); bad {
		return a
	}
	file := o.sub("func_code").str("file")
	if file == "" {
		return refuse(http.StatusBadRequest, "FSS.1012", "The function code must be configured.")
	}
	code, a, bad := decodeZip(file)
	if bad {
		return a
	}
	// Uploading the code the function already has is refused with 409 FSS.0409
	// ("The specified resource already exists"): Huawei's own deployment tools
	// treat FSS.0409 from UpdateFunctionCode as "code unchanged" (the
	// serverless-huawei-functions FunctionService, and OTC's FunctionGraph
	// terraform examples, which accept 409 "if trying to replace code with same
	// code").
	if bytes.Equal(code, f.Code) {
		return refuse(http.StatusConflict, "FSS.0409", "The specified resource already exists.")
	}
	f.Code = code
	f.CodeUpdates++
	f.Config["code_type"], f.Config["code_filename"] = codeType, o.str("code_filename")
	f.LastModified = c.now()
	f.busy = c.BusyCalls
	return answer{status: http.StatusOK, body: map[string]any{
		"func_urn": f.URN, "func_name": f.Name, "code_size": len(code), "code_type": codeType,
		"code_filename": o.str("code_filename"), "last_modified": f.LastModified.UTC().Format(sdkTime),
	}}
}

func (c *Cloud) updateConfig(f *Function, body []byte) answer {
	// SDK: UpdateFunctionConfigRequestBody; required: func_name, runtime,
	// timeout, handler, memory_size. It has no package, code_type or code_filename.
	o, err := decodeStrict(body, &fgsmodel.UpdateFunctionConfigRequestBody{})
	if err != nil {
		return invalid(err.Error())
	}
	if a, bad := c.checkConfig(o, fgcontract.UpdateRuntimes()); bad {
		return a
	}
	if o.str("func_name") != f.Name {
		return refuse(http.StatusBadRequest, "FSS.1002", "Invalid function name: func_name does not match the URN")
	}
	// SDK: UpdateFunctionConfigRequestBody.strategy_config (StrategyConfig) may set
	// the maximum instances too; absent, they stay as they are.
	maxInstances := f.MaxInstances
	if sc := o.sub("strategy_config"); sc != nil {
		n := int(sc.num("concurrency"))
		if !fgcontract.MaxInstancesOK(n) {
			return invalid(fmt.Sprintf("strategy_config.concurrency %d is outside -1–%d", n, fgcontract.MaxInstancesMax))
		}
		maxInstances = n
	}
	cfg := o.plain()
	delete(cfg, "strategy_config")
	for _, k := range []string{"package", "code_type", "code_filename"} {
		if v, ok := f.Config[k]; ok {
			cfg[k] = v
		}
	}
	if cfg["enterprise_project_id"] == nil {
		cfg["enterprise_project_id"] = f.Config["enterprise_project_id"]
	}
	f.Config, f.MaxInstances = cfg, maxInstances
	f.LastModified = c.now()
	f.busy = c.BusyCalls
	return answer{status: http.StatusOK, body: c.view(f)}
}

// updateMaxInstances sets the function's maximum instances. SDK:
// UpdateFunctionMaxInstanceConfigRequestBody, whose one member max_instance_num
// (-1 no limit, 0 the function disabled, up to 1000: fgcontract) the fake
// requires, since a body without it sets nothing. The answer is the function's
// configuration (UpdateFunctionMaxInstanceConfigResponse), strategy_config
// included.
func (c *Cloud) updateMaxInstances(f *Function, body []byte) answer {
	o, err := decodeStrict(body, &fgsmodel.UpdateFunctionMaxInstanceConfigRequestBody{})
	if err != nil {
		return invalid(err.Error())
	}
	if !o.has("max_instance_num") {
		return invalid("max_instance_num is required")
	}
	n := int(o.num("max_instance_num"))
	if !fgcontract.MaxInstancesOK(n) {
		return invalid(fmt.Sprintf("max_instance_num %d is outside -1–%d", n, fgcontract.MaxInstancesMax))
	}
	f.MaxInstances = n
	f.LastModified = c.now()
	f.busy = c.BusyCalls
	return answer{status: http.StatusOK, body: c.view(f)}
}

// invoke answers InvokeFunction in the format X-CFF-Request-Version asks for
// (SDK, InvokeFunctionRequest.XCFFRequestVersion: "返回体格式，取值v0,v1。 v0:默认返回
// 文本格式 v1:默认返回json格式，sdk需要使用此值"; API reference, "Executing a Function
// Synchronously"): v0, the default, is the function's output as it is; v1 wraps
// it in {request_id, result, log, status}, the shape InvokeFunctionResponse
// decodes. The response header X-Cff-Response-Version names the format.
func (c *Cloud) invoke(f *Function, r request) answer {
	ver := r.header.Get(fgcontract.RequestVersionHeader)
	if ver == "" {
		ver = fgcontract.RequestVersionRaw
	}
	if !fgcontract.OneOf(ver, fgcontract.RequestVersions()) {
		return invalid(fgcontract.RequestVersionHeader + " must be v0 or v1")
	}
	// API reference: the request body is a JSON object ({Customized_key}: Object);
	// the SDK models it as map[string]interface{}.
	var event map[string]any
	if json.Unmarshal(r.body, &event) != nil || event == nil {
		return invalid("the event is not a JSON object")
	}
	reqID := c.nextID("req-")
	result, status, funcErr := []byte(`{"errorMessage":"no handler in the fake","errorType":"FunctionError"}`), 500, true
	if c.Invoke != nil {
		c.mu.Unlock()
		out, err := c.Invoke(f.Name, r.body)
		c.mu.Lock()
		if err != nil {
			out = []byte(fmt.Sprintf(`{"errorMessage":%q,"errorType":"FunctionError"}`, err.Error()))
		}
		result, status, funcErr = out, 200, err != nil
		if funcErr {
			status = 500
		}
	}
	header := map[string]string{"X-Cff-Request-Id": reqID, "X-Cff-Response-Version": ver, "X-Is-Func-Err": strconv.FormatBool(funcErr)}
	if ver == fgcontract.RequestVersionRaw {
		if !json.Valid(result) {
			header["Content-Type"] = "text/plain;charset=UTF-8"
		}
		return answer{status: http.StatusOK, raw: result, header: header}
	}
	return answer{status: http.StatusOK, header: header, body: map[string]any{"request_id": reqID, "status": status, "result": string(result), "log": ""}}
}

// sdkTime is the time layout FunctionGraph answers with ("2019-10-25 15:37:27" in
// the API reference's examples; sdktime.SdkTime parses it).
const sdkTime = "2006-01-02 15:04:05"

// view is the function's configuration as ShowFunctionConfig returns it; the
// encrypted variables are write-only.
func (c *Cloud) view(f *Function) map[string]any {
	out := map[string]any{}
	for k, v := range f.Config {
		if k == "encrypted_user_data" {
			continue
		}
		out[k] = v
	}
	out["func_urn"], out["func_name"], out["package"], out["code_size"] = f.URN, f.Name, f.Package, len(f.Code)
	out["version"], out["last_modified"] = "latest", f.LastModified.UTC().Format(sdkTime)
	// SDK: StrategyConfig; concurrent_num (requests per instance) is 1 for these
	// functions, as FunctionGraph's default.
	out["strategy_config"] = map[string]any{"concurrency": f.MaxInstances, "concurrent_num": 1}
	return out
}

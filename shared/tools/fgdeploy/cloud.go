package fgdeploy

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/huaweicloud/huaweicloud-sdk-go-v3/core/auth/basic"
	"github.com/huaweicloud/huaweicloud-sdk-go-v3/core/config"
	"github.com/huaweicloud/huaweicloud-sdk-go-v3/core/sdkerr"
	apig "github.com/huaweicloud/huaweicloud-sdk-go-v3/services/apig/v2"
	apigmodel "github.com/huaweicloud/huaweicloud-sdk-go-v3/services/apig/v2/model"
	fgs "github.com/huaweicloud/huaweicloud-sdk-go-v3/services/functiongraph/v2"
	fgsmodel "github.com/huaweicloud/huaweicloud-sdk-go-v3/services/functiongraph/v2/model"

	"github.com/kgseller/kgseller/shared/aksk"
	"github.com/kgseller/kgseller/shared/fakes/fgcontract"
)

// cloud wraps the SDK clients. Requests are built from this package's JSON-shaped
// types and converted into the SDK models (and answers back), which keeps the SDK's
// enum types out of the deploy logic while the SDK still signs and sends every call.
type cloud struct {
	fg   *fgs.FunctionGraphClient
	apig *apig.ApigClient
}

const jsonType = "application/json"

func newCloud(fgEndpoint, apigEndpoint, project string, cred aksk.Credentials, timeout time.Duration) (*cloud, error) {
	if !cred.Valid() {
		return nil, errors.New("credentials: set HUAWEICLOUD_SDK_AK and HUAWEICLOUD_SDK_SK")
	}
	auth, err := basic.NewCredentialsBuilder().WithAk(cred.AK).WithSk(cred.SK).WithSecurityToken(cred.SecurityToken).WithProjectId(project).SafeBuild()
	if err != nil {
		return nil, fmt.Errorf("credentials: %w", err)
	}
	httpConfig := func() *config.HttpConfig { return config.DefaultHttpConfig().WithTimeout(timeout) }
	fc, err := fgs.FunctionGraphClientBuilder().WithEndpoints([]string{fgEndpoint}).WithCredential(auth).WithHttpConfig(httpConfig()).SafeBuild()
	if err != nil {
		return nil, fmt.Errorf("FunctionGraph client: %w", err)
	}
	ac, err := apig.ApigClientBuilder().WithEndpoints([]string{apigEndpoint}).WithCredential(auth).WithHttpConfig(httpConfig()).SafeBuild()
	if err != nil {
		return nil, fmt.Errorf("APIG client: %w", err)
	}
	return &cloud{fg: fgs.NewFunctionGraphClient(fc), apig: apig.NewApigClient(ac)}, nil
}

// convert moves an SDK answer into this package's types through JSON.
func convert(from, to any) error {
	b, err := json.Marshal(from)
	if err != nil {
		return err
	}
	return json.Unmarshal(b, to)
}

// toSDK builds an SDK request model from this package's JSON-shaped types. A
// member the model does not define is an error rather than silently dropped: the
// SDK sends only what its models hold, so a setting it cannot carry must not look
// deployed.
func toSDK(from, to any) error {
	b, err := json.Marshal(from)
	if err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(to); err != nil {
		return fmt.Errorf("%T: %w", to, err)
	}
	return nil
}

// isNotFound reports an HTTP 404 answer.
func isNotFound(err error) bool {
	var se *sdkerr.ServiceResponseError
	return errors.As(err, &se) && se.StatusCode == http.StatusNotFound
}

// apiError keeps what identifies a failed call (status, code, message, request
// id), and the SDK's error beneath it.
func apiError(what string, err error) error {
	var se *sdkerr.ServiceResponseError
	if errors.As(err, &se) {
		return &callError{what: what, se: se}
	}
	return fmt.Errorf("%s: %w", what, err)
}

// callError is a call the service refused.
type callError struct {
	what string
	se   *sdkerr.ServiceResponseError
}

func (e *callError) Error() string {
	return fmt.Sprintf("%s: HTTP %d %s: %s (request %s)", e.what, e.se.StatusCode, e.se.ErrorCode, e.se.ErrorMessage, e.se.RequestId)
}

func (e *callError) Unwrap() error { return e.se }

// Deployed is what ShowFunctionConfig tells about an existing function.
type Deployed struct {
	URN                 string `json:"func_urn"`
	Description         string `json:"description"`
	EnterpriseProjectID string `json:"enterprise_project_id"`
	Strategy            *struct {
		MaxInstances *int `json:"concurrency"`
	} `json:"strategy_config"`
}

// MaxInstances is the function's maximum instances, FunctionGraph's default when
// the answer does not say.
func (d *Deployed) MaxInstances() int {
	if d == nil || d.Strategy == nil || d.Strategy.MaxInstances == nil {
		return fgcontract.MaxInstancesDefault
	}
	return *d.Strategy.MaxInstances
}

func (c *cloud) showFunction(urn string) (*Deployed, error) {
	resp, err := c.fg.ShowFunctionConfig(&fgsmodel.ShowFunctionConfigRequest{FunctionUrn: urn, ContentType: jsonType})
	if isNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, apiError("ShowFunctionConfig", err)
	}
	var d Deployed
	if err := convert(resp, &d); err != nil {
		return nil, err
	}
	if d.URN == "" {
		d.URN = urn
	}
	return &d, nil
}

// codeFilename is the zip's file name, which CreateFunction and UpdateFunctionCode
// require with a zip (SDK, code_filename: "当CodeType为jar/zip时必须提供该字段").
func codeFilename(name string) string { return name + ".zip" }

func (c *cloud) createFunction(cfg Config, zip []byte) (string, error) {
	var body fgsmodel.CreateFunctionRequestBody
	if err := toSDK(cfg, &body); err != nil {
		return "", err
	}
	codeType := fgsmodel.GetCreateFunctionRequestBodyCodeTypeEnum().ZIP
	// v2 functions; the SDK notes that some regions offer only v1 (docs/deploy.md
	// lists it among what to watch on a first deployment).
	version := fgsmodel.GetCreateFunctionRequestBodyTypeEnum().V2
	file, filename := base64.StdEncoding.EncodeToString(zip), codeFilename(cfg.FuncName)
	body.CodeType, body.Type, body.CodeFilename = &codeType, &version, &filename
	body.FuncCode = &fgsmodel.FuncCode{File: &file}
	resp, err := c.fg.CreateFunction(&fgsmodel.CreateFunctionRequest{ContentType: jsonType, Body: &body})
	if err != nil {
		return "", apiError("CreateFunction", err)
	}
	if resp.FuncUrn == nil {
		return "", errors.New("CreateFunction: no func_urn in the answer")
	}
	return *resp.FuncUrn, nil
}

// errSameCode is UpdateFunctionCode's 409 FSS.0409 ("The specified resource
// already exists"): the function already has this zip. Huawei's own deployment
// tools read it so (the serverless-huawei-functions FunctionService ignores it;
// OTC's FunctionGraph terraform examples accept 409 "if trying to replace code
// with same code"). It happens when a run uploaded the code and stopped before
// the configuration that records it.
var errSameCode = errors.New("the function already has this code (409 FSS.0409)")

func (c *cloud) updateCode(urn, name string, zip []byte) error {
	file, filename := base64.StdEncoding.EncodeToString(zip), codeFilename(name)
	body := fgsmodel.UpdateFunctionCodeRequestBody{
		CodeType:     fgsmodel.GetUpdateFunctionCodeRequestBodyCodeTypeEnum().ZIP,
		CodeFilename: &filename,
		FuncCode:     &fgsmodel.FuncCode{File: &file},
	}
	_, err := c.fg.UpdateFunctionCode(&fgsmodel.UpdateFunctionCodeRequest{FunctionUrn: urn, ContentType: jsonType, Body: &body})
	var se *sdkerr.ServiceResponseError
	if errors.As(err, &se) && se.StatusCode == http.StatusConflict && se.ErrorCode == "FSS.0409" {
		return errSameCode
	}
	if err != nil {
		return apiError("UpdateFunctionCode", err)
	}
	return nil
}

func (c *cloud) updateConfig(urn string, cfg Config) error {
	cfg.Package = "" // not part of the update body
	var body fgsmodel.UpdateFunctionConfigRequestBody
	if err := toSDK(cfg, &body); err != nil {
		return err
	}
	if _, err := c.fg.UpdateFunctionConfig(&fgsmodel.UpdateFunctionConfigRequest{FunctionUrn: urn, ContentType: jsonType, Body: &body}); err != nil {
		return apiError("UpdateFunctionConfig", err)
	}
	return nil
}

// setMaxInstances sets the function's maximum instances (FunctionGraph's
// per-function limit; -1 is none).
func (c *cloud) setMaxInstances(urn string, n int) error {
	num := int32(n)
	_, err := c.fg.UpdateFunctionMaxInstanceConfig(&fgsmodel.UpdateFunctionMaxInstanceConfigRequest{
		FunctionUrn: urn, ContentType: jsonType, Body: &fgsmodel.UpdateFunctionMaxInstanceConfigRequestBody{MaxInstanceNum: &num},
	})
	if err != nil {
		return apiError("UpdateFunctionMaxInstanceConfig", err)
	}
	return nil
}

// Existing is a trigger as FunctionGraph lists it.
type Existing struct {
	ID        string         `json:"trigger_id"`
	Type      string         `json:"trigger_type_code"`
	Status    string         `json:"trigger_status"`
	EventData map[string]any `json:"event_data"`
}

func (c *cloud) listTriggers(urn string) ([]Existing, error) {
	resp, err := c.fg.ListFunctionTriggers(&fgsmodel.ListFunctionTriggersRequest{FunctionUrn: urn, ContentType: jsonType})
	if err != nil {
		return nil, apiError("ListFunctionTriggers", err)
	}
	var out []Existing
	if resp.Body != nil {
		if err := convert(resp.Body, &out); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func (c *cloud) createTrigger(urn string, t Trigger) error {
	var body fgsmodel.CreateFunctionTriggerRequestBody
	if err := toSDK(t, &body); err != nil {
		return err
	}
	if _, err := c.fg.CreateFunctionTrigger(&fgsmodel.CreateFunctionTriggerRequest{FunctionUrn: urn, ContentType: jsonType, Body: &body}); err != nil {
		return apiError("CreateFunctionTrigger", err)
	}
	return nil
}

func (c *cloud) deleteTrigger(urn string, e Existing) error {
	req := fgsmodel.DeleteFunctionTriggerRequest{FunctionUrn: urn, TriggerId: e.ID, ContentType: jsonType}
	if err := convert(e.Type, &req.TriggerTypeCode); err != nil {
		return err
	}
	if _, err := c.fg.DeleteFunctionTrigger(&req); err != nil {
		return apiError("DeleteFunctionTrigger", err)
	}
	return nil
}

// Invocation is InvokeFunction's answer.
type Invocation struct {
	Status int    `json:"status"`
	Result string `json:"result"`
}

func (c *cloud) invoke(urn string, event map[string]any) (Invocation, error) {
	// v1: the {request_id, result, status} wrapper InvokeFunctionResponse decodes.
	// Without it FunctionGraph answers with the function's output itself (v0, the
	// default), and the SDK leaves Result empty.
	version := fgcontract.RequestVersionJSON
	resp, err := c.fg.InvokeFunction(&fgsmodel.InvokeFunctionRequest{FunctionUrn: urn, ContentType: jsonType, XCFFRequestVersion: &version, Body: event})
	if err != nil {
		return Invocation{}, apiError("InvokeFunction", err)
	}
	var inv Invocation
	if resp.Status != nil {
		inv.Status = int(*resp.Status)
	}
	if resp.Result != nil {
		inv.Result = *resp.Result
	}
	return inv, nil
}

// Policy is a request throttling policy in the APIG API's names.
type Policy struct {
	ID            string `json:"id,omitempty"`
	Name          string `json:"name"`
	APICallLimits int    `json:"api_call_limits"`
	IPCallLimits  int    `json:"ip_call_limits,omitempty"`
	TimeInterval  int    `json:"time_interval"`
	TimeUnit      string `json:"time_unit"`
	Type          int    `json:"type"` // 1: each bound API has its own limit
	Remark        string `json:"remark,omitempty"`
}

func (p Policy) same(o Policy) bool {
	return p.Name == o.Name && p.APICallLimits == o.APICallLimits && p.IPCallLimits == o.IPCallLimits &&
		p.TimeInterval == o.TimeInterval && p.TimeUnit == o.TimeUnit && (o.Type == 0 || p.Type == o.Type)
}

func (c *cloud) findPolicy(instance, name string) (*Policy, error) {
	exact := "name"
	resp, err := c.apig.ListRequestThrottlingPolicyV2(&apigmodel.ListRequestThrottlingPolicyV2Request{InstanceId: instance, Name: &name, PreciseSearch: &exact})
	if err != nil {
		return nil, apiError("ListRequestThrottlingPolicyV2", err)
	}
	var list []Policy
	if resp.Throttles != nil {
		if err := convert(resp.Throttles, &list); err != nil {
			return nil, err
		}
	}
	for _, p := range list {
		if p.Name == name {
			return &p, nil
		}
	}
	return nil, nil
}

func (c *cloud) savePolicy(instance string, p Policy) (string, error) {
	var body apigmodel.ThrottleBaseInfo
	id := p.ID
	p.ID = ""
	if err := toSDK(p, &body); err != nil {
		return "", err
	}
	if id != "" {
		if _, err := c.apig.UpdateRequestThrottlingPolicyV2(&apigmodel.UpdateRequestThrottlingPolicyV2Request{InstanceId: instance, ThrottleId: id, Body: &body}); err != nil {
			return "", apiError("UpdateRequestThrottlingPolicyV2", err)
		}
		return id, nil
	}
	resp, err := c.apig.CreateRequestThrottlingPolicyV2(&apigmodel.CreateRequestThrottlingPolicyV2Request{InstanceId: instance, Body: &body})
	if err != nil {
		return "", apiError("CreateRequestThrottlingPolicyV2", err)
	}
	if resp.Id == nil {
		return "", errors.New("CreateRequestThrottlingPolicyV2: no id in the answer")
	}
	return *resp.Id, nil
}

// GatewayAPI is an API as the throttle-binding lists show it.
type GatewayAPI struct {
	ID        string `json:"id"`
	Name      string `json:"name"`
	PublishID string `json:"publish_id"`
	ReqURI    string `json:"req_uri"`
	ReqMethod string `json:"req_method"`
}

func (c *cloud) unboundAPIs(instance, policy, group, env string) ([]GatewayAPI, error) {
	limit := int32(500)
	resp, err := c.apig.ListApisUnbindedToRequestThrottlingPolicyV2(&apigmodel.ListApisUnbindedToRequestThrottlingPolicyV2Request{
		InstanceId: instance, ThrottleId: policy, GroupId: &group, EnvId: &env, Limit: &limit,
	})
	if err != nil {
		return nil, apiError("ListApisUnbindedToRequestThrottlingPolicyV2", err)
	}
	var out []GatewayAPI
	if resp.Apis != nil {
		if err := convert(resp.Apis, &out); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func (c *cloud) bind(instance, policy string, publishIDs []string) error {
	_, err := c.apig.AssociateRequestThrottlingPolicyV2(&apigmodel.AssociateRequestThrottlingPolicyV2Request{
		InstanceId: instance, Body: &apigmodel.ThrottleApiBindingCreate{StrategyId: policy, PublishIds: publishIDs},
	})
	if err != nil {
		return apiError("AssociateRequestThrottlingPolicyV2", err)
	}
	return nil
}

// Feature is a gateway feature's configuration.
type Feature struct {
	Name   string `json:"name"`
	Enable bool   `json:"enable"`
	Config string `json:"config"`
}

func (c *cloud) features(instance string) ([]Feature, error) {
	limit := int32(500)
	resp, err := c.apig.ListFeaturesV2(&apigmodel.ListFeaturesV2Request{InstanceId: instance, Limit: &limit})
	if err != nil {
		return nil, apiError("ListFeaturesV2", err)
	}
	var out []Feature
	if resp.Features != nil {
		if err := convert(resp.Features, &out); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func (c *cloud) setFeature(instance string, f Feature) error {
	cfg := f.Config
	if _, err := c.apig.CreateFeatureV2(&apigmodel.CreateFeatureV2Request{InstanceId: instance, Body: &apigmodel.FeatureToggle{Name: f.Name, Enable: f.Enable, Config: &cfg}}); err != nil {
		return apiError("CreateFeatureV2", err)
	}
	return nil
}

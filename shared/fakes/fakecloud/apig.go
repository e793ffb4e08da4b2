package fakecloud

import (
	"fmt"
	"net/http"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	apigmodel "github.com/huaweicloud/huaweicloud-sdk-go-v3/services/apig/v2/model"

	"github.com/kgseller/kgseller/shared/fakes/fgcontract"
)

// The dedicated API Gateway rules. "SDK" cites huaweicloud-sdk-go-v3 v0.1.207,
// services/apig/v2/model; "API reference" cites Huawei's API Gateway API reference
// (docs.otc.t-systems.com/api-gateway carries the same text); error codes are from
// its error code table (Appendix, "Error Codes").

func apigInvalid(msg string) answer {
	return refuse(http.StatusBadRequest, "APIG.2000", "Parameter error: "+msg)
}

var (
	instanceNotFound = APIError{http.StatusNotFound, "APIG.3030", "The instance does not exist."}
	throttleNotFound = APIError{http.StatusNotFound, "APIG.3005", "The request throttling policy does not exist."}
)

// throttleName is the API reference's rule for a throttling policy's name
// ("Creating a Request Throttling Policy"): 3 to 64 characters, starting with a
// letter; letters, digits and underscores.
var throttleName = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_]{2,63}$`)

// maxBodySizeMB is the largest request_body_size (API reference, "Supported
// Features": 1–9536 MB; its example config, "104857600", is in bytes).
const maxBodySizeMB = 9536

func (c *Cloud) apiGateway(r request) answer {
	instance := r.params["instance"]
	if c.gateways[instance] == nil {
		return fail(instanceNotFound)
	}
	switch r.op {
	case OpListThrottles:
		out := []map[string]any{}
		for _, t := range c.throttles {
			if t.Instance != instance {
				continue
			}
			if name := r.query.Get("name"); name != "" && t.Body["name"] != name {
				continue
			}
			out = append(out, t.view())
		}
		return answer{status: http.StatusOK, body: map[string]any{"size": len(out), "total": len(out), "throttles": out}}
	case OpCreateThrottle, OpUpdateThrottle:
		return c.saveThrottle(r.op, instance, r.params["id"], r.body)
	case OpListUnboundAPIs, OpListBoundAPIs:
		// SDK: ListApisUnbindedToRequestThrottlingPolicyV2Request, throttle_id
		// required.
		if r.query.Get("throttle_id") == "" {
			return apigInvalid("throttle_id is required")
		}
		t := c.throttle(instance, r.query.Get("throttle_id"))
		if t == nil {
			return fail(throttleNotFound)
		}
		out := []map[string]any{}
		for _, a := range c.apis {
			if a.InstanceID != instance || (r.query.Get("env_id") != "" && a.EnvID != r.query.Get("env_id")) || (r.query.Get("group_id") != "" && a.GroupID != r.query.Get("group_id")) {
				continue
			}
			if t.Bound[a.PublishID] == (r.op == OpListBoundAPIs) {
				out = append(out, map[string]any{"id": a.ID, "name": a.Name, "group_id": a.GroupID, "publish_id": a.PublishID, "run_env_id": a.EnvID, "run_env_name": a.EnvName, "req_uri": a.ReqURI, "req_method": a.ReqMethod})
			}
		}
		return answer{status: http.StatusOK, body: map[string]any{"size": len(out), "total": len(out), "apis": out}}
	case OpBindThrottle:
		// SDK: ThrottleApiBindingCreate; required: strategy_id, publish_ids.
		o, err := decodeStrict(r.body, &apigmodel.ThrottleApiBindingCreate{})
		if err != nil {
			return apigInvalid(err.Error())
		}
		t := c.throttle(instance, o.str("strategy_id"))
		if t == nil {
			return fail(throttleNotFound)
		}
		ids, _ := o.plain()["publish_ids"].([]any)
		if len(ids) == 0 {
			return apigInvalid("publish_ids is empty")
		}
		var applied []map[string]any
		for _, id := range ids {
			pid := fmt.Sprint(id)
			if !c.publishExists(instance, pid) {
				return refuse(http.StatusNotFound, "APIG.3002", "The API does not exist.")
			}
		}
		for _, id := range ids {
			pid := fmt.Sprint(id)
			t.Bound[pid] = true
			applied = append(applied, map[string]any{"id": c.nextID("bind-"), "publish_id": pid, "strategy_id": t.ID, "scope": 1})
		}
		return answer{status: http.StatusCreated, body: map[string]any{"throttle_applys": applied}}
	case OpListFeatures:
		out := []map[string]any{}
		names := make([]string, 0, len(c.features[instance]))
		for n := range c.features[instance] {
			names = append(names, n)
		}
		sort.Strings(names)
		for _, n := range names {
			out = append(out, map[string]any{"id": n, "name": n, "enable": true, "config": c.features[instance][n], "instance_id": instance})
		}
		return answer{status: http.StatusOK, body: map[string]any{"size": len(out), "total": len(out), "features": out}}
	case OpCreateFeature:
		return c.setFeature(instance, r.body)
	}
	return fail(instanceNotFound)
}

func (c *Cloud) saveThrottle(op, instance, id string, body []byte) answer {
	// SDK: ThrottleBaseInfo; required: name, time_unit, api_call_limits,
	// time_interval.
	o, err := decodeStrict(body, &apigmodel.ThrottleBaseInfo{})
	if err != nil {
		return apigInvalid(err.Error())
	}
	bad := func(msg string) answer {
		return refuse(http.StatusBadRequest, "APIG.2012", "Invalid parameter value: "+msg)
	}
	switch {
	case !throttleName.MatchString(o.str("name")):
		return bad("name must be 3–64 letters, digits or underscores, starting with a letter")
	case !fgcontract.OneOf(o.str("time_unit"), fgcontract.ThrottleTimeUnits()):
		return bad("time_unit must be one of " + strings.Join(fgcontract.ThrottleTimeUnits(), ", "))
	case o.has("type") && !fgcontract.OneOf(strconv.FormatInt(o.num("type"), 10), fgcontract.ThrottleTypes()):
		return bad("type must be one of " + strings.Join(fgcontract.ThrottleTypes(), ", "))
	// API reference: every limit is a positive integer; ip_call_limits "cannot
	// exceed the API call limit"; remark at most 255 characters.
	case o.num("api_call_limits") < 1 || o.num("time_interval") < 1:
		return bad("api_call_limits and time_interval must be positive")
	case o.has("ip_call_limits") && (o.num("ip_call_limits") < 1 || o.num("ip_call_limits") > o.num("api_call_limits")):
		return bad("ip_call_limits must be 1 to api_call_limits")
	case utf8.RuneCountInString(o.str("remark")) > 255:
		return bad("remark has more than 255 characters")
	}
	for _, t := range c.throttles {
		if t.Instance == instance && t.Body["name"] == o.str("name") && t.ID != id {
			return refuse(http.StatusBadRequest, "APIG.3204", "The request throttling policy name already exists.")
		}
	}
	if op == OpCreateThrottle {
		t := &Throttle{ID: c.nextID("thr-"), Body: o.plain(), Bound: map[string]bool{}, Instance: instance}
		c.throttles = append(c.throttles, t)
		return answer{status: http.StatusCreated, body: t.view()}
	}
	t := c.throttle(instance, id)
	if t == nil {
		return fail(throttleNotFound)
	}
	t.Body = o.plain()
	return answer{status: http.StatusOK, body: t.view()}
}

func (c *Cloud) setFeature(instance string, body []byte) answer {
	// SDK: FeatureToggle; required: name, enable.
	o, err := decodeStrict(body, &apigmodel.FeatureToggle{})
	if err != nil {
		return apigInvalid(err.Error())
	}
	name, cfg := o.str("name"), o.str("config")
	if name == "request_body_size" {
		n, err := strconv.Atoi(cfg)
		if err != nil || n < 1<<20 || n > maxBodySizeMB<<20 {
			return refuse(http.StatusBadRequest, "APIG.2012", fmt.Sprintf("Invalid parameter value: request_body_size is bytes, 1 MB to %d MB", maxBodySizeMB))
		}
	}
	if c.features[instance] == nil {
		c.features[instance] = map[string]string{}
	}
	c.features[instance][name] = cfg
	return answer{status: http.StatusCreated, body: map[string]any{"id": name, "name": name, "enable": o.plain()["enable"], "config": cfg, "instance_id": instance}}
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

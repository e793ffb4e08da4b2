package fakecloud

import (
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"strings"

	fgsmodel "github.com/huaweicloud/huaweicloud-sdk-go-v3/services/functiongraph/v2/model"

	"github.com/kgseller/kgseller/shared/fakes/fgcontract"
)

// rateSchedule is a TIMER trigger's Rate schedule. SDK, schedule_type Rate: "单位为
// 分钟时，输入值不能超过60；单位为小时时，输入值不能超过24；单位为天时，输入值不能超过30"
// (at most 60 minutes, 24 hours or 30 days).
var rateSchedule = regexp.MustCompile(`^([1-9][0-9]*)([mhd])$`)

var rateMax = map[string]int{"m": 60, "h": 24, "d": 30}

// apigRequired are the event_data members an APIG or DEDICATEDGATEWAY trigger
// needs (SDK, TriggerEventDataRequestBody: "APIG触发器此参数必填" on each).
var apigRequired = []string{"type", "path", "protocol", "req_method", "group_id", "match_mode", "env_name", "env_id", "auth", "func_info"}

// maxBackendTimeout is the longest APIG backend timeout in ms (the dedicated
// gateway's backend_timeout feature defaults to 60,000 ms: APIG API reference,
// "Supported Features").
const maxBackendTimeout = 60000

func (c *Cloud) createTrigger(f *Function, body []byte) answer {
	// SDK: CreateFunctionTriggerRequestBody; required: trigger_type_code,
	// event_data (and, inside, func_info.timeout).
	o, err := decodeStrict(body, &fgsmodel.CreateFunctionTriggerRequestBody{})
	if err != nil {
		return invalid(err.Error())
	}
	typ := o.str("trigger_type_code")
	if !fgcontract.OneOf(typ, fgcontract.TriggerTypes()) {
		return refuse(http.StatusBadRequest, "FSS.1101", "Invalid trigger type: "+strconv.Quote(typ))
	}
	status := o.str("trigger_status")
	if o.has("trigger_status") && !fgcontract.OneOf(status, fgcontract.TriggerStatuses()) {
		return invalid("trigger_status must be one of " + strings.Join(fgcontract.TriggerStatuses(), ", "))
	}
	if status == "" {
		status = "ACTIVE"
	}
	ed := o.sub("event_data")
	t := &Trigger{Type: typ, Status: status, EventData: ed.plain()}
	switch typ {
	case "TIMER":
		if a, bad := checkTimer(ed); bad {
			return a
		}
	case "APIG", "DEDICATEDGATEWAY":
		a, bad := c.checkAPIG(f, typ, ed)
		if bad {
			return a
		}
		instance, group := ed.str("instance_id"), ed.str("group_id")
		for _, api := range c.apis {
			if api.InstanceID == instance && api.GroupID == group && api.ReqURI == ed.str("path") && api.ReqMethod == ed.str("req_method") {
				return refuse(http.StatusConflict, "FSS.1147", "The request path already exists.")
			}
		}
		api := &API{ID: c.nextID("api-"), PublishID: c.nextID("pub-"), Name: ed.str("name"), GroupID: group,
			InstanceID: instance, EnvID: ed.str("env_id"), EnvName: ed.str("env_name"), ReqURI: ed.str("path"),
			ReqMethod: ed.str("req_method"), Function: f.Name}
		c.apis = append(c.apis, api)
		t.EventData["api_id"], t.EventData["api_name"] = api.ID, api.Name
		t.EventData["invoke_url"] = "https://" + api.GroupID + ".apig.fake" + api.ReqURI
		// The listing shows the unqualified URN and the version ("Querying All
		// Triggers of a Function", example response).
		fi, _ := t.EventData["func_info"].(map[string]any)
		fi["function_urn"], fi["version"] = f.unqualifiedURN(), "latest"
		if fi["invocation_type"] == nil {
			fi["invocation_type"] = "sync"
		}
	default:
		return invalid("the fake does not model " + typ + " triggers")
	}
	t.ID = c.nextID("trg-")
	c.triggers[f.Name] = append(c.triggers[f.Name], t)
	// API reference, "Creating a Trigger": 201 Created.
	return answer{status: http.StatusCreated, body: t.view()}
}

func checkTimer(ed object) (answer, bool) {
	bad := func(msg string) (answer, bool) {
		return refuse(http.StatusBadRequest, "FSS.1109", "Invalid timer trigger parameters: "+msg), true
	}
	// SDK: schedule_type and schedule, "TIMER触发器此参数必填".
	st, sched := ed.str("schedule_type"), ed.str("schedule")
	switch {
	case !fgcontract.OneOf(st, fgcontract.ScheduleTypes()):
		return bad("schedule_type must be one of " + strings.Join(fgcontract.ScheduleTypes(), ", "))
	case sched == "":
		return bad("schedule is required")
	case st == "Rate":
		m := rateSchedule.FindStringSubmatch(sched)
		if m == nil {
			return bad("a Rate schedule is <n>m, <n>h or <n>d")
		}
		if n, _ := strconv.Atoi(m[1]); n > rateMax[m[2]] {
			return bad(fmt.Sprintf("a Rate schedule is at most %d%s", rateMax[m[2]], m[2]))
		}
	}
	return answer{}, false
}

func (c *Cloud) checkAPIG(f *Function, typ string, ed object) (answer, bool) {
	code := "FSS.1107" // "Invalid APIG trigger parameters."
	if typ == "DEDICATEDGATEWAY" {
		code = "FSS.1417" // "Invalid APIG Exclusive trigger parameters."
	}
	bad := func(msg string) (answer, bool) { return refuse(http.StatusBadRequest, code, msg), true }
	for _, k := range apigRequired {
		if !ed.has(k) {
			return bad("event_data." + k + " is required")
		}
	}
	enums := []struct {
		key    string
		values []string
	}{
		{"protocol", fgcontract.Protocols()}, {"req_method", fgcontract.ReqMethods()}, {"match_mode", fgcontract.MatchModes()},
		{"auth", fgcontract.AuthTypes()}, {"backend_type", fgcontract.BackendTypes()},
	}
	for _, e := range enums {
		if ed.has(e.key) && !fgcontract.OneOf(ed.str(e.key), e.values) {
			return bad(fmt.Sprintf("event_data.%s %q is not one of %s", e.key, ed.str(e.key), strings.Join(e.values, ", ")))
		}
	}
	// SDK, type: "1：公有API - 2：私有API".
	if t := ed.num("type"); t != 1 && t != 2 {
		return bad("event_data.type must be 1 (public) or 2 (private)")
	}
	// APIG API reference, "Creating an API": req_uri starts with / and has at most
	// 512 characters.
	if p := ed.str("path"); !strings.HasPrefix(p, "/") || len(p) > 512 {
		return bad("event_data.path must start with / and have at most 512 characters")
	}
	fi := ed.sub("func_info")
	if t := fi.num("timeout"); t < 1 || t > maxBackendTimeout {
		return bad(fmt.Sprintf("func_info.timeout must be 1–%d ms", maxBackendTimeout))
	}
	if fi.has("invocation_type") && !fgcontract.OneOf(fi.str("invocation_type"), fgcontract.InvocationTypes()) {
		return bad("func_info.invocation_type must be one of " + strings.Join(fgcontract.InvocationTypes(), ", "))
	}
	// func_info names the function by its URN without a version and the version
	// apart ("Querying All Triggers of a Function", example: function_urn
	// urn:fss:…:function:default:test_triggers, version latest). A versioned URN
	// and a version together are refused rather than guessed at.
	if urn := fi.str("function_urn"); urn != "" {
		switch strings.Count(urn, ":") {
		case 6:
			if urn != f.unqualifiedURN() {
				return bad("func_info.function_urn is not the URN of the trigger's function")
			}
		case 7:
			if fi.has("version") {
				return bad("func_info.function_urn carries a version and func_info.version is set too: give the URN without the version")
			}
			if urn != f.URN {
				return bad("func_info.function_urn is not the URN of the trigger's function")
			}
		default:
			return bad("func_info.function_urn is not a function URN")
		}
	}
	if v := fi.str("version"); fi.has("version") && v != "latest" {
		return bad("func_info.version " + strconv.Quote(v) + " does not exist")
	}
	// The gateway, group and environment must exist.
	group, env, envName := ed.str("group_id"), ed.str("env_id"), ed.str("env_name")
	if typ == "APIG" {
		if !c.shared[group] {
			return bad("API group " + group + " does not exist (APIG.3001)")
		}
		if env != ReleaseEnvID || envName != ReleaseEnvName {
			return bad("environment " + env + " (" + envName + ") does not exist (APIG.3003)")
		}
		return answer{}, false
	}
	instance := ed.str("instance_id")
	if instance == "" {
		return bad("event_data.instance_id is required for a dedicated gateway")
	}
	g := c.gateways[instance]
	switch {
	case g == nil:
		return bad("gateway instance " + instance + " does not exist (APIG.3030)")
	case !g.groups[group]:
		return bad("API group " + group + " does not exist in gateway " + instance + " (APIG.3001)")
	case g.envs[env] == "" || g.envs[env] != envName:
		return bad("environment " + env + " (" + envName + ") does not exist in gateway " + instance + " (APIG.3003)")
	}
	return answer{}, false
}

func (c *Cloud) deleteTrigger(f *Function, typ, id string) answer {
	list := c.triggers[f.Name]
	for i, t := range list {
		if t.ID == id && t.Type == typ {
			c.triggers[f.Name] = append(list[:i:i], list[i+1:]...)
			if apiID, _ := t.EventData["api_id"].(string); apiID != "" {
				c.deleteAPI(apiID)
			}
			return answer{status: http.StatusNoContent}
		}
	}
	return refuse(http.StatusNotFound, "FSS.1131", "The trigger does not exist.")
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

func (t *Trigger) view() map[string]any {
	return map[string]any{"trigger_id": t.ID, "trigger_type_code": t.Type, "trigger_status": t.Status, "event_data": t.EventData}
}

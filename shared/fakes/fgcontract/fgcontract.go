// Package fgcontract is what Huawei Cloud's FunctionGraph and dedicated API Gateway
// APIs accept for the calls this project makes, read from the Huawei Cloud Go SDK's
// models (huaweicloud-sdk-go-v3 v0.1.207) wherever the SDK models it: the enum lists
// come from the SDK's Get…Enum() functions, the required fields from its json tags.
// The deploy tool (shared/tools/fgdeploy) checks its requests against it and the fake
// cloud (shared/fakes/fakecloud) enforces it, so both follow the SDK rather than a copy.
// Where the SDK has no list (memory sizes, the X-CFF-Request-Version values), the
// list is written here once, citing the SDK comment or API reference it is from.
package fgcontract

import (
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"strings"

	apigmodel "github.com/huaweicloud/huaweicloud-sdk-go-v3/services/apig/v2/model"
	fgsmodel "github.com/huaweicloud/huaweicloud-sdk-go-v3/services/functiongraph/v2/model"
)

// Values lists the values of an SDK enum, given the struct its Get…Enum()
// function returns (each field is one value with a Value() method).
func Values(enum any) []string {
	v := reflect.ValueOf(enum)
	if v.Kind() != reflect.Struct {
		panic(fmt.Sprintf("fgcontract: %T is not an SDK enum struct", enum))
	}
	out := make([]string, 0, v.NumField())
	for i := range v.NumField() {
		m := v.Field(i).MethodByName("Value")
		if !m.IsValid() {
			panic(fmt.Sprintf("fgcontract: %T.%s has no Value method", enum, v.Type().Field(i).Name))
		}
		out = append(out, fmt.Sprint(m.Call(nil)[0].Interface()))
	}
	return out
}

// OneOf reports whether v is one of the values.
func OneOf(v string, values []string) bool { return slices.Contains(values, v) }

// Runtimes are CreateFunctionRequestBody.runtime's values.
func Runtimes() []string { return Values(fgsmodel.GetCreateFunctionRequestBodyRuntimeEnum()) }

// UpdateRuntimes are UpdateFunctionConfigRequestBody.runtime's values.
func UpdateRuntimes() []string {
	return Values(fgsmodel.GetUpdateFunctionConfigRequestBodyRuntimeEnum())
}

// CodeTypes are CreateFunctionRequestBody.code_type's values.
func CodeTypes() []string { return Values(fgsmodel.GetCreateFunctionRequestBodyCodeTypeEnum()) }

// UpdateCodeTypes are UpdateFunctionCodeRequestBody.code_type's values.
func UpdateCodeTypes() []string {
	return Values(fgsmodel.GetUpdateFunctionCodeRequestBodyCodeTypeEnum())
}

// FunctionTypes are CreateFunctionRequestBody.type's values (v1, v2).
func FunctionTypes() []string { return Values(fgsmodel.GetCreateFunctionRequestBodyTypeEnum()) }

// TriggerTypes are CreateFunctionTriggerRequestBody.trigger_type_code's values.
func TriggerTypes() []string {
	return Values(fgsmodel.GetCreateFunctionTriggerRequestBodyTriggerTypeCodeEnum())
}

// TriggerStatuses are CreateFunctionTriggerRequestBody.trigger_status's values.
func TriggerStatuses() []string {
	return Values(fgsmodel.GetCreateFunctionTriggerRequestBodyTriggerStatusEnum())
}

// ScheduleTypes are a TIMER trigger's schedule_type values (Rate, Cron).
func ScheduleTypes() []string {
	return Values(fgsmodel.GetTriggerEventDataRequestBodyScheduleTypeEnum())
}

// Protocols are an APIG trigger's protocol values.
func Protocols() []string { return Values(fgsmodel.GetTriggerEventDataRequestBodyProtocolEnum()) }

// ReqMethods are an APIG trigger's req_method values.
func ReqMethods() []string { return Values(fgsmodel.GetTriggerEventDataRequestBodyReqMethodEnum()) }

// MatchModes are an APIG trigger's match_mode values (SWA prefix, NORMAL exact).
func MatchModes() []string { return Values(fgsmodel.GetTriggerEventDataRequestBodyMatchModeEnum()) }

// AuthTypes are an APIG trigger's auth values.
func AuthTypes() []string { return Values(fgsmodel.GetTriggerEventDataRequestBodyAuthEnum()) }

// BackendTypes are an APIG trigger's backend_type values.
func BackendTypes() []string {
	return Values(fgsmodel.GetTriggerEventDataRequestBodyBackendTypeEnum())
}

// InvocationTypes are an APIG trigger's func_info.invocation_type values.
func InvocationTypes() []string {
	return Values(fgsmodel.GetApigTriggerFuncInfoInvocationTypeEnum())
}

// ThrottleTimeUnits are ThrottleBaseInfo.time_unit's values.
func ThrottleTimeUnits() []string { return Values(apigmodel.GetThrottleBaseInfoTimeUnitEnum()) }

// ThrottleTypes are ThrottleBaseInfo.type's values ("1" exclusive, "2" shared).
func ThrottleTypes() []string { return Values(apigmodel.GetThrottleBaseInfoTypeEnum()) }

// MemorySizes are the function memory sizes in MB. The SDK has no enum for them:
// the list is the comment on memory_size in CreateFunctionRequestBody and
// UpdateFunctionConfigRequestBody ("取值范围为：128、256、512、768、1024、1280、1536、
// 1792、2048、2560、3072、3584、4096。最小值为128，最大值为4096"), which the API
// reference ("Querying the Metadata of a Function", memory_size) repeats.
func MemorySizes() []int {
	return []int{128, 256, 512, 768, 1024, 1280, 1536, 1792, 2048, 2560, 3072, 3584, 4096}
}

// MemorySizeOK reports whether mb is a FunctionGraph memory size.
func MemorySizeOK(mb int) bool { return slices.Contains(MemorySizes(), mb) }

// MemorySizesText is the list for error messages.
func MemorySizesText() string {
	s := make([]string, 0, len(MemorySizes()))
	for _, m := range MemorySizes() {
		s = append(s, strconv.Itoa(m))
	}
	return strings.Join(s, ", ")
}

// Timeout bounds of a function in seconds (CreateFunctionRequestBody.timeout:
// "范围3～259200秒").
const (
	TimeoutMin = 3
	TimeoutMax = 259200
)

// Maximum instances of a function: UpdateFunctionMaxInstanceConfigRequestBody.
// max_instance_num ("最大实例数；-1代表该函数实例数无限制，0代表该函数被禁用": -1 no limit, 0
// the function disabled) and StrategyConfig.concurrency, which ShowFunctionConfig
// returns ("v2取值-1到1000"). The user guide ("Configuring Concurrency",
// functiongraph_01_0303) gives the same range, 400 as the default, and says that
// requests beyond the instances' capacity are discarded.
const (
	MaxInstancesUnlimited = -1
	MaxInstancesDisabled  = 0
	MaxInstancesMax       = 1000
	MaxInstancesDefault   = 400
)

// MaxInstancesOK reports whether n is a value FunctionGraph accepts.
func MaxInstancesOK(n int) bool { return n >= MaxInstancesUnlimited && n <= MaxInstancesMax }

// The X-CFF-Request-Version header of InvokeFunction (the SDK models it as a plain
// string; its comment and the API reference, "Executing a Function Synchronously",
// give the values): v0, the default, answers with the function's output as it is;
// v1 wraps it in {request_id, result, log, status}, which InvokeFunctionResponse
// decodes ("v1: JSON format. Select this format when using an SDK").
const (
	RequestVersionHeader = "X-CFF-Request-Version"
	RequestVersionRaw    = "v0"
	RequestVersionJSON   = "v1"
)

// RequestVersions are the accepted X-CFF-Request-Version values.
func RequestVersions() []string { return []string{RequestVersionRaw, RequestVersionJSON} }

// Required lists the json names of model's required fields: those whose tag has
// no omitempty (the SDK generates omitempty for every optional field).
func Required(model any) []string {
	t := reflect.TypeOf(model)
	if t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	var out []string
	for i := range t.NumField() {
		tag := t.Field(i).Tag.Get("json")
		name, opts, _ := strings.Cut(tag, ",")
		if name == "" || name == "-" || strings.Contains(opts, "omitempty") {
			continue
		}
		out = append(out, name)
	}
	return out
}

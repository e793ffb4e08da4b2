package fgcontract

import (
	"slices"
	"testing"

	apigmodel "github.com/huaweicloud/huaweicloud-sdk-go-v3/services/apig/v2/model"
	fgsmodel "github.com/huaweicloud/huaweicloud-sdk-go-v3/services/functiongraph/v2/model"
)

// TestListsComeFromTheSDK checks the reflection against values the SDK's enum
// variables hold, for string and int32 enums.
func TestListsComeFromTheSDK(t *testing.T) {
	for _, c := range []struct {
		name string
		list []string
		want string
		not  string
	}{
		{"runtimes", Runtimes(), fgsmodel.GetCreateFunctionRequestBodyRuntimeEnum().CUSTOM.Value(), "Go1.21"},
		{"trigger types", TriggerTypes(), fgsmodel.GetCreateFunctionTriggerRequestBodyTriggerTypeCodeEnum().DEDICATEDGATEWAY.Value(), "WEBHOOK"},
		{"auth types", AuthTypes(), fgsmodel.GetTriggerEventDataRequestBodyAuthEnum().NONE.Value(), "OPEN"},
		{"match modes", MatchModes(), fgsmodel.GetTriggerEventDataRequestBodyMatchModeEnum().SWA.Value(), "PREFIX"},
		{"throttle types", ThrottleTypes(), "1", "3"},
		{"time units", ThrottleTimeUnits(), apigmodel.GetThrottleBaseInfoTimeUnitEnum().SECOND.Value(), "WEEK"},
	} {
		if !OneOf(c.want, c.list) || OneOf(c.not, c.list) {
			t.Errorf("%s %v: want %q in, %q out", c.name, c.list, c.want, c.not)
		}
	}
	if len(Runtimes()) != 26 || len(CodeTypes()) != 5 {
		t.Errorf("%d runtimes, %d code types: the SDK's enums changed", len(Runtimes()), len(CodeTypes()))
	}
}

func TestRequiredFields(t *testing.T) {
	got := Required(&fgsmodel.CreateFunctionRequestBody{})
	want := []string{"func_name", "package", "runtime", "timeout", "handler", "memory_size"}
	if !slices.Equal(got, want) {
		t.Errorf("CreateFunctionRequestBody requires %v, want %v", got, want)
	}
	if got := Required(fgsmodel.UpdateFunctionCodeRequestBody{}); !slices.Equal(got, []string{"code_type", "func_code"}) {
		t.Errorf("UpdateFunctionCodeRequestBody requires %v", got)
	}
}

func TestMemorySizes(t *testing.T) {
	for _, mb := range []int{128, 768, 4096} {
		if !MemorySizeOK(mb) {
			t.Errorf("%d MB refused", mb)
		}
	}
	for _, mb := range []int{0, 100, 640, 4224, 8192, 10240} {
		if MemorySizeOK(mb) {
			t.Errorf("%d MB accepted", mb)
		}
	}
}

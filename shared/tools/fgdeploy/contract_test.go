package fgdeploy

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/kgseller/kgseller/shared/fakes/fakecloud"
	"github.com/kgseller/kgseller/shared/fakes/fgcontract"
)

// bodies returns the JSON bodies of the accepted calls of op, in order.
func (f *fixture) bodies(op string) []map[string]any {
	var out []map[string]any
	for _, c := range f.cloud.Calls() {
		if c.Op != op || !c.OK() {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal(c.Body, &m); err != nil {
			f.t.Fatalf("%s body: %v", op, err)
		}
		out = append(out, m)
	}
	return out
}

// TestSmokeAsksForTheJSONWrapper: the smoke check's InvokeFunction asks for the v1
// format; without it FunctionGraph answers with the function's raw output, which
// the SDK does not decode into InvokeFunctionResponse.
func TestSmokeAsksForTheJSONWrapper(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	if _, err := f.deploy(); err != nil {
		t.Fatalf("%v\n%s", err, f.out.String())
	}
	n := 0
	for _, c := range f.cloud.Calls() {
		if c.Op == fakecloud.OpInvokeFunction {
			n++
			if v := c.Header.Get(fgcontract.RequestVersionHeader); v != fgcontract.RequestVersionJSON {
				t.Errorf("InvokeFunction %s sent %s %q", c.Path, fgcontract.RequestVersionHeader, v)
			}
		}
	}
	if n != 2 || !strings.Contains(f.out.String(), "smoke api-a: ok (signed queryInstance answered 000003") {
		t.Errorf("%d invocations; output:\n%s", n, f.out.String())
	}
}

// TestRequestBodiesFollowTheContract checks what the deploy tool sends where the
// fake alone would not show it: the zip's file name on create and code update,
// and the trigger's function named by its URN without a version.
func TestRequestBodiesFollowTheContract(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	if _, err := f.deploy(); err != nil {
		t.Fatalf("%v\n%s", err, f.out.String())
	}
	for _, b := range f.bodies(fakecloud.OpCreateFunction) {
		if b["code_type"] != "zip" || b["code_filename"] != fmt.Sprint(b["func_name"], ".zip") || b["type"] != "v2" {
			t.Errorf("CreateFunction %v: code_type %v code_filename %v type %v", b["func_name"], b["code_type"], b["code_filename"], b["type"])
		}
	}
	for _, b := range f.bodies(fakecloud.OpCreateFunctionTrigger) {
		ed, _ := b["event_data"].(map[string]any)
		if b["trigger_type_code"] == "TIMER" {
			continue
		}
		fi, _ := ed["func_info"].(map[string]any)
		want := strings.TrimSuffix(FunctionURN(testRegion, testProject, "kgtest", "api-a"), ":latest")
		if ed["name"] == "api_a" && (fi["function_urn"] != want || fi["version"] != "latest") {
			t.Errorf("func_info %v, want function_urn %s and version latest", fi, want)
		}
	}
	f.writeZip("api-b", "binary of api-b, version 2")
	if _, err := f.deploy(); err != nil {
		t.Fatal(err)
	}
	code := f.bodies(fakecloud.OpUpdateFunctionCode)
	if len(code) != 1 || code[0]["code_type"] != "zip" || code[0]["code_filename"] != "api-b.zip" {
		t.Errorf("UpdateFunctionCode bodies %v", code)
	}
}

// TestWaitsWhileAFunctionIsUpdating: every write right after a change is refused
// for a while; the tool waits through each transient answer and the whole run
// (create, update, no-op) completes.
func TestWaitsWhileAFunctionIsUpdating(t *testing.T) {
	t.Parallel()
	for _, busy := range []fakecloud.APIError{
		{Status: http.StatusTooManyRequests, Code: "FSS.0429", Msg: "Too many requests."},
		{Status: http.StatusPreconditionRequired, Code: "FSS.0428", Msg: "The preconditions have not been met."},
		{Status: http.StatusServiceUnavailable, Code: "FSS.0503", Msg: "Service unavailable."},
	} {
		t.Run(busy.Code, func(t *testing.T) {
			t.Parallel() // each waits out its own back-off
			f := newFixture(t)
			f.cloud.BusyCalls, f.cloud.BusyError = 3, busy
			if _, err := f.deploy(); err != nil {
				t.Fatalf("create: %v\n%s", err, f.out.String())
			}
			refused := 0
			for _, c := range f.cloud.Calls() {
				if c.ErrorCode == busy.Code {
					refused++
				}
			}
			if refused == 0 || len(f.cloud.Triggers("api-a")) != 1 || len(f.cloud.Triggers("worker")) != 1 {
				t.Fatalf("%d refused calls, triggers %v %v\n%s", refused, f.cloud.Triggers("api-a"), f.cloud.Triggers("worker"), f.out.String())
			}
			f.writeZip("api-a", "binary of api-a, version 2")
			f.env["A_TIMEOUT"] = "7000"
			if _, err := f.deploy(func(o *Options) { o.ReplaceTriggers = true }); err != nil {
				t.Fatalf("update: %v\n%s", err, f.out.String())
			}
			got := f.writes()
			for _, want := range []string{"UpdateFunctionCode api-a", "UpdateFunctionConfig api-a", "DeleteFunctionTrigger api-a", "CreateFunctionTrigger api-a"} {
				if !slices.Contains(got, want) {
					t.Errorf("update wrote %q, lacks %q", got, want)
				}
			}
			if _, err := f.deploy(); err != nil || len(f.writes()) != 0 {
				t.Fatalf("no-op run: %v, wrote %q", err, f.writes())
			}
		})
	}
}

// TestWaitIsBounded: a function that stays busy fails the run once the wait is
// over, with the function named and the answer quoted.
func TestWaitIsBounded(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.cloud.BusyCalls = 1 << 20
	rep, err := f.deploy(func(o *Options) { o.Only = []string{"worker"}; o.ReadyTimeout = 300 * time.Millisecond })
	if err == nil || len(rep.Errors) != 1 {
		t.Fatalf("err %v, report %+v", err, rep)
	}
	if msg := rep.Errors[0].Error(); !strings.Contains(msg, "worker") || !strings.Contains(msg, "FSS.0429") || !strings.Contains(msg, "still") {
		t.Errorf("error %q", msg)
	}
}

// TestCodeAlreadyUploaded: a run interrupted between the code and the
// configuration leaves the new code in place; the next run's code upload is
// answered 409 FSS.0409 (the same code), which is not an error: the tool goes on
// with the configuration that records the new marker.
func TestCodeAlreadyUploaded(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	if _, err := f.deploy(); err != nil {
		t.Fatal(err)
	}
	f.writeZip("worker", "binary of worker, version 2")
	f.cloud.Fail(fakecloud.OpUpdateFunctionConfig, http.StatusBadGateway)
	if _, err := f.deploy(func(o *Options) { o.Only = []string{"worker"} }); err == nil {
		t.Fatal("the failed configuration update did not fail the run")
	}
	f.cloud.Fail(fakecloud.OpUpdateFunctionConfig, 0)
	if _, err := f.deploy(func(o *Options) { o.Only = []string{"worker"} }); err != nil {
		t.Fatalf("%v\n%s", err, f.out.String())
	}
	sawSameCode := false
	for _, c := range f.cloud.Calls() {
		sawSameCode = sawSameCode || (c.Op == fakecloud.OpUpdateFunctionCode && c.ErrorCode == "FSS.0409")
	}
	w, _ := f.cloud.Function("worker")
	if code, _ := ParseMarker(fmt.Sprint(w.Config["description"])); !sawSameCode || w.CodeUpdates != 1 || code == "" {
		t.Errorf("same-code answer seen %v, %d code updates, marker %q\n%s", sawSameCode, w.CodeUpdates, code, f.out.String())
	}
	if !strings.Contains(f.out.String(), "already") {
		t.Errorf("output does not say the code was already there:\n%s", f.out.String())
	}
}

// TestEnterpriseProject: an account with enterprise projects needs
// enterprise_project_id on create and configuration updates.
func TestEnterpriseProject(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.cloud.AddEnterpriseProject("ep-1")
	if _, err := f.deploy(func(o *Options) { o.Only = []string{"worker"} }); err == nil || !strings.Contains(err.Error(), "enterprise_project_id") {
		t.Fatalf("without the enterprise project: %v", err)
	}
	ep := func(o *Options) { o.EnterpriseProjectID = "ep-1" }
	check := func(op string) {
		t.Helper()
		bodies := f.bodies(op)
		if len(bodies) == 0 {
			t.Fatalf("no %s", op)
		}
		for _, b := range bodies {
			if b["enterprise_project_id"] != "ep-1" {
				t.Errorf("%s of %v: enterprise_project_id %v", op, b["func_name"], b["enterprise_project_id"])
			}
		}
	}
	if _, err := f.deploy(ep); err != nil {
		t.Fatalf("%v\n%s", err, f.out.String())
	}
	check(fakecloud.OpCreateFunction)
	f.env["MAX_ATTEMPTS"] = "5"
	if _, err := f.deploy(ep); err != nil {
		t.Fatal(err)
	}
	check(fakecloud.OpUpdateFunctionConfig)
	// A function found in another enterprise project is reported, not moved.
	if _, err := f.deploy(func(o *Options) { o.EnterpriseProjectID = "0" }); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(f.out.String(), "enterprise project ep-1") || len(f.writes()) != 0 {
		t.Errorf("wrote %q; output:\n%s", f.writes(), f.out.String())
	}
}

package fgdeploy

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/kgseller/kgseller/shared/aksk"
	"github.com/kgseller/kgseller/shared/fakes/fakecloud"
	"github.com/kgseller/kgseller/shared/kgsign"
	"github.com/kgseller/kgseller/shared/tools/apigdef"
	"github.com/kgseller/kgseller/shared/tools/buildzip"
	"github.com/kgseller/kgseller/shared/tools/manifest"
)

// TestMain runs up to 8 tests at once unless -parallel is given: most of them
// wait out the deploy tool's back-offs against the fake cloud rather than use
// the CPU.
func TestMain(m *testing.M) {
	flag.Parse()
	given := false
	flag.Visit(func(f *flag.Flag) { given = given || f.Name == "test.parallel" })
	if !given {
		if err := flag.Set("test.parallel", "8"); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(2)
		}
	}
	os.Exit(m.Run())
}

const (
	testAK      = "TESTAK0123456789"
	testSK      = "test-secret-key-not-for-production"
	testProject = "0123456789abcdef0123456789abcdef"
	testRegion  = "xx-test-1"
	accessKey   = "marketplace-access-key-for-tests"
)

// testManifest is a small serverless.yml in the project's shape: two gateway
// functions using the database and a timer worker, provider variables merged into
// userData; their pools (20×1 + 5×1) fit the connection budget of 30.
const testManifest = `
service: kgtest
provider:
  name: huawei
  region: ${env:HUAWEICLOUD_REGION, 'xx-test-1'}
  runtime: Custom
  memorySize: 128
  timeout: 10
  package: kgtest
  xrole: fgs-vpc-agency
  funcVpc:
    vpcId: ${env:VPC_ID}
    subnetId: ${env:SUBNET_ID}
  environment:
    variables: &common
      LOG_LEVEL: info
      OPTIONAL_URL: ${env:OPTIONAL_URL}
custom:
  apig:
    throttle: {name: kg_test, apiCallLimits: 50, ipCallLimits: 10, timeInterval: 1, timeUnit: SECOND}
    requestBodySizeMB: 1
  database:
    connectionBudget: 30
functions:
  api-a:
    handler: bootstrap
    description: signed marketplace endpoint
    timeout: 10
    maxInstances: 20
    code: {codeUri: ./build/api-a}
    userData:
      <<: *common
      MODE: ${env:MODE, 'async'}
    encryptedUserData:
      DB_DSN: ${env:DB_DSN}
      KG_ACCESS_KEY_BASIC: ${env:KG_ACCESS_KEY_BASIC}
      UNUSED_SECRET: ${env:UNUSED_SECRET}
    events:
      - triggerTypeCode: DEDICATEDGATEWAY
        status: ACTIVE
        eventData: {name: api_a, instanceId: "${env:APIG_INSTANCE_ID}", groupId: "${env:APIG_GROUP_ID}", envName: RELEASE, envId: DEFAULT_ENVIRONMENT_RELEASE_ID, protocol: HTTPS, reqMethod: POST, matchMode: NORMAL, auth: NONE, path: /saas/produce, timeout: "${env:A_TIMEOUT, '5000'}"}
  api-b:
    handler: bootstrap
    maxInstances: 5
    code: {codeUri: ./build/api-b}
    encryptedUserData:
      DB_DSN: ${env:DB_DSN}
    events:
      - triggerTypeCode: DEDICATEDGATEWAY
        eventData: {name: api_b, instanceId: "${env:APIG_INSTANCE_ID}", groupId: "${env:APIG_GROUP_ID}", reqMethod: GET, auth: NONE, path: /b, timeout: 8000}
  worker:
    handler: bootstrap
    timeout: 60
    maxInstances: 2
    code: {codeUri: ./build/worker}
    userData:
      <<: *common
      MAX_ATTEMPTS: ${env:MAX_ATTEMPTS, '8'}
    events:
      - triggerTypeCode: TIMER
        status: ACTIVE
        eventData: {name: every-minute, scheduleType: Rate, schedule: 1m, userEvent: '{"source":"timer"}'}
`

type testEnv map[string]string

func (e testEnv) get(k string) string { return e[k] }

func baseEnv() testEnv {
	return testEnv{
		"VPC_ID": "vpc-1", "SUBNET_ID": "subnet-1", "DB_DSN": "app:db-password-secret@tcp(rds:3306)/kg",
		"KG_ACCESS_KEY_BASIC": accessKey, "APIG_INSTANCE_ID": "inst-1", "APIG_GROUP_ID": "grp-1",
	}
}

type fixture struct {
	t      *testing.T
	cloud  *fakecloud.Cloud
	url    string
	env    testEnv
	build  string
	out    bytes.Buffer
	invoke map[string]int
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	f := &fixture{t: t, cloud: fakecloud.New(testProject, testAK, testSK), env: baseEnv(), build: t.TempDir(), invoke: map[string]int{}}
	f.cloud.Region = testRegion
	f.cloud.AddGateway("inst-1", "grp-1")
	f.cloud.Invoke = f.function
	f.url = f.cloud.Server(t).URL
	for _, n := range []string{"api-a", "api-b", "worker"} {
		f.writeZip(n, "binary of "+n)
	}
	return f
}

func (f *fixture) writeZip(name, content string) {
	z, err := buildzip.Zip([]byte(content))
	if err != nil {
		f.t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(f.build, name+".zip"), z, 0o644); err != nil {
		f.t.Fatal(err)
	}
}

// function plays the deployed functions for InvokeFunction: api-a verifies the
// marketplace signature over the base64-decoded body and answers 000003 signed
// with Body-Sign (000001 for a bad signature); the others answer an APIG 200.
func (f *fixture) function(name string, payload []byte) ([]byte, error) {
	f.invoke[name]++
	var ev struct {
		Body            string            `json:"body"`
		IsBase64Encoded bool              `json:"isBase64Encoded"`
		Query           map[string]string `json:"queryStringParameters"`
		Path            string            `json:"path"`
	}
	if err := json.Unmarshal(payload, &ev); err != nil {
		return nil, err
	}
	if name != "api-a" {
		return []byte(`{"statusCode":200,"headers":{"Content-Type":"text/plain"},"body":"ok","isBase64Encoded":false}`), nil
	}
	body, err := base64.StdEncoding.DecodeString(ev.Body)
	if err != nil || !ev.IsBase64Encoded {
		return nil, errors.New("body not base64")
	}
	key := kgsign.NewKey([]byte(accessKey), "")
	code := "000001"
	if kgsign.V2Signature(key, ev.Query["nonce"], ev.Query["timestamp"], body) == ev.Query["signature"] && strings.Contains(string(body), `"queryInstance"`) {
		code = "000003"
	}
	answer := []byte(`{"resultCode":"` + code + `","resultMsg":"test"}`)
	resp, _ := json.Marshal(map[string]any{
		"statusCode": 200, "isBase64Encoded": false, "body": string(answer),
		"headers": map[string]string{"Content-Type": "application/json;charset=UTF-8", "Body-Sign": kgsign.BodySignHeader(key, answer)},
	})
	return resp, nil
}

func (f *fixture) options(mut ...func(*Options)) Options {
	f.t.Helper()
	m, err := manifest.Parse([]byte(testManifest), f.env.get)
	if err != nil {
		f.t.Fatal(err)
	}
	gw, err := apigdef.ParseSettings([]byte(testManifest))
	if err != nil {
		f.t.Fatal(err)
	}
	o := Options{
		Manifest: m, Gateway: gw, BuildDir: f.build, ProjectID: testProject,
		FunctionGraphEndpoint: f.url, APIGEndpoint: f.url,
		Credentials: aksk.Credentials{AK: testAK, SK: testSK},
		Smoke:       Smoke{Path: "/saas/produce", Key: kgsign.NewKey([]byte(accessKey), "")},
		Out:         &f.out,
	}
	for _, fn := range mut {
		fn(&o)
	}
	return o
}

func (f *fixture) deploy(mut ...func(*Options)) (*Report, error) {
	f.t.Helper()
	f.cloud.Reset()
	f.out.Reset()
	return Deploy(context.Background(), f.options(mut...))
}

// writes lists "Op name" for the accepted calls that changed state
// (InvokeFunction is a POST but reads nothing back into the cloud; it is listed
// too). Writes the cloud refused, e.g. while a function was updating, are not.
func (f *fixture) writes() []string {
	var out []string
	for _, c := range f.cloud.Calls() {
		if c.Write() && c.OK() {
			out = append(out, c.Op+" "+target(c.Path))
		}
	}
	slices.Sort(out)
	return out
}

// target names the function a FunctionGraph path is about ("" for others).
func target(path string) string {
	for _, part := range strings.Split(path, "/") {
		if strings.HasPrefix(part, "urn:fss:") {
			p := strings.Split(part, ":")
			return p[6]
		}
	}
	return ""
}

func (f *fixture) assertSigned() {
	f.t.Helper()
	for _, c := range f.cloud.Calls() {
		if c.Rejected != nil || c.AccessKey != testAK {
			f.t.Errorf("%s %s: signature %v, key %q", c.Method, c.Path, c.Rejected, c.AccessKey)
		}
	}
}

func TestCreateThenOnlyChangedFunctions(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	if _, err := f.deploy(); err != nil {
		t.Fatalf("%v\n%s", err, f.out.String())
	}
	f.assertSigned()
	want := []string{
		"AssociateRequestThrottlingPolicyV2 ", "CreateFeatureV2 ",
		"CreateFunction ", "CreateFunction ", "CreateFunction ",
		"CreateFunctionTrigger api-a", "CreateFunctionTrigger api-b", "CreateFunctionTrigger worker",
		"CreateRequestThrottlingPolicyV2 ",
		"InvokeFunction api-a", "InvokeFunction api-b",
		"UpdateFunctionMaxInstanceConfig api-a", "UpdateFunctionMaxInstanceConfig api-b", "UpdateFunctionMaxInstanceConfig worker",
	}
	if got := f.writes(); !slices.Equal(got, want) {
		t.Fatalf("writes\n got %q\nwant %q\n%s", got, want, f.out.String())
	}

	// Configuration as serverless.yml says, secrets only in encrypted_user_data.
	a, ok := f.cloud.Function("api-a")
	if !ok {
		t.Fatal("api-a not created")
	}
	cfg := a.Config
	if cfg["runtime"] != "Custom" || cfg["handler"] != "bootstrap" || fmt.Sprint(cfg["memory_size"]) != "128" || fmt.Sprint(cfg["timeout"]) != "10" ||
		cfg["package"] != "kgtest" || cfg["xrole"] != "fgs-vpc-agency" || cfg["code_type"] != "zip" {
		t.Errorf("api-a config %v", cfg)
	}
	if vpc, _ := cfg["func_vpc"].(map[string]any); vpc["vpc_id"] != "vpc-1" || vpc["subnet_id"] != "subnet-1" {
		t.Errorf("func_vpc %v", cfg["func_vpc"])
	}
	var plain, secret map[string]string
	_ = json.Unmarshal([]byte(fmt.Sprint(cfg["user_data"])), &plain)
	_ = json.Unmarshal([]byte(fmt.Sprint(cfg["encrypted_user_data"])), &secret)
	if plain["LOG_LEVEL"] != "info" || plain["MODE"] != "async" || len(plain) != 2 {
		t.Errorf("user_data %v (provider variables merged, empty OPTIONAL_URL left out)", plain)
	}
	if secret["DB_DSN"] != baseEnv()["DB_DSN"] || secret["KG_ACCESS_KEY_BASIC"] != accessKey || len(secret) != 2 {
		t.Errorf("encrypted_user_data has %d entries", len(secret))
	}
	if strings.Contains(fmt.Sprint(cfg["user_data"]), "db-password-secret") || strings.Contains(f.out.String(), "db-password-secret") || strings.Contains(f.out.String(), accessKey) {
		t.Error("a secret leaked into user_data or the output")
	}
	zipA, _ := os.ReadFile(filepath.Join(f.build, "api-a.zip"))
	if !bytes.Equal(a.Code, zipA) {
		t.Error("uploaded code is not the zip")
	}
	if code, cfgHash := ParseMarker(fmt.Sprint(cfg["description"])); code != buildzip.SHA256(zipA) || cfgHash == "" || !strings.HasPrefix(fmt.Sprint(cfg["description"]), "signed marketplace endpoint [") {
		t.Errorf("description %q", cfg["description"])
	}
	if !strings.Contains(f.out.String(), "not set (left out): OPTIONAL_URL, UNUSED_SECRET") {
		t.Errorf("unset settings not reported:\n%s", f.out.String())
	}

	for name, want := range map[string]int{"api-a": 20, "api-b": 5, "worker": 2} {
		if fn, _ := f.cloud.Function(name); fn.MaxInstances != want {
			t.Errorf("%s: max instances %d, want %d", name, fn.MaxInstances, want)
		}
	}
	if !strings.Contains(f.out.String(), "max instances: 400 (FunctionGraph's default) -> 20: set") ||
		!strings.Contains(f.out.String(), "Σ maxInstances × pool = 25 of 30") {
		t.Errorf("output:\n%s", f.out.String())
	}

	// Triggers: the API with its backend timeout, and the timer.
	trs := f.cloud.Triggers("api-a")
	if len(trs) != 1 || trs[0].Type != "DEDICATEDGATEWAY" {
		t.Fatalf("api-a triggers %+v", trs)
	}
	ed := trs[0].EventData
	fi, _ := ed["func_info"].(map[string]any)
	if ed["path"] != "/saas/produce" || ed["req_method"] != "POST" || ed["auth"] != "NONE" || ed["instance_id"] != "inst-1" || ed["group_id"] != "grp-1" ||
		ed["match_mode"] != "NORMAL" || fmt.Sprint(fi["timeout"]) != "5000" || fi["function_urn"] != strings.TrimSuffix(FunctionURN(testRegion, testProject, "kgtest", "api-a"), ":latest") || fi["version"] != "latest" {
		t.Errorf("api-a trigger %v", ed)
	}
	if w := f.cloud.Triggers("worker"); len(w) != 1 || w[0].Type != "TIMER" || w[0].EventData["schedule"] != "1m" || w[0].EventData["schedule_type"] != "Rate" {
		t.Errorf("worker triggers %+v", w)
	}
	// Throttling bound to both APIs; body limit 1 MB gateway-wide.
	thr := f.cloud.Throttles()
	if len(thr) != 1 || fmt.Sprint(thr[0].Body["api_call_limits"]) != "50" || fmt.Sprint(thr[0].Body["ip_call_limits"]) != "10" || thr[0].Body["time_unit"] != "SECOND" || len(thr[0].Bound) != 2 {
		t.Errorf("throttles %+v", thr)
	}
	if v, ok := f.cloud.Feature("inst-1", "request_body_size"); !ok || v != "1048576" {
		t.Errorf("request_body_size %q %v", v, ok)
	}
	if !strings.Contains(f.out.String(), "smoke api-a: ok (signed queryInstance answered 000003") {
		t.Errorf("signed smoke missing:\n%s", f.out.String())
	}

	// The same build again: nothing is written, nothing is invoked.
	if _, err := f.deploy(); err != nil {
		t.Fatal(err)
	}
	if got := f.writes(); len(got) != 0 {
		t.Fatalf("unchanged deployment wrote %q\n%s", got, f.out.String())
	}
	if strings.Count(f.out.String(), "unchanged (zip") != 3 {
		t.Errorf("output:\n%s", f.out.String())
	}

	// New code for api-b only: its code, then its configuration (the new marker).
	f.writeZip("api-b", "binary of api-b, version 2")
	if _, err := f.deploy(); err != nil {
		t.Fatal(err)
	}
	if got, want := f.writes(), []string{"InvokeFunction api-b", "UpdateFunctionCode api-b", "UpdateFunctionConfig api-b"}; !slices.Equal(got, want) {
		t.Fatalf("after a code change wrote %q, want %q", got, want)
	}
	ops := f.cloud.Ops(true)
	if i, j := slices.Index(ops, fakecloud.OpUpdateFunctionCode), slices.Index(ops, fakecloud.OpUpdateFunctionConfig); i < 0 || j < i {
		t.Errorf("code must be written before the configuration that records it: %v", ops)
	}
	b, _ := f.cloud.Function("api-b")
	zipB, _ := os.ReadFile(filepath.Join(f.build, "api-b.zip"))
	if code, _ := ParseMarker(fmt.Sprint(b.Config["description"])); code != buildzip.SHA256(zipB) || !bytes.Equal(b.Code, zipB) || b.CodeUpdates != 1 {
		t.Errorf("api-b after update: marker %q, %d code updates", b.Config["description"], b.CodeUpdates)
	}
	if _, err := f.deploy(); err != nil || len(f.writes()) != 0 {
		t.Fatalf("second run after the change wrote %q (%v)", f.writes(), err)
	}

	// A configuration change (no code change) updates only the configuration.
	f.env["MAX_ATTEMPTS"] = "5"
	if _, err := f.deploy(); err != nil {
		t.Fatal(err)
	}
	if got, want := f.writes(), []string{"UpdateFunctionConfig worker"}; !slices.Equal(got, want) {
		t.Fatalf("after a config change wrote %q, want %q", got, want)
	}
	w, _ := f.cloud.Function("worker")
	if !strings.Contains(fmt.Sprint(w.Config["user_data"]), `"MAX_ATTEMPTS":"5"`) || w.CodeUpdates != 0 {
		t.Errorf("worker after config change: %v", w.Config["user_data"])
	}

	// A changed secret is invisible to the fingerprint: -force sends it.
	f.env["DB_DSN"] = "app:rotated-password@tcp(rds:3306)/kg"
	if _, err := f.deploy(); err != nil || len(f.writes()) != 0 {
		t.Fatalf("secret change without -force wrote %q (%v)", f.writes(), err)
	}
	if _, err := f.deploy(func(o *Options) { o.Force = true; o.Only = []string{"api-b"} }); err != nil {
		t.Fatal(err)
	}
	if got, want := f.writes(), []string{"InvokeFunction api-b", "UpdateFunctionConfig api-b"}; !slices.Equal(got, want) {
		t.Fatalf("forced update wrote %q, want %q", got, want)
	}
	b, _ = f.cloud.Function("api-b")
	if !strings.Contains(fmt.Sprint(b.Config["encrypted_user_data"]), "rotated-password") {
		t.Error("forced update did not send the new secret")
	}
}

func TestDryRunWritesNothing(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	if _, err := f.deploy(func(o *Options) { o.DryRun = true }); err != nil {
		t.Fatalf("%v\n%s", err, f.out.String())
	}
	if len(f.cloud.Calls()) == 0 {
		t.Fatal("dry run read nothing")
	}
	if got := f.writes(); len(got) != 0 {
		t.Fatalf("dry run on an empty project wrote %q", got)
	}
	for _, want := range []string{"would create (zip", "trigger DEDICATEDGATEWAY POST /saas/produce: would create", "trigger TIMER every-minute: would create", "throttling policy kg_test on inst-1: would create", "would set to 1 MB",
		"max instances: 400 (FunctionGraph's default) -> 20: would set", "Σ maxInstances × pool = 25 of 30"} {
		if !strings.Contains(f.out.String(), want) {
			t.Errorf("plan lacks %q:\n%s", want, f.out.String())
		}
	}
	if _, ok := f.cloud.Function("api-a"); ok {
		t.Fatal("dry run created a function")
	}

	// Deployed, then changed: the dry run reports the update and still writes nothing.
	if _, err := f.deploy(); err != nil {
		t.Fatal(err)
	}
	f.writeZip("api-a", "binary of api-a, version 2")
	f.env["A_TIMEOUT"] = "7000"
	if _, err := f.deploy(func(o *Options) { o.DryRun = true; o.ReplaceTriggers = true }); err != nil {
		t.Fatal(err)
	}
	if got := f.writes(); len(got) != 0 {
		t.Fatalf("dry run wrote %q", got)
	}
	for _, want := range []string{"would update code: zip", "would replace (timeout)"} {
		if !strings.Contains(f.out.String(), want) {
			t.Errorf("plan lacks %q:\n%s", want, f.out.String())
		}
	}
}

func TestOnlyTouchesTheNamedFunction(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	if _, err := f.deploy(func(o *Options) { o.Only = []string{"worker"} }); err != nil {
		t.Fatalf("%v\n%s", err, f.out.String())
	}
	for _, c := range f.cloud.Calls() {
		if tgt := target(c.Path); tgt != "" && tgt != "worker" {
			t.Errorf("--only worker called %s %s", c.Op, c.Path)
		}
		if strings.Contains(c.Path, "/apigw/") {
			t.Errorf("--only worker (no API) touched the gateway: %s", c.Path)
		}
	}
	if _, ok := f.cloud.Function("api-a"); ok {
		t.Error("api-a deployed")
	}
	if _, ok := f.cloud.Function("worker"); !ok {
		t.Error("worker not deployed")
	}
	if _, err := f.deploy(func(o *Options) { o.Only = []string{"no-such-function"} }); err == nil {
		t.Error("unknown --only name accepted")
	}
	if len(f.cloud.Calls()) != 0 {
		t.Error("an unknown --only name still called the cloud")
	}
}

func TestFailuresAreReportedAndOthersStillDeploy(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.cloud.Fail(fakecloud.OpCreateFunction, http.StatusInternalServerError)
	rep, err := f.deploy()
	if err == nil || !rep.Failed() || len(rep.Errors) < 3 {
		t.Fatalf("err %v, report %+v", err, rep)
	}
	if !strings.Contains(err.Error(), "HTTP 500") || !strings.Contains(f.out.String(), "FAILED") {
		t.Errorf("error %v; output:\n%s", err, f.out.String())
	}
	f.cloud.Fail(fakecloud.OpCreateFunction, 0)
	if _, err := f.deploy(); err != nil {
		t.Fatal(err)
	}

	// One function's code update fails: the others are deployed, the run fails,
	// and the failed function keeps its old marker (the next run retries it).
	f.writeZip("api-a", "binary of api-a, v2")
	f.writeZip("worker", "binary of worker, v2")
	f.cloud.Fail(fakecloud.OpUpdateFunctionConfig, http.StatusBadGateway)
	if _, err := f.deploy(func(o *Options) { o.Only = []string{"worker"} }); err == nil {
		t.Fatal("a failed configuration update did not fail the run")
	}
	f.cloud.Fail(fakecloud.OpUpdateFunctionConfig, 0)
	f.cloud.Fail(fakecloud.OpUpdateFunctionCode, http.StatusInternalServerError)
	rep, err = f.deploy(func(o *Options) { o.Only = []string{"api-a"} })
	if err == nil || len(rep.Errors) != 1 {
		t.Fatalf("err %v errors %v", err, rep.Errors)
	}
	f.cloud.Fail(fakecloud.OpUpdateFunctionCode, 0)
	if _, err := f.deploy(); err != nil {
		t.Fatal(err)
	}
	// The worker's code went up before its configuration failed: the retry run
	// finds it there (409 FSS.0409) and writes the configuration.
	got := f.writes()
	for _, want := range []string{"UpdateFunctionCode api-a", "UpdateFunctionConfig api-a", "UpdateFunctionConfig worker"} {
		if !slices.Contains(got, want) {
			t.Errorf("retry run wrote %q, lacks %q", got, want)
		}
	}

	// A missing zip fails that function only.
	_ = os.Remove(filepath.Join(f.build, "api-b.zip"))
	if rep, err := f.deploy(); err == nil || len(rep.Errors) != 1 || !strings.Contains(rep.Errors[0].Error(), "scripts/build") {
		t.Fatalf("missing zip: %v %v", err, rep)
	}
}

func TestSmokeFailuresFailTheRun(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	rep, err := f.deploy(func(o *Options) { o.Smoke.Key = kgsign.NewKey([]byte("not-the-functions-key"), "") })
	if err == nil || !strings.Contains(err.Error(), "smoke") {
		t.Fatalf("wrong smoke key: err %v", err)
	}
	if r := rep.Results[0]; r.Function != "api-a" || !strings.HasPrefix(r.Smoke, "FAILED") || !strings.Contains(r.Smoke, "000001") {
		t.Errorf("api-a smoke %q", r.Smoke)
	}

	// A function that answers without isBase64Encoded fails its smoke check.
	f2 := newFixture(t)
	f2.cloud.Invoke = func(string, []byte) ([]byte, error) { return []byte(`{"statusCode":200,"body":"x"}`), nil }
	if _, err := f2.deploy(func(o *Options) { o.Smoke.Path = "" }); err == nil || !strings.Contains(err.Error(), "isBase64Encoded") {
		t.Fatalf("malformed answer: %v", err)
	}
	// A misconfigured function (000005) fails too.
	f3 := newFixture(t)
	f3.cloud.Invoke = func(string, []byte) ([]byte, error) {
		return []byte(`{"statusCode":200,"isBase64Encoded":false,"headers":{},"body":"{\"resultCode\":\"000005\",\"resultMsg\":\"x\"}"}`), nil
	}
	if _, err := f3.deploy(func(o *Options) { o.Smoke.Path = "" }); err == nil || !strings.Contains(err.Error(), "000005") {
		t.Fatalf("000005 answer: %v", err)
	}
}

func TestBadCredentialsAreRefused(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	_, err := f.deploy(func(o *Options) { o.Credentials.SK = "wrong-secret" })
	if err == nil {
		t.Fatal("deploy with a wrong secret key succeeded")
	}
	calls := f.cloud.Calls()
	if len(calls) == 0 {
		t.Fatal("no call reached the fake")
	}
	for _, c := range calls {
		if c.Rejected == nil || c.Status != http.StatusUnauthorized {
			t.Errorf("%s accepted with a wrong signature", c.Op)
		}
	}
}

func TestTriggerDrift(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	if _, err := f.deploy(); err != nil {
		t.Fatal(err)
	}
	f.env["A_TIMEOUT"] = "7000"
	if _, err := f.deploy(); err != nil {
		t.Fatal(err)
	}
	if got := f.writes(); len(got) != 0 {
		t.Fatalf("drift without -replace-triggers wrote %q", got)
	}
	if !strings.Contains(f.out.String(), "DIFFERS from serverless.yml (timeout)") {
		t.Errorf("drift not reported:\n%s", f.out.String())
	}
	if _, err := f.deploy(func(o *Options) { o.ReplaceTriggers = true }); err != nil {
		t.Fatalf("%v\n%s", err, f.out.String())
	}
	got := f.writes()
	for _, want := range []string{"DeleteFunctionTrigger api-a", "CreateFunctionTrigger api-a", "AssociateRequestThrottlingPolicyV2 "} {
		if !slices.Contains(got, want) {
			t.Errorf("replacement wrote %q, lacks %q", got, want)
		}
	}
	trs := f.cloud.Triggers("api-a")
	fi, _ := trs[0].EventData["func_info"].(map[string]any)
	if len(trs) != 1 || fmt.Sprint(fi["timeout"]) != "7000" {
		t.Errorf("api-a triggers after replacement %+v", trs)
	}
	if thr := f.cloud.Throttles(); len(thr[0].Bound) != 2 {
		t.Errorf("recreated API not bound to the throttling policy: %v", thr[0].Bound)
	}
}

// TestPlanAgainstAnEmptyAccount: without credentials a dry run reads nothing and
// plans every function, trigger, instance limit and gateway setting as new,
// saying so; the same plan with credentials against a cloud that holds nothing
// creates the same items. It never writes, and never runs as a deployment.
func TestPlanAgainstAnEmptyAccount(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	if _, err := f.deploy(func(o *Options) {
		o.DryRun, o.EmptyAccount, o.Credentials = true, "no credentials", aksk.Credentials{}
	}); err != nil {
		t.Fatalf("%v\n%s", err, f.out.String())
	}
	offline := f.out.String()
	if n := len(f.cloud.Calls()); n != 0 {
		t.Fatalf("the empty-account plan made %d calls", n)
	}
	for _, want := range []string{
		"dry run against an EMPTY account, no credentials",
		"[1/3] api-a\n", "would create (zip ",
		"Custom runtime, 128 MB, timeout 10 s, package kgtest, VPC vpc-1 subnet subnet-1, agency fgs-vpc-agency; variables: LOG_LEVEL, MODE; encrypted: DB_DSN, KG_ACCESS_KEY_BASIC",
		"max instances: 400 (FunctionGraph's default) -> 20: would set",
		"trigger DEDICATEDGATEWAY POST /saas/produce: would create", "trigger TIMER every-minute: would create",
		"throttling policy kg_test on inst-1: would create", "group grp-1: would bind 2 API(s) once they exist",
		"request body limit on inst-1: would set to 1 MB", "dry run done: nothing was written",
	} {
		if !strings.Contains(offline, want) {
			t.Errorf("plan lacks %q:\n%s", want, offline)
		}
	}
	if strings.Contains(offline, "db-password-secret") || strings.Contains(offline, accessKey) {
		t.Errorf("the plan quotes a secret:\n%s", offline)
	}
	if _, err := f.deploy(func(o *Options) { o.DryRun = true }); err != nil {
		t.Fatalf("%v\n%s", err, f.out.String())
	}
	if online := f.out.String(); strings.Count(online, "would create") != strings.Count(offline, "would create") {
		t.Errorf("against an empty cloud the plans differ:\n%s\n---\n%s", offline, online)
	}
	if _, err := f.deploy(func(o *Options) { o.EmptyAccount = "no credentials" }); err == nil || len(f.cloud.Calls()) != 0 {
		t.Errorf("a deployment against an empty account: %v, %d calls", err, len(f.cloud.Calls()))
	}
}

// TestDryRunWithoutAZip: a function not built yet is still planned in full,
// and the dry run fails, saying which zip is missing.
func TestDryRunWithoutAZip(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	if err := os.Remove(filepath.Join(f.build, "api-b.zip")); err != nil {
		t.Fatal(err)
	}
	_, err := f.deploy(func(o *Options) { o.DryRun, o.EmptyAccount = true, "no credentials" })
	out := f.out.String()
	if err == nil || !strings.Contains(err.Error(), "api-b.zip is missing") {
		t.Fatalf("err %v\n%s", err, out)
	}
	for _, want := range []string{"NO ZIP: ", "would create (zip not built yet)", "trigger DEDICATEDGATEWAY GET /b: would create",
		"[3/3] worker", "dry run: 1 problem(s) above; nothing was written"} {
		if !strings.Contains(out, want) {
			t.Errorf("plan lacks %q:\n%s", want, out)
		}
	}
}

// TestSharedGatewayTrigger: an account that still has the shared gateway gives a
// trigger triggerTypeCode APIG and no gateway instance; the deployment creates
// it in the shared group and leaves its throttling to the console.
func TestSharedGatewayTrigger(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.cloud.AddSharedGroup("shared-grp")
	yml := strings.Replace(testManifest,
		`eventData: {name: api_b, instanceId: "${env:APIG_INSTANCE_ID}", groupId: "${env:APIG_GROUP_ID}", reqMethod: GET, auth: NONE, path: /b, timeout: 8000}`,
		`eventData: {name: api_b, groupId: shared-grp, reqMethod: GET, auth: NONE, path: /b, timeout: 8000}`, 1)
	yml = strings.Replace(yml, "      - triggerTypeCode: DEDICATEDGATEWAY\n        eventData: {name: api_b", "      - triggerTypeCode: APIG\n        eventData: {name: api_b", 1)
	if !strings.Contains(yml, "triggerTypeCode: APIG\n") {
		t.Fatal("fixture edit failed")
	}
	m, err := manifest.Parse([]byte(yml), f.env.get)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.deploy(func(o *Options) { o.Manifest, o.Only = m, []string{"api-b"} }); err != nil {
		t.Fatalf("%v\n%s", err, f.out.String())
	}
	tr := f.cloud.Triggers("api-b")
	if len(tr) != 1 || tr[0].Type != "APIG" || tr[0].EventData["group_id"] != "shared-grp" || tr[0].EventData["instance_id"] != nil {
		t.Errorf("triggers %+v", tr)
	}
	if !strings.Contains(f.out.String(), "api-b uses the shared gateway; its throttling is set in the console") {
		t.Errorf("output:\n%s", f.out.String())
	}
}

package deployenv

import (
	"encoding/base64"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/kgseller/kgseller/shared/config"
	"github.com/kgseller/kgseller/shared/tools/manifest"
)

const projectManifest = "../../../serverless.yml"

func projectRaw(t *testing.T) []byte {
	raw, err := os.ReadFile(projectManifest)
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

// valid returns a usable value for every variable a function of
// serverless.yml requires: the test fails on a required variable it has none
// for, so a new requirement cannot go untested.
func valid(t *testing.T, name string) string {
	key32 := base64.StdEncoding.EncodeToString([]byte("0123456789abcdef0123456789abcdef"))
	switch name {
	case "DB_DSN":
		return "kgseller_app:app-password@tcp(127.0.0.1:3306)/kgseller"
	case "KG_DATA_KEY", "SSO_SESSION_KEY":
		return key32
	case "KG_KIT_RSA_PRIVATE_KEY":
		pem, err := os.ReadFile("../../../testdata/clientsecret/test-key.pem")
		if err != nil {
			t.Fatal(err)
		}
		return base64.StdEncoding.EncodeToString(pem)
	case "PROVISION_FRONTEND_URL":
		return "https://app.example.com/{instanceId}"
	case "SSO_APP_URL":
		return "https://app.example.com/"
	case "KG_ACCESS_KEY_BASIC", "KG_ACCESS_KEY_KIT", "KG_ACCESS_KEY_LICENSE", "KG_ACCESS_KEY_NOTIFY",
		"HUAWEICLOUD_SDK_AK", "HUAWEICLOUD_SDK_SK", "PROVISION_WEBHOOK_SECRET", "APIG_SIGNATURE_KEY", "APIG_SIGNATURE_SECRET",
		"SSO_APP_ID", "HUAWEICLOUD_PROJECT_ID", "APIG_INSTANCE_ID", "APIG_GROUP_ID", "VPC_ID", "SUBNET_ID":
		return "value-of-" + strings.ToLower(name)
	}
	t.Fatalf("%s is required and the test has no valid value for it: add one", name)
	return ""
}

// problems builds fn from serverless.yml resolved with env, as the deploy tool
// would configure it, and returns what the function and the plan refuse.
func problems(t *testing.T, raw []byte, fn string, env map[string]string) []string {
	m, err := manifest.Parse(raw, func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	out := verdict(m, fn)
	if err := plan(m, fn); err != nil {
		out = append(out, "plan: "+err.Error())
	}
	return out
}

// TestRequiredSettingsAreWhatTheFunctionsNeed holds -env-names to the
// functions: for each function, its assembly and the deploy tool's plan accept
// exactly the variables Analyze marks required for it (with usable values, every
// other variable unset), and refuse it, naming the setting, as soon as any one
// of them is missing.
func TestRequiredSettingsAreWhatTheFunctionsNeed(t *testing.T) {
	raw := projectRaw(t)
	rep, err := Analyze(raw, "", nil)
	if err != nil {
		t.Fatal(err)
	}
	m, err := manifest.Parse(raw, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, fn := range m.Names() {
		env := map[string]string{}
		for _, n := range rep.Names {
			if slices.Contains(n.RequiredBy, fn) {
				env[n.Name] = valid(t, n.Name)
			}
		}
		if len(env) == 0 {
			t.Errorf("%s requires nothing: every function needs at least its gateway or its database", fn)
		}
		if got := problems(t, raw, fn, env); len(got) > 0 {
			t.Errorf("%s with exactly its required variables %v: %v", fn, slices.Sorted(maps.Keys(env)), got)
		}
		settings := Settings(m, fn)
		for name := range env {
			less := maps.Clone(env)
			delete(less, name)
			got := problems(t, raw, fn, less)
			if len(got) == 0 {
				t.Errorf("%s: without %s it reports nothing, yet %s is marked required", fn, name, name)
				continue
			}
			if _, isSetting := settings[name]; isSetting && !strings.Contains(strings.Join(got, "; "), name) {
				t.Errorf("%s: without %s it reports %v, which does not name it", fn, name, got)
			}
		}
	}
}

// TestAnalyzeReportsEveryProblemAtOnce: missing variables, a value a function
// refuses, a malformed csms: reference, all in one report; a well-formed csms:
// reference is left to the function's cold start; nothing quotes a value.
func TestAnalyzeReportsEveryProblemAtOnce(t *testing.T) {
	raw := projectRaw(t)
	env := map[string]string{
		"KG_DATA_KEY":            "too-short-a-data-key",
		"DB_DSN":                 "csms:kgseller-db",
		"KG_ACCESS_KEY_BASIC":    "csms:bad name with spaces",
		"PROVISION_FRONTEND_URL": "https://app.example.com/{instanceId}",
	}
	rep, err := Analyze(raw, "saas", func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, p := range rep.Problems {
		got = append(got, p.String())
	}
	text := strings.Join(got, "\n")
	for _, want := range []string{
		"missing: HUAWEICLOUD_SDK_AK (fulfil-worker)",
		"missing: APIG_GROUP_ID (saas-produce)",
		"missing: VPC_ID (fulfil-worker, interface-monitor, saas-produce)",
		"invalid: KG_DATA_KEY must be 32 bytes, base64-encoded (fulfil-worker, saas-produce)",
		"invalid: KG_ACCESS_KEY_BASIC is not csms:",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("report lacks %q:\n%s", want, text)
		}
	}
	for _, bad := range []string{"DB_DSN", "PROVISION_FRONTEND_URL", "too-short", "bad name", "license-produce"} {
		if strings.Contains(text, bad) {
			t.Errorf("report mentions %q:\n%s", bad, text)
		}
	}
	if n, _ := rep.Name("KG_DATA_KEY"); n.Required() || !n.Secret || !n.Set {
		t.Errorf("KG_DATA_KEY for saas: %+v (optional there: only a provisioner's password needs it)", n)
	}
	if n, _ := rep.Name("DB_DSN"); !n.Required() || !n.Secret || !n.Set {
		t.Errorf("DB_DSN: %+v", n)
	}
	if n, ok := rep.Name("KG_ACCESS_KEY_KIT"); ok && n.Required() {
		t.Errorf("the saas profile requires the Kit key: %+v", n)
	}
}

// TestUnmetRequirement: a setting a function requires that serverless.yml does
// not give it is reported as such, whatever the environment holds.
func TestUnmetRequirement(t *testing.T) {
	raw := projectRaw(t)
	cut := strings.Replace(string(raw), "      DB_DSN: ${env:DB_DSN}\n      KG_ACCESS_KEY_LICENSE: ${env:KG_ACCESS_KEY_LICENSE}\n", "      DB_DSN: ${env:DB_DSN}\n", 1)
	if cut == string(raw) {
		t.Fatal("serverless.yml no longer gives license-produce KG_ACCESS_KEY_LICENSE this way")
	}
	rep, err := Analyze([]byte(cut), "license", nil)
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, p := range rep.Problems {
		if p.Kind == "unmet" && strings.Contains(p.Name, "KG_ACCESS_KEY_LICENSE") && slices.Equal(p.Functions, []string{"license-produce"}) {
			found = true
		}
	}
	if !found {
		t.Errorf("no unmet KG_ACCESS_KEY_LICENSE: %v", rep.Problems)
	}
}

// TestEveryFunctionHasItsAssembly: the assemblies are those of serverless.yml,
// each built as its functions/<name>/main.go builds it.
func TestEveryFunctionHasItsAssembly(t *testing.T) {
	m, err := manifest.Parse(projectRaw(t), nil)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := slices.Sorted(maps.Keys(Assemblies)), m.Names(); !slices.Equal(got, want) {
		t.Fatalf("assemblies %v, serverless.yml %v", got, want)
	}
	for name, a := range Assemblies {
		src, err := os.ReadFile(filepath.Join("../../../functions", name, "main.go"))
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(src), a.Call+"(config.") {
			t.Errorf("functions/%s/main.go does not build the function with %s", name, a.Call)
		}
	}
}

// TestFunctionsThatCommitJobsNeedTheWorker: a function whose assembly reads
// FULFIL_MODE hands jobs to the worker its FULFIL_WORKER_URN names, so
// custom.needs must list that worker for it (and every profile with it then
// includes the worker); the others need no worker.
func TestFunctionsThatCommitJobsNeedTheWorker(t *testing.T) {
	m, err := manifest.Parse(projectRaw(t), func(k string) string { return "x" })
	if err != nil {
		t.Fatal(err)
	}
	for _, fn := range m.Names() {
		settings := Settings(m, fn)
		a, err := Audit(fn, settings)
		if err != nil {
			t.Fatal(err)
		}
		urn := strings.Split(settings[config.FulfilWorkerURN], ":")
		needs := m.Custom.Needs[fn]
		switch {
		case a.Asked(config.FulfilMode) && (len(urn) < 7 || !slices.Contains(needs, urn[6])):
			t.Errorf("%s commits jobs (reads %s) for %v, but custom.needs lists %v", fn, config.FulfilMode, urn, needs)
		case !a.Asked(config.FulfilMode) && slices.Contains(needs, "fulfil-worker"):
			t.Errorf("%s hands no job to the worker, yet custom.needs lists it", fn)
		}
	}
}

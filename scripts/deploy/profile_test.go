package main

import (
	"os"
	"slices"
	"strings"
	"testing"
)

// saasOnly leaves the harness's environment with what a SaaS seller sets: no
// Kit, unified login, License, order-notification, API-backend or webhook
// settings (nor the monitor's addresses of those).
func saasOnly(h *harness) {
	for name := range h.env {
		if strings.HasPrefix(name, "SSO_") || strings.HasPrefix(name, "APIG_SIGNATURE") || strings.Contains(name, "KIT") ||
			strings.Contains(name, "LICENSE") || strings.Contains(name, "NOTIFY") || name == "PROVISION_WEBHOOK_SECRET" {
			delete(h.env, name)
		}
	}
}

// TestProfileDeploysOnlyWhatItSells: a SaaS-only seller's environment fails the
// whole manifest, every missing setting listed before the cloud is called; with
// -profile saas it deploys only saas-produce, its worker and the interface
// monitor, with the routes of /saas/produce and the domain root alone,
// smoke-tests only those, and counts only their connections.
func TestProfileDeploysOnlyWhatItSells(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	saasOnly(h)

	code, out := h.run(t)
	if code != 1 || len(h.cloud.Calls()) != 0 {
		t.Fatalf("all: exit %d, %d calls\n%s", code, len(h.cloud.Calls()), out)
	}
	for _, want := range []string{
		"missing: KG_ACCESS_KEY_KIT (kit-all-org-sync", "missing: KG_KIT_RSA_PRIVATE_KEY (kit-application-sync)",
		"missing: SSO_APP_ID (sso-callback, sso-login)", "missing: APIG_SIGNATURE_KEY (api-backend)",
		"missing: KG_ACCESS_KEY_LICENSE (license-produce)", "missing: KG_ACCESS_KEY_NOTIFY (order-notify)",
		"missing: PROVISION_WEBHOOK_SECRET (provision-callback, usage-report)", "nothing was deployed",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("all: output lacks %q\n%s", want, out)
		}
	}

	code, out = h.run(t, "-profile", "saas")
	if code != 0 {
		t.Fatalf("saas: exit %d\n%s", code, out)
	}
	for _, n := range h.names {
		_, deployed := h.cloud.Function(n)
		if deployed != (n == "saas-produce" || n == "fulfil-worker" || n == "interface-monitor") {
			t.Errorf("%s deployed: %v", n, deployed)
		}
	}
	var paths []string
	for _, tr := range h.cloud.Triggers("saas-produce") {
		paths = append(paths, tr.EventData["path"].(string))
	}
	slices.Sort(paths)
	if !slices.Equal(paths, []string{"/", "/saas/produce"}) {
		t.Errorf("saas-produce triggers %v", paths)
	}
	for _, want := range []string{
		"profile saas: fulfil-worker, interface-monitor, saas-produce", "settings: every required variable is set",
		"Σ maxInstances × pool = 33 of 400", "smoke saas-produce: ok (signed queryInstance answered 000003", "deployment done",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("saas: output lacks %q\n%s", want, out)
		}
	}
	for _, line := range strings.Split(out, "\n") {
		if strings.HasPrefix(line, "smoke ") && !strings.HasPrefix(line, "smoke saas-produce:") && !strings.HasPrefix(line, "smoke fulfil-worker:") &&
			!strings.HasPrefix(line, "smoke interface-monitor:") {
			t.Errorf("saas: smoke-tests another function: %s", line)
		}
	}
	if strings.Contains(out, "license") || strings.Contains(out, "produceAPI") {
		t.Errorf("saas: mentions what it does not sell:\n%s", out)
	}

	// The profile may come from the environment (or deploy.env) instead.
	h.env[ProfileVar] = "saas"
	if code, out := h.run(t, "--dry-run"); code != 0 || !strings.Contains(out, "3 function(s) of profile saas") {
		t.Errorf("%s=saas: exit %d\n%s", ProfileVar, code, out)
	}
	if code, out := h.run(t, "-profile", "saas", "--only", "license-produce"); code != 1 || !strings.Contains(out, "license-produce: not a function of profile saas") {
		t.Errorf("--only outside the profile: exit %d\n%s", code, out)
	}
	if code, out := h.run(t, "-profile", "nope"); code != 1 || !strings.Contains(out, `no profile "nope"`) {
		t.Errorf("unknown profile: exit %d\n%s", code, out)
	}
}

// TestDryRunWithoutCredentials: without AK/SK a dry run calls nothing, plans
// against an empty account, and still lists every problem. The worker needs the
// same AK/SK for Query Order, so a profile with it reports them missing (exit
// 1); one without it plans cleanly (exit 0). A deployment without them refuses
// before any call.
func TestDryRunWithoutCredentials(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	saasOnly(h)
	delete(h.env, "HUAWEICLOUD_SDK_AK")
	delete(h.env, "HUAWEICLOUD_SDK_SK")
	delete(h.env, "APIG_GROUP_ID")
	h.env["KG_DATA_KEY"] = "not-a-key"

	code, out := h.run(t, "--dry-run", "-profile", "saas")
	if code != 1 || len(h.cloud.Calls()) != 0 {
		t.Fatalf("exit %d, %d calls\n%s", code, len(h.cloud.Calls()), out)
	}
	for _, want := range []string{
		"settings: 4 problem(s), all listed",
		"missing: APIG_GROUP_ID (saas-produce)", "missing: HUAWEICLOUD_SDK_AK (fulfil-worker)", "missing: HUAWEICLOUD_SDK_SK (fulfil-worker)",
		"invalid: KG_DATA_KEY must be 32 bytes, base64-encoded (fulfil-worker, saas-produce)",
		"dry run against an EMPTY account, settings are missing or invalid",
		"trigger DEDICATEDGATEWAY POST /saas/produce: would create", "trigger TIMER fulfil-every-minute: would create",
		"group <APIG_GROUP_ID>: would bind 2 API(s)", "a deployment would refuse to start",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q\n%s", want, out)
		}
	}
	if strings.Contains(out, "not-a-key") {
		t.Error("the output quotes a value")
	}

	h.env["KG_DATA_KEY"] = ""
	h.env["APIG_GROUP_ID"] = "group-of-the-test"
	h.env["PROVISION_WEBHOOK_SECRET"] = "webhook-secret-of-the-test"
	code, out = h.run(t, "--dry-run", "-profile", "webhook")
	if code != 0 || len(h.cloud.Calls()) != 0 || !strings.Contains(out, "EMPTY account, no credentials") {
		t.Errorf("webhook: exit %d, %d calls\n%s", code, len(h.cloud.Calls()), out)
	}

	code, out = h.run(t, "-profile", "webhook")
	if code != 1 || len(h.cloud.Calls()) != 0 || !strings.Contains(out, "missing: HUAWEICLOUD_SDK_AK (deploy tool)") {
		t.Errorf("deploy without credentials: exit %d, %d calls\n%s", code, len(h.cloud.Calls()), out)
	}
}

// TestGuidedFirstRun drives -init with scripted answers: a pasted secret is
// refused (and never repeated), references are written, the file is what later
// runs read (the environment still wins), and input that ends early writes
// nothing.
func TestGuidedFirstRun(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	saasOnly(h)
	answers := []string{
		"saas",                          // profile
		"",                              // region: the default
		"project0123",                   // project
		"",                              // enterprise project
		h.env["APIG_INSTANCE_ID"],       // gateway
		h.env["APIG_GROUP_ID"],          // group
		"vpc-of-init", "subnet-of-init", // network
		"$DEPLOY_AK", "DEPLOY_SK", // credentials, as references
		"kgseller_app:pasted-password@tcp(rds:3306)/kgseller", // a pasted DSN: refused
		"csms:kgseller-db", // DB_DSN
		"PASTEDKEY0123",    // a bare word, maybe the key itself: refused
		"",                 // KG_ACCESS_KEY_BASIC: the default reference
		"https://app.example.com/{instanceId}",
	}
	environ := map[string]string{}
	for k, v := range h.env {
		environ[k] = v
	}
	// Nothing in the environment: the answers must carry the deployment.
	h.env = map[string]string{}
	code, out := h.runWith(t, strings.Join(answers, "\n")+"\n", "-init")
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, out)
	}
	if strings.Contains(out, "pasted-password") || strings.Contains(out, "PASTEDKEY0123") {
		t.Errorf("the guide repeats a refused answer:\n%s", out)
	}
	if strings.Count(out, "that is not a reference") != 1 || strings.Count(out, "a bare word could be the secret itself") != 1 {
		t.Errorf("refusals:\n%s", out)
	}
	raw, err := os.ReadFile(h.config)
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range []string{
		"KG_DEPLOY_PROFILE=saas", "HUAWEICLOUD_REGION=cn-north-4", "HUAWEICLOUD_PROJECT_ID=project0123", "VPC_ID=vpc-of-init",
		"HUAWEICLOUD_SDK_AK=$DEPLOY_AK", "HUAWEICLOUD_SDK_SK=$DEPLOY_SK", "DB_DSN=csms:kgseller-db",
		"KG_ACCESS_KEY_BASIC=$KG_ACCESS_KEY_BASIC", "PROVISION_FRONTEND_URL=https://app.example.com/{instanceId}",
	} {
		if !strings.Contains(string(raw), "\n"+line+"\n") {
			t.Errorf("deploy.env lacks %s:\n%s", line, raw)
		}
	}
	if !strings.Contains(out, "before deploying, export: DEPLOY_AK DEPLOY_SK KG_ACCESS_KEY_BASIC") {
		t.Errorf("no export hint:\n%s", out)
	}

	// A later run reads the file: the profile, the network, the references.
	h.env = map[string]string{
		"DEPLOY_AK": environ["HUAWEICLOUD_SDK_AK"], "DEPLOY_SK": environ["HUAWEICLOUD_SDK_SK"],
		"KG_ACCESS_KEY_BASIC": environ["KG_ACCESS_KEY_BASIC"], "HUAWEICLOUD_REGION": environ["HUAWEICLOUD_REGION"],
		"FUNCTIONGRAPH_ENDPOINT": environ["FUNCTIONGRAPH_ENDPOINT"], "APIG_ENDPOINT": environ["APIG_ENDPOINT"],
	}
	code, out = h.run(t, "--dry-run")
	if code != 0 || !strings.Contains(out, "3 function(s) of profile saas to xx-test-1, project project0123 (dry run: the cloud is read") ||
		!strings.Contains(out, "VPC vpc-of-init subnet subnet-of-init") {
		t.Fatalf("a run after -init: exit %d\n%s", code, out)
	}
	// The environment wins over the file.
	h.env["VPC_ID"], h.env["SUBNET_ID"] = "vpc-from-env", "subnet-from-env"
	if _, out := h.run(t, "--dry-run"); !strings.Contains(out, "VPC vpc-from-env subnet subnet-from-env") {
		t.Errorf("the environment does not win:\n%s", out)
	}

	// Input that ends early writes nothing.
	if err := os.Remove(h.config); err != nil {
		t.Fatal(err)
	}
	code, out = h.runWith(t, "saas\n\nproject0123\n", "-init")
	if _, err := os.Stat(h.config); code != 1 || err == nil || !strings.Contains(out, "was not written") {
		t.Errorf("early end: exit %d, file %v\n%s", code, err, out)
	}
}

// TestLicenseProfileSmokeSignsWithTheLicenseKey: a profile without
// /saas/produce smoke-tests /license/produce, signed with the License key.
func TestLicenseProfileSmokeSignsWithTheLicenseKey(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	// The fake functions verify with the harness's one key.
	h.env["KG_ACCESS_KEY_LICENSE"] = h.env["KG_ACCESS_KEY_BASIC"]
	h.env["KG_ACCESS_KEY_BASIC"] = "another-key-the-fake-refuses"
	code, out := h.run(t, "-profile", "license")
	if code != 0 || !strings.Contains(out, "smoke license-produce: ok (signed queryInstance answered 000003") {
		t.Fatalf("exit %d\n%s", code, out)
	}
	if _, deployed := h.cloud.Function("saas-produce"); deployed {
		t.Error("the license profile deployed saas-produce")
	}
}

package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"testing"

	"github.com/kgseller/kgseller/shared/tools/kgsim"
	"github.com/kgseller/kgseller/shared/tools/kgsim/kgsimtest"
	"github.com/kgseller/kgseller/shared/tools/localstate"
)

func runCLI(t *testing.T, env map[string]string, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(context.Background(), args, strings.NewReader(""), &out, &errb, func(k string) string { return env[k] })
	return code, out.String(), errb.String()
}

// noState is an environment whose state file does not exist, so no test sees
// the seller's own local run.
func noState(t *testing.T) map[string]string {
	return map[string]string{localstate.EnvPath: filepath.Join(t.TempDir(), "none.json")}
}

// TestHelpListsOnlySignFlags: sign links neither the local run nor its database
// engine, whose flags used to show in sign -h.
func TestHelpListsOnlySignFlags(t *testing.T) {
	code, out, errs := runCLI(t, noState(t), "-h")
	if code != exitOK || out != "" {
		t.Fatalf("exit %d, stdout %q", code, out)
	}
	var flags []string
	for _, m := range regexp.MustCompile(`(?m)^  -(\S+)`).FindAllStringSubmatch(errs, -1) {
		flags = append(flags, m[1])
	}
	want := "curl d instance key kit list n order print public-key set url"
	if got := strings.Join(flags, " "); got != want {
		t.Fatalf("sign -h lists %q, want %q\n%s", got, want, errs)
	}
	deps, err := exec.Command(filepath.Join(runtime.GOROOT(), "bin", "go"), "list", "-deps", ".").Output()
	if err != nil {
		t.Fatal(err)
	}
	for _, bad := range []string{"go-mysql-server", "shared/tools/localrun", "shared/fakes"} {
		if bytes.Contains(deps, []byte(bad)) {
			t.Errorf("scripts/sign links %s", bad)
		}
	}
}

func TestListAndPrint(t *testing.T) {
	code, out, _ := runCLI(t, noState(t), "-list")
	if code != exitOK {
		t.Fatalf("exit %d", code)
	}
	for _, a := range kgsim.Activities() {
		if !strings.Contains(out, a.Name+" ") {
			t.Errorf("-list lacks %s:\n%s", a.Name, out)
		}
	}
	if !strings.Contains(out, "{address}/produceAPI/v2/tenantSync") || !strings.Contains(out, "/license/produce") {
		t.Errorf("-list addresses:\n%s", out)
	}

	code, out, errs := runCLI(t, noState(t), "refreshInstance", "-instance", "b-1", "-set", "scene=RENEWAL_CHANGE", "-print")
	var f map[string]any
	if code != exitOK || json.Unmarshal([]byte(out), &f) != nil || f["instanceId"] != "b-1" || f["scene"] != "RENEWAL_CHANGE" || errs != "" {
		t.Fatalf("-print: exit %d\n%s%s", code, out, errs)
	}
	// Flags may come first.
	if code, out, _ := runCLI(t, noState(t), "-n", "-order", "MOCKONETIMENEW", "newInstance"); code != exitOK || !strings.Contains(out, `"orderLineId":"MOCKONETIMENEW-000001"`) {
		t.Fatalf("-n before the activity: exit %d\n%s", code, out)
	}
	code, _, errs = runCLI(t, noState(t), "refreshInstance", "-print")
	if code != exitUsage || !strings.Contains(errs, "-instance") || !strings.Contains(errs, "go run ./scripts/ops instances") {
		t.Fatalf("no instance: exit %d\n%s", code, errs)
	}
	code, out, _ = runCLI(t, noState(t), "applicationSync", "-print")
	if code != exitOK || !strings.Contains(out, kgsim.SecretPlaceholder) {
		t.Fatalf("applicationSync -print without a key: exit %d\n%s", code, out)
	}
	for _, args := range [][]string{{}, {"frobnicate"}, {"newInstance", "extra"}, {"newInstance", "-d", "{}", "-set", "a=b"}, {"-kit", "-d", "{}"}} {
		if code, _, _ := runCLI(t, noState(t), args...); code != exitUsage {
			t.Errorf("%q: exit %d, want %d", args, code, exitUsage)
		}
	}
}

// localRun writes a state file naming an in-process SaaS server (wrap may break
// it) and returns the environment that finds it.
func localRun(t *testing.T, wrap func(http.Handler) http.Handler) (map[string]string, string) {
	t.Helper()
	base := strings.TrimSuffix(kgsimtest.SaaSServer(t, wrap), "/saas/produce")
	path := filepath.Join(t.TempDir(), "local.json")
	remove, err := localstate.Write(path, localstate.State{URL: base, AccessKey: kgsimtest.Key,
		Addresses: map[string]string{"saas": "/saas/produce"}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(remove)
	return map[string]string{localstate.EnvPath: path}, base
}

// TestSendsToTheLocalRunWithNoFlags: the state file gives URL and key; a
// created instance serves the next activity.
func TestSendsToTheLocalRunWithNoFlags(t *testing.T) {
	env, base := localRun(t, nil)
	code, out, errs := runCLI(t, env, "newInstance")
	if code != exitOK || !strings.Contains(out, "Body-Sign: valid") {
		t.Fatalf("newInstance: exit %d\n%s%s", code, out, errs)
	}
	if want := "sign: local run at " + base + " (state file "; !strings.HasPrefix(errs, want) || strings.Count(errs, "\n") != 1 {
		t.Fatalf("stderr %q, want one line starting %q", errs, want)
	}
	var ans struct{ InstanceID string }
	if err := json.Unmarshal([]byte(strings.SplitN(out, "\n", 2)[1]), &ans); err != nil || ans.InstanceID == "" {
		t.Fatalf("answer: %v\n%s", err, out)
	}
	code, out, errs = runCLI(t, env, "queryInstance", "-instance", ans.InstanceID)
	if code != exitOK || !strings.Contains(out, ans.InstanceID) {
		t.Fatalf("queryInstance: exit %d\n%s%s", code, out, errs)
	}
	// -d still sends a raw body.
	code, out, errs = runCLI(t, env, "-d", `{"activity":"queryInstance","instanceId":"`+ans.InstanceID+`","testFlag":"1"}`)
	if code != exitOK || !strings.Contains(out, `"resultCode":"000000"`) {
		t.Fatalf("-d: exit %d\n%s%s", code, out, errs)
	}
}

// TestExplainsFailures: each failure names its cause and the key's source,
// never the key or a signed query string.
func TestExplainsFailures(t *testing.T) {
	env, _ := localRun(t, nil)
	env["KG_ACCESS_KEY"] = "wrong-key-value"
	code, _, errs := runCLI(t, env, "newInstance")
	if code != exitFail || !strings.Contains(errs, "sign: answered 000001 (authentication failed): the access key or the clock differs from the server's (key tried: KG_ACCESS_KEY)") ||
		strings.Contains(errs, "wrong-key-value") {
		t.Fatalf("wrong key: exit %d\n%s", code, errs)
	}

	other, _ := localRun(t, kgsimtest.SignedWith("other"))
	code, out, errs := runCLI(t, other, "newInstance")
	if code != exitFail || !strings.Contains(out, "Body-Sign: does not verify with the key from the state file") ||
		!strings.Contains(errs, "Body-Sign does not verify with the key from the state file: the answer was signed with a different key") {
		t.Fatalf("other Body-Sign key: exit %d\n%s%s", code, out, errs)
	}

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := "http://" + ln.Addr().String() + "/saas/produce"
	ln.Close()
	code, _, errs = runCLI(t, noState(t), "newInstance", "-url", closed)
	if code != exitFail || !strings.Contains(errs, "sign: nothing listens at "+closed+": start the local run (go run ./scripts/local) or check -url") ||
		strings.Contains(errs, "signature=") {
		t.Fatalf("closed port: exit %d\n%s", code, errs)
	}

	nf := httptest.NewServer(http.NotFoundHandler())
	defer nf.Close()
	code, _, errs = runCLI(t, noState(t), "newInstance", "-url", nf.URL+"/saas/produce")
	if code != exitFail || !strings.Contains(errs, "sign: answered 404: wrong path or the function is not deployed ("+nf.URL+"/saas/produce)") {
		t.Fatalf("404: exit %d\n%s", code, errs)
	}
}

var update = flag.Bool("update", false, "rewrite README.md's table of example bodies")

// TestReadmeExamples: README.md's table of example bodies is what the builders
// make (go test ./scripts/sign -update rewrites it).
func TestReadmeExamples(t *testing.T) {
	const begin, end = "<!-- sign examples: generated from shared/tools/kgsim, checked by scripts/sign's tests -->\n", "<!-- end of sign examples -->"
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	i, j := bytes.Index(readme, []byte(begin)), bytes.Index(readme, []byte(end))
	if i < 0 || j < i {
		t.Fatalf("README.md lacks the markers %q … %q", begin, end)
	}
	var table bytes.Buffer
	if err := kgsim.WriteExamples(&table); err != nil {
		t.Fatal(err)
	}
	got := readme[i+len(begin) : j]
	if bytes.Equal(got, table.Bytes()) {
		return
	}
	if !*update {
		t.Fatalf("README.md's example bodies differ from the builders (go test ./scripts/sign -update):\n%s", table.Bytes())
	}
	out := append(append(append([]byte(nil), readme[:i+len(begin)]...), table.Bytes()...), readme[j:]...)
	if err := os.WriteFile("../../README.md", out, 0o644); err != nil {
		t.Fatal(err)
	}
}

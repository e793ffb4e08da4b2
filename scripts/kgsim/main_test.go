package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/kgseller/kgseller/shared/tools/dbtest"
	"github.com/kgseller/kgseller/shared/tools/kgsim"
	"github.com/kgseller/kgseller/shared/tools/kgsim/kgsimtest"
	"github.com/kgseller/kgseller/shared/tools/localrun"
	"github.com/kgseller/kgseller/shared/tools/localstate"
)

func runCLI(t *testing.T, env map[string]string, args ...string) (int, string, string) {
	t.Helper()
	if env == nil {
		env = map[string]string{}
	}
	if _, ok := env[localstate.EnvPath]; !ok {
		// Never the seller's own local run.
		env[localstate.EnvPath] = filepath.Join(t.TempDir(), "none.json")
	}
	var out, errb bytes.Buffer
	code := run(context.Background(), args, &out, &errb, func(k string) string { return env[k] })
	return code, out.String(), errb.String()
}

// TestPassesAgainstLocalRun is the "done when": the command, pointed at the
// local run's /saas/produce with the key, passes and exits 0; -json writes the
// results.
func TestPassesAgainstLocalRun(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	stack, err := localrun.Start(ctx, localrun.Options{
		Addr: ln.Addr().String(), ModuleDir: "../..", DSN: dbtest.NewDatabase(t),
		AccessKey: "cli-key", FunctionOutput: io.Discard, BuildOutput: io.Discard, TimerEvery: 200 * time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: stack.Handler()}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { srv.Close(); stack.Close() })

	jsonPath := filepath.Join(t.TempDir(), "results.json")
	code, out, errs := runCLI(t, nil, "-url", "http://"+ln.Addr().String()+"/saas/produce", "-key", "cli-key",
		"-rounds", "2", "-seed", "7", "-timeout", "30s", "-json", jsonPath)
	if code != exitPass {
		t.Fatalf("exit %d\n%s%s", code, out, errs)
	}
	if !strings.Contains(out, "PASS  type=saas") || !strings.Contains(out, "seed 7") || strings.Contains(out, "cli-key") {
		t.Fatalf("table output:\n%s", out)
	}
	raw, err := os.ReadFile(jsonPath)
	if err != nil {
		t.Fatal(err)
	}
	var rep kgsim.Report
	if err := json.Unmarshal(raw, &rep); err != nil {
		t.Fatal(err)
	}
	if rep.Failed != 0 || rep.Passed == 0 || rep.Seed != 7 || rep.Type != "saas" || bytes.Contains(raw, []byte("cli-key")) {
		t.Fatalf("JSON report: type %s seed %d passed %d failed %d", rep.Type, rep.Seed, rep.Passed, rep.Failed)
	}
}

// TestFailsAgainstBrokenServer: a wrong Body-Sign exits 1 and names the reason;
// -json - puts the JSON on stdout and the table on stderr.
func TestFailsAgainstBrokenServer(t *testing.T) {
	url := kgsimtest.SaaSServer(t, kgsimtest.SignedWith("other"))
	code, out, errs := runCLI(t, map[string]string{"KG_ACCESS_KEY_BASIC": kgsimtest.Key}, "-url", url, "-rounds", "1", "-json", "-")
	if code != exitFail {
		t.Fatalf("exit %d, want %d\n%s", code, exitFail, errs)
	}
	var rep kgsim.Report
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("stdout is not the JSON report: %v\n%s", err, out)
	}
	if rep.OK() || !strings.Contains(rep.Failures()[0].Reason, "Body-Sign does not match") {
		t.Fatalf("report: %+v", rep.Failures())
	}
	if !strings.Contains(errs, "FAIL  type=saas") || !strings.Contains(errs, "Body-Sign does not match") {
		t.Fatalf("table on stderr:\n%s", errs)
	}
}

func TestUsage(t *testing.T) {
	for _, args := range [][]string{{"-type", "vm"}, {"-rounds"}, {"extra"}, {"-type", "kit", "-public-key", "/nonexistent.pem"}, {"-key-base64", "-key", "not base64!"}, {"-url", "127.0.0.1:8080/saas/produce"}} {
		if code, _, _ := runCLI(t, nil, args...); code != exitUsage {
			t.Fatalf("%v: exit %d, want %d", args, code, exitUsage)
		}
	}
	for _, typ := range kgsim.Types() {
		code, out, _ := runCLI(t, nil, "-type", typ, "-list")
		if code != exitPass || !strings.HasPrefix(out, typ+": ") || !strings.Contains(out, "malformed bodies") {
			t.Fatalf("-list %s: exit %d\n%s", typ, code, out)
		}
	}
}

// TestAddressType: -type address with each interface type's key and the other
// addresses checks the layout of one production address and exits 0.
func TestAddressType(t *testing.T) {
	srv := httptest.NewServer(kgsimtest.AddressHandler(t))
	defer srv.Close()
	code, out, errs := runCLI(t, map[string]string{"KG_ACCESS_KEY_KIT": kgsimtest.KitKey},
		"-type", "address", "-url", srv.URL+"/saas/produce", "-key", kgsimtest.BasicKey, "-notify-key", kgsimtest.NotifyKey,
		"-other", srv.URL+"/license/produce, "+srv.URL, "-rounds", "1", "-timeout", "30s")
	if code != exitPass || !strings.Contains(out, "PASS  type=address") || !strings.Contains(out, "0 skipped") {
		t.Fatalf("exit %d\n%s%s", code, out, errs)
	}
}

// TestHelp: -h exits 0 and lists kgsim's flags only; the command links neither
// the local run nor its database engine.
func TestHelp(t *testing.T) {
	code, out, errs := runCLI(t, nil, "-h")
	if code != exitPass || out != "" || !strings.Contains(errs, "-public-key") || strings.Contains(errs, "-test.") {
		t.Fatalf("exit %d\n%s%s", code, out, errs)
	}
	deps, err := exec.Command(filepath.Join(runtime.GOROOT(), "bin", "go"), "list", "-deps", ".").Output()
	if err != nil {
		t.Fatal(err)
	}
	for _, bad := range []string{"go-mysql-server", "shared/tools/localrun", "shared/fakes"} {
		if bytes.Contains(deps, []byte(bad)) {
			t.Errorf("scripts/kgsim links %s", bad)
		}
	}
}

// TestFindsTheLocalRunWithNoFlags: with no -url and no key variable, the state
// file of a running local run gives URL and key, and stderr says so; a stale
// address is named as the headline of the failures.
func TestFindsTheLocalRunWithNoFlags(t *testing.T) {
	url := kgsimtest.SaaSServer(t, nil)
	base := strings.TrimSuffix(url, "/saas/produce")
	path := filepath.Join(t.TempDir(), "local.json")
	remove, err := localstate.Write(path, localstate.State{URL: base, AccessKey: kgsimtest.Key, Addresses: map[string]string{"saas": "/saas/produce"}})
	if err != nil {
		t.Fatal(err)
	}
	defer remove()
	env := map[string]string{localstate.EnvPath: path}
	code, out, errs := runCLI(t, env, "-rounds", "1", "-timeout", "30s")
	if code != exitPass || !strings.Contains(out, "PASS  type=saas") || !strings.Contains(out, "against "+url) {
		t.Fatalf("exit %d\n%s%s", code, out, errs)
	}
	if want := "kgsim: local run at " + base + " (state file " + path + "), key from the state file\n"; errs != want {
		t.Fatalf("stderr %q, want %q", errs, want)
	}

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	gone := "http://" + ln.Addr().String()
	ln.Close()
	if _, err := localstate.Write(path, localstate.State{URL: gone, AccessKey: kgsimtest.Key}); err != nil {
		t.Fatal(err)
	}
	code, out, _ = runCLI(t, env, "-rounds", "1")
	if code != exitFail || !strings.Contains(strings.Join(strings.Fields(out), " "), "FAILED: nothing listens at "+gone+"/saas/produce: start the local run (go run ./scripts/local) or check -url") {
		t.Fatalf("exit %d\n%s", code, out)
	}
}

// TestKitKeyFromStateFile: -type kit with no flag reads the Kit app's public key
// the state file names (a missing file is a usage error naming it).
func TestKitKeyFromStateFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "local.json")
	missing := filepath.Join(t.TempDir(), "kit.pub.pem")
	remove, err := localstate.Write(path, localstate.State{URL: "http://127.0.0.1:1", AccessKey: "k", KitPublicKey: missing})
	if err != nil {
		t.Fatal(err)
	}
	defer remove()
	code, _, errs := runCLI(t, map[string]string{localstate.EnvPath: path}, "-type", "kit", "-rounds", "1")
	if code != exitUsage || !strings.Contains(errs, missing) {
		t.Fatalf("exit %d\n%s", code, errs)
	}
}

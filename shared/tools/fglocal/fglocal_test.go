package fglocal

import (
	"context"
	"fmt"
	"github.com/kgseller/kgseller/shared/tools/logbuf"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kgseller/kgseller/shared/tools/buildzip"
	"github.com/kgseller/kgseller/shared/tools/manifest"
)

// testManifest serves the echo function, and the same binary as sleeper, whose
// only route never ends before the function's timeout (1 s) kills it. Every other
// timeout is a minute, a guard against a hang that a slow machine cannot reach,
// except /nap's gateway timeout, which its 500 ms nap always outlasts.
const testManifest = `
service: t
provider:
  name: huawei
  runtime: Custom
  timeout: 60
  environment:
    variables:
      FROM_MANIFEST: manifest
functions:
  echo:
    handler: bootstrap
    userData:
      FROM_ENV: manifest-loses
    events:
      - triggerTypeCode: APIG
        eventData: {reqMethod: POST, path: /echo, timeout: 60000}
      - triggerTypeCode: APIG
        eventData: {reqMethod: ANY, path: /exit}
      - triggerTypeCode: APIG
        eventData: {reqMethod: POST, path: /panic}
      - triggerTypeCode: APIG
        eventData: {reqMethod: POST, path: /nap, timeout: 200}
  sleeper:
    handler: bootstrap
    timeout: 1
    events:
      - triggerTypeCode: APIG
        eventData: {reqMethod: POST, path: /hang}
`

// echoDir holds the echo binary once a test has built it.
var echoDir string

// echoBinary is the echo test function, built once for the package's tests.
var echoBinary = sync.OnceValues(func() (string, error) {
	dir, err := os.MkdirTemp("", "fglocal-echo-")
	if err != nil {
		return "", err
	}
	echoDir = dir
	bin := filepath.Join(dir, "echo")
	if out, err := exec.Command(buildzip.GoCommand(), "build", "-o", bin, "./testdata/echo").CombinedOutput(); err != nil {
		return "", fmt.Errorf("building echo: %v\n%s", err, out)
	}
	return bin, nil
})

func TestMain(m *testing.M) {
	code := m.Run()
	if echoDir != "" {
		os.RemoveAll(echoDir)
	}
	os.Exit(code)
}

// buildEcho lays out a folder of its own with the echo binary as echo and sleeper.
func buildEcho(t *testing.T) (string, *manifest.Manifest) {
	t.Helper()
	bin, err := echoBinary()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	for _, name := range []string{"echo", "sleeper"} {
		if err := copyFile(bin, filepath.Join(dir, name)); err != nil {
			t.Fatal(err)
		}
	}
	m, err := manifest.Parse([]byte(testManifest), nil)
	if err != nil {
		t.Fatal(err)
	}
	return dir, m
}

func newEmulator(t *testing.T) (*Emulator, *httptest.Server) {
	return newEmulatorWith(t, 4, nil)
}

func newEmulatorWith(t *testing.T, instances int, logger *slog.Logger) (*Emulator, *httptest.Server) {
	dir, m := buildEcho(t)
	e, err := New(Options{Manifest: m, BinDir: dir, Env: []string{"FROM_ENV=env", "AWS_LAMBDA_RUNTIME_API=must-be-dropped"}, MaxInstances: instances,
		FunctionOutput: io.Discard, Logger: logger})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(e)
	t.Cleanup(func() { srv.Close(); e.Close() })
	return e, srv
}

func post(t *testing.T, url, body string) *http.Response {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, url, strings.NewReader(body))
	req.Header.Set("X-Test", "header-value")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	return resp
}

func TestEchoThroughRuntimeAPI(t *testing.T) {
	t.Parallel()
	e, srv := newEmulator(t)
	resp := post(t, srv.URL+"/echo?q=v", "hello \x00 bytes")
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 || string(b) != "hello \x00 bytes" {
		t.Fatalf("status %d body %q", resp.StatusCode, b)
	}
	h := resp.Header
	if h.Get("X-Method") != "POST" || h.Get("X-Query") != "v" || h.Get("X-Header") != "header-value" || h.Get("X-Source") != "127.0.0.1" {
		t.Errorf("event fields lost: %v", h)
	}
	if h.Get("X-Env") != "manifest|env" {
		t.Errorf("environment = %q, want manifest settings under the caller's", h.Get("X-Env"))
	}
	// A second request reuses the warm instance.
	pid := h.Get("X-Pid")
	if again := post(t, srv.URL+"/echo", "x"); again.Header.Get("X-Pid") != pid {
		t.Errorf("second request ran in pid %s, want the warm %s", again.Header.Get("X-Pid"), pid)
	}
	if got := e.Stats()["echo"]; got != 1 {
		t.Errorf("%d cold starts, want 1", got)
	}
	if resp := post(t, srv.URL+"/nowhere", ""); resp.StatusCode != 404 {
		t.Errorf("unknown route: %d", resp.StatusCode)
	}
}

func TestCrashPanicAndTimeout(t *testing.T) {
	t.Parallel()
	e, srv := newEmulator(t)
	first := post(t, srv.URL+"/echo", "a").Header.Get("X-Pid")
	if resp := post(t, srv.URL+"/exit", ""); resp.StatusCode != http.StatusBadGateway {
		t.Fatalf("crash: status %d, want 502", resp.StatusCode)
	}
	// The crashed instance is replaced by a new process.
	second := post(t, srv.URL+"/echo", "b")
	if second.StatusCode != 200 || second.Header.Get("X-Pid") == first {
		t.Fatalf("after crash: status %d pid %s (crashed pid %s)", second.StatusCode, second.Header.Get("X-Pid"), first)
	}
	// A panic is caught by the runtime adapter and reported as a function error; the
	// instance survives.
	if resp := post(t, srv.URL+"/panic", ""); resp.StatusCode != http.StatusInternalServerError {
		t.Fatalf("panic: status %d, want 500", resp.StatusCode)
	}
	if again := post(t, srv.URL+"/echo", "c"); again.Header.Get("X-Pid") != second.Header.Get("X-Pid") {
		t.Errorf("instance replaced after a handled panic")
	}
	if got := e.Stats()["echo"]; got != 2 {
		t.Errorf("%d cold starts, want 2 (first, after the crash)", got)
	}
	// The function timeout (sleeper's 1 s) kills an instance that overruns it (its
	// call never ends), and the next call starts a new one.
	for i := 1; i <= 2; i++ {
		if code := postGuarded(t, srv.URL+"/hang"); code != http.StatusGatewayTimeout {
			t.Fatalf("timeout %d: status %d, want 504", i, code)
		}
		if got := e.Stats()["sleeper"]; got != i {
			t.Errorf("%d cold starts of sleeper after %d timeouts, want %d: the overrunning instance was kept", got, i, i)
		}
	}
}

// postGuarded posts to a call that must be cut off by a timeout under a minute;
// it fails the test if nothing answers within two minutes.
func postGuarded(t *testing.T, url string) int {
	t.Helper()
	c := &http.Client{Timeout: 2 * time.Minute}
	resp, err := c.Post(url, "text/plain", nil)
	if err != nil {
		t.Fatalf("%s: no answer within two minutes, though a timeout of a second should have ended it: %v", url, err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

func TestConcurrentInstancesBounded(t *testing.T) {
	t.Parallel()
	e, srv := newEmulator(t)
	postConcurrently(t, srv.URL+"/echo", 20)
	if n := e.Stats()["echo"]; n < 1 || n > 4 {
		t.Fatalf("%d instances started, want 1..4", n)
	}
}

// postConcurrently sends n requests to url at once; each must answer 200.
func postConcurrently(t *testing.T, url string, n int) {
	t.Helper()
	var wg sync.WaitGroup
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			resp, err := http.Post(url, "text/plain", strings.NewReader("x"))
			if err != nil {
				t.Error(err)
				return
			}
			resp.Body.Close()
			if resp.StatusCode != 200 {
				t.Errorf("status %d", resp.StatusCode)
			}
		}()
	}
	wg.Wait()
}

func TestCloseStopsProcesses(t *testing.T) {
	t.Parallel()
	e, srv := newEmulator(t)
	pid := post(t, srv.URL+"/echo", "x").Header.Get("X-Pid")
	e.Close()
	if _, err := os.Stat("/proc/" + pid); err == nil {
		// The process may linger as a zombie for an instant; its state tells.
		if b, _ := os.ReadFile("/proc/" + pid + "/stat"); len(b) > 0 && !strings.Contains(string(b), ") Z") {
			t.Fatalf("function process %s still running after Close", pid)
		}
	}
}

func TestInvokeRaw(t *testing.T) {
	t.Parallel()
	e, _ := newEmulator(t)
	out, err := e.Invoke(context.Background(), "echo", []byte(`{"path":"/echo","httpMethod":"POST","body":"raw"}`))
	if err != nil || !strings.Contains(string(out), `"body":"raw"`) {
		t.Fatalf("Invoke = %s, %v", out, err)
	}
}

// TestOversizedBodyAnsweredByTheFunction: a body between the runtime's event limit
// and the gateway's 12 MB reaches the function, which answers it; the instance
// stays. Beyond 12 MB the gateway answers itself, with the request id.
func TestOversizedBodyAnsweredByTheFunction(t *testing.T) {
	t.Parallel()
	var logs logbuf.Buffer
	e, srv := newEmulatorWith(t, 4, slog.New(slog.NewTextHandler(&logs, nil)))
	pid := post(t, srv.URL+"/echo", "warm").Header.Get("X-Pid")
	resp := post(t, srv.URL+"/echo", strings.Repeat("x", 7<<20))
	if resp.StatusCode != http.StatusRequestEntityTooLarge || resp.Header.Get("X-Pid") != pid || resp.Header.Get("X-Request-Id") == "" {
		t.Fatalf("7 MB body: status %d, pid %s (warm %s), request id %q", resp.StatusCode, resp.Header.Get("X-Pid"), pid, resp.Header.Get("X-Request-Id"))
	}
	if again := post(t, srv.URL+"/echo", "after"); again.StatusCode != 200 || again.Header.Get("X-Pid") != pid {
		t.Fatalf("after the oversized body: status %d pid %s, want the warm %s", again.StatusCode, again.Header.Get("X-Pid"), pid)
	}
	if got := e.Stats()["echo"]; got != 1 {
		t.Fatalf("%d cold starts, want 1: an instance was lost", got)
	}
	resp = post(t, srv.URL+"/echo", strings.Repeat("x", maxRequestBody+1))
	id := resp.Header.Get("X-Request-Id")
	if resp.StatusCode != http.StatusRequestEntityTooLarge || id == "" || !strings.Contains(logs.String(), id) {
		t.Fatalf("over the gateway's limit: status %d, request id %q, logs %s", resp.StatusCode, id, logs.String())
	}
}

// TestGatewayTimeoutKeepsTheInstance: API Gateway giving up (504) does not stop
// the function; its instance finishes the invocation and serves the next one. The
// 504 is logged with its request id.
func TestGatewayTimeoutKeepsTheInstance(t *testing.T) {
	t.Parallel()
	var logs logbuf.Buffer
	e, srv := newEmulatorWith(t, 1, slog.New(slog.NewTextHandler(&logs, nil)))
	pid := post(t, srv.URL+"/echo", "warm").Header.Get("X-Pid")
	resp := post(t, srv.URL+"/nap", "")
	id := resp.Header.Get("X-Request-Id")
	if resp.StatusCode != http.StatusGatewayTimeout || id == "" || !strings.Contains(logs.String(), id) {
		t.Fatalf("gateway timeout: status %d, request id %q, logs %s", resp.StatusCode, id, logs.String())
	}
	// With one instance allowed, the next request waits for the napping one.
	if again := post(t, srv.URL+"/echo", "after"); again.StatusCode != 200 || again.Header.Get("X-Pid") != pid {
		t.Fatalf("after a gateway timeout: status %d pid %s, want the warm %s", again.StatusCode, again.Header.Get("X-Pid"), pid)
	}
	if got := e.Stats()["echo"]; got != 1 {
		t.Fatalf("%d cold starts, want 1: the gateway timeout killed the instance", got)
	}
}

const limitsManifest = `
service: t
provider: {name: huawei, runtime: Custom, timeout: 10}
functions:
  one:
    handler: bootstrap
    maxInstances: 1
    events:
      - triggerTypeCode: APIG
        eventData: {reqMethod: POST, path: /one/sleep, timeout: 8000}
      - triggerTypeCode: APIG
        eventData: {reqMethod: POST, path: /one/echo, timeout: 200}
  two:
    handler: bootstrap
    maxInstances: 2
    events:
      - triggerTypeCode: APIG
        eventData: {reqMethod: POST, path: /two/echo, timeout: 8000}
  undeclared:
    handler: bootstrap
    events:
      - triggerTypeCode: APIG
        eventData: {reqMethod: POST, path: /undeclared/echo}
`

// limitsEmulator runs the echo binary as the functions of limitsManifest; the
// binary takes its behaviour from the last element of the path.
func limitsEmulator(t *testing.T, override int, logger *slog.Logger) (*Emulator, *httptest.Server) {
	t.Helper()
	dir, _ := buildEcho(t)
	m, err := manifest.Parse([]byte(limitsManifest), nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range m.Names() {
		if err := os.Link(filepath.Join(dir, "echo"), filepath.Join(dir, name)); err != nil {
			t.Fatal(err)
		}
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	e, err := New(Options{Manifest: m, BinDir: dir, MaxInstances: override, FunctionOutput: io.Discard, Logger: logger})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(e)
	t.Cleanup(func() { srv.Close(); e.Close() })
	return e, srv
}

// TestMaxInstancesPerFunction: each function runs at most the maxInstances of
// serverless.yml (FunctionGraph's default, 400, when it declares none); a request
// that finds them all busy waits for one up to its route's gateway timeout, and
// then fails as API Gateway fails it (504, APIG.0202), without a new instance.
func TestMaxInstancesPerFunction(t *testing.T) {
	t.Parallel()
	var logs logbuf.Buffer
	e, srv := limitsEmulator(t, 0, slog.New(slog.NewTextHandler(&logs, nil)))
	u := e.Usage()
	if u["one"].Limit != 1 || u["two"].Limit != 2 || u["undeclared"].Limit != 400 {
		t.Fatalf("limits %+v", u)
	}

	// one: its only instance sleeps 3 s; a request meanwhile waits 200 ms (its
	// route's timeout) and gets the gateway's answer.
	done := make(chan int, 1)
	go func() {
		resp, err := http.Post(srv.URL+"/one/sleep", "text/plain", strings.NewReader("x"))
		if err != nil {
			done <- 0
			return
		}
		resp.Body.Close()
		done <- resp.StatusCode
	}()
	for e.Usage()["one"].Running == 0 {
		time.Sleep(5 * time.Millisecond)
	}
	resp := post(t, srv.URL+"/one/echo", "y")
	body, _ := io.ReadAll(resp.Body)
	id := resp.Header.Get("X-Request-Id")
	if resp.StatusCode != http.StatusGatewayTimeout || !strings.Contains(string(body), `"error_code":"APIG.0202"`) || id == "" || !strings.Contains(logs.String(), id) {
		t.Fatalf("request beyond the limit: status %d, body %s, request id %q", resp.StatusCode, body, id)
	}
	if code := <-done; code != 200 {
		t.Fatalf("the sleeping request: status %d", code)
	}
	if u := e.Usage()["one"]; u.Started != 1 || u.Peak != 1 || u.Waited != 1 || u.GaveUp != 1 {
		t.Fatalf("one: %+v; want one instance, one request waited and gave up", u)
	}
	// Once free, the instance serves again.
	if resp := post(t, srv.URL+"/one/echo", "z"); resp.StatusCode != 200 {
		t.Fatalf("after the wait: %d", resp.StatusCode)
	}

	// two: 30 concurrent requests share at most two instances.
	postConcurrently(t, srv.URL+"/two/echo", 30)
	if u := e.Usage()["two"]; u.Started > 2 || u.Peak > 2 || u.Started < 1 {
		t.Fatalf("two: %+v; want at most two instances", u)
	}
}

// TestMaxInstancesOverride: Options.MaxInstances (scripts/local -max-instances)
// replaces every function's limit.
func TestMaxInstancesOverride(t *testing.T) {
	t.Parallel()
	e, _ := limitsEmulator(t, 3, nil)
	for name, u := range e.Usage() {
		if u.Limit != 3 {
			t.Errorf("%s: limit %d, want 3", name, u.Limit)
		}
	}
}

// TestSetEnv: a configuration change reaches the next invocation in a new
// instance; the warm one is not reused.
func TestSetEnv(t *testing.T) {
	t.Parallel()
	e, srv := newEmulator(t)
	first := post(t, srv.URL+"/echo", "x")
	if first.Header.Get("X-Env") != "manifest|env" {
		t.Fatalf("environment %q", first.Header.Get("X-Env"))
	}
	if err := e.SetEnv("echo", "FROM_ENV", "changed"); err != nil {
		t.Fatal(err)
	}
	second := post(t, srv.URL+"/echo", "x")
	if second.Header.Get("X-Env") != "manifest|changed" || second.Header.Get("X-Pid") == first.Header.Get("X-Pid") {
		t.Fatalf("after SetEnv: environment %q in pid %s (before: pid %s)", second.Header.Get("X-Env"), second.Header.Get("X-Pid"), first.Header.Get("X-Pid"))
	}
	if err := e.SetEnv("nothing", "K", "v"); err == nil {
		t.Fatal("SetEnv of an unknown function succeeded")
	}
}

func copyFile(from, to string) error {
	b, err := os.ReadFile(from)
	if err != nil {
		return err
	}
	return os.WriteFile(to, b, 0o755)
}

package bench

import (
	"context"
	"fmt"
	"github.com/kgseller/kgseller/shared/tools/logbuf"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"time"

	"github.com/kgseller/kgseller/shared/tools/fglocal"
	"github.com/kgseller/kgseller/shared/tools/manifest"
)

// target is one binary the bench runs under the emulator.
type target struct {
	name     string
	manifest *manifest.Manifest
	binDir   string
	route    *manifest.Route // nil: invoked as its TIMER trigger
}

func (t *target) trigger() string {
	if t.route == nil {
		return "timer"
	}
	return t.route.Method + " " + t.route.Path
}

// helloManifest serves the hello baseline on one APIG route, with the memory and
// timeout of the real functions.
const helloManifest = `
service: bench
provider: {name: huawei, runtime: Custom, memorySize: 128, timeout: 10}
functions:
  hello:
    handler: bootstrap
    events:
      - triggerTypeCode: DEDICATEDGATEWAY
        eventData: {reqMethod: POST, path: /hello, timeout: 5000}
`

func helloTarget(b built) *target {
	m, err := manifest.Parse([]byte(helloManifest), nil)
	if err != nil {
		panic("bench: hello manifest: " + err.Error()) // a constant: cannot fail at run time
	}
	r := m.Routes()[0]
	return &target{name: helloName, manifest: m, binDir: b.helloDir, route: &r}
}

func functionTarget(m *manifest.Manifest, binDir, name string) *target {
	t := &target{name: name, manifest: m, binDir: binDir}
	if rs := m.RoutesOf(name); len(rs) > 0 {
		t.route = &rs[0]
	}
	return t
}

// timerEvent is the event of a TIMER trigger.
var timerEvent = []byte(`{"version":"v2.0","trigger_type":"TIMER","trigger_name":"bench","user_event":"{\"source\":\"timer\"}"}`)

// emulator starts an emulator for t whose function output goes to out.
func (t *target) emulator(env []string, maxInstances int, out io.Writer) (*fglocal.Emulator, error) {
	return fglocal.New(fglocal.Options{
		Manifest: t.manifest, BinDir: t.binDir, Env: env, MaxInstances: maxInstances,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), FunctionOutput: out,
	})
}

// request builds the invocation t's cold start is measured with: an empty body on
// its route, which every endpoint answers without the database (an unsigned
// request), or the timer event.
func (t *target) request() *http.Request {
	if t.route == nil {
		return nil
	}
	method := t.route.Method
	if method == "ANY" {
		method = http.MethodPost
	}
	var body io.Reader
	if method != http.MethodGet {
		body = strings.NewReader("{}")
	}
	return httptest.NewRequest(method, t.route.Path, body)
}

// invoke runs one invocation of t and returns its duration: an APIG request
// through the emulator's gateway, or a raw timer invocation.
func (t *target) invoke(ctx context.Context, e *fglocal.Emulator, req *http.Request) (time.Duration, *httptest.ResponseRecorder, error) {
	if t.route == nil {
		start := time.Now()
		_, err := e.Invoke(ctx, t.name, timerEvent)
		return time.Since(start), nil, err
	}
	if req == nil {
		req = t.request()
	}
	rec := httptest.NewRecorder()
	start := time.Now()
	e.ServeHTTP(rec, req.WithContext(ctx))
	d := time.Since(start)
	// The emulator names the request only when the function's answer was a valid
	// APIG response; its own errors (timeouts, crashes, bad answers) do not.
	if rec.Header().Get("X-Request-Id") == "" {
		return d, rec, fmt.Errorf("the emulator refused the answer: HTTP %d %s", rec.Code, strings.TrimSpace(rec.Body.String()))
	}
	return d, rec, nil
}

type coldResult struct {
	cold, warm time.Duration
	rss        int64
}

// coldStart starts a fresh emulator, so that the first invocation starts a new
// process, times that invocation and the one after it, and stops the process.
func (t *target) coldStart(ctx context.Context, env []string) (coldResult, error) {
	var r coldResult
	out := &logbuf.Buffer{}
	e, err := t.emulator(env, 1, out)
	if err != nil {
		return r, err
	}
	defer e.Close()
	if r.cold, _, err = t.invoke(ctx, e, nil); err != nil {
		return r, fmt.Errorf("cold invocation: %w", err)
	}
	if r.warm, _, err = t.invoke(ctx, e, nil); err != nil {
		return r, fmt.Errorf("warm invocation: %w", err)
	}
	r.rss = childPeakRSS(t.name)
	if line := errorLine(out.String()); line != "" {
		return r, fmt.Errorf("logged an error (its configuration is incomplete?): %.300s", line)
	}
	return r, nil
}

// errorLine returns the first line of function output logged at error level.
func errorLine(logs string) string {
	for _, l := range strings.Split(logs, "\n") {
		if strings.Contains(l, `"level":"ERROR"`) {
			return l
		}
	}
	return ""
}

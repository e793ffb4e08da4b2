package fgruntime

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
)

const signedBody = `{"activity":"newInstance","businessId":"87b94795-0603-4e24-8ae5-69420d60e3c8","orderId":"CS2211181819B4LVS","orderLineId":"CS2211181819B4LVS-000001","testFlag":"1"}`

func loadEvent(t *testing.T, name string) Event {
	t.Helper()
	raw, err := os.ReadFile("../../testdata/apig-events/" + name)
	if err != nil {
		t.Fatal(err)
	}
	var ev Event
	if err := json.Unmarshal(raw, &ev); err != nil {
		t.Fatalf("decoding %s: %v", name, err)
	}
	return ev
}

func TestEventFixtures(t *testing.T) {
	for _, name := range []string{"newinstance-signed-base64.json", "newinstance-signed-array-values.json"} {
		t.Run(name, func(t *testing.T) {
			req := loadEvent(t, name).Request()
			if req.Body != signedBody {
				t.Errorf("body = %q, want the decoded signed body", req.Body)
			}
			if req.IsBase64Encoded {
				t.Errorf("request still flagged base64 after decoding")
			}
			if got := Query(req, "signature"); got != "C3E0739F9F9AC29F41D171EBC4882300BB9B6BE2290F8EBD13D0B4E20F85B6D2" {
				t.Errorf("signature = %q", got)
			}
			if got := Query(req, "timestamp"); got != "1680508066618" {
				t.Errorf("timestamp = %q", got)
			}
			if got := Header(req, "Content-Type"); got != "application/json;charset=utf8" {
				t.Errorf("content-type = %q", got)
			}
			if req.RequestContext.Identity.SourceIP != "203.0.113.7" {
				t.Errorf("sourceIp = %q", req.RequestContext.Identity.SourceIP)
			}
			if req.HTTPMethod != "POST" || req.Path != "/saas/produce" {
				t.Errorf("method/path = %s %s", req.HTTPMethod, req.Path)
			}
			if req.RequestContext.RequestID != "8c5e0c3f1a2b4d5e6f708192a3b4c5d6" {
				t.Errorf("requestId = %q", req.RequestContext.RequestID)
			}
		})
	}
	arr := loadEvent(t, "newinstance-signed-array-values.json").Request()
	if got := Header(arr, "x-forwarded-for"); got != "203.0.113.7, 10.0.0.1" {
		t.Errorf("array header joined as %q", got)
	}
	if got := arr.MultiValueHeaders["x-forwarded-for"]; len(got) != 2 {
		t.Errorf("multi-value header = %v", got)
	}
}

func TestDocumentedExampleBodyIsPlain(t *testing.T) {
	// Huawei's documented example flags the body base64 but sends it plain.
	req := loadEvent(t, "documented-example.json").Request()
	if req.Body != `{"test":"body"}` {
		t.Errorf("body = %q", req.Body)
	}
	if Query(req, "responseType") != "html" || req.PathParameters["path"] != "value" {
		t.Errorf("query/path parameters lost: %v %v", req.QueryStringParameters, req.PathParameters)
	}
}

func TestValuesTolerance(t *testing.T) {
	var ev Event
	raw := `{"headers":{"A":1,"b":true,"c":null,"d":["x",2]},"queryStringParameters":null,"user_data":{"k":"v"},"isBase64Encoded":false,"body":"x"}`
	if err := json.Unmarshal([]byte(raw), &ev); err != nil {
		t.Fatal(err)
	}
	req := ev.Request()
	if req.Headers["a"] != "1" || req.Headers["b"] != "true" || req.Headers["d"] != "x, 2" || req.Headers["c"] != "" {
		t.Errorf("headers = %v", req.Headers)
	}
	if req.RequestContext.Authorizer[UserDataKey] != `{"k":"v"}` {
		t.Errorf("user_data = %v", req.RequestContext.Authorizer)
	}
	if err := json.Unmarshal([]byte(`{"headers":{"a":{"b":1}}}`), &ev); err == nil {
		t.Errorf("nested object header accepted")
	}
}

func TestResponseAlwaysHasFourKeys(t *testing.T) {
	out, err := json.Marshal(FromProxyResponse(events.APIGatewayProxyResponse{Body: "{}"}))
	if err != nil {
		t.Fatal(err)
	}
	r, err := ParseResponse(out)
	if err != nil {
		t.Fatalf("%s: %v", out, err)
	}
	if r.StatusCode != 200 || r.IsBase64Encoded {
		t.Errorf("defaults: %+v", r)
	}
	if !strings.Contains(string(out), `"isBase64Encoded":false`) || !strings.Contains(string(out), `"headers":{}`) {
		t.Errorf("response lacks explicit keys: %s", out)
	}
	// The events type itself drops the key; ParseResponse must notice.
	plain, _ := json.Marshal(events.APIGatewayProxyResponse{StatusCode: 200, Body: "{}"})
	if _, err := ParseResponse(plain); err == nil {
		t.Errorf("a response without isBase64Encoded was accepted")
	}
}

func TestMultiValueHeadersFolded(t *testing.T) {
	r := FromProxyResponse(events.APIGatewayProxyResponse{
		Headers:           map[string]string{"A": "1"},
		MultiValueHeaders: map[string][]string{"Vary": {"x", "y"}, "Set-Cookie": {"a=1", "b=2"}},
	})
	if r.Headers["Vary"] != "x, y" || r.Headers["Set-Cookie"] != "b=2" || r.Headers["A"] != "1" {
		t.Errorf("headers = %v", r.Headers)
	}
}

func TestDetectMode(t *testing.T) {
	env := func(m map[string]string) func(string) string { return func(k string) string { return m[k] } }
	cases := []struct {
		args []string
		env  map[string]string
		want Mode
	}{
		{nil, map[string]string{"AWS_LAMBDA_RUNTIME_API": "x", "RUNTIME_API_ADDR": "y"}, ModeLambda},
		{[]string{"-http"}, map[string]string{"RUNTIME_API_ADDR": "y"}, ModeHTTP},
		{nil, map[string]string{"FG_RUNTIME_MODE": "HTTP", "RUNTIME_API_ADDR": "y"}, ModeHTTP},
		{nil, map[string]string{"RUNTIME_API_ADDR": "127.0.0.1:1"}, ModeCustom},
		{nil, map[string]string{}, ModeHTTP},
	}
	for _, c := range cases {
		if got := DetectMode(c.args, env(c.env)); got != c.want {
			t.Errorf("DetectMode(%v, %v) = %s, want %s", c.args, c.env, got, c.want)
		}
	}
}

// fakeRuntimeAPI serves queued events on the FunctionGraph runtime API and records
// what the function posts back.
type fakeRuntimeAPI struct {
	mu      sync.Mutex
	events  [][]byte
	results map[string][]byte
	errors  map[string][]byte
	done    chan struct{}
	want    int
	served  int
}

func (f *fakeRuntimeAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	switch {
	case r.Method == http.MethodGet && r.URL.Path == "/v1/runtime/invocation/request":
		if len(f.events) == 0 {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		f.served++
		id := "req-" + itoa(f.served)
		w.Header().Set("X-Cff-Request-Id", id)
		w.Header().Set("X-Cff-Access-Key", "agency-ak")
		w.Header().Set("X-Cff-Secret-Key", "agency-sk")
		_, _ = w.Write(f.events[0])
		f.events = f.events[1:]
	case r.Method == http.MethodPost && strings.HasPrefix(r.URL.Path, "/v1/runtime/invocation/response/"):
		b, _ := io.ReadAll(r.Body)
		f.results[strings.TrimPrefix(r.URL.Path, "/v1/runtime/invocation/response/")] = b
		f.check()
	case r.Method == http.MethodPost && strings.HasPrefix(r.URL.Path, "/v1/runtime/invocation/error/"):
		b, _ := io.ReadAll(r.Body)
		f.errors[strings.TrimPrefix(r.URL.Path, "/v1/runtime/invocation/error/")] = b
		f.check()
	default:
		http.NotFound(w, r)
	}
}

func (f *fakeRuntimeAPI) check() {
	if len(f.results)+len(f.errors) == f.want {
		close(f.done)
	}
}

func TestRunCustomLoop(t *testing.T) {
	good, _ := os.ReadFile("../../testdata/apig-events/newinstance-signed-base64.json")
	panicky := []byte(`{"path":"/panic","httpMethod":"POST","body":""}`)
	failing := []byte(`{"path":"/fail","httpMethod":"POST","body":""}`)
	f := &fakeRuntimeAPI{events: [][]byte{good, panicky, failing}, results: map[string][]byte{}, errors: map[string][]byte{}, done: make(chan struct{}), want: 3}
	srv := httptest.NewServer(f)
	defer srv.Close()

	h := func(ctx context.Context, req events.APIGatewayProxyRequest) (events.APIGatewayProxyResponse, error) {
		if _, ok := ctx.Deadline(); !ok {
			t.Errorf("invocation has no deadline")
		}
		if inv, ok := InvocationFrom(ctx); !ok || inv.RequestID == "" || inv.Agency.AccessKey != "agency-ak" || inv.Agency.SecretKey != "agency-sk" {
			t.Errorf("invocation not in context: %+v", inv)
		} else if s := fmt.Sprintf("%v %+v %#v", inv.Agency, inv.Agency, inv.Agency); strings.Contains(s, "agency-sk") {
			t.Errorf("agency credentials printed: %s", s)
		}
		switch req.Path {
		case "/panic":
			panic("boom")
		case "/fail":
			return events.APIGatewayProxyResponse{}, errors.New("failed on purpose")
		}
		return events.APIGatewayProxyResponse{StatusCode: 200, Body: req.Body}, nil
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	errc := make(chan error, 1)
	go func() { errc <- RunCustom(ctx, strings.TrimPrefix(srv.URL, "http://"), APIGInvoker(h), 3*time.Second) }()
	select {
	case <-f.done:
	case <-time.After(10 * time.Second):
		t.Fatal("loop did not finish three invocations")
	}
	cancel()
	<-errc

	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.results) != 1 || len(f.errors) != 2 {
		t.Fatalf("results=%d errors=%d, want 1 and 2", len(f.results), len(f.errors))
	}
	for _, b := range f.results {
		r, err := ParseResponse(b)
		if err != nil {
			t.Fatal(err)
		}
		if r.Body != signedBody {
			t.Errorf("echoed body = %q", r.Body)
		}
	}
	for _, b := range f.errors {
		var e map[string]string
		if err := json.Unmarshal(b, &e); err != nil || e["errorMessage"] == "" {
			t.Errorf("error payload = %s", b)
		}
	}
}

// FuzzEvent checks the APIG event adapter never panics on arbitrary events and that
// a decoded request always has lower-case header names.
func FuzzEvent(f *testing.F) {
	for _, name := range []string{"documented-example.json", "newinstance-signed-base64.json", "newinstance-signed-array-values.json"} {
		b, err := os.ReadFile("../../testdata/apig-events/" + name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte(`{"headers":{"A":[1,[2]]},"isBase64Encoded":true,"body":"####"}`))
	f.Fuzz(func(t *testing.T, payload []byte) {
		inv := APIGInvoker(func(ctx context.Context, req events.APIGatewayProxyRequest) (events.APIGatewayProxyResponse, error) {
			for k := range req.Headers {
				if k != strings.ToLower(k) {
					t.Fatalf("header %q not lower-cased", k)
				}
			}
			return events.APIGatewayProxyResponse{Body: req.Body}, nil
		})
		out, err := inv(context.Background(), payload)
		if err != nil {
			return
		}
		if _, err := ParseResponse(out); err != nil {
			t.Fatalf("adapter produced an invalid answer: %v", err)
		}
	})
}

// TestStartRefusesHTTPMode: a function built without the HTTP-function mode and
// started without the custom runtime (by hand, or as an HTTP function) stops with
// a message saying how to run it, instead of serving nothing.
func TestStartRefusesHTTPMode(t *testing.T) {
	if os.Getenv("FGRUNTIME_START_CHILD") == "1" {
		Start(func(context.Context, events.APIGatewayProxyRequest) (events.APIGatewayProxyResponse, error) {
			return events.APIGatewayProxyResponse{StatusCode: 200}, nil
		})
		return
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestStartRefusesHTTPMode$")
	cmd.Env = append(os.Environ(), "FGRUNTIME_START_CHILD=1", "RUNTIME_API_ADDR=", "AWS_LAMBDA_RUNTIME_API=")
	out, err := cmd.CombinedOutput()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 1 || !strings.Contains(string(out), "scripts/local") {
		t.Fatalf("exit %v, output %s", err, out)
	}
}

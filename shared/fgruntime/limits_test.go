package fgruntime

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
)

// bigEvent is an APIG event whose base64 body makes it larger than the runtime's
// event limit, as the local gateway delivers a 7 MB body.
func bigEvent(t *testing.T, bodyBytes int) []byte {
	t.Helper()
	ev := map[string]any{
		"body":                  base64.StdEncoding.EncodeToString(bytes.Repeat([]byte("x"), bodyBytes)),
		"isBase64Encoded":       true,
		"httpMethod":            "POST",
		"path":                  "/big",
		"headers":               map[string]string{"x-test": "kept", "content-type": "application/json"},
		"queryStringParameters": map[string]string{"q": "1"},
		"requestContext":        map[string]string{"apiId": "a", "requestId": "apig-req-big", "stage": "RELEASE", "sourceIp": "192.0.2.7"},
	}
	b, err := json.Marshal(ev)
	if err != nil {
		t.Fatal(err)
	}
	if len(b) <= MaxEventBytes {
		t.Fatalf("event of %d bytes is within the limit", len(b))
	}
	return b
}

// sizeHandler answers 413 for a body over 1 MiB, echoing what it still knows.
func sizeHandler(ctx context.Context, req events.APIGatewayProxyRequest) (events.APIGatewayProxyResponse, error) {
	body, err := ReadBody(req, 1<<20)
	status := http.StatusOK
	if errors.Is(err, ErrBodyTooLarge) {
		status = http.StatusRequestEntityTooLarge
	}
	return events.APIGatewayProxyResponse{StatusCode: status, Headers: map[string]string{
		"X-Path": req.Path, "X-Test": Header(req, "x-test"), "X-Request": req.RequestContext.RequestID,
		"X-Query": Query(req, "q"), "X-Source": req.RequestContext.Identity.SourceIP, "X-Bytes": itoa(len(body)),
	}}, nil
}

// runLoop runs the custom-runtime loop with sizeHandler over events until each is
// answered (a result or an error posted) and returns what was posted.
func runLoop(t *testing.T, evs ...[]byte) *fakeRuntimeAPI {
	t.Helper()
	f := &fakeRuntimeAPI{events: evs, results: map[string][]byte{}, errors: map[string][]byte{}, done: make(chan struct{}), want: len(evs)}
	srv := httptest.NewServer(f)
	defer srv.Close()
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() {
		errc <- RunCustom(ctx, strings.TrimPrefix(srv.URL, "http://"), APIGInvoker(sizeHandler), 3*time.Second)
	}()
	defer func() { cancel(); <-errc }()
	select {
	case <-f.done:
	case <-time.After(20 * time.Second):
		f.mu.Lock()
		defer f.mu.Unlock()
		t.Fatalf("the loop answered %d of %d invocations: an event was dropped", len(f.results)+len(f.errors), len(evs))
	}
	return f
}

// TestOversizedEventIsAnswered: an event over the runtime's limit is answered by
// the handler (which sees ErrBodyTooLarge, and every other field of the event),
// never dropped; the loop then serves the next invocation.
func TestOversizedEventIsAnswered(t *testing.T) {
	small, _ := json.Marshal(map[string]any{"path": "/small", "httpMethod": "POST", "body": "hello"})
	f := runLoop(t, bigEvent(t, 7<<20), small)
	big, err := ParseResponse(f.results["req-1"])
	if err != nil {
		t.Fatalf("oversized event: %v (errors %s)", err, f.errors["req-1"])
	}
	if big.StatusCode != http.StatusRequestEntityTooLarge || big.Headers["X-Path"] != "/big" || big.Headers["X-Test"] != "kept" ||
		big.Headers["X-Request"] != "apig-req-big" || big.Headers["X-Query"] != "1" || big.Headers["X-Source"] != "192.0.2.7" {
		t.Fatalf("oversized event answered %d %v", big.StatusCode, big.Headers)
	}
	if next, err := ParseResponse(f.results["req-2"]); err != nil || next.StatusCode != 200 || next.Headers["X-Bytes"] != "5" {
		t.Fatalf("next invocation: %+v %v", next, err)
	}
}

// TestOversizedEventWithoutBodyFails: an event too large even without its body
// cannot be read; the runtime reports a function error for it instead of leaving
// the invocation unanswered.
func TestOversizedEventWithoutBodyFails(t *testing.T) {
	huge, _ := json.Marshal(map[string]any{"path": "/h", "headers": map[string]string{"x-pad": strings.Repeat("p", MaxEventBytes+10)}})
	f := runLoop(t, huge)
	if len(f.errors) != 1 || !strings.Contains(string(f.errors["req-1"]), "limit") {
		t.Fatalf("results %d, errors %v", len(f.results), f.errors)
	}
}

// TestDropBody: only the top-level body string is emptied, whatever it contains;
// the rest decodes as it was.
func TestDropBody(t *testing.T) {
	in := `{"headers":{"body":"header \"named\" body"},"body":"a\"b\\\\c\u0022}{,:[","path":"/p","nested":[{"body":"x"}],` +
		`"isBase64Encoded":false,"requestContext":{"requestId":"r-1"}}`
	out, dropped, err := dropBody(strings.NewReader(in), 1<<10)
	if err != nil {
		t.Fatal(err)
	}
	var got, want map[string]any
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatalf("%s: %v", out, err)
	}
	_ = json.Unmarshal([]byte(in), &want)
	want["body"] = ""
	g, _ := json.Marshal(got)
	w, _ := json.Marshal(want)
	if string(g) != string(w) || dropped != int64(len(`a\"b\\\\c\u0022}{,:[`)) {
		t.Fatalf("dropBody = %s (%d dropped), want %s", g, dropped, w)
	}
	for _, bad := range []string{`{"body":"unterminated`, `{"a":{"b":1}`, `{"pad":"` + strings.Repeat("x", 2000) + `"}`} {
		if _, _, err := dropBody(strings.NewReader(bad), 1<<10); err == nil {
			t.Errorf("%.40q: no error", bad)
		}
	}
}

// FuzzDropBody: dropBody never panics, and on a JSON object it returns a JSON
// object with the same keys, each value unchanged or a string emptied.
func FuzzDropBody(f *testing.F) {
	f.Add([]byte(`{"body":"eyJhIjoxfQ==","path":"/p","headers":{"body":"h"}}`))
	f.Add([]byte(`{"Body":"a\"b","requestContext":{"requestId":"r"},"x":[1,"body",{"body":"y"}]}`))
	f.Add([]byte(`{"body":null,"isBase64Encoded":true}`))
	f.Fuzz(func(t *testing.T, in []byte) {
		out, _, err := dropBody(bytes.NewReader(in), 1<<16)
		var before map[string]json.RawMessage
		if err != nil || json.Unmarshal(in, &before) != nil {
			return
		}
		var after map[string]json.RawMessage
		if err := json.Unmarshal(out, &after); err != nil {
			t.Fatalf("%q became %q: %v", in, out, err)
		}
		if len(after) != len(before) {
			t.Fatalf("%q became %q: keys differ", in, out)
		}
		for k, v := range before {
			var a, b any
			_ = json.Unmarshal(v, &b)
			_ = json.Unmarshal(after[k], &a)
			if _, isString := b.(string); !reflect.DeepEqual(a, b) && !(isString && a == "") {
				t.Fatalf("%q became %q: %s changed", in, out, k)
			}
		}
	})
}

package endpoint

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/kgseller/kgseller/shared/fgruntime/httpfn"
	"github.com/kgseller/kgseller/shared/kgsign"
	"github.com/kgseller/kgseller/shared/marketplace"
)

type memNonces struct {
	mu   sync.Mutex
	seen map[string]bool
	err  error
}

func (m *memNonces) RememberNonce(_ context.Context, scope, nonce string, _ time.Time, _ int) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.err != nil {
		return m.err
	}
	if m.seen[scope+"/"+nonce] {
		return marketplace.ErrReplay
	}
	m.seen[scope+"/"+nonce] = true
	return nil
}

func (m *memNonces) ForgetNonce(ctx context.Context, scope, nonce string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if err := ctx.Err(); err != nil {
		return err
	}
	delete(m.seen, scope+"/"+nonce)
	return nil
}

type fakeOp struct {
	run func(context.Context) (marketplace.Reply, error)
}

func (f fakeOp) Name() string { return "fake" }
func (f fakeOp) Run(ctx context.Context) (marketplace.Reply, error) {
	return f.run(ctx)
}

type echoReply struct {
	marketplace.Result
	Text string `json:"text"`
}

const key = "endpoint-test-key"

func handler(scheme Scheme, nonces *memNonces, run func(context.Context) (marketplace.Reply, error)) func(events.APIGatewayProxyRequest) events.APIGatewayProxyResponse {
	h := Handler(Config{
		Scope: "basic", Scheme: scheme, Verifier: &kgsign.Verifier{Keys: kgsign.MustKeySet(key)}, Nonces: nonces,
		Decode: func(body []byte) (Operation, error) {
			if string(body) == "bad" {
				return nil, marketplace.Errorf(marketplace.BadRequest, "invalid request parameter: bad")
			}
			return fakeOp{run: run}, nil
		},
		Logger: slog.New(slog.DiscardHandler),
	})
	return func(req events.APIGatewayProxyRequest) events.APIGatewayProxyResponse {
		resp, err := h(context.Background(), req)
		if err != nil {
			panic(err)
		}
		return resp
	}
}

func signed(body string, kit bool) events.APIGatewayProxyRequest {
	k := kgsign.NewKey([]byte(key), "t")
	ts := strconv.FormatInt(time.Now().UnixMilli(), 10)
	nonce := "n-" + strconv.FormatInt(time.Now().UnixNano(), 10)
	req := events.APIGatewayProxyRequest{Body: body, Headers: map[string]string{}, QueryStringParameters: map[string]string{}}
	if kit {
		req.Headers["x-sign"] = kgsign.KitSignature(k, nonce, ts, []byte(body), false)
		req.Headers["x-timestamp"], req.Headers["x-nonce"] = ts, nonce
	} else {
		req.QueryStringParameters["signature"] = kgsign.V2Signature(k, nonce, ts, []byte(body))
		req.QueryStringParameters["timestamp"], req.QueryStringParameters["nonce"] = ts, nonce
	}
	return req
}

func decode(t *testing.T, resp events.APIGatewayProxyResponse) map[string]any {
	t.Helper()
	if resp.StatusCode != 200 || resp.Headers["Content-Type"] != "application/json" {
		t.Fatalf("status %d headers %v", resp.StatusCode, resp.Headers)
	}
	if resp.Headers["Body-Sign"] != kgsign.BodySignHeader(kgsign.NewKey([]byte(key), "t"), []byte(resp.Body)) {
		t.Fatalf("Body-Sign does not verify: %v", resp.Headers)
	}
	var m map[string]any
	if err := json.Unmarshal([]byte(resp.Body), &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func ok(context.Context) (marketplace.Reply, error) {
	return echoReply{Result: marketplace.NewResult(marketplace.Success, ""), Text: "中文 ✓ 😀 <b>"}, nil
}

func TestAnswersAndAsciiJSON(t *testing.T) {
	h := handler(QuerySignature, &memNonces{seen: map[string]bool{}}, ok)
	resp := h(signed(`{}`, false))
	m := decode(t, resp)
	if m["resultCode"] != "000000" || m["text"] != "中文 ✓ 😀 <b>" {
		t.Fatalf("answer %v", m)
	}
	if !strings.Contains(resp.Body, `\u4e2d\u6587`) || !strings.Contains(resp.Body, `\ud83d\ude00`) {
		t.Fatalf("non-ASCII not escaped: %s", resp.Body)
	}
	if !strings.HasPrefix(resp.Body, `{"resultCode":"000000","resultMsg":"success."`) {
		t.Fatalf("resultCode must lead: %s", resp.Body)
	}
}

func TestKitScheme(t *testing.T) {
	h := handler(KitHeaders, &memNonces{seen: map[string]bool{}}, ok)
	if m := decode(t, h(signed(`{}`, true))); m["resultCode"] != "000000" {
		t.Fatalf("kit: %v", m)
	}
	if m := decode(t, h(signed(`{}`, false))); m["resultCode"] != "000001" {
		t.Fatalf("query-signed request accepted by a Kit endpoint: %v", m)
	}
}

func TestPanicAndInternalErrors(t *testing.T) {
	nonces := &memNonces{seen: map[string]bool{}}
	panicky := handler(QuerySignature, nonces, func(context.Context) (marketplace.Reply, error) { panic("boom") })
	if m := decode(t, panicky(signed(`{}`, false))); m["resultCode"] != "000005" {
		t.Fatalf("panic: %v", m)
	}
	failing := handler(QuerySignature, nonces, func(context.Context) (marketplace.Reply, error) {
		return nil, errors.New("dial tcp 10.0.0.5:3306: secret detail")
	})
	resp := failing(signed(`{}`, false))
	if m := decode(t, resp); m["resultCode"] != "000005" || strings.Contains(resp.Body, "10.0.0.5") {
		t.Fatalf("internal error leaked or wrong code: %s", resp.Body)
	}
	coded := handler(QuerySignature, nonces, func(context.Context) (marketplace.Reply, error) {
		return nil, marketplace.Errorf(marketplace.InstanceNotFound, "no such instance")
	})
	if m := decode(t, coded(signed(`{}`, false))); m["resultCode"] != "000003" {
		t.Fatalf("coded error: %v", m)
	}
	nonces.err = errors.New("database down")
	if m := decode(t, handler(QuerySignature, nonces, ok)(signed(`{}`, false))); m["resultCode"] != "000005" {
		t.Fatalf("nonce store outage: %v", m)
	}
}

func TestBadBodyAndReplay(t *testing.T) {
	nonces := &memNonces{seen: map[string]bool{}}
	h := handler(QuerySignature, nonces, ok)
	if m := decode(t, h(signed("bad", false))); m["resultCode"] != "000002" {
		t.Fatalf("bad body: %v", m)
	}
	if len(nonces.seen) != 0 {
		t.Fatalf("a rejected body stored its nonce")
	}
	req := signed(`{}`, false)
	decode(t, h(req))
	if m := decode(t, h(req)); m["resultCode"] != "000001" {
		t.Fatalf("replay: %v", m)
	}
	b64 := signed(`{}`, false)
	b64.IsBase64Encoded, b64.Body = true, "!!!"
	if m := decode(t, h(b64)); m["resultCode"] != "000002" {
		t.Fatalf("undecodable base64 body: %v", m)
	}
}

// TestRetryAfterInternalError: a request whose operation fails with 000005 (or
// panics) does not use up its nonce, so the marketplace's retry of the same signed
// request runs; once it has succeeded, a replay is refused again. An operation that
// answers another code has done its work and keeps its nonce.
func TestRetryAfterInternalError(t *testing.T) {
	nonces := &memNonces{seen: map[string]bool{}}
	var calls int
	var deadlineLeft time.Duration
	h := handler(KitHeaders, nonces, func(ctx context.Context) (marketplace.Reply, error) {
		calls++
		switch calls {
		case 1:
			d, _ := ctx.Deadline()
			deadlineLeft = time.Until(d)
			return nil, errors.New("store: saving kit departments: context deadline exceeded")
		case 2:
			panic("boom")
		}
		return ok(ctx)
	})
	req := signed(`{}`, true)
	for i, want := range []string{"000005", "000005", "000000", "000001", "000001"} {
		if m := decode(t, h(req)); m["resultCode"] != want {
			t.Fatalf("attempt %d: %v, want %s", i+1, m, want)
		}
	}
	if calls != 3 {
		t.Fatalf("operation ran %d times, want 3 (two failures, one success, no replay)", calls)
	}
	// The operation's budget leaves time to release the nonce within the request's.
	if deadlineLeft <= 0 || deadlineLeft > DefaultTimeout-nonceRelease {
		t.Fatalf("operation deadline %v ahead, want at most %v", deadlineLeft, DefaultTimeout-nonceRelease)
	}

	for _, code := range []marketplace.Code{marketplace.InstanceNotFound, marketplace.BadRequest, marketplace.Processing} {
		coded := handler(KitHeaders, nonces, func(context.Context) (marketplace.Reply, error) {
			return nil, marketplace.Errorf(code, "answered")
		})
		req := signed(`{}`, true)
		if m := decode(t, coded(req)); m["resultCode"] != string(code) {
			t.Fatalf("%s: %v", code, m)
		}
		if m := decode(t, coded(req)); m["resultCode"] != "000001" {
			t.Fatalf("replay after %s: %v, want 000001", code, m)
		}
	}
}

func TestV1Recognised(t *testing.T) {
	h := handler(QuerySignature, &memNonces{seen: map[string]bool{}}, ok)
	params := url.Values{"activity": {"newInstance"}, "orderId": {"CS1"}, "timeStamp": {"20200727073711903"}}
	params.Set("authToken", kgsign.V1AuthToken(kgsign.NewKey([]byte(key), "t"), "20200727073711903", kgsign.V1Message(params)))
	req := events.APIGatewayProxyRequest{HTTPMethod: "GET", QueryStringParameters: map[string]string{}}
	for k := range params {
		req.QueryStringParameters[k] = params.Get(k)
	}
	m := decode(t, h(req))
	if m["resultCode"] != "000002" || !strings.Contains(m["resultMsg"].(string), "V1") {
		t.Fatalf("signed V1 call: %v", m)
	}
	req.QueryStringParameters["orderId"] = "CS2"
	if m := decode(t, h(req)); m["resultCode"] != "000001" {
		t.Fatalf("forged V1 call: %v", m)
	}
}

func TestMisconfigured(t *testing.T) {
	h := Misconfigured(kgsign.MustKeySet(key), errors.New("configuration: missing required setting(s): DB_DSN"), slog.New(slog.DiscardHandler))
	resp, err := h(context.Background(), events.APIGatewayProxyRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if m := decode(t, resp); m["resultCode"] != "000005" {
		t.Fatalf("misconfigured: %v", m)
	}
	// Without any key the answer keeps its shape, unsigned.
	resp, _ = Misconfigured(kgsign.KeySet{}, errors.New("x"), slog.New(slog.DiscardHandler))(context.Background(), events.APIGatewayProxyRequest{})
	if resp.StatusCode != 200 || !strings.Contains(resp.Body, `"000005"`) {
		t.Fatalf("keyless misconfigured answer: %+v", resp)
	}
}

func TestASCIIJSONRoundTrip(t *testing.T) {
	for _, s := range []string{"plain", "é", "中文", "😀x😀", "\u2028", "混合 mixed 😀"} {
		b, _ := json.Marshal(map[string]string{"v": s})
		out := asciiJSON(b)
		for _, c := range out {
			if c > 127 {
				t.Fatalf("%q: non-ASCII output %s", s, out)
			}
		}
		var back map[string]string
		if err := json.Unmarshal(out, &back); err != nil || back["v"] != s {
			t.Fatalf("%q: round trip %q %v", s, back["v"], err)
		}
	}
}

func TestOversizedHeaders(t *testing.T) {
	nonces := &memNonces{seen: map[string]bool{}}
	h := handler(QuerySignature, nonces, ok)
	req := signed(`{}`, false)
	req.Headers["x-padding"] = strings.Repeat("p", MaxHeaderBytes)
	if m := decode(t, h(req)); m["resultCode"] != "000002" {
		t.Fatalf("oversized headers: %v", m)
	}
	if len(nonces.seen) != 0 {
		t.Fatalf("oversized request stored a nonce")
	}
}

// TestBodyDroppedByTheRuntime: a body the runtime could not keep (its event was
// over the runtime's limit) answers 000002 in the signed shape, with nothing stored.
func TestBodyDroppedByTheRuntime(t *testing.T) {
	nonces := &memNonces{seen: map[string]bool{}}
	h := handler(QuerySignature, nonces, ok)
	signedReq := signed(strings.Repeat("x", 64), false)
	r := httptest.NewRequest(http.MethodPost, "/saas/produce?"+url.Values{
		"signature": {signedReq.QueryStringParameters["signature"]}, "timestamp": {signedReq.QueryStringParameters["timestamp"]},
		"nonce": {signedReq.QueryStringParameters["nonce"]}}.Encode(), strings.NewReader(strings.Repeat("x", 64)))
	req, err := httpfn.RequestFromHTTP(r, 16, false)
	if err != nil {
		t.Fatal(err)
	}
	if m := decode(t, h(req)); m["resultCode"] != "000002" || !strings.Contains(m["resultMsg"].(string), "exceeds") {
		t.Fatalf("dropped body: %v", m)
	}
	if len(nonces.seen) != 0 {
		t.Fatalf("a dropped body stored its nonce")
	}
}

// expiryNonces records the expiry each nonce is stored with.
type expiryNonces struct {
	memNonces
	expires map[string]time.Time
}

func (m *expiryNonces) RememberNonce(ctx context.Context, scope, nonce string, exp time.Time, purge int) error {
	m.mu.Lock()
	m.expires[nonce] = exp
	m.mu.Unlock()
	return m.memNonces.RememberNonce(ctx, scope, nonce, exp, purge)
}

// TestSignatureToleranceLogged: a request signed over the canonical form of its body
// with a plain SHA-256 inner digest, stamped minutes ahead of the clock, is served;
// the log line says what matched, and the nonce is kept at least until the timestamp
// leaves the window.
func TestSignatureToleranceLogged(t *testing.T) {
	var logs strings.Builder
	nonces := &expiryNonces{memNonces: memNonces{seen: map[string]bool{}}, expires: map[string]time.Time{}}
	ver := &kgsign.Verifier{Keys: kgsign.MustKeySet(key)}
	h := Handler(Config{Scope: "basic", Verifier: ver, Nonces: nonces,
		Decode: func([]byte) (Operation, error) { return fakeOp{run: ok}, nil },
		Logger: slog.New(slog.NewJSONHandler(&logs, nil))})
	body := `{ "testFlag": 1, "activity": "queryInstance", "instanceId": "i-1" }`
	canon, err := kgsign.CanonicalBasic([]byte(body))
	if err != nil {
		t.Fatal(err)
	}
	ahead := time.Now().Add(4 * time.Minute)
	ts := strconv.FormatInt(ahead.UnixMilli(), 10)
	sig := kgsign.V2SignatureDigest(kgsign.NewKey([]byte(key), "t"), "n-ahead", ts, canon, kgsign.DigestSHA256)
	resp, err := h(context.Background(), events.APIGatewayProxyRequest{Body: body,
		QueryStringParameters: map[string]string{"signature": sig, "timestamp": ts, "nonce": "n-ahead"}})
	if err != nil {
		t.Fatal(err)
	}
	if m := decode(t, resp); m["resultCode"] != "000000" {
		t.Fatalf("answer %v", m)
	}
	if !strings.Contains(logs.String(), `"signed":"canonical/sha256"`) {
		t.Errorf("log does not say what matched: %s", logs.String())
	}
	past, _ := ver.Window()
	if exp := nonces.expires["n-ahead"]; exp.Before(ahead.Add(past)) {
		t.Errorf("nonce expires %v, before the timestamp %v leaves the window", exp, ahead)
	}
}

// TestDatabaseBusy: a database at its connection limit (marketplace.ErrBusy, when
// the nonce is taken or during the operation) answers 000005 in the documented
// shape, and the request line is a warning: the store logs the burst itself, once,
// so a burst of refused calls does not become a burst of error lines.
func TestDatabaseBusy(t *testing.T) {
	busy := fmt.Errorf("store: remembering nonce: %w: Error 1040: Too many connections", marketplace.ErrBusy)
	for name, c := range map[string]struct {
		nonceErr error
		opErr    error
	}{
		"nonce":     {nonceErr: busy},
		"operation": {opErr: fmt.Errorf("store: reading instance: %w", busy)},
	} {
		t.Run(name, func(t *testing.T) {
			var logs strings.Builder
			nonces := &memNonces{seen: map[string]bool{}, err: c.nonceErr}
			h := Handler(Config{Scope: "basic", Verifier: &kgsign.Verifier{Keys: kgsign.MustKeySet(key)}, Nonces: nonces,
				Decode: func([]byte) (Operation, error) {
					return fakeOp{run: func(context.Context) (marketplace.Reply, error) { return nil, c.opErr }}, nil
				},
				Logger: slog.New(slog.NewJSONHandler(&logs, nil))})
			resp, err := h(context.Background(), signed(`{}`, false))
			if err != nil {
				t.Fatal(err)
			}
			if m := decode(t, resp); m["resultCode"] != "000005" || strings.Contains(resp.Body, "1040") {
				t.Fatalf("answer %s", resp.Body)
			}
			if !strings.Contains(logs.String(), `"level":"WARN"`) || strings.Contains(logs.String(), `"level":"ERROR"`) ||
				!strings.Contains(logs.String(), `"resultCode":"000005"`) {
				t.Fatalf("request line: %s", logs.String())
			}
			// An operation that met a busy database gives its nonce back: the retry runs.
			if c.opErr != nil && len(nonces.seen) != 0 {
				t.Fatalf("nonce kept: %v", nonces.seen)
			}
		})
	}
}

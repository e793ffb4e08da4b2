package sellerapi_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/kgseller/kgseller/shared/endpoint"
	"github.com/kgseller/kgseller/shared/kgsign"
	"github.com/kgseller/kgseller/shared/marketplace"
	"github.com/kgseller/kgseller/shared/provision"
	"github.com/kgseller/kgseller/shared/saas"
	"github.com/kgseller/kgseller/shared/secretbox"
	"github.com/kgseller/kgseller/shared/sellerapi"
	"github.com/kgseller/kgseller/shared/sellerhook"
	"github.com/kgseller/kgseller/shared/store"
	"github.com/kgseller/kgseller/shared/tools/dbtest"
)

type env struct {
	t       *testing.T
	st      *store.Store
	svc     *sellerapi.Service
	secrets sellerhook.Secrets
	box     *secretbox.Box
}

func newEnv(t *testing.T) *env {
	st, _ := dbtest.Open(t)
	secrets, _ := sellerhook.NewSecrets("hook-secret")
	key, _ := secretbox.NewKey()
	box, _ := secretbox.New(key)
	return &env{t: t, st: st, secrets: secrets, box: box,
		svc: &sellerapi.Service{Store: st, Secrets: secrets, Box: box, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}}
}

func (e *env) post(h func(context.Context, events.APIGatewayProxyRequest) (events.APIGatewayProxyResponse, error), body string, sign bool) (int, map[string]any) {
	e.t.Helper()
	signature := ""
	if sign {
		signature = e.secrets.Sign([]byte(body), time.Now())
	}
	return e.send(h, body, signature)
}

// query runs queryInstance through the signed endpoint, as the marketplace would.
func (e *env) query(id string, encrypt kgsign.EncryptType) map[string]any {
	e.t.Helper()
	svc := &saas.Service{Store: e.st, Provisioner: provision.Static{FrontEndURL: "x"}, Box: e.box, EncryptType: encrypt}
	h := endpoint.Handler(endpoint.Config{Scope: "basic", Verifier: &kgsign.Verifier{Keys: kgsign.MustKeySet("mkt-key")}, Nonces: e.st, Decode: svc.Decode,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	body := `{"activity":"queryInstance","instanceId":"` + id + `"}`
	ts := strconv.FormatInt(time.Now().UnixMilli(), 10)
	nonce := "n" + strconv.FormatInt(time.Now().UnixNano(), 10)
	resp, _ := h(context.Background(), events.APIGatewayProxyRequest{Body: body, QueryStringParameters: map[string]string{
		"signature": kgsign.V2Signature(kgsign.NewKey([]byte("mkt-key"), ""), nonce, ts, []byte(body)), "timestamp": ts, "nonce": nonce,
	}})
	var m map[string]any
	_ = json.Unmarshal([]byte(resp.Body), &m)
	return m
}

func (e *env) pending(id string) {
	if _, err := e.st.CreateInstance(context.Background(), marketplace.Instance{InstanceID: id, OrderID: "CS-" + id, OrderLineID: "CS-" + id + "-1", BusinessID: id}); err != nil {
		e.t.Fatal(err)
	}
}

func TestCallbackCompletesOnce(t *testing.T) {
	e := newEnv(t)
	e.pending("i-cb")
	h := e.svc.CallbackHandler()
	body := `{"instanceId":"i-cb","appInfo":{"frontEndUrl":"https://app/i-cb","userName":"admin","password":"S3cret!"}}`
	if status, m := e.post(h, body, true); status != 200 || m["changed"] != true {
		t.Fatalf("first callback: %d %v", status, m)
	}
	if status, m := e.post(h, `{"instanceId":"i-cb","appInfo":{"frontEndUrl":"https://other"}}`, true); status != 200 || m["changed"] != false {
		t.Fatalf("repeated callback: %d %v", status, m)
	}
	q := e.query("i-cb", "")
	app := q["info"].([]any)[0].(map[string]any)["appInfo"].(map[string]any)
	if app["frontEndUrl"] != "https://app/i-cb" || app["password"] != "S3cret!" {
		t.Fatalf("query after callback: %v", q)
	}
	// Encrypted credentials decrypt with the marketplace key that signed the query.
	q = e.query("i-cb", kgsign.AES256)
	app = q["info"].([]any)[0].(map[string]any)["appInfo"].(map[string]any)
	key := kgsign.NewKey([]byte("mkt-key"), "")
	if q["encryptType"] != "1" {
		t.Fatalf("encryptType %v", q["encryptType"])
	}
	for field, want := range map[string]string{"userName": "admin", "password": "S3cret!"} {
		enc := app[field].(string)
		if plain, err := kgsign.DecryptField(key, kgsign.AES256, enc); err != nil || plain != want || len(enc) > 128 {
			t.Fatalf("%s %q decrypts to %q, %v", field, enc, plain, err)
		}
	}
}

func TestCallbackFailureAndErrors(t *testing.T) {
	e := newEnv(t)
	e.pending("i-f")
	h := e.svc.CallbackHandler()
	if status, _ := e.post(h, `{"instanceId":"i-f","failed":{"resultCode":"000106","reason":"sold out"}}`, true); status != 200 {
		t.Fatalf("failed callback: %d", status)
	}
	inst, _ := e.st.Instance(context.Background(), "i-f")
	if inst.State != marketplace.Failed || inst.FailCode != marketplace.SoldOut {
		t.Fatalf("instance %+v", inst)
	}
	for name, c := range map[string]struct {
		body   string
		sign   bool
		status int
	}{
		"unsigned":       {`{"instanceId":"i-f","appInfo":{"frontEndUrl":"https://app.example.com/"}}`, false, 401},
		"unknown":        {`{"instanceId":"nope","appInfo":{"frontEndUrl":"https://app.example.com/"}}`, true, 404},
		"both":           {`{"instanceId":"i-f","appInfo":{"frontEndUrl":"https://app.example.com/"},"failed":{}}`, true, 400},
		"neither":        {`{"instanceId":"i-f"}`, true, 400},
		"no frontEndUrl": {`{"instanceId":"i-f","appInfo":{"adminUrl":"x"}}`, true, 400},
		"long url":       {`{"instanceId":"i-f","appInfo":{"frontEndUrl":"` + strings.Repeat("u", 513) + `"}}`, true, 400},
		"not json":       {`{`, true, 400},
	} {
		if status, m := e.post(h, c.body, c.sign); status != c.status {
			t.Errorf("%s: %d %v, want %d", name, status, m, c.status)
		}
	}
}

func TestUsageReports(t *testing.T) {
	e := newEnv(t)
	e.pending("i-u")
	if _, err := e.st.CompleteByCallback(context.Background(), "i-u", &marketplace.AppInfo{FrontEndURL: "https://x"}, "", nil); err != nil {
		t.Fatal(err)
	}
	h := e.svc.UsageHandler()
	for _, body := range []string{
		`{"instanceId":"i-u","usageValue":12.5,"statisticalTime":"20300101000000000"}`,
		`{"instanceId":"i-u","usageValue":"99.1234","statisticalTime":"20300102000000123","dashboardUrl":"https://dash"}`,
		// An older report arrives late: it must not move usage backwards.
		`{"instanceId":"i-u","usageValue":1,"statisticalTime":"20291231000000000"}`,
		`{"instanceId":"i-u","usageValue":3,"relatedInstanceId":"pkg-1","statisticalTime":"20300102000000000"}`,
	} {
		if status, m := e.post(h, body, true); status != 200 {
			t.Fatalf("%s: %d %v", body, status, m)
		}
	}
	q := e.query("i-u", "")
	usage := q["info"].([]any)[0].(map[string]any)["usageInfo"].([]any)
	if len(usage) != 2 {
		t.Fatalf("usageInfo %v", usage)
	}
	main := usage[0].(map[string]any)
	if main["usageValue"] != 99.1234 || main["statisticalTime"] != "20300102000000123" || main["dashboardUrl"] != "https://dash" {
		t.Fatalf("usage %v", main)
	}
	pkg := usage[1].(map[string]any)
	if pkg["relatedInstanceId"] != "pkg-1" || pkg["usageValue"] != float64(3) {
		t.Fatalf("package usage %v", pkg)
	}
	for _, bad := range []string{
		`{"instanceId":"i-u","usageValue":1.23456}`,
		`{"instanceId":"i-u","usageValue":-1}`,
		`{"instanceId":"i-u","usageValue":123456789}`,
		`{"instanceId":"i-u","usageValue":1e3}`,
		`{"instanceId":"i-u"}`,
		`{"instanceId":"i-u","usageValue":1,"statisticalTime":"2030"}`,
	} {
		if status, _ := e.post(h, bad, true); status != 400 {
			t.Errorf("%s: status %d, want 400", bad, status)
		}
	}
	if status, _ := e.post(h, `{"instanceId":"ghost","usageValue":1}`, true); status != 404 {
		t.Errorf("unknown instance: %d", status)
	}
}

// send posts body with a given KG-Signature header.
func (e *env) send(h func(context.Context, events.APIGatewayProxyRequest) (events.APIGatewayProxyResponse, error), body, signature string) (int, map[string]any) {
	e.t.Helper()
	resp, err := h(context.Background(), events.APIGatewayProxyRequest{HTTPMethod: "POST", Body: body,
		Headers: map[string]string{"kg-signature": signature}, RequestContext: events.APIGatewayProxyRequestContext{RequestID: "req-test"}})
	if err != nil {
		e.t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal([]byte(resp.Body), &m); err != nil {
		e.t.Fatalf("body %q: %v", resp.Body, err)
	}
	return resp.StatusCode, m
}

func (e *env) usageValue(id string) any {
	e.t.Helper()
	q := e.query(id, "")
	info, _ := q["info"].([]any)
	if len(info) == 0 {
		e.t.Fatalf("query %s: %v", id, q)
	}
	usage, _ := info[0].(map[string]any)["usageInfo"].([]any)
	if len(usage) != 1 {
		e.t.Fatalf("usageInfo %v", usage)
	}
	return usage[0].(map[string]any)["usageValue"]
}

// TestReplayedUsageReportRefused: a captured usage report sent again within the
// signature's tolerance is refused, and a report without statisticalTime counts
// at the time it was signed, so neither a replay nor a late delivery moves usage
// back (100 → 150 must not return to 100).
func TestReplayedUsageReportRefused(t *testing.T) {
	e := newEnv(t)
	e.pending("i-rp")
	if _, err := e.st.CompleteByCallback(context.Background(), "i-rp", &marketplace.AppInfo{FrontEndURL: "https://x"}, "", nil); err != nil {
		t.Fatal(err)
	}
	clock := time.Now()
	e.svc.Now = func() time.Time { return clock }
	h := e.svc.UsageHandler()

	first := `{"instanceId":"i-rp","usageValue":100}`
	firstSig := e.secrets.Sign([]byte(first), clock)
	if status, m := e.send(h, first, firstSig); status != 200 {
		t.Fatalf("first report: %d %v", status, m)
	}
	clock = clock.Add(2 * time.Second)
	second := `{"instanceId":"i-rp","usageValue":150}`
	if status, m := e.send(h, second, e.secrets.Sign([]byte(second), clock)); status != 200 {
		t.Fatalf("second report: %d %v", status, m)
	}
	clock = clock.Add(2 * time.Second)
	status, m := e.send(h, first, firstSig)
	if status != 401 {
		t.Errorf("replayed report: %d %v, want 401", status, m)
	}
	if v := e.usageValue("i-rp"); v != float64(150) {
		t.Fatalf("usage after the replay: %v, want 150", v)
	}

	// Two reports signed in order but delivered in reverse: the later-signed one
	// stays, as the signature's timestamp is the report's statistical time.
	clock = clock.Add(10 * time.Second)
	older := `{"instanceId":"i-rp","usageValue":160}`
	olderSig := e.secrets.Sign([]byte(older), clock)
	clock = clock.Add(time.Second)
	newer := `{"instanceId":"i-rp","usageValue":170}`
	if status, m := e.send(h, newer, e.secrets.Sign([]byte(newer), clock)); status != 200 {
		t.Fatalf("newer report: %d %v", status, m)
	}
	clock = clock.Add(time.Second)
	if status, m := e.send(h, older, olderSig); status != 200 {
		t.Fatalf("older report delivered late: %d %v (accepted and ignored)", status, m)
	}
	if v := e.usageValue("i-rp"); v != float64(170) {
		t.Fatalf("usage after a late older report: %v, want 170", v)
	}
}

// TestRetryAfterServerError: a report that fails on the server side (500) gives
// its signature back, so the application's retry of the same signed bytes is
// recorded; sending it once more after that success is a replay.
func TestRetryAfterServerError(t *testing.T) {
	e := newEnv(t)
	e.pending("i-re")
	if _, err := e.st.CompleteByCallback(context.Background(), "i-re", &marketplace.AppInfo{FrontEndURL: "https://x"}, "", nil); err != nil {
		t.Fatal(err)
	}
	h := e.svc.UsageHandler()
	body := `{"instanceId":"i-re","usageValue":42}`
	sig := e.secrets.Sign([]byte(body), time.Now())
	rename := func(from, to string) {
		t.Helper()
		if _, err := e.st.DB().Exec("RENAME TABLE " + from + " TO " + to); err != nil {
			t.Fatal(err)
		}
	}
	rename("instance_usage", "instance_usage_away")
	status, m := e.send(h, body, sig)
	rename("instance_usage_away", "instance_usage")
	if status != 500 {
		t.Fatalf("report into a missing table: %d %v, want 500", status, m)
	}
	if status, m := e.send(h, body, sig); status != 200 {
		t.Fatalf("retry of the same signed report after a 500: %d %v, want 200", status, m)
	}
	if v := e.usageValue("i-re"); v != float64(42) {
		t.Fatalf("usage after the retry: %v, want 42", v)
	}
	if status, _ := e.send(h, body, sig); status != 401 {
		t.Fatalf("replay after success: %d, want 401", status)
	}
}

// TestReplayedCallbackRefused: the same signed callback twice is a replay.
func TestReplayedCallbackRefused(t *testing.T) {
	e := newEnv(t)
	e.pending("i-rc")
	h := e.svc.CallbackHandler()
	body := `{"instanceId":"i-rc","failed":{"resultCode":"000106","reason":"sold out"}}`
	sig := e.secrets.Sign([]byte(body), time.Now())
	if status, m := e.send(h, body, sig); status != 200 || m["changed"] != true {
		t.Fatalf("callback: %d %v", status, m)
	}
	if status, m := e.send(h, body, sig); status != 401 {
		t.Fatalf("replayed callback: %d %v, want 401", status, m)
	}
}

const hostile = "no capacity\x1b[2J\x1b]0;owned\x07\u009b31m \u202Eevil\u202C\r\nnext"

// inert reports a control character, an escape sequence's ESC or a bidi
// override left in s.
func inert(t *testing.T, what, s string) {
	t.Helper()
	if strings.ContainsAny(s, "\x1b\a\r\n\u009b\u202e\u202c") {
		t.Errorf("%s keeps control characters: %q", what, s)
	}
}

// TestCallbackReasonIsInert: a failure reason from the application is stored and
// answered to the marketplace without control characters.
func TestCallbackReasonIsInert(t *testing.T) {
	e := newEnv(t)
	e.pending("i-esc")
	reason, _ := json.Marshal(hostile)
	body := `{"instanceId":"i-esc","failed":{"resultCode":"000100","reason":` + string(reason) + `}}`
	if status, m := e.post(e.svc.CallbackHandler(), body, true); status != 200 {
		t.Fatalf("callback: %d %v", status, m)
	}
	inst, err := e.st.Instance(context.Background(), "i-esc")
	if err != nil {
		t.Fatal(err)
	}
	inert(t, "stored reason", inst.FailReason)
	if !strings.Contains(inst.FailReason, "no capacity") {
		t.Errorf("stored reason lost its text: %q", inst.FailReason)
	}
	q := e.query("i-esc", "")
	msg, _ := q["resultMsg"].(string)
	if q["resultCode"] != "000100" {
		t.Fatalf("query of the failed instance: %v", q)
	}
	inert(t, "resultMsg", msg)
}

// TestApplicationURLsMustBeHTTPS: the URLs the application hands over are refused
// with a clear 400 unless they are absolute https URLs (http only when allowed).
func TestApplicationURLsMustBeHTTPS(t *testing.T) {
	e := newEnv(t)
	e.pending("i-url")
	if _, err := e.st.CompleteByCallback(context.Background(), "i-url", &marketplace.AppInfo{FrontEndURL: "https://x"}, "", nil); err != nil {
		t.Fatal(err)
	}
	e.pending("i-url2")
	cb, usage := e.svc.CallbackHandler(), e.svc.UsageHandler()
	for _, c := range []struct {
		h     func(context.Context, events.APIGatewayProxyRequest) (events.APIGatewayProxyResponse, error)
		body  string
		field string
	}{
		{cb, `{"instanceId":"i-url2","appInfo":{"frontEndUrl":"javascript:alert(document.cookie)"}}`, "frontEndUrl"},
		{cb, `{"instanceId":"i-url2","appInfo":{"frontEndUrl":"//evil.example.com/"}}`, "frontEndUrl"},
		{cb, `{"instanceId":"i-url2","appInfo":{"frontEndUrl":"http://app.example.com/"}}`, "frontEndUrl"},
		{cb, `{"instanceId":"i-url2","appInfo":{"frontEndUrl":"https://app.example.com/","adminUrl":"file:///etc/passwd"}}`, "adminUrl"},
		{usage, `{"instanceId":"i-url","usageValue":1,"dashboardUrl":"javascript:alert(1)"}`, "dashboardUrl"},
		{usage, `{"instanceId":"i-url","usageValue":1,"dashboardUrl":"http://dash.example.com/"}`, "dashboardUrl"},
	} {
		status, m := e.post(c.h, c.body, true)
		msg, _ := m["error"].(string)
		if status != 400 || !strings.Contains(msg, c.field) || !strings.Contains(msg, "https") {
			t.Errorf("%s: %d %v, want 400 naming %s", c.body, status, m, c.field)
		}
	}
	if inst, _ := e.st.Instance(context.Background(), "i-url2"); inst.State != marketplace.Provisioning {
		t.Fatalf("a refused callback changed the instance: %+v", inst)
	}
	// The local run allows http.
	e.svc.AllowHTTP = true
	if status, m := e.post(e.svc.UsageHandler(), `{"instanceId":"i-url","usageValue":2,"dashboardUrl":"http://127.0.0.1:8080/d"}`, true); status != 200 {
		t.Fatalf("http dashboard where allowed: %d %v", status, m)
	}
}

// TestOversizedBody: a body over 64 KiB answers 413 in the seller API's shape.
func TestOversizedBody(t *testing.T) {
	e := newEnv(t)
	for _, h := range []func(context.Context, events.APIGatewayProxyRequest) (events.APIGatewayProxyResponse, error){
		e.svc.CallbackHandler(), e.svc.UsageHandler()} {
		status, m := e.post(h, `{"instanceId":"`+strings.Repeat("i", sellerapi.MaxBody)+`"}`, true)
		if status != 413 || m["error"] == nil {
			t.Errorf("oversized body: %d %v, want 413", status, m)
		}
	}
}

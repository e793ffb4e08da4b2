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

	"github.com/kgseller/kgseller/shared/dbtest"
	"github.com/kgseller/kgseller/shared/endpoint"
	"github.com/kgseller/kgseller/shared/kgsign"
	"github.com/kgseller/kgseller/shared/marketplace"
	"github.com/kgseller/kgseller/shared/produce"
	"github.com/kgseller/kgseller/shared/provision"
	"github.com/kgseller/kgseller/shared/secretbox"
	"github.com/kgseller/kgseller/shared/sellerapi"
	"github.com/kgseller/kgseller/shared/sellerhook"
	"github.com/kgseller/kgseller/shared/store"
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
	req := events.APIGatewayProxyRequest{HTTPMethod: "POST", Body: body, Headers: map[string]string{}}
	if sign {
		req.Headers["kg-signature"] = e.secrets.Sign([]byte(body), time.Now())
	}
	resp, err := h(context.Background(), req)
	if err != nil {
		e.t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal([]byte(resp.Body), &m); err != nil {
		e.t.Fatalf("body %q: %v", resp.Body, err)
	}
	return resp.StatusCode, m
}

// query runs queryInstance through the signed endpoint, as the marketplace would.
func (e *env) query(id string, encrypt kgsign.EncryptType) map[string]any {
	e.t.Helper()
	svc := &produce.Service{Store: e.st, Provisioner: provision.Static{FrontEndURL: "x"}, Box: e.box, EncryptType: encrypt}
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
		"unsigned":       {`{"instanceId":"i-f","appInfo":{"frontEndUrl":"x"}}`, false, 401},
		"unknown":        {`{"instanceId":"nope","appInfo":{"frontEndUrl":"x"}}`, true, 404},
		"both":           {`{"instanceId":"i-f","appInfo":{"frontEndUrl":"x"},"failed":{}}`, true, 400},
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

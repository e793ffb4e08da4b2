package wire_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/kgseller/kgseller/shared/aksk"
	"github.com/kgseller/kgseller/shared/config"
	"github.com/kgseller/kgseller/shared/fakes/fakemkt"
	"github.com/kgseller/kgseller/shared/fgruntime"
	"github.com/kgseller/kgseller/shared/fgruntime/httpfn"
	"github.com/kgseller/kgseller/shared/kgsign"
	"github.com/kgseller/kgseller/shared/license"
	"github.com/kgseller/kgseller/shared/licensefile"
	"github.com/kgseller/kgseller/shared/openapi"
	"github.com/kgseller/kgseller/shared/probe"
	"github.com/kgseller/kgseller/shared/store"
	"github.com/kgseller/kgseller/shared/tools/dbtest"
	"github.com/kgseller/kgseller/shared/wire/apifn"
	"github.com/kgseller/kgseller/shared/wire/licensefn"
	"github.com/kgseller/kgseller/shared/wire/notifyfn"
	"github.com/kgseller/kgseller/shared/wire/workerfn"
)

const (
	testAK = "APPTESTAK00000000000"
	testSK = "app-test-sk"
)

var testSeed = bytes.Repeat([]byte{3}, ed25519.SeedSize)

// licenseEnv is a working configuration of the License and notify functions
// against a fake marketplace, with every job run in the request.
func licenseEnv(t *testing.T) (map[string]string, *fakemkt.Server) {
	t.Helper()
	fake := fakemkt.New(testAK, testSK)
	srv := httptest.NewServer(fake)
	t.Cleanup(srv.Close)
	return map[string]string{
		"DB_DSN": dbtest.NewDatabase(t), "LOG_LEVEL": "error",
		"KG_ACCESS_KEY": "basic-key", "KG_ACCESS_KEY_LICENSE": "license-key", "KG_ACCESS_KEY_NOTIFY": "notify-key",
		"PROVISION_FRONTEND_URL": "https://app.example.com/i/{instanceId}", "FULFIL_MODE": "inline",
		"HUAWEICLOUD_SDK_AK": testAK, "HUAWEICLOUD_SDK_SK": testSK, "KG_MKT_ENDPOINT": srv.URL,
		config.LicenseSigningKey: base64.StdEncoding.EncodeToString(testSeed),
		config.LicenseFeatures:   `{"*":["basic"]}`,
	}, fake
}

func serve(t *testing.T, h fgruntime.Handler, path, key string) *probe.Client {
	t.Helper()
	srv := httptest.NewServer(httpfn.HTTPHandler(h))
	t.Cleanup(srv.Close)
	return &probe.Client{URL: srv.URL + path, Key: kgsign.NewKey([]byte(key), "t")}
}

func post(t *testing.T, c *probe.Client, body string) probe.Answer {
	t.Helper()
	a, err := c.Post(context.Background(), []byte(body))
	if err != nil {
		t.Fatal(err)
	}
	if err := a.ShapeError(); err != nil {
		t.Fatalf("%s: %v (%s)", body, err, a.Body)
	}
	return a
}

// TestLicenseProduceEndToEnd assembles license-produce from settings: the License
// key (not the basic one) verifies, an instance is created, and getLicenseAsync
// signs and uploads a license that verifies with the seller's public key.
func TestLicenseProduceEndToEnd(t *testing.T) {
	env, fake := licenseEnv(t)
	h := licensefn.LicenseProduce(config.Map(env))
	c := serve(t, h, "/license/produce", "license-key")
	basic := &probe.Client{URL: c.URL, Key: kgsign.NewKey([]byte("basic-key"), "t")}
	if a, _ := basic.Post(context.Background(), []byte(`{"activity":"releaseLicenseCode","license":"PL1"}`)); a.Code() != "000001" {
		t.Fatalf("signed with the basic key: %s", a.Body)
	}
	inst := post(t, c, `{"activity":"newInstance","businessId":"b-lic","orderId":"MOCKPERIODYEARNEW","orderLineId":"MOCKPERIODYEARNEW-000001","testFlag":"1"}`)
	if inst.Code() != "000000" {
		t.Fatalf("newInstance: %s", inst.Body)
	}
	day := time.Now().UTC().Truncate(24 * time.Hour)
	body := fmt.Sprintf(`{"activity":"getLicenseAsync","instanceId":%q,"eventId":"EVT-APP-1","effectiveTime":"%s z","expireTime":"%s z","testFlag":"0"}`,
		inst.String("instanceId"), day.Format("2006-01-02 15:04:05"), day.AddDate(1, 0, 0).Format("2006-01-02 15:04:05"))
	if a := post(t, c, body); a.Code() != "000000" {
		t.Fatalf("getLicenseAsync: %s", a.Body)
	}
	ups := fake.UploadsFor("EVT-APP-1")
	if len(ups) != 1 {
		t.Fatalf("%d uploads", len(ups))
	}
	p, err := licensefile.Verify(ups[0].Content, []ed25519.PublicKey{ed25519.NewKeyFromSeed(testSeed).Public().(ed25519.PublicKey)}, licensefile.Options{Now: time.Now()})
	if err != nil || p.InstanceID != inst.String("instanceId") || strings.Join(p.Features, ",") != "basic" || p.Product.ProductID == "" {
		t.Fatalf("license %+v: %v", p, err)
	}
	for _, b := range []string{
		`{"activity":"refreshLicenseCode","expireTime":"20351124023618","license":"PLAPP","orderId":"MOCKMONTYRENEW","orderLineId":"MOCKMONTYRENEW-000001","scene":"RENEWAL","testFlag":"1"}`,
		`{"activity":"updateLicenseCodeStatus","license":"PLAPP","status":"FREEZE","testFlag":"1"}`,
		`{"activity":"releaseLicenseCode","license":"PLAPP","testFlag":"1"}`,
	} {
		if a := post(t, c, b); a.Code() != "000000" {
			t.Fatalf("%s: %s", b, a.Body)
		}
	}
}

// TestOrderNotifyEndToEnd: the notify key verifies, a repeat answers 000000, and
// the order is queried once.
func TestOrderNotifyEndToEnd(t *testing.T) {
	env, fake := licenseEnv(t)
	c := serve(t, notifyfn.OrderNotify(config.Map(env)), "/order/notify", "notify-key")
	wrong := &probe.Client{URL: c.URL, Key: kgsign.NewKey([]byte("license-key"), "t")}
	body := `{"activity":"orderNotify","orderId":"MOCKONETIMENEW","orderLineId":"MOCKONETIMENEW-000001","testFlag":"1"}`
	if a, _ := wrong.Post(context.Background(), []byte(body)); a.Code() != "000001" {
		t.Fatalf("signed with another type's key: %s", a.Body)
	}
	for i := 0; i < 3; i++ {
		if a := post(t, c, body); a.Code() != "000000" {
			t.Fatalf("orderNotify: %s", a.Body)
		}
	}
	if n := len(fake.CallsTo(openapi.QueryOrderPath)); n != 1 {
		t.Fatalf("%d Query Order calls, want 1", n)
	}
}

// TestWorkerRunsLicenseAndOrderJobs: jobs written by the endpoints in timer mode
// are run by fulfil-worker, whose job families include License and order jobs.
func TestWorkerRunsLicenseAndOrderJobs(t *testing.T) {
	env, fake := licenseEnv(t)
	env["FULFIL_MODE"] = "timer"
	lic := serve(t, licensefn.LicenseProduce(config.Map(env)), "/license/produce", "license-key")
	notify := serve(t, notifyfn.OrderNotify(config.Map(env)), "/order/notify", "notify-key")
	inst := post(t, lic, `{"activity":"newInstance","businessId":"b-w","orderId":"CS-W","orderLineId":"CS-W-000001"}`)
	if inst.Code() != "000004" {
		t.Fatalf("newInstance in timer mode: %s", inst.Body)
	}
	day := time.Now().UTC().Truncate(24 * time.Hour)
	body := fmt.Sprintf(`{"activity":"getLicenseAsync","instanceId":%q,"eventId":"EVT-W-1","effectiveTime":"%s","expireTime":"%s"}`,
		inst.String("instanceId"), day.Format("2006-01-02 15:04:05"), day.AddDate(0, 0, 10).Format("2006-01-02 15:04:05"))
	if a := post(t, lic, body); a.Code() != "000004" {
		t.Fatalf("getLicenseAsync before the worker: %s", a.Body)
	}
	if a := post(t, notify, `{"activity":"orderNotify","orderId":"CS-N","orderLineId":"CS-N-000001"}`); a.Code() != "000000" {
		t.Fatalf("orderNotify: %s", a.Body)
	}
	worker := workerfn.FulfilWorker(config.Map(env))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out, err := worker(ctx, []byte(`{"source":"timer"}`))
	if err != nil || !strings.Contains(string(out), `"done":3`) {
		t.Fatalf("worker: %s %v", out, err)
	}
	if a := post(t, lic, body); a.Code() != "000000" {
		t.Fatalf("getLicenseAsync after the worker: %s", a.Body)
	}
	if len(fake.UploadsFor("EVT-W-1")) != 1 {
		t.Fatal("the worker did not upload the license")
	}
	st, err := store.Open(env["DB_DSN"], store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if _, err := st.OrderDetailsFor(ctx, "CS-N", "CS-N-000001"); err != nil {
		t.Fatalf("order details: %v", err)
	}
}

// TestWorkerWithoutLicenseSettings: a worker configured only for SaaS (no signing
// key) still starts, and a license job waits with a reason instead.
func TestWorkerWithoutLicenseSettings(t *testing.T) {
	l := config.New(config.Map(map[string]string{"HUAWEICLOUD_SDK_AK": testAK, "HUAWEICLOUD_SDK_SK": testSK}))
	j := license.LoadJobs(l)
	if err := l.Err(); err != nil || j.Signer != nil || j.Uploader == nil {
		t.Fatalf("LoadJobs without a key: %v %+v", err, j)
	}
	l = config.New(config.Map(map[string]string{config.LicenseSigningKey: "secret-not-a-key", config.LicenseFeatures: "[1]", "KG_QUERY_ORDERS": "false"}))
	license.LoadJobs(l)
	msg := fmt.Sprint(l.Err())
	if !strings.Contains(msg, config.LicenseSigningKey) || !strings.Contains(msg, config.LicenseFeatures) || strings.Contains(msg, "secret-not-a-key") {
		t.Fatalf("configuration error %q", msg)
	}
}

func TestLicenseAndNotifyMisconfigured(t *testing.T) {
	for name, h := range map[string]fgruntime.Handler{
		"license-produce": licensefn.LicenseProduce(config.Map(map[string]string{"KG_ACCESS_KEY": "k", "LOG_LEVEL": "error"})),
		"order-notify":    notifyfn.OrderNotify(config.Map(map[string]string{"KG_ACCESS_KEY": "k", "LOG_LEVEL": "error"})),
		"bad quota": licensefn.LicenseProduce(config.Map(map[string]string{"KG_ACCESS_KEY": "k", "DB_DSN": "u@tcp(127.0.0.1:1)/d",
			"PROVISION_FRONTEND_URL": "https://x/{instanceId}", config.LicenseQuota: "-1", "LOG_LEVEL": "error"})),
	} {
		resp, err := h(context.Background(), events.APIGatewayProxyRequest{Body: "{}"})
		if err != nil || resp.StatusCode != 200 || !strings.Contains(resp.Body, `"000005"`) ||
			resp.Headers["Body-Sign"] != kgsign.BodySignHeader(kgsign.NewKey([]byte("k"), "t"), []byte(resp.Body)) {
			t.Errorf("%s: %+v %v", name, resp, err)
		}
	}
}

// TestAPIBackendAssembly: signed with the configured signature key the example
// answers; unsigned it refuses; without its settings it refuses everything.
func TestAPIBackendAssembly(t *testing.T) {
	h := apifn.Backend(config.Map(map[string]string{config.APIGSignatureKey: "k1", config.APIGSignatureSecret: "s1", "LOG_LEVEL": "error"}))
	srv := httptest.NewServer(httpfn.HTTPHandler(h))
	defer srv.Close()
	req, err := aksk.Request(aksk.Credentials{AK: "k1", SK: "s1"}, srv.URL, time.Now().UTC().Format(aksk.Date), aksk.Call{Method: "GET", Path: "/api/v1/echo"})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		req  *http.Request
		want int
	}{{req, 200}, {httptest.NewRequest("GET", srv.URL+"/api/v1/echo", nil), 401}} {
		c.req.RequestURI = ""
		resp, err := http.DefaultClient.Do(c.req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != c.want {
			t.Fatalf("status %d, want %d", resp.StatusCode, c.want)
		}
	}
	// A text body is signed as UNSIGNED-PAYLOAD: refused unless the setting allows it.
	for allow, want := range map[string]int{"": 401, "true": 200} {
		h := apifn.Backend(config.Map(map[string]string{config.APIGSignatureKey: "k1", config.APIGSignatureSecret: "s1", "LOG_LEVEL": "error",
			config.APIGAllowUnsignedPayload: allow}))
		srv := httptest.NewServer(httpfn.HTTPHandler(h))
		req, err := aksk.Request(aksk.Credentials{AK: "k1", SK: "s1"}, srv.URL, time.Now().UTC().Format(aksk.Date),
			aksk.Call{Method: "POST", Path: "/api/v1/echo", ContentType: "text/plain", Body: []byte("text")})
		if err != nil {
			t.Fatal(err)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		srv.Close()
		if resp.StatusCode != want {
			t.Errorf("%s=%q: status %d, want %d", config.APIGAllowUnsignedPayload, allow, resp.StatusCode, want)
		}
	}
	bad := apifn.Backend(config.Map(map[string]string{config.APIGSignatureKey: "k1", "LOG_LEVEL": "error"}))
	resp, _ := bad(context.Background(), events.APIGatewayProxyRequest{})
	if resp.StatusCode != http.StatusServiceUnavailable || strings.Contains(resp.Body, "k1") {
		t.Fatalf("misconfigured: %+v", resp)
	}
}

package localrun_test

import (
	"context"
	"crypto/ed25519"
	"fmt"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/kgseller/kgseller/shared/aksk"
	"github.com/kgseller/kgseller/shared/kgsign"
	"github.com/kgseller/kgseller/shared/licensefile"
	"github.com/kgseller/kgseller/shared/openapi"
	"github.com/kgseller/kgseller/shared/probe"
	"github.com/kgseller/kgseller/shared/tools/localrun"
)

// TestLocalRunLicenseNotifyAPI drives the real license-produce, order-notify,
// fulfil-worker and api-backend binaries under the emulator: getLicenseAsync is
// answered at once, the worker (started through the emulated FunctionGraph API)
// signs the license and uploads it to the fake marketplace, and the marketplace's
// retry then answers 000000; orderNotify is acknowledged and its order queried
// once; the API backend serves only APIG-signed calls.
func TestLocalRunLicenseNotifyAPI(t *testing.T) {
	t.Parallel()
	stack, base, db := startStack(t)
	ctx := context.Background()
	lic := &probe.Client{URL: base + "/license/produce", Key: kgsign.NewKey([]byte("it-key"), "t")}
	call := func(c *probe.Client, body string) probe.Answer {
		t.Helper()
		a, err := c.Post(ctx, []byte(body))
		if err != nil {
			t.Fatal(err)
		}
		if err := a.ShapeError(); err != nil {
			t.Fatalf("%s: %v (%s)", body, err, a.Body)
		}
		return a
	}
	inst := call(lic, `{"activity":"newInstance","businessId":"b-lic","orderId":"MOCKPERIODYEARNEW","orderLineId":"MOCKPERIODYEARNEW-000001","testFlag":"1"}`)
	if c := inst.Code(); c != "000000" && c != "000004" {
		t.Fatalf("newInstance: %s", inst.Body)
	}
	id := inst.String("instanceId")
	day := time.Now().UTC().Truncate(24 * time.Hour)
	body := fmt.Sprintf(`{"activity":"getLicenseAsync","instanceId":%q,"eventId":"EVT-LOCAL-1","effectiveTime":"%s z","expireTime":"%s z","deviceFingerprint":"host-42","testFlag":"0"}`,
		id, day.Format("2006-01-02 15:04:05"), day.AddDate(1, 0, 0).Format("2006-01-02 15:04:05"))
	if a := call(lic, body); a.Code() != "000000" && a.Code() != "000004" {
		t.Fatalf("getLicenseAsync: %s", a.Body)
	}
	waitFor(t, "the license upload", func() bool { return len(stack.Market.UploadsFor("EVT-LOCAL-1")) > 0 })
	waitFor(t, "getLicenseAsync to answer 000000", func() bool { return call(lic, body).Code() == "000000" })
	// Each repeat of the call after the upload uploads the stored license again
	// (the same License for the same request): every upload is the same document,
	// signed with the local AK.
	ups := stack.Market.UploadsFor("EVT-LOCAL-1")
	for i, u := range ups {
		if u.AccessKey != localrun.LocalAK || u.SHA256 != ups[0].SHA256 {
			t.Fatalf("upload %d of %d: %s signed by %q, want %s signed with the local AK", i+1, len(ups), u.SHA256, u.AccessKey, ups[0].SHA256)
		}
	}
	p, err := licensefile.Verify(ups[0].Content, []ed25519.PublicKey{localrun.LocalLicensePublicKey()},
		licensefile.Options{Now: time.Now(), Fingerprint: "host-42"})
	if err != nil || p.InstanceID != id || p.OrderID != "MOCKPERIODYEARNEW" || p.Customer.CustomerID == "" {
		t.Fatalf("license %+v: %v", p, err)
	}
	if n := count(t, db, "licenses"); n != 1 {
		t.Fatalf("%d licenses", n)
	}

	notify := &probe.Client{URL: base + "/order/notify", Key: kgsign.NewKey([]byte("it-key"), "t")}
	for i := 0; i < 2; i++ {
		if a := call(notify, `{"activity":"orderNotify","orderId":"CS-LOCAL-N","orderLineId":"CS-LOCAL-N-000001","testFlag":"1"}`); a.Code() != "000000" {
			t.Fatalf("orderNotify: %s", a.Body)
		}
	}
	queried := func() int {
		n := 0
		for _, c := range stack.Market.CallsTo(openapi.QueryOrderPath) {
			if q, _ := url.ParseQuery(c.Query); q.Get("orderId") == "CS-LOCAL-N" {
				n++
			}
		}
		return n
	}
	waitFor(t, "the order query", func() bool { return count(t, db, "order_details") >= 1 && queried() > 0 })
	if n := queried(); n != 1 {
		t.Fatalf("order queried %d times", n)
	}

	signed, err := aksk.Request(aksk.Credentials{AK: localrun.LocalAPIGSignatureKey, SK: localrun.LocalAPIGSignatureSec}, base,
		time.Now().UTC().Format(aksk.Date), aksk.Call{Method: http.MethodPost, Path: "/api/v1/echo/hello", Body: []byte(`{"n":1}`)})
	if err != nil {
		t.Fatal(err)
	}
	unsigned, _ := http.NewRequest(http.MethodPost, base+"/api/v1/echo/hello", nil)
	for _, c := range []struct {
		req  *http.Request
		want int
	}{{signed, http.StatusOK}, {unsigned, http.StatusUnauthorized}} {
		resp, err := http.DefaultClient.Do(c.req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != c.want {
			t.Fatalf("api-backend: %d, want %d", resp.StatusCode, c.want)
		}
	}
}

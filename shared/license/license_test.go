package license_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/kgseller/kgseller/shared/endpoint"
	"github.com/kgseller/kgseller/shared/fakes/fakemkt"
	"github.com/kgseller/kgseller/shared/fulfil"
	"github.com/kgseller/kgseller/shared/kgsign"
	"github.com/kgseller/kgseller/shared/license"
	"github.com/kgseller/kgseller/shared/licensefile"
	"github.com/kgseller/kgseller/shared/openapi"
	"github.com/kgseller/kgseller/shared/probe"
	"github.com/kgseller/kgseller/shared/provision"
	"github.com/kgseller/kgseller/shared/saas"
	"github.com/kgseller/kgseller/shared/store"
	"github.com/kgseller/kgseller/shared/tools/dbtest"
)

const (
	testKey = "TestAccessKey-License-0123"
	ak      = "TESTAKLICENSE0000000"
	sk      = "test-sk-license"
)

var seed = bytes.Repeat([]byte{7}, ed25519.SeedSize)

type harness struct {
	t      *testing.T
	h      func(events.APIGatewayProxyRequest) map[string]any
	st     *store.Store
	fake   *fakemkt.Server
	run    *fulfil.Runner
	svc    *license.Service
	signer *licensefile.Signer
	upl    license.Uploader
	gate   *gatedUploader
}

// gatedUploader holds each upload until its gate is open (always, unless a test
// closes it), so that a test can order uploads after other requests.
type gatedUploader struct {
	next license.Uploader
	wait atomic.Pointer[chan struct{}]
}

func (g *gatedUploader) Upload(ctx context.Context, eventID, fileName string, content []byte) (license.Uploaded, error) {
	if w := g.wait.Load(); w != nil {
		select {
		case <-*w:
		case <-ctx.Done():
			return license.Uploaded{}, ctx.Err()
		}
	}
	return g.next.Upload(ctx, eventID, fileName, content)
}

func (h *harness) uploader() license.Uploader { return h.upl }

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// newHarness builds the license-produce pipeline over a fresh database, with the
// fake marketplace behind Query Order and the upload. inline runs each new job in
// the request, as FULFIL_MODE=inline does; otherwise tests run the worker.
func newHarness(t *testing.T, inline bool, tune func(*license.Service)) *harness {
	t.Helper()
	st, _ := dbtest.Open(t)
	fake := fakemkt.New(ak, sk)
	srv := httptest.NewServer(fake)
	t.Cleanup(srv.Close)
	orders, err := openapi.New(openapi.Options{Endpoint: srv.URL, AK: ak, SK: sk})
	if err != nil {
		t.Fatal(err)
	}
	mc, err := openapi.New(openapi.Options{Endpoint: srv.URL, AK: ak, SK: sk})
	if err != nil {
		t.Fatal(err)
	}
	signer := licensefile.NewSigner(ed25519.NewKeyFromSeed(seed))
	prov := provision.Static{FrontEndURL: "https://app.example.com/i/{instanceId}"}
	upl := license.EventFiles{Client: mc}
	gate := &gatedUploader{next: upl}
	jobs := license.Jobs{Store: st, Orders: orders, Signer: signer, Uploader: gate,
		Features: map[string][]string{"*": {"basic"}, "sku-period": {"basic", "pro"}}}
	run := &fulfil.Runner{Store: st, Logger: quiet(), BaseDelay: time.Millisecond, MaxDelay: time.Millisecond,
		Handlers: fulfil.Merge(fulfil.Instances{Store: st, Provisioner: prov}.Handlers(), jobs.Handlers())}
	instances := &saas.Service{Store: st, Provisioner: prov}
	svc := &license.Service{Store: st, Instances: instances.Decode}
	if inline {
		instances.Fulfil, svc.Fulfil = run.RunInline, run.RunInline
	}
	if tune != nil {
		tune(svc)
	}
	// The budget is a guard against a hang, not a bound a busy machine could miss.
	handler := endpoint.Handler(endpoint.Config{Scope: "license", Verifier: &kgsign.Verifier{Keys: kgsign.MustKeySet(testKey)},
		Nonces: st, Decode: svc.Decode, Logger: quiet(), Timeout: time.Minute})
	h := &harness{t: t, st: st, fake: fake, run: run, svc: svc, signer: signer, upl: upl, gate: gate}
	h.h = func(req events.APIGatewayProxyRequest) map[string]any {
		t.Helper()
		resp, err := handler(context.Background(), req)
		if err != nil {
			t.Fatalf("handler error %v", err)
		}
		return checkShape(t, resp)
	}
	return h
}

func (h *harness) request(key, body string) events.APIGatewayProxyRequest {
	c := probe.Client{URL: "https://seller.example.com/license/produce", Key: kgsign.NewKey([]byte(key), "t")}
	s, err := c.Sign([]byte(body))
	if err != nil {
		h.t.Fatal(err)
	}
	return s.Event()
}

func (h *harness) call(body string) map[string]any {
	h.t.Helper()
	return h.h(h.request(testKey, body))
}

func checkShape(t *testing.T, resp events.APIGatewayProxyResponse) map[string]any {
	t.Helper()
	m, err := probe.CheckEvent(resp, kgsign.NewKey([]byte(testKey), "t"))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func code(m map[string]any) string { s, _ := m["resultCode"].(string); return s }

func (h *harness) count(table string) int {
	h.t.Helper()
	var n int
	if err := h.st.DB().Get(&n, "SELECT COUNT(*) FROM "+table); err != nil {
		h.t.Fatal(err)
	}
	return n
}

// newInstance creates the online-License instance through the same endpoint.
func (h *harness) newInstance(order string) string {
	h.t.Helper()
	m := h.call(fmt.Sprintf(`{"activity":"newInstance","businessId":"b-%s","orderId":%q,"orderLineId":"%s-000001","testFlag":"0"}`, order, order, order))
	if c := code(m); c != "000000" && c != "000004" {
		h.t.Fatalf("newInstance: %v", m)
	}
	return m["instanceId"].(string)
}

func getLicense(instance, event, fingerprint string) string {
	// Within every fake order's validity (the shortest is a month from now).
	day := time.Now().UTC().Truncate(24 * time.Hour)
	f := map[string]any{"activity": "getLicenseAsync", "instanceId": instance, "eventId": event,
		"effectiveTime": day.Format("2006-01-02 15:04:05") + " z", "expireTime": day.AddDate(0, 0, 20).Format("2006-01-02 15:04:05") + " z", "testFlag": "0"}
	if fingerprint != "" {
		f["deviceFingerprint"] = fingerprint
	}
	b, _ := json.Marshal(f)
	return string(b)
}

// runAll runs every due job until none is left, with a clock far enough ahead for
// backed-off jobs.
func (h *harness) runAll() {
	h.t.Helper()
	r := *h.run
	r.Store = h.st.WithClock(func() time.Time { return time.Now().Add(time.Hour) })
	for i := 0; i < 20; i++ {
		counts, err := r.RunDue(context.Background(), 50)
		if err != nil {
			h.t.Fatal(err)
		}
		if counts[fulfil.Done]+counts[fulfil.Retry]+counts[fulfil.Dead] == 0 {
			return
		}
	}
}

// TestSameEventConcurrently: 20 concurrent getLicenseAsync calls for one event make
// one license; the worker makes one document and uploads it once, and later calls
// and job runs keep those exact bytes.
func TestSameEventConcurrently(t *testing.T) {
	h := newHarness(t, false, nil)
	inst := h.newInstance("MOCKPERIODYEARNEW")
	h.runAll() // provisioning
	body := getLicense(inst, "EVT-CONC-1", "")
	var wg sync.WaitGroup
	codes := make([]string, 20)
	for i := range codes {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			codes[i] = code(h.call(body))
		}(i)
	}
	wg.Wait()
	for _, c := range codes {
		if c != "000004" {
			t.Fatalf("answers %v, want 000004 while the worker has not run", codes)
		}
	}
	if n := h.count("licenses"); n != 1 {
		t.Fatalf("%d licenses, want 1", n)
	}
	var jobs int
	_ = h.st.DB().Get(&jobs, "SELECT COUNT(*) FROM jobs WHERE kind = ?", license.JobIssue)
	if jobs != 1 {
		t.Fatalf("%d license jobs, want 1", jobs)
	}
	h.runAll()
	if c := code(h.call(body)); c != "000000" {
		t.Fatalf("after the upload: %s, want 000000", c)
	}
	lic, err := h.st.LicenseByEvent(context.Background(), "EVT-CONC-1", "")
	if err != nil {
		t.Fatal(err)
	}
	ups := h.fake.UploadsFor("EVT-CONC-1")
	if len(ups) != 1 || !bytes.Equal(ups[0].Content, lic.Document) || ups[0].AccessKey != ak {
		t.Fatalf("%d uploads; want one carrying the stored document", len(ups))
	}
	p, err := licensefile.Verify(lic.Document, []ed25519.PublicKey{h.signer.Public()}, licensefile.Options{Now: time.Now()})
	if err != nil {
		t.Fatal(err)
	}
	if p.InstanceID != inst || p.OrderID != "MOCKPERIODYEARNEW" || p.Product.SKUCode != "sku-period" || p.Product.Quantity != "50" ||
		p.Customer.CustomerID == "" || strings.Join(p.Features, ",") != "basic,pro" || p.ExpireTime == nil {
		t.Fatalf("license payload %+v", p)
	}
	// Re-running the job, even with the license set back to pending, neither makes a
	// new document nor records a second upload.
	if _, err := h.st.DB().Exec("UPDATE licenses SET state = 'PENDING' WHERE id = ?", lic.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := h.st.DB().Exec("UPDATE jobs SET state = 'PENDING' WHERE job_key = ?", store.LicenseJobKey(lic.ID)); err != nil {
		t.Fatal(err)
	}
	h.runAll()
	again, _ := h.st.License(context.Background(), lic.ID)
	if !bytes.Equal(again.Document, lic.Document) || h.count("license_uploads") != 1 {
		t.Fatalf("re-run changed the document or recorded %d uploads", h.count("license_uploads"))
	}
	if ups := h.fake.UploadsFor("EVT-CONC-1"); len(ups) != 2 || !bytes.Equal(ups[1].Content, ups[0].Content) {
		t.Fatalf("the re-upload did not send identical bytes")
	}
}

// TestSameEventConcurrentlyInline: with the job run in the request, concurrent
// duplicates still make one license and one upload. The upload is held until every
// duplicate but the one running the job has answered: a duplicate arriving after
// the upload is a resend, which uploads the license again by design
// (TestRepeatUploadsTheSameLicense).
func TestSameEventConcurrentlyInline(t *testing.T) {
	h := newHarness(t, true, nil)
	inst := h.newInstance("CS-INLINE")
	body := getLicense(inst, "EVT-CONC-2", "fp-1")
	open := make(chan struct{})
	h.gate.wait.Store(&open)
	var wg sync.WaitGroup
	codes := make([]string, 20)
	answered := make(chan struct{}, len(codes))
	for i := range codes {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			codes[i] = code(h.call(body))
			answered <- struct{}{}
		}(i)
	}
	// One request runs the job and waits at the upload; the others answer first.
	hang := time.After(time.Minute)
	for i := 0; i < len(codes)-1; i++ {
		select {
		case <-answered:
		case <-hang:
			t.Fatalf("only %d of %d duplicates answered within a minute while the upload was held", i, len(codes)-1)
		}
	}
	close(open)
	wg.Wait()
	h.gate.wait.Store(nil)
	for _, c := range codes {
		if c != "000000" && c != "000004" {
			t.Fatalf("answers %v", codes)
		}
	}
	h.runAll()
	// One license and one recorded upload. A copy that arrives after the upload is
	// a repeat, which uploads the stored document again (TestRepeatUploadsTheSameLicense):
	// every upload the marketplace received is that same document.
	ups := h.fake.UploadsFor("EVT-CONC-2")
	if h.count("licenses") != 1 || h.count("license_uploads") != 1 || len(ups) == 0 {
		t.Fatalf("licenses %d, recorded uploads %d, uploads %d", h.count("licenses"), h.count("license_uploads"), len(ups))
	}
	for _, u := range ups {
		if u.SHA256 != ups[0].SHA256 {
			t.Fatalf("%d uploads of different documents for one license", len(ups))
		}
	}
	// Another fingerprint on the same event is another license.
	if c := code(h.call(getLicense(inst, "EVT-CONC-2", "fp-2"))); c != "000000" {
		t.Fatalf("second device: %s", c)
	}
	if h.count("licenses") != 2 {
		t.Fatalf("%d licenses, want 2", h.count("licenses"))
	}
}

// TestRepeatUploadsTheSameLicense: the marketplace may resend getLicenseAsync for a
// license it was given ("返回之前成功创建的License即可"). Each repeat uploads the stored
// document again under the same eventId: no new license, no new document, no new
// signature (the worker now holds another signing key, and the bytes do not change).
func TestRepeatUploadsTheSameLicense(t *testing.T) {
	for _, inline := range []bool{true, false} {
		t.Run(fmt.Sprintf("inline=%v", inline), func(t *testing.T) {
			h := newHarness(t, inline, nil)
			inst := h.newInstance("CS-REPEAT")
			h.runAll()
			body := getLicense(inst, "EVT-REP-1", "")
			h.call(body)
			h.runAll()
			lic, err := h.st.LicenseByEvent(context.Background(), "EVT-REP-1", "")
			if err != nil || lic.State != store.LicenseUploaded || len(h.fake.UploadsFor("EVT-REP-1")) != 1 {
				t.Fatalf("first upload: %+v %v", lic, err)
			}
			// Another signing key from now on: a re-signed document would differ.
			other := license.Jobs{Store: h.st, Signer: licensefile.NewSigner(ed25519.NewKeyFromSeed(bytes.Repeat([]byte{9}, ed25519.SeedSize))),
				Uploader: h.uploader()}
			h.run.Handlers = fulfil.Merge(h.run.Handlers, other.Handlers())
			for i := 2; i <= 3; i++ {
				if c := code(h.call(body)); c != "000000" {
					t.Fatalf("repeat %d: %s", i, c)
				}
				h.runAll()
				ups := h.fake.UploadsFor("EVT-REP-1")
				if len(ups) != i {
					t.Fatalf("repeat %d: %d uploads", i, len(ups))
				}
				if !bytes.Equal(ups[i-1].Content, lic.Document) || ups[i-1].FileName != ups[0].FileName {
					t.Fatalf("repeat %d uploaded other bytes", i)
				}
			}
			var jobs int
			_ = h.st.DB().Get(&jobs, "SELECT COUNT(*) FROM jobs WHERE kind = ?", license.JobIssue)
			if h.count("licenses") != 1 || h.count("license_uploads") != 1 || jobs != 1 {
				t.Fatalf("licenses %d, recorded uploads %d, jobs %d", h.count("licenses"), h.count("license_uploads"), jobs)
			}
			if again, _ := h.st.License(context.Background(), lic.ID); !bytes.Equal(again.Document, lic.Document) || again.State != store.LicenseUploaded {
				t.Fatal("the stored license changed")
			}
			// A re-upload the marketplace refuses ends the job; the next repeat tries again.
			h.fake.Fail(fakemkt.EventFilePath("EVT-REP-1"), fakemkt.Fault{Status: http.StatusBadRequest})
			h.call(body)
			h.runAll()
			if job, _ := h.st.JobByKey(context.Background(), store.LicenseJobKey(lic.ID)); job.State != store.JobDead {
				t.Fatalf("refused re-upload: job %s", job.State)
			}
			if c := code(h.call(body)); c != "000000" {
				t.Fatalf("after a refused re-upload: %s", c)
			}
			h.runAll()
			if ups := h.fake.UploadsFor("EVT-REP-1"); len(ups) != 4 || !bytes.Equal(ups[3].Content, lic.Document) {
				t.Fatalf("%d uploads after the refused one", len(ups))
			}
		})
	}
}

// TestUploadFailsThenSucceeds: a failed upload is retried with the same bytes, and
// exactly one upload is recorded.
func TestUploadFailsThenSucceeds(t *testing.T) {
	h := newHarness(t, false, nil)
	inst := h.newInstance("CS-UPLOAD")
	h.runAll()
	path := fakemkt.EventFilePath("EVT-UP-1")
	h.fake.Fail(path, fakemkt.Fault{Status: http.StatusServiceUnavailable}, fakemkt.Fault{Status: http.StatusInternalServerError})
	if c := code(h.call(getLicense(inst, "EVT-UP-1", ""))); c != "000004" {
		t.Fatalf("getLicenseAsync: %s", c)
	}
	lic, _ := h.st.LicenseByEvent(context.Background(), "EVT-UP-1", "")
	job, _ := h.st.JobByKey(context.Background(), store.LicenseJobKey(lic.ID))
	r := *h.run
	for i, want := range []fulfil.Outcome{fulfil.Retry, fulfil.Retry, fulfil.Done} {
		r.Store = h.st.WithClock(func() time.Time { return time.Now().Add(time.Duration(i+1) * time.Hour) })
		if out, err := r.Run(context.Background(), job.ID); err != nil || out != want {
			t.Fatalf("run %d: %s %v, want %s", i+1, out, err, want)
		}
	}
	calls := h.fake.CallsTo(path)
	if len(calls) != 3 || calls[0].Status != 503 || calls[1].Status != 500 || calls[2].Status != 200 {
		t.Fatalf("upload calls %+v", calls)
	}
	if n := h.count("license_uploads"); n != 1 {
		t.Fatalf("%d recorded uploads, want 1", n)
	}
	up, err := h.st.LicenseUploadOf(context.Background(), lic.ID)
	stored, _ := h.st.License(context.Background(), lic.ID)
	if err != nil || up.SHA256 != stored.DocumentSHA256 || up.AnswerCode != "MKT.0000" || stored.State != store.LicenseUploaded {
		t.Fatalf("upload record %+v %v, license %s", up, err, stored.State)
	}
	if ups := h.fake.UploadsFor("EVT-UP-1"); len(ups) != 1 || !bytes.Equal(ups[0].Content, stored.Document) {
		t.Fatal("the accepted upload does not carry the stored document")
	}
	if c := code(h.call(getLicense(inst, "EVT-UP-1", ""))); c != "000000" {
		t.Fatalf("after the upload: %s", c)
	}
}

// TestRefusedUploadRevivedByRetry: an upload the marketplace refuses ends the job;
// the marketplace's next getLicenseAsync for the event starts it again.
func TestRefusedUploadRevivedByRetry(t *testing.T) {
	h := newHarness(t, true, nil)
	inst := h.newInstance("CS-REVIVE")
	h.fake.Fail(fakemkt.EventFilePath("EVT-REV-1"), fakemkt.Fault{Status: http.StatusBadRequest})
	if c := code(h.call(getLicense(inst, "EVT-REV-1", ""))); c != "000004" {
		t.Fatalf("first call: %s", c)
	}
	lic, _ := h.st.LicenseByEvent(context.Background(), "EVT-REV-1", "")
	job, _ := h.st.JobByKey(context.Background(), store.LicenseJobKey(lic.ID))
	if job.State != store.JobDead {
		t.Fatalf("job %s after a refused upload, want DEAD", job.State)
	}
	if c := code(h.call(getLicense(inst, "EVT-REV-1", ""))); c != "000000" {
		t.Fatalf("retry: %s", c)
	}
	if h.count("licenses") != 1 || h.count("license_uploads") != 1 {
		t.Fatal("the retry made another license or upload")
	}
}

// TestLicenseRules covers 000003 and 000900-000903.
func TestLicenseRules(t *testing.T) {
	h := newHarness(t, true, func(s *license.Service) { s.Quota = 1 })
	inst := h.newInstance("CS-RULES")
	if c := code(h.call(getLicense("no-such-instance", "EVT-R-0", ""))); c != "000003" {
		t.Fatalf("unknown instance: %s", c)
	}
	if c := code(h.call(getLicense(inst, "EVT-R-1", ""))); c != "000000" {
		t.Fatalf("first license: %s", c)
	}
	if c := code(h.call(getLicense(inst, "EVT-R-2", ""))); c != "000900" {
		t.Fatalf("beyond the quota: %s, want 000900", c)
	}
	if c := code(h.call(getLicense(inst, "EVT-R-1", ""))); c != "000000" {
		t.Fatalf("a repeat within the quota: %s", c)
	}
	// The instance's order was recorded (Query Order) and is a period order: a
	// license without expireTime is refused, as is one outliving the order.
	h.svc.Quota = 0
	noExpire := `{"activity":"getLicenseAsync","instanceId":"` + inst + `","eventId":"EVT-R-3","effectiveTime":"2026-01-01 00:00:00 z"}`
	if c := code(h.call(noExpire)); c != "000902" {
		t.Fatalf("period license without expireTime: %s, want 000902", c)
	}
	late := `{"activity":"getLicenseAsync","instanceId":"` + inst + `","eventId":"EVT-R-4","effectiveTime":"2026-01-01 00:00:00 z","expireTime":"2099-01-01 00:00:00 z"}`
	if c := code(h.call(late)); c != "000901" {
		t.Fatalf("license outliving the order: %s, want 000901", c)
	}
	if c := code(h.call(fmt.Sprintf(`{"activity":"releaseInstance","instanceId":%q}`, inst))); c != "000000" {
		t.Fatalf("release: %s", c)
	}
	if c := code(h.call(getLicense(inst, "EVT-R-5", ""))); c != "000901" {
		t.Fatalf("released instance: %s, want 000901", c)
	}
	// A debug call is answered whatever an earlier debug case did to the instance:
	// the marketplace replays the saved cases in any order.
	debug := strings.Replace(getLicense(inst, "EVT-R-5D", ""), `"testFlag":"0"`, `"testFlag":"1"`, 1)
	if c := code(h.call(debug)); c != "000000" && c != "000004" {
		t.Fatalf("debug call on a released instance: %s, want 000000 or 000004", c)
	}
	h.svc.DeviceBound = true
	inst2 := h.newInstance("CS-RULES-2")
	if c := code(h.call(getLicense(inst2, "EVT-R-6", ""))); c != "000903" {
		t.Fatalf("device-bound without fingerprint: %s, want 000903", c)
	}
	if c := code(h.call(getLicense(inst2, "EVT-R-6", "fp"))); c != "000000" {
		t.Fatalf("device-bound with fingerprint: %s", c)
	}
	// The first license, the debug one and the device-bound one: refusals store nothing.
	if n := h.count("licenses"); n != 3 {
		t.Fatalf("%d licenses, want 3: refusals must store nothing", n)
	}
}

// TestBadInputStoresNothing: each malformed body answers 000002 in shape, and no
// license, code, order, job or nonce is written.
func TestBadInputStoresNothing(t *testing.T) {
	h := newHarness(t, true, nil)
	long := strings.Repeat("A", 65)
	for _, body := range []string{
		`activity=getLicenseAsync`,
		`[]`,
		`{"activity":"getLicense","instanceId":"x"}`,
		`{"activity":"getLicenseAsync","effectiveTime":"2026-01-01 00:00:00 z","instanceId":"x"}`,
		`{"activity":"getLicenseAsync","effectiveTime":"2026-01-01 00:00:00 z","eventId":"e","instanceId":"` + long + `"}`,
		`{"activity":"getLicenseAsync","effectiveTime":"tomorrow","eventId":"e","instanceId":"x"}`,
		`{"activity":"getLicenseAsync","effectiveTime":"2026-01-01 00:00:00 z","expireTime":"2025-01-01 00:00:00 z","eventId":"e","instanceId":"x"}`,
		`{"activity":"getLicenseAsync","effectiveTime":"2026-01-01 00:00:00 z","eventId":"e","instanceId":"x","deviceFingerprint":"` + strings.Repeat("f", 1025) + `"}`,
		`{"activity":"getLicenseAsync","effectiveTime":"2026-01-01 00:00:00 z","eventId":42,"instanceId":"x"}`,
		`{"activity":"updateLicenseCodeStatus","license":"PL1","status":"PAUSE"}`,
		`{"activity":"updateLicenseCodeStatus","status":"FREEZE"}`,
		`{"activity":"refreshLicenseCode","expireTime":"2035","license":"PL1","orderId":"o","orderLineId":"l","scene":"RENEWAL"}`,
		`{"activity":"refreshLicenseCode","expireTime":"20351124023618","license":"PL1","orderId":"o","orderLineId":"l","scene":"UPGRADE"}`,
		`{"activity":"refreshLicenseCode","expireTime":"20351124023618","license":"PL1","orderLineId":"l","scene":"RENEWAL"}`,
		`{"activity":"releaseLicenseCode","license":12345}`,
		`{"activity":"releaseLicenseCode","license":"PL1","testFlag":true}`,
		`{"activity":"newInstance","orderId":"o"}`,
	} {
		m := h.call(body)
		if code(m) != "000002" {
			t.Errorf("%s => %v, want 000002", body, m)
		}
	}
	for _, table := range []string{"licenses", "license_codes", "license_code_orders", "jobs", "nonces", "instances"} {
		if n := h.count(table); n != 0 {
			t.Errorf("%d rows in %s after bad input", n, table)
		}
	}
}

// TestForgedStoresNothing: a request signed with another key answers 000001 and
// writes nothing.
func TestForgedStoresNothing(t *testing.T) {
	h := newHarness(t, true, nil)
	for _, body := range []string{
		getLicense("i", "EVT-F", ""),
		`{"activity":"releaseLicenseCode","license":"PL1"}`,
	} {
		if c := code(h.h(h.request("not-the-license-key", body))); c != "000001" {
			t.Fatalf("forged %s: %s", body, c)
		}
	}
	unsigned := h.request(testKey, `{"activity":"releaseLicenseCode","license":"PL1"}`)
	unsigned.QueryStringParameters = nil
	if c := code(h.h(unsigned)); c != "000001" {
		t.Fatalf("unsigned: %s", c)
	}
	for _, table := range []string{"licenses", "license_codes", "jobs", "nonces"} {
		if n := h.count(table); n != 0 {
			t.Errorf("%d rows in %s after forged requests", n, table)
		}
	}
}

// TestLicenseCodeLifecycle: every lifecycle call is idempotent, each renewal order
// applies once, and a released code stays released.
func TestLicenseCodeLifecycle(t *testing.T) {
	h := newHarness(t, true, nil)
	ctx := context.Background()
	must := func(body string) {
		t.Helper()
		if c := code(h.call(body)); c != "000000" {
			t.Fatalf("%s => %s", body, c)
		}
	}
	refresh := func(order, expire, scene string) string {
		return fmt.Sprintf(`{"activity":"refreshLicenseCode","expireTime":%q,"license":"PLCODE1","orderId":%q,"orderLineId":"%s-000001","productId":"OFFI1","scene":%q,"testFlag":"1"}`,
			expire, order, order, scene)
	}
	expiry := func() string {
		c, err := h.st.LicenseCodeOf(ctx, "PLCODE1")
		if err != nil {
			t.Fatal(err)
		}
		return c.ExpireTime.Time.UTC().Format("20060102150405") + "/" + c.Status
	}
	must(refresh("MOCKMONTYRENEW", "20351124023618", "RENEWAL"))
	must(refresh("MOCKMONTYRENEW", "20351124023618", "RENEWAL"))
	if got := expiry(); got != "20351124023618/NORMAL" {
		t.Fatalf("after renewal: %s", got)
	}
	must(refresh("CS-RENEW-2", "20361124023618", "RENEWAL"))
	must(refresh("MOCKMONTYUNSUBSCRIBE", "20340101000000", "UNSUBSCRIBE_RENEWAL_PERIOD"))
	if got := expiry(); got != "20340101000000/NORMAL" {
		t.Fatalf("after the renewal-period unsubscription: %s", got)
	}
	// A late retry of the first renewal does not undo the later orders.
	must(refresh("MOCKMONTYRENEW", "20351124023618", "RENEWAL"))
	if got := expiry(); got != "20340101000000/NORMAL" {
		t.Fatalf("a replayed order changed the expiry: %s", got)
	}
	if n := h.count("license_code_orders"); n != 3 {
		t.Fatalf("%d orders recorded, want 3", n)
	}
	status := func(s string) string {
		return `{"activity":"updateLicenseCodeStatus","license":"PLCODE1","status":"` + s + `","testFlag":"1"}`
	}
	must(status("FREEZE"))
	must(status("FREEZE"))
	if got := expiry(); !strings.HasSuffix(got, "/FROZEN") {
		t.Fatalf("after FREEZE: %s", got)
	}
	must(status("UNFREEZE"))
	must(status("UNFREEZE"))
	if got := expiry(); !strings.HasSuffix(got, "/NORMAL") {
		t.Fatalf("after UNFREEZE: %s", got)
	}
	release := `{"activity":"releaseLicenseCode","license":"PLCODE1","orderId":"MOCKMONTYUNSUBSCRIBE","orderLineId":"MOCKMONTYUNSUBSCRIBE-000001","testFlag":"1"}`
	must(release)
	must(release)
	must(status("UNFREEZE"))
	must(refresh("CS-RENEW-3", "20401124023618", "RENEWAL"))
	if got := expiry(); got != "20340101000000/RELEASED" {
		t.Fatalf("a released code changed: %s", got)
	}
	// Codes never seen before are recorded by whichever call names them first.
	must(status("FREEZE")[:0] + `{"activity":"updateLicenseCodeStatus","license":"PLCODE2","status":"FREEZE"}`)
	must(`{"activity":"releaseLicenseCode","license":"PLCODE3"}`)
	if c, err := h.st.LicenseCodeOf(ctx, "PLCODE2"); err != nil || c.Status != store.CodeFrozen {
		t.Fatalf("PLCODE2: %+v %v", c, err)
	}
	if c, err := h.st.LicenseCodeOf(ctx, "PLCODE3"); err != nil || c.Status != store.CodeReleased {
		t.Fatalf("PLCODE3: %+v %v", c, err)
	}
	if n := h.count("license_codes"); n != 3 {
		t.Fatalf("%d codes, want 3", n)
	}
}

// TestInstanceActivitiesDelegated: the instance activities of online-License
// products are served on the License URL by shared/saas.
func TestInstanceActivitiesDelegated(t *testing.T) {
	h := newHarness(t, true, nil)
	inst := h.newInstance("MOCKONETIMENEW")
	m := h.call(fmt.Sprintf(`{"activity":"queryInstance","instanceId":%q}`, inst))
	if code(m) != "000000" || !strings.Contains(fmt.Sprint(m["info"]), "https://app.example.com/i/"+inst) {
		t.Fatalf("queryInstance: %v", m)
	}
	for _, body := range []string{
		fmt.Sprintf(`{"activity":"refreshInstance","expireTime":"20301124023618","instanceId":%q,"orderId":"MOCKMONTYRENEW","orderLineId":"MOCKMONTYRENEW-000001","scene":"RENEWAL"}`, inst),
		fmt.Sprintf(`{"activity":"updateInstanceStatus","instanceId":%q,"status":"FREEZE"}`, inst),
		fmt.Sprintf(`{"activity":"updateInstanceStatus","instanceId":%q,"status":"UNFREEZE"}`, inst),
		fmt.Sprintf(`{"activity":"releaseInstance","instanceId":%q}`, inst),
	} {
		if c := code(h.call(body)); c != "000000" {
			t.Fatalf("%s => %s", body, c)
		}
	}
	if n := h.count("instances"); n != 1 {
		t.Fatalf("%d instances", n)
	}
}

func TestParseTime(t *testing.T) {
	want := time.Date(2023, 10, 27, 10, 30, 15, 0, time.UTC)
	for _, s := range []string{"2023-10-27 10:30:15 z", "2023-10-27 10:30:15 Z", "2023-10-27 10:30:15Z", "2023-10-27 10:30:15",
		"2023-10-27 10:30:15 UTC", "2023-10-27T10:30:15Z", "2023-10-27T18:30:15+08:00", "20231027103015", "20231027103015000"} {
		got, err := license.ParseTime(s)
		if err != nil || !got.Equal(want) {
			t.Errorf("ParseTime(%q) = %v, %v", s, got, err)
		}
	}
	for _, s := range []string{"", "2023-10-27", "27/10/2023 10:30", "2023-13-27 10:30:15 z", "yesterday"} {
		if _, err := license.ParseTime(s); err == nil {
			t.Errorf("ParseTime(%q) accepted", s)
		}
	}
}

// TestDocumentNamesTheSellerKey: the uploaded file verifies with the configured
// key's public half and names its key id.
func TestDocumentNamesTheSellerKey(t *testing.T) {
	h := newHarness(t, true, nil)
	inst := h.newInstance("CS-KEYID")
	if c := code(h.call(getLicense(inst, "EVT-K-1", ""))); c != "000000" {
		t.Fatal(c)
	}
	up := h.fake.UploadsFor("EVT-K-1")
	if len(up) != 1 || up[0].FileName != "license-EVT-K-1.json" || up[0].Type != "FILE" {
		t.Fatalf("uploads %+v", up)
	}
	var env struct {
		KeyID string `json:"keyId"`
	}
	_ = json.Unmarshal(up[0].Content, &env)
	if env.KeyID != h.signer.KeyID() || env.KeyID != licensefile.KeyID(ed25519.NewKeyFromSeed(seed).Public().(ed25519.PublicKey)) {
		t.Fatalf("keyId %q", env.KeyID)
	}
	lic, _ := h.st.LicenseByEvent(context.Background(), "EVT-K-1", "")
	if lic.KeyID != env.KeyID || base64.StdEncoding.EncodeToString(lic.Document) == "" {
		t.Fatalf("stored key id %q", lic.KeyID)
	}
}

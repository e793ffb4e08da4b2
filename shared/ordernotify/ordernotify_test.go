package ordernotify_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kgseller/kgseller/shared/endpoint"
	"github.com/kgseller/kgseller/shared/fakes/fakemkt"
	"github.com/kgseller/kgseller/shared/fgruntime"
	"github.com/kgseller/kgseller/shared/fulfil"
	"github.com/kgseller/kgseller/shared/kgsign"
	"github.com/kgseller/kgseller/shared/openapi"
	"github.com/kgseller/kgseller/shared/ordernotify"
	"github.com/kgseller/kgseller/shared/probe"
	"github.com/kgseller/kgseller/shared/store"
	"github.com/kgseller/kgseller/shared/tools/dbtest"
)

const (
	testKey = "TestAccessKey-Notify-0123"
	ak      = "TESTAKNOTIFY00000000"
	sk      = "test-sk-notify"
)

type harness struct {
	t    *testing.T
	h    fgruntime.Handler
	st   *store.Store
	fake *fakemkt.Server
	run  *fulfil.Runner
}

func newHarness(t *testing.T) *harness {
	t.Helper()
	st, _ := dbtest.Open(t)
	fake := fakemkt.New(ak, sk)
	srv := httptest.NewServer(fake)
	t.Cleanup(srv.Close)
	orders, err := openapi.New(openapi.Options{Endpoint: srv.URL, AK: ak, SK: sk})
	if err != nil {
		t.Fatal(err)
	}
	svc := &ordernotify.Service{Store: st}
	run := &fulfil.Runner{Store: st, Handlers: ordernotify.Jobs{Store: st, Orders: orders}.Handlers(),
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	// The budget is a guard against a hang, not a bound a busy machine could miss.
	h := endpoint.Handler(endpoint.Config{Scope: "notify", Verifier: &kgsign.Verifier{Keys: kgsign.MustKeySet(testKey)},
		Nonces: st, Decode: svc.Decode, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Timeout: time.Minute})
	return &harness{t: t, h: h, st: st, fake: fake, run: run}
}

func (h *harness) send(key, body string) map[string]any {
	h.t.Helper()
	c := probe.Client{URL: "https://seller.example.com/order/notify", Key: kgsign.NewKey([]byte(key), "t")}
	s, err := c.Sign([]byte(body))
	if err != nil {
		h.t.Fatal(err)
	}
	resp, err := h.h(context.Background(), s.Event())
	if err != nil {
		h.t.Fatal(err)
	}
	m, err := probe.CheckEvent(resp, kgsign.NewKey([]byte(testKey), "t"))
	if err != nil {
		h.t.Fatal(err)
	}
	return m
}

func (h *harness) count(table string) int {
	h.t.Helper()
	var n int
	if err := h.st.DB().Get(&n, "SELECT COUNT(*) FROM "+table); err != nil {
		h.t.Fatal(err)
	}
	return n
}

func notify(order string) string {
	return fmt.Sprintf(`{"activity":"orderNotify","orderId":%q,"orderLineId":"%s-000001","testFlag":"1"}`, order, order)
}

// TestRepeatAndConcurrentNotices: every copy answers 000000; one notice, one job,
// and the worker queries the order once and records its details.
func TestRepeatAndConcurrentNotices(t *testing.T) {
	h := newHarness(t)
	var wg sync.WaitGroup
	codes := make([]any, 20)
	for i := range codes {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			codes[i] = h.send(testKey, notify("MOCKPERIODYEARNEW"))["resultCode"]
		}(i)
	}
	wg.Wait()
	for _, c := range codes {
		if c != "000000" {
			t.Fatalf("answers %v", codes)
		}
	}
	if m := h.send(testKey, notify("MOCKPERIODYEARNEW")); m["resultCode"] != "000000" || m["resultMsg"] != "success" {
		t.Fatalf("repeat: %v", m)
	}
	if h.count("order_notices") != 1 || h.count("jobs") != 1 {
		t.Fatalf("%d notices, %d jobs; want 1 and 1", h.count("order_notices"), h.count("jobs"))
	}
	for i := 0; i < 3; i++ {
		if _, err := h.run.RunDue(context.Background(), 10); err != nil {
			t.Fatal(err)
		}
	}
	calls := h.fake.CallsTo(openapi.QueryOrderPath)
	if len(calls) != 1 || calls[0].Query != "orderId=MOCKPERIODYEARNEW&orderLineId=MOCKPERIODYEARNEW-000001" || !calls[0].Verified {
		t.Fatalf("Query Order calls %+v", calls)
	}
	d, err := h.st.OrderDetailsFor(context.Background(), "MOCKPERIODYEARNEW", "MOCKPERIODYEARNEW-000001")
	if err != nil {
		t.Fatal(err)
	}
	if d.OrderType != "NEW" || d.ChargingMode != "PERIOD" || d.PeriodType != "year" || d.LinearValue != "50" ||
		d.CustomerID == "" || !d.ExpireTime.Valid || !strings.Contains(d.OrderJSON.String, `"orderId":"MOCKPERIODYEARNEW"`) {
		t.Fatalf("details %+v", d)
	}
	n, _ := h.st.OrderNoticeOf(context.Background(), "MOCKPERIODYEARNEW", "MOCKPERIODYEARNEW-000001")
	if n.State != store.NoticeQueried || !n.TestFlag {
		t.Fatalf("notice %+v", n)
	}
	// A notification after the query changes nothing and queries nothing.
	h.send(testKey, notify("MOCKPERIODYEARNEW"))
	_, _ = h.run.RunDue(context.Background(), 10)
	if len(h.fake.CallsTo(openapi.QueryOrderPath)) != 1 {
		t.Fatal("a repeat queried the order again")
	}
}

// TestEveryMockOrder: each documented mock order is acknowledged and queried once.
func TestEveryMockOrder(t *testing.T) {
	h := newHarness(t)
	ids := fakemkt.MockOrderIDs()
	for _, id := range ids {
		if m := h.send(testKey, notify(id)); m["resultCode"] != "000000" {
			t.Fatalf("%s: %v", id, m)
		}
	}
	if _, err := h.run.RunDue(context.Background(), 50); err != nil {
		t.Fatal(err)
	}
	if h.count("order_details") != len(ids) || len(h.fake.CallsTo(openapi.QueryOrderPath)) != len(ids) {
		t.Fatalf("%d details, %d queries for %d orders", h.count("order_details"), len(h.fake.CallsTo(openapi.QueryOrderPath)), len(ids))
	}
}

// TestQueryRetriedThenRecorded: a failing Query Order is retried; a refused one
// ends the job, with the notice left pending.
func TestQueryRetriedThenRecorded(t *testing.T) {
	h := newHarness(t)
	h.fake.Fail(openapi.QueryOrderPath, fakemkt.Fault{Status: http.StatusBadGateway})
	h.send(testKey, notify("CS-RETRY"))
	r := *h.run
	job, _ := h.st.JobByKey(context.Background(), store.OrderNoticeJobKey("CS-RETRY", "CS-RETRY-000001"))
	if out, _ := r.Run(context.Background(), job.ID); out != fulfil.Retry {
		t.Fatalf("first run: %s", out)
	}
	r.Store = h.st.WithClock(func() time.Time { return time.Now().Add(time.Hour) })
	if out, err := r.Run(context.Background(), job.ID); out != fulfil.Done || err != nil {
		t.Fatalf("second run: %s %v", out, err)
	}
	if _, err := h.st.OrderDetailsFor(context.Background(), "CS-RETRY", "CS-RETRY-000001"); err != nil {
		t.Fatal(err)
	}

	h.fake.Fail(openapi.QueryOrderPath, fakemkt.Fault{Status: http.StatusForbidden})
	h.send(testKey, notify("CS-REFUSED"))
	job, _ = h.st.JobByKey(context.Background(), store.OrderNoticeJobKey("CS-REFUSED", "CS-REFUSED-000001"))
	if out, _ := h.run.Run(context.Background(), job.ID); out != fulfil.Dead {
		t.Fatalf("refused query: %s, want dead", out)
	}
	if n, _ := h.st.OrderNoticeOf(context.Background(), "CS-REFUSED", "CS-REFUSED-000001"); n.State != store.NoticePending {
		t.Fatalf("notice %+v", n)
	}
}

// TestWithoutQueryOrder: a worker that does not query orders marks the notice
// SKIPPED.
func TestWithoutQueryOrder(t *testing.T) {
	h := newHarness(t)
	h.run.Handlers = ordernotify.Jobs{Store: h.st}.Handlers()
	h.send(testKey, notify("CS-SKIP"))
	if _, err := h.run.RunDue(context.Background(), 10); err != nil {
		t.Fatal(err)
	}
	if n, _ := h.st.OrderNoticeOf(context.Background(), "CS-SKIP", "CS-SKIP-000001"); n.State != store.NoticeSkipped {
		t.Fatalf("notice %+v", n)
	}
	if len(h.fake.Calls()) != 0 {
		t.Fatal("queried although no order source is configured")
	}
}

// TestNoticeWithoutOrderLine: only the order number is promised; a notice without
// orderLineId is keyed on the order alone and queried without an order line.
func TestNoticeWithoutOrderLine(t *testing.T) {
	h := newHarness(t)
	for _, body := range []string{
		`{"activity":"orderNotify","orderId":"MOCKONETIMENEW","testFlag":"1"}`,
		`{"activity":"orderNotify","orderId":"MOCKONETIMENEW","orderLineId":null,"testFlag":"1"}`,
		`{"activity":"orderNotify","orderId":"MOCKONETIMENEW","orderLineId":"","testFlag":"1"}`,
	} {
		if m := h.send(testKey, body); m["resultCode"] != "000000" {
			t.Fatalf("%s: %v", body, m)
		}
	}
	if h.count("order_notices") != 1 || h.count("jobs") != 1 {
		t.Fatalf("%d notices, %d jobs; want 1 and 1", h.count("order_notices"), h.count("jobs"))
	}
	if _, err := h.run.RunDue(context.Background(), 10); err != nil {
		t.Fatal(err)
	}
	calls := h.fake.CallsTo(openapi.QueryOrderPath)
	if len(calls) != 1 || calls[0].Query != "orderId=MOCKONETIMENEW" || !calls[0].Verified {
		t.Fatalf("Query Order calls %+v", calls)
	}
	n, err := h.st.OrderNoticeOf(context.Background(), "MOCKONETIMENEW", "")
	if err != nil || n.State != store.NoticeQueried {
		t.Fatalf("notice %+v, %v", n, err)
	}
	d, err := h.st.OrderDetailsFor(context.Background(), "MOCKONETIMENEW", "")
	if err != nil || d.ChargingMode != "ONE_TIME" || !strings.Contains(d.OrderJSON.String, `"orderLineId":"MOCKONETIMENEW-000001"`) {
		t.Fatalf("details %+v, %v", d, err)
	}
	// The same order notified with its line is another notice.
	if m := h.send(testKey, notify("MOCKONETIMENEW")); m["resultCode"] != "000000" || h.count("order_notices") != 2 {
		t.Fatalf("with the line: %v, %d notices", m, h.count("order_notices"))
	}
}

// TestBadInputAndForged: malformed bodies answer 000002, forged ones 000001, and
// nothing is stored.
func TestBadInputAndForged(t *testing.T) {
	h := newHarness(t)
	long := strings.Repeat("A", 65)
	for _, body := range []string{
		`activity=orderNotify&orderId=MOCKPERIODYEARNEW`,
		`[{"activity":"orderNotify"}]`,
		`{"activity":"orderCancel","orderId":"o","orderLineId":"l","testFlag":"1"}`,
		`{"activity":"orderNotify","orderLineId":"l","testFlag":"1"}`,
		`{"activity":"orderNotify","orderId":"` + long + `","orderLineId":"l","testFlag":"1"}`,
		`{"activity":"orderNotify","orderId":42,"orderLineId":"l","testFlag":"1"}`,
		`{"activity":"orderNotify","orderId":"o","orderLineId":"l","testFlag":"123"}`,
		"{\"activity\":\"orderNotify\",\"orderId\":\"o\\u0000\",\"orderLineId\":\"l\"}",
	} {
		if m := h.send(testKey, body); m["resultCode"] != "000002" {
			t.Errorf("%s => %v, want 000002", body, m)
		}
	}
	if m := h.send("not-the-notify-key", notify("MOCKONETIMENEW")); m["resultCode"] != "000001" {
		t.Fatalf("forged: %v", m)
	}
	for _, table := range []string{"order_notices", "jobs", "nonces"} {
		if n := h.count(table); n != 0 {
			t.Errorf("%d rows in %s", n, table)
		}
	}
}

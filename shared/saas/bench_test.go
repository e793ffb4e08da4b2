package saas_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/kgseller/kgseller/shared/endpoint"
	"github.com/kgseller/kgseller/shared/kgsign"
	"github.com/kgseller/kgseller/shared/marketplace"
	"github.com/kgseller/kgseller/shared/provision"
	"github.com/kgseller/kgseller/shared/saas"
	"github.com/kgseller/kgseller/shared/store"
	"github.com/kgseller/kgseller/shared/tools/dbtest"
)

// Round-trip targets per activity, as a function instance serves them (the worker
// is started over HTTP, not through the database).
const (
	targetNewFirst = 3
	targetNewRetry = 2
	targetQuery    = 2
)

// countedHarness is the saas-produce handler over one counted connection, with
// the worker started asynchronously (not through the database) and no nonce purge.
func countedHarness(tb testing.TB) (*harness, *dbtest.Counter) {
	tb.Helper()
	c := &dbtest.Counter{}
	st := dbtest.OpenCounted(tb, c)
	svc := &saas.Service{Store: st, Provisioner: provision.Static{FrontEndURL: "https://app/{instanceId}"}}
	h := endpoint.Handler(endpoint.Config{
		Scope: "basic", Verifier: &kgsign.Verifier{Keys: kgsign.MustKeySet(testKey)}, Nonces: st, Decode: svc.Decode,
		Logger: quietLogger(),
	})
	return &harness{t: nil, h: h, st: st, key: testKey}, c
}

func (h *harness) invoke(tb testing.TB, req events.APIGatewayProxyRequest) string {
	resp, err := h.h(context.Background(), req)
	if err != nil {
		tb.Fatal(err)
	}
	return resp.Body
}

// activate completes an instance's provisioning directly in the store.
func activate(tb testing.TB, st *store.Store, id string) {
	tb.Helper()
	job, err := st.JobByKey(context.Background(), "provision:"+id)
	if err != nil {
		tb.Fatal(err)
	}
	if _, ok, err := st.ClaimJob(context.Background(), job.ID, "bench", time.Minute); !ok || err != nil {
		tb.Fatalf("claim: %v %v", ok, err)
	}
	if err := st.CompleteJob(context.Background(), job.ID, "bench", store.ActivateInstance(id, marketplaceApp(id), "")); err != nil {
		tb.Fatal(err)
	}
}

// TestRoundTrips holds the round-trip targets: they are counts, not timings, so a
// test can hold them exactly.
func TestRoundTrips(t *testing.T) {
	h, c := countedHarness(t)
	measure := func(body string) (int64, string) {
		before := c.RoundTrips()
		out := h.invoke(t, h.request(body))
		return c.RoundTrips() - before, out
	}
	// Warm the connection so dialling is not counted.
	measure(`{"activity":"queryInstance","instanceId":"none"}`)
	n, out := measure(newInstanceBody("CS-RT", "b-rt"))
	if n > targetNewFirst {
		t.Errorf("first newInstance: %d round trips, target %d (%s)", n, targetNewFirst, out)
	}
	activate(t, h.st, "b-rt")
	if n, out := measure(newInstanceBody("CS-RT", "b-other")); n > targetNewRetry {
		t.Errorf("retried newInstance: %d round trips, target %d (%s)", n, targetNewRetry, out)
	}
	if n, out := measure(`{"activity":"queryInstance","instanceId":"b-rt"}`); n > targetQuery {
		t.Errorf("queryInstance: %d round trips, target %d (%s)", n, targetQuery, out)
	}
	if c.Dials() != 1 {
		t.Errorf("%d connections opened, want 1", c.Dials())
	}
}

// floorOnce runs the SQL statements an activity runs, directly on the same
// connection, and returns how long they took: the least a request making those
// round trips can cost. stmts returns the statements and arguments of
// repetition r.
func floorOnce(tb testing.TB, st *store.Store, r int, stmts func(r int) [][]any) time.Duration {
	ctx := context.Background()
	start := time.Now()
	for _, s := range stmts(r) {
		q := s[0].(string)
		if _, err := st.DB().ExecContext(ctx, q, s[1:]...); err != nil {
			tb.Fatalf("floor statement %.40q: %v", q, err)
		}
	}
	return time.Since(start)
}

// maxFloorReps bounds the floor repetitions of one benchmark run.
const maxFloorReps = 500

// benchActivity runs reqs through the handler and reports round trips per op and
// the ratio of the handler's time per op to the floor: the same statements sent
// raw. The floor repetitions are interleaved with the requests (outside the
// benchmark timer), so that both see the same server conditions: a commit's
// fsync time drifts during a run, and a floor measured after the run gave ratios
// that varied several-fold between identical runs.
func benchActivity(b *testing.B, h *harness, c *dbtest.Counter, next func(i int) events.APIGatewayProxyRequest, stmts func(r int) [][]any) {
	reqs := make([]events.APIGatewayProxyRequest, b.N)
	for i := range reqs {
		reqs[i] = next(i)
	}
	every := b.N/maxFloorReps + 1
	var handler, floor time.Duration
	var trips int64
	reps := 0
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		before := c.RoundTrips()
		start := time.Now()
		h.invoke(b, reqs[i])
		handler += time.Since(start)
		trips += c.RoundTrips() - before
		if i%every == 0 {
			b.StopTimer()
			floor += floorOnce(b, h.st, reps, stmts)
			reps++
			b.StartTimer()
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(trips)/float64(b.N), "rt/op")
	b.ReportMetric((float64(handler)/float64(b.N))/(float64(floor)/float64(reps)), "x-floor")
}

var floorRun = time.Now().UnixNano()

func nonceStmt(r int) []any {
	return []any{"INSERT INTO nonces (scope, nonce, expires_at) VALUES (?, ?, ?)", "floor", fmt.Sprintf("f-%d-%d", floorRun, r), time.Now().UTC().Truncate(time.Millisecond)}
}

func selectByOrder(order string) []any {
	return []any{"SELECT instance_id, state FROM instances WHERE order_id = ? AND order_line_id = ?", order, order + "-000001"}
}

func BenchmarkNewInstanceFirst(b *testing.B) {
	h, c := countedHarness(b)
	run := time.Now().UnixNano()
	benchActivity(b, h, c, func(i int) events.APIGatewayProxyRequest {
		return h.request(newInstanceBody(fmt.Sprintf("CS-B%d-%d", run, i), fmt.Sprintf("b-%d-%d", run, i)))
	}, func(r int) [][]any {
		id, now := fmt.Sprintf("floor-%d-%d", floorRun, r), time.Now().UTC().Truncate(time.Millisecond)
		return [][]any{nonceStmt(r), selectByOrder(id), {`START TRANSACTION;
INSERT INTO instances (instance_id, order_id, order_line_id, business_id, test_flag, state, status, version, created_at, updated_at) VALUES (?, ?, ?, ?, 0, 'PROVISIONING', 'NORMAL', 0, ?, ?);
INSERT INTO jobs (job_key, kind, instance_id, state, attempts, next_run_at, created_at, updated_at) VALUES (?, 'provision', ?, 'PENDING', 0, ?, ?, ?);
COMMIT`, id, id, id + "-000001", id, now, now, "provision:" + id, id, now, now, now}}
	})
}

func BenchmarkNewInstanceRetry(b *testing.B) {
	h, c := countedHarness(b)
	h.invoke(b, h.request(newInstanceBody("CS-RETRY", "b-retry")))
	activate(b, h.st, "b-retry")
	benchActivity(b, h, c, func(i int) events.APIGatewayProxyRequest {
		return h.request(newInstanceBody("CS-RETRY", fmt.Sprintf("b-%d", i)))
	}, func(r int) [][]any { return [][]any{nonceStmt(r), selectByOrder("CS-RETRY")} })
}

func BenchmarkQueryInstance(b *testing.B) {
	h, c := countedHarness(b)
	h.invoke(b, h.request(newInstanceBody("CS-Q", "b-q")))
	activate(b, h.st, "b-q")
	benchActivity(b, h, c, func(i int) events.APIGatewayProxyRequest {
		return h.request(`{"activity":"queryInstance","instanceId":"b-q"}`)
	}, func(r int) [][]any {
		return [][]any{nonceStmt(r), {`SELECT i.instance_id, i.app_info, u.usage_value FROM instances i
			LEFT JOIN instance_usage u ON u.instance_id = i.instance_id WHERE i.instance_id IN (?)`, "b-q"}}
	})
}

func quietLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func marketplaceApp(id string) marketplace.AppInfo {
	return marketplace.AppInfo{FrontEndURL: "https://app/" + id}
}

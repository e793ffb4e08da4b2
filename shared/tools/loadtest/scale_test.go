//go:build load

package loadtest

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kgseller/kgseller/shared/probe"
	"github.com/kgseller/kgseller/shared/tools/fgdeploy"
	"github.com/kgseller/kgseller/shared/tools/fglocal"
)

// scaleMaxConnections is the max_connections of the scale test's own MariaDB:
// below what saas-produce alone may open at its maxInstances, so a burst meets
// the limit.
const scaleMaxConnections = 30

// TestLoadScale runs the functions at their maxInstances of serverless.yml
// against a MariaDB the test starts with max_connections 30, which the deploy
// tool would refuse as too small for them, and sends a burst of a few hundred
// concurrent signed calls: every order's newInstance twice at once, then, per
// order, queryInstance until the worker (timer and asynchronous kicks) has
// provisioned it, a freeze, an unfreeze, a renewal and a last queryInstance. A
// call answered 000005 is retried as the marketplace retries. It checks that
// every answer has the documented shape (a gateway timeout would not), that no
// "Too many connections" reaches a caller as anything but 000005, that the
// server did refuse connections (else nothing was tested), that every order has
// one instance and one provisioning job and its calls all succeeded in the end;
// it reports throughput, latency percentiles and what the instances did.
func TestLoadScale(t *testing.T) {
	orders := scale(50, 150)
	db := startMariaDB(t, scaleMaxConnections)
	// Idle connections are given back after 5 s instead of a minute, so that the
	// instances the burst left without one get one soon after it (see
	// docs/performance.md, "Capacity").
	w := start(t, stackOptions{dsn: db.App, direct: db.Root, engine: fmt.Sprintf("MariaDB started by the test, max_connections %d", scaleMaxConnections),
		timer: time.Second, manifestLimits: true,
		env: []string{"DB_CONN_MAX_IDLE_TIME=5s", "FULFIL_BASE_DELAY=200ms", "FULFIL_MAX_DELAY=2s", "FULFIL_MAX_ATTEMPTS=100"}})

	budget, err := fgdeploy.ConnectionBudget(w.stack.Manifest)
	if err != nil {
		t.Fatal(err)
	}
	budget.Allowed = scaleMaxConnections
	var plan strings.Builder
	budget.Write(&plan)
	if err := budget.Check(); err == nil {
		t.Fatalf("the deploy tool would accept a database of %d connections for these functions:\n%s", scaleMaxConnections, plan.String())
	}
	t.Logf("this database is too small for serverless.yml; the deploy tool refuses it:\n%s", plan.String())

	ctx := context.Background()
	// The test's own connection counts against the server's limit for the whole run.
	hold, err := w.db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer hold.Close()
	rtt := dbRoundTrip(t, hold)

	r := &scaleRun{w: w, deadline: time.Now().Add(time.Duration(scale(180, 360)) * time.Second),
		client: &probe.Client{URL: w.client.URL, Key: w.client.Key,
			HTTP: &http.Client{Timeout: 8 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 1024}}}}
	prefix := fmt.Sprintf("SCALE%d-", time.Now().UnixNano()%1e9)
	ids := make([][2]string, orders)
	fails := make([][2]string, orders)
	var wg sync.WaitGroup
	go1 := make(chan struct{})
	for i := range orders {
		for c := range 2 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-go1
				ids[i][c], fails[i][c] = r.order(fmt.Sprintf("%s%04d", prefix, i), c == 0)
			}()
		}
	}
	began := time.Now()
	close(go1)
	wg.Wait()
	elapsed := time.Since(began)

	var problems []string
	for i := range orders {
		for c := range 2 {
			if fails[i][c] != "" {
				problems = append(problems, fmt.Sprintf("order %d copy %d: %s", i, c, fails[i][c]))
			}
		}
		if fails[i][0] == "" && fails[i][1] == "" && ids[i][0] != ids[i][1] {
			problems = append(problems, fmt.Sprintf("order %d: the two newInstance calls named %s and %s", i, ids[i][0], ids[i][1]))
		}
	}
	if len(problems) > 0 {
		t.Errorf("%d problems, the first:\n%s", len(problems), strings.Join(problems[:min(10, len(problems))], "\n"))
	}

	// One instance and one provisioning job per order, read on the held
	// connection: the server may have none to spare for a new one.
	count := func(q string, args ...any) int {
		t.Helper()
		var n int
		if err := hold.QueryRowContext(ctx, q, args...).Scan(&n); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		return n
	}
	if n := count("SELECT COUNT(*) FROM instances WHERE order_id LIKE ?", prefix+"%"); n != orders {
		t.Errorf("%d instances for %d orders", n, orders)
	}
	if n := count("SELECT COUNT(*) FROM (SELECT order_id FROM instances WHERE order_id LIKE ? GROUP BY order_id, order_line_id HAVING COUNT(*) > 1) d", prefix+"%"); n != 0 {
		t.Errorf("%d orders with more than one instance", n)
	}
	if n := count("SELECT COUNT(*) FROM jobs j JOIN instances i ON j.instance_id = i.instance_id WHERE i.order_id LIKE ? AND j.kind = 'provision'", prefix+"%"); n != orders {
		t.Errorf("%d provisioning jobs for %d orders", n, orders)
	}

	// No "Too many connections" reached a caller: not in any answer, and every
	// request that met it answered 000005.
	r.mu.Lock()
	samples := r.samples
	r.mu.Unlock()
	for _, s := range samples {
		if strings.Contains(s.body, "Too many connections") || strings.Contains(s.body, "1040") {
			t.Errorf("an answer quotes the database's refusal: %s", s.body)
		}
	}
	refusedRequests, burstLines := 0, 0
	for _, line := range strings.Split(w.logs.String(), "\n") {
		if !strings.Contains(line, "Too many connections") && !strings.Contains(line, "the database refused a connection") {
			continue
		}
		rec := logRecord(line)
		switch {
		case rec["msg"] == "request":
			refusedRequests++
			if rec["resultCode"] != "000005" || rec["level"] != "WARN" {
				t.Errorf("a refused connection answered %v at level %v: %s", rec["resultCode"], rec["level"], line)
			}
		case strings.HasPrefix(fmt.Sprint(rec["msg"]), "the database refused a connection"):
			burstLines++
		}
	}
	if burstLines == 0 {
		t.Errorf("the database never refused a connection: the burst did not reach max_connections %d, and back-pressure went untested", scaleMaxConnections)
	}

	var maxUsed int
	var name string
	_ = hold.QueryRowContext(ctx, "SHOW GLOBAL STATUS LIKE 'Max_used_connections'").Scan(&name, &maxUsed)
	usage := w.stack.Emulator.Usage()
	for fn, u := range usage {
		if u.Peak > u.Limit {
			t.Errorf("%s ran %d instances at once, beyond its maxInstances %d", fn, u.Peak, u.Limit)
		}
	}
	r.report(t, elapsed, orders, rtt, maxUsed, refusedRequests, burstLines, usage)
	t.Logf("after the burst:%s", r.calm(t, ids[0][0], prefix))
}

// calm measures what one connection carries once the burst is over: sequential
// calls from one client, each on a warm instance and its warm connection, of
// queryInstance, newInstance (a new order each, so the creating path) and
// updateInstanceStatus. It returns, per activity, calls per second and the
// client's and the function's time per call.
func (r *scaleRun) calm(t *testing.T, instance, prefix string) string {
	t.Helper()
	phases := []struct {
		op   string
		n    int
		body func(i int) string
	}{
		{"queryInstance", 300, func(int) string { return fmt.Sprintf(`{"activity":"queryInstance","instanceId":%q}`, instance) }},
		{"newInstance", 100, func(i int) string { return newInstanceBody(fmt.Sprintf("%sCALM%04d", prefix, i), "calm") }},
		{"updateInstanceStatus", 100, func(i int) string {
			return fmt.Sprintf(`{"activity":"updateInstanceStatus","instanceId":%q,"status":%q,"testFlag":"1"}`, instance, []string{"FREEZE", "UNFREEZE"}[i%2])
		}},
	}
	var b strings.Builder
	for _, ph := range phases {
		began := time.Now()
		client := make([]time.Duration, 0, ph.n)
		for i := range ph.n {
			a, err := r.client.Post(context.Background(), []byte(ph.body(i)))
			if err != nil || a.ShapeError() != nil || (a.Code() != "000000" && a.Code() != "000004") {
				t.Fatalf("calm %s: %v %v %s", ph.op, err, a.ShapeError(), a.Body)
			}
			client = append(client, a.Elapsed)
		}
		ended := time.Now()
		sort.Slice(client, func(i, j int) bool { return client[i] < client[j] })
		var fn []float64
		for _, line := range strings.Split(r.w.logs.String(), "\n") {
			rec := logRecord(line)
			if rec["msg"] != "request" || rec["activity"] != ph.op {
				continue
			}
			at, err := time.Parse(time.RFC3339Nano, fmt.Sprint(rec["time"]))
			if ms, ok := rec["ms"].(float64); ok && err == nil && at.After(began) && at.Before(ended) {
				fn = append(fn, ms)
			}
		}
		if len(fn) == 0 {
			t.Fatalf("calm %s: no request lines", ph.op)
		}
		sort.Float64s(fn)
		fmt.Fprintf(&b, "\n  %-22s %4d sequential calls, one client: %5.0f calls/s; client p50 %7s p99 %7s; function p50 %5.2f ms p99 %5.2f ms",
			ph.op, ph.n, float64(ph.n)/ended.Sub(began).Seconds(), pct(client, 50), pct(client, 99), fn[len(fn)/2], fn[min(len(fn)-1, len(fn)*99/100)])
	}
	return b.String()
}

// scaleRun sends the calls of TestLoadScale and keeps what they answered.
type scaleRun struct {
	w        *world
	client   *probe.Client
	deadline time.Time

	mu      sync.Mutex
	samples []sample
}

type sample struct {
	op      string
	code    string
	elapsed time.Duration
	body    string
}

// order runs one order's calls: the lead copy its whole life, the other copy
// only the duplicate newInstance. It returns the instance and what went wrong.
func (r *scaleRun) order(order string, lead bool) (string, string) {
	a, err := r.call("newInstance", newInstanceBody(order, order+"-b"), "000000", "000004")
	if err != nil {
		return "", err.Error()
	}
	id := a.String("instanceId")
	if !lead {
		return id, ""
	}
	query := fmt.Sprintf(`{"activity":"queryInstance","instanceId":%q}`, id)
	for {
		a, err := r.call("queryInstance", query, "000000", "000004")
		if err != nil {
			return id, err.Error()
		}
		if a.Code() == "000000" {
			break
		}
		if time.Now().After(r.deadline) {
			return id, "not provisioned before the deadline"
		}
		time.Sleep(300 * time.Millisecond)
	}
	for _, step := range []struct{ op, body string }{
		{"updateInstanceStatus", fmt.Sprintf(`{"activity":"updateInstanceStatus","instanceId":%q,"status":"FREEZE","testFlag":"1"}`, id)},
		{"updateInstanceStatus", fmt.Sprintf(`{"activity":"updateInstanceStatus","instanceId":%q,"status":"UNFREEZE","testFlag":"1"}`, id)},
		{"refreshInstance", fmt.Sprintf(`{"activity":"refreshInstance","expireTime":"20351124023618","instanceId":%q,"orderId":"%s-R","orderLineId":"%s-R-000001","scene":"RENEWAL","testFlag":"1"}`, id, order, order)},
		{"queryInstance", query},
	} {
		if _, err := r.call(step.op, step.body, "000000"); err != nil {
			return id, err.Error()
		}
	}
	return id, ""
}

// call sends a signed body until it is answered with one of want, retrying
// 000005 with backoff and jitter as the marketplace retries. A transport error,
// an answer out of shape or another code ends it with an error.
func (r *scaleRun) call(op, body string, want ...string) (probe.Answer, error) {
	for attempt := 1; ; attempt++ {
		a, err := r.client.Post(context.Background(), []byte(body))
		if err != nil {
			return a, fmt.Errorf("%s: %v", op, err)
		}
		r.w.mu.Lock()
		r.w.answers.Write(a.Body)
		fmt.Fprintln(&r.w.answers, a.Header)
		r.w.mu.Unlock()
		r.mu.Lock()
		r.samples = append(r.samples, sample{op: op, code: a.Code(), elapsed: a.Elapsed, body: string(a.Body)})
		r.mu.Unlock()
		if err := a.ShapeError(); err != nil {
			problem := fmt.Sprintf("%s: %v (HTTP %d, %.200s)", op, err, a.Status, a.Body)
			if id := a.Header.Get("X-Request-Id"); id != "" {
				problem += "; logged: " + r.w.logLine(id)
			}
			return a, fmt.Errorf("%s", problem)
		}
		code := a.Code()
		for _, w := range want {
			if code == w {
				return a, nil
			}
		}
		if code != "000005" {
			return a, fmt.Errorf("%s answered %s (%s)", op, code, a.String("resultMsg"))
		}
		if time.Now().After(r.deadline) {
			return a, fmt.Errorf("%s still answered 000005 at the deadline, after %d attempts", op, attempt)
		}
		backoff := min(time.Duration(attempt)*250*time.Millisecond, 2*time.Second)
		time.Sleep(backoff/2 + time.Duration(rand.Int64N(int64(backoff/2)+1)))
	}
}

func (r *scaleRun) report(t *testing.T, elapsed time.Duration, orders int, rtt time.Duration, maxUsed, refusedRequests, burstLines int, usage map[string]fglocal.Usage) {
	r.mu.Lock()
	defer r.mu.Unlock()
	byOp := map[string][]time.Duration{}
	busy := 0
	for _, s := range r.samples {
		byOp[s.op] = append(byOp[s.op], s.elapsed)
		byOp["all"] = append(byOp["all"], s.elapsed)
		if s.code == "000005" {
			busy++
		}
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%d orders, %d calls in %s: %.0f calls/s; %d answered 000005 and were retried\n",
		orders, len(r.samples), elapsed.Round(time.Millisecond), float64(len(r.samples))/elapsed.Seconds(), busy)
	ops := make([]string, 0, len(byOp))
	for op := range byOp {
		ops = append(ops, op)
	}
	sort.Strings(ops)
	for _, op := range ops {
		d := byOp[op]
		sort.Slice(d, func(i, j int) bool { return d[i] < d[j] })
		fmt.Fprintf(&b, "  %-22s %6d calls  p50 %7s  p99 %7s  max %7s\n", op, len(d),
			pct(d, 50), pct(d, 99), d[len(d)-1].Round(time.Millisecond))
	}
	fmt.Fprintf(&b, "database: round trip (SELECT 1) %s; Max_used_connections %d of %d; %d requests met a refused connection, the functions logged %d burst lines\n",
		rtt.Round(time.Microsecond), maxUsed, scaleMaxConnections, refusedRequests, burstLines)
	names := make([]string, 0, len(usage))
	for n, u := range usage {
		if u.Started > 0 {
			names = append(names, n)
		}
	}
	sort.Strings(names)
	for _, n := range names {
		u := usage[n]
		fmt.Fprintf(&b, "  %-22s maxInstances %3d: %3d started, peak %3d, %5d waited for an instance, %d gave up\n", n, u.Limit, u.Started, u.Peak, u.Waited, u.GaveUp)
	}
	fmt.Fprintf(&b, "function time per request (the request lines' ms):\n%s", functionTimes(r.w.logs.String()))
	t.Logf("scale run:\n%s", b.String())
}

func pct(sorted []time.Duration, p int) string {
	i := (len(sorted)*p + 99) / 100
	return sorted[max(0, min(len(sorted)-1, i-1))].Round(100 * time.Microsecond).String()
}

// dbRoundTrip is the median time of SELECT 1 on conn: one round trip to the
// database and its least work.
func dbRoundTrip(t *testing.T, conn *sql.Conn) time.Duration {
	t.Helper()
	d := make([]time.Duration, 0, 200)
	for range 200 {
		var one int
		start := time.Now()
		if err := conn.QueryRowContext(context.Background(), "SELECT 1").Scan(&one); err != nil {
			t.Fatal(err)
		}
		d = append(d, time.Since(start))
	}
	sort.Slice(d, func(i, j int) bool { return d[i] < d[j] })
	return d[len(d)/2]
}

// logRecord parses a function's JSON log line (after the emulator's prefix).
func logRecord(line string) map[string]any {
	var rec map[string]any
	if i := strings.IndexByte(line, '{'); i >= 0 {
		_ = json.Unmarshal([]byte(line[i:]), &rec)
	}
	return rec
}

// functionTimes summarises the request lines' ms per activity (the time inside
// the function, without the emulator and the client).
func functionTimes(logs string) string {
	byOp := map[string][]float64{}
	for _, line := range strings.Split(logs, "\n") {
		if !strings.Contains(line, `"msg":"request"`) {
			continue
		}
		rec := logRecord(line)
		ms, ok := rec["ms"].(float64)
		if !ok || rec["resultCode"] != "000000" && rec["resultCode"] != "000004" {
			continue
		}
		op := fmt.Sprint(rec["activity"])
		byOp[op] = append(byOp[op], ms)
	}
	ops := make([]string, 0, len(byOp))
	for op := range byOp {
		ops = append(ops, op)
	}
	sort.Strings(ops)
	var b strings.Builder
	for _, op := range ops {
		v := byOp[op]
		sort.Float64s(v)
		fmt.Fprintf(&b, "  %-22s %6d  p50 %6.2f ms  p99 %6.2f ms\n", op, len(v), v[len(v)/2], v[min(len(v)-1, len(v)*99/100)])
	}
	return b.String()
}

package ops_test

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/kgseller/kgseller/shared/fulfil"
	"github.com/kgseller/kgseller/shared/marketplace"
	"github.com/kgseller/kgseller/shared/provision"
	"github.com/kgseller/kgseller/shared/store"
	"github.com/kgseller/kgseller/shared/tools/dbtest"
	"github.com/kgseller/kgseller/shared/tools/localstate"
	"github.com/kgseller/kgseller/shared/tools/ops"
)

// failing is a provisioner whose provisioning fails; everything else is Static's.
type failing struct {
	provision.Static
	permanent bool
}

func (f failing) Provision(context.Context, provision.Request) (*marketplace.AppInfo, error) {
	if f.permanent {
		return nil, &provision.Permanent{Code: marketplace.SoldOut, Reason: "sold out in region x"}
	}
	return nil, errors.New("webhook answered 503")
}

var static = provision.Static{FrontEndURL: "https://app.example.com/{instanceId}"}

// runner runs jobs with a clock one second ahead: the embedded engine (like MySQL
// 8) rounds DATETIME(3) to the nearest millisecond, so a job written this instant
// can read as due only in the next millisecond.
func runner(st *store.Store, p provision.Provisioner) *fulfil.Runner {
	ahead := st.WithClock(func() time.Time { return time.Now().Add(time.Second) })
	return &fulfil.Runner{
		Store: ahead, Handlers: fulfil.Instances{Store: st, Provisioner: p}.Handlers(), MaxAttempts: 2,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	}
}

// fixture is a database with: an instance whose provisioning died (permanent
// failure), one whose provisioning died after its retries (transient failures),
// one provisioned and then renewed and upgraded, and live and expired nonces.
type fixture struct {
	st                       *store.Store
	dsn                      string
	deadJob, deadJob2        int64
	doneJob                  int64
	failedID, failed2, okID  string
	renewOrder, upgradeOrder string
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	st, dsn := dbtest.Open(t)
	ctx := context.Background()
	f := &fixture{st: st, dsn: dsn, failedID: "inst-dead", failed2: "inst-dead-2", okID: "inst-ok",
		renewOrder: "CS-OPS-RENEW", upgradeOrder: "CS-OPS-UP"}
	create := func(id, order string) int64 {
		res, err := st.CreateInstance(ctx, marketplace.Instance{InstanceID: id, OrderID: order, OrderLineID: order + "-000001", BusinessID: id})
		if err != nil {
			t.Fatal(err)
		}
		return res.JobID
	}
	f.deadJob = create(f.failedID, "CS-OPS-DEAD")
	if out, err := runner(st, failing{permanent: true}).Run(ctx, f.deadJob); out != fulfil.Dead || err != nil {
		t.Fatalf("permanent failure: %s %v", out, err)
	}
	f.deadJob2 = create(f.failed2, "CS-OPS-DEAD2")
	r := runner(st, failing{})
	if out, err := r.Run(ctx, f.deadJob2); out != fulfil.Retry || err != nil {
		t.Fatalf("first transient failure: %s %v", out, err)
	}
	r.Store = st.WithClock(func() time.Time { return time.Now().Add(time.Hour) })
	if out, err := r.Run(ctx, f.deadJob2); out != fulfil.Dead || err != nil {
		t.Fatalf("second transient failure: %s %v", out, err)
	}
	f.doneJob = create(f.okID, "CS-OPS-OK")
	if out, err := runner(st, static).Run(ctx, f.doneJob); out != fulfil.Done || err != nil {
		t.Fatalf("provisioning: %s %v", out, err)
	}
	if _, err := st.ApplyRefresh(ctx, store.Refresh{InstanceID: f.okID, OrderID: f.renewOrder, OrderLineID: f.renewOrder + "-000001",
		Scene: "RENEWAL", ExpireTime: time.Date(2031, 1, 2, 3, 4, 5, 0, time.UTC)}); err != nil {
		t.Fatal(err)
	}
	if _, err := st.RecordUpgrade(ctx, f.okID, f.upgradeOrder, f.upgradeOrder+"-000001"); err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	for i, exp := range []time.Time{now.Add(-time.Hour), now.Add(-time.Minute), now.Add(time.Hour)} {
		if err := st.RememberNonce(ctx, "basic", "nonce-"+strconv.Itoa(i), exp, 0); err != nil {
			t.Fatal(err)
		}
	}
	return f
}

// run runs the ops command and returns its exit status and output.
func (f *fixture) run(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := ops.Main(context.Background(), args, func(k string) string {
		if k == "DB_DSN" {
			return f.dsn
		}
		return ""
	}, &out, &errb)
	return code, out.String(), errb.String()
}

func (f *fixture) ok(t *testing.T, args ...string) string {
	t.Helper()
	code, out, errs := f.run(t, args...)
	if code != ops.ExitOK {
		t.Fatalf("ops %s: exit %d: %s%s", strings.Join(args, " "), code, out, errs)
	}
	return out
}

func decode[T any](t *testing.T, s string) T {
	t.Helper()
	var v T
	if err := json.Unmarshal([]byte(s), &v); err != nil {
		t.Fatalf("%v: %s", err, s)
	}
	return v
}

// snapshot dumps every table ops touches, rows in key order.
func (f *fixture) snapshot(t *testing.T) string {
	t.Helper()
	var b strings.Builder
	for _, q := range []string{
		"SELECT * FROM instances ORDER BY instance_id",
		"SELECT * FROM instance_orders ORDER BY kind, order_id, order_line_id",
		"SELECT * FROM jobs ORDER BY id",
		"SELECT * FROM nonces ORDER BY scope, nonce",
		"SELECT * FROM monitor_checks ORDER BY check_name",
		"SELECT * FROM monitor_runs ORDER BY check_name, seq",
	} {
		rows, err := f.st.DB().Queryx(q)
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			m := map[string]any{}
			if err := rows.MapScan(m); err != nil {
				t.Fatal(err)
			}
			for k, v := range m {
				if bs, ok := v.([]byte); ok {
					m[k] = string(bs)
				}
			}
			j, _ := json.Marshal(m)
			b.Write(j)
			b.WriteByte('\n')
		}
		rows.Close()
	}
	return b.String()
}

func TestListings(t *testing.T) {
	f := newFixture(t)
	dead := decode[[]ops.JobView](t, f.ok(t, "jobs", "-state", "DEAD", "-json"))
	if len(dead) != 2 {
		t.Fatalf("dead jobs: %+v", dead)
	}
	byID := map[int64]ops.JobView{}
	for _, j := range dead {
		byID[j.ID] = j
	}
	if j := byID[f.deadJob]; j.Kind != marketplace.JobProvision || j.InstanceID != f.failedID || j.Attempts != 1 || !strings.Contains(j.LastError, "sold out in region x") {
		t.Fatalf("permanently failed job: %+v", j)
	}
	if j := byID[f.deadJob2]; j.Attempts != 2 || !strings.Contains(j.LastError, "webhook answered 503") {
		t.Fatalf("job dead after its retries: %+v", j)
	}
	if pending := decode[[]ops.JobView](t, f.ok(t, "-json", "jobs", "-state", "PENDING")); len(pending) != 2 {
		t.Fatalf("pending jobs (refresh, upgrade): %+v", pending)
	}
	if jobs := decode[[]ops.JobView](t, f.ok(t, "jobs", "-instance", f.okID, "-kind", "refresh", "-json")); len(jobs) != 1 || jobs[0].State != store.JobPending {
		t.Fatalf("refresh job: %+v", jobs)
	}

	failed := decode[[]ops.InstanceView](t, f.ok(t, "instances", "-state", "FAILED", "-json"))
	if len(failed) != 2 || failed[0].FailCode == "" {
		t.Fatalf("failed instances: %+v", failed)
	}
	if all := decode[[]ops.InstanceView](t, f.ok(t, "instances", "-json", "-limit", "2")); len(all) != 2 {
		t.Fatalf("-limit 2 gave %d instances", len(all))
	}
	if one := decode[[]ops.InstanceView](t, f.ok(t, "instances", "-order", "CS-OPS-OK", "-json")); len(one) != 1 || one[0].InstanceID != f.okID ||
		one[0].State != "ACTIVE" || one[0].FrontEndURL != "https://app.example.com/"+f.okID || one[0].ExpireTime == nil {
		t.Fatalf("instance by order: %+v", one)
	}

	orders := decode[[]ops.OrderView](t, f.ok(t, "orders", "-instance", f.okID, "-json"))
	kinds := map[string]string{}
	for _, o := range orders {
		kinds[o.Kind] = o.OrderID
	}
	if len(orders) != 2 || kinds["refresh/RENEWAL"] != f.renewOrder || kinds["upgrade"] != f.upgradeOrder {
		t.Fatalf("applied orders: %+v", orders)
	}

	sum := decode[ops.Summary](t, f.ok(t, "summary", "-json"))
	if sum.InstancesByState["FAILED"] != 2 || sum.InstancesByState["ACTIVE"] != 1 || sum.JobsByState["DEAD"] != 2 ||
		sum.JobsByState["DONE"] != 1 || sum.JobsByState["PENDING"] != 2 || sum.DeadJobsByKind["provision"] != 2 ||
		sum.Nonces != 3 || sum.ExpiredNonces != 2 {
		t.Fatalf("summary: %+v", sum)
	}

	// Tables: a header, aligned columns, a count line.
	table := f.ok(t, "instances")
	lines := strings.Split(strings.TrimSpace(table), "\n")
	if len(lines) != 5 || !strings.HasPrefix(lines[0], "INSTANCE") || lines[4] != "(3 instances)" {
		t.Fatalf("instances table:\n%s", table)
	}
	col := strings.Index(lines[0], "STATE")
	for _, l := range lines[1:4] {
		if st := strings.Fields(l[col:])[0]; st != "ACTIVE" && st != "FAILED" {
			t.Fatalf("STATE column is not aligned:\n%s", table)
		}
	}
	jobs := f.ok(t, "jobs", "-state", "DEAD")
	if !strings.Contains(jobs, "sold out in region x") || !strings.Contains(jobs, "LAST ERROR") {
		t.Fatalf("jobs table:\n%s", jobs)
	}
	if s := f.ok(t, "summary"); !strings.Contains(s, "dead jobs by kind") || !strings.Contains(s, "provision") {
		t.Fatalf("summary table:\n%s", s)
	}
}

func TestHistory(t *testing.T) {
	f := newFixture(t)
	h := decode[ops.History](t, f.ok(t, "history", "-order", "CS-OPS-OK", "-json"))
	if len(h.Instances) != 1 {
		t.Fatalf("history: %+v", h)
	}
	ih := h.Instances[0]
	if ih.Instance.InstanceID != f.okID || !strings.Contains(ih.Relation, "created by this order") || len(ih.Orders) != 2 || len(ih.Jobs) != 3 {
		t.Fatalf("history of the purchase order: %+v", ih)
	}
	if ih.Jobs[0].Kind != marketplace.JobProvision || ih.Jobs[0].State != store.JobDone || ih.Jobs[0].DoneAt == nil {
		t.Fatalf("jobs are not oldest first, or provisioning is not done: %+v", ih.Jobs)
	}
	// A renewal order leads to the instance it changed, with every way it changed it.
	h = decode[ops.History](t, f.ok(t, "history", "-order", f.renewOrder, "-line", f.renewOrder+"-000001", "-json"))
	if len(h.Instances) != 1 || h.Instances[0].Instance.InstanceID != f.okID || h.Instances[0].Relation != "changed by this order (refresh/RENEWAL)" {
		t.Fatalf("history of a renewal order: %+v", h)
	}
	if _, err := f.st.ApplyRefresh(context.Background(), store.Refresh{InstanceID: f.okID, OrderID: f.renewOrder, OrderLineID: f.renewOrder + "-000001",
		Scene: "RENEWAL_CHANGE", ExpireTime: time.Date(2032, 1, 2, 3, 4, 5, 0, time.UTC)}); err != nil {
		t.Fatal(err)
	}
	h = decode[ops.History](t, f.ok(t, "history", "-order", f.renewOrder, "-json"))
	if len(h.Instances) != 1 || h.Instances[0].Relation != "changed by this order (refresh/RENEWAL, refresh/RENEWAL_CHANGE)" || len(h.Instances[0].Orders) != 3 {
		t.Fatalf("history of an order applied twice: %+v", h)
	}
	// The dead job, with its attempts and last error, in the table.
	out := f.ok(t, "history", "-instance", f.failedID)
	for _, want := range []string{"History of instance " + f.failedID, "FAILED", "Jobs (1)", "DEAD", "sold out in region x", "Applied orders (0)"} {
		if !strings.Contains(out, want) {
			t.Fatalf("history table lacks %q:\n%s", want, out)
		}
	}
	if code, _, errs := f.run(t, "history", "-order", "CS-NOTHING"); code != ops.ExitError || !strings.Contains(errs, "nothing recorded") {
		t.Fatalf("unknown order: exit %d %s", code, errs)
	}
}

func TestRetryDeadJob(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	before := f.snapshot(t)
	id := strconv.FormatInt(f.deadJob, 10)

	// Without -yes: says what would change, writes nothing.
	out := f.ok(t, "retry", id)
	if !strings.Contains(out, "would requeue: DEAD -> PENDING, due now, attempts 1 -> 0") || !strings.Contains(out, "dry run") {
		t.Fatalf("dry run:\n%s", out)
	}
	if f.snapshot(t) != before {
		t.Fatal("retry without -yes changed the database")
	}

	out = f.ok(t, "retry", "-yes", id)
	if !strings.Contains(out, "requeued: PENDING, due now, attempts 1 -> 0") {
		t.Fatalf("retry:\n%s", out)
	}
	j, err := f.st.Job(ctx, f.deadJob)
	if err != nil || j.State != store.JobPending || j.Attempts != 0 || j.NextRunAt.After(time.Now().Add(time.Second)) || j.LeaseOwner.Valid {
		t.Fatalf("requeued job: %+v %v", j, err)
	}
	if j.LastError.String == "" {
		t.Fatal("the last error was dropped before the job ran again")
	}
	inst, _ := f.st.Instance(ctx, f.failedID)
	if inst.State != marketplace.Provisioning || inst.FailCode != "" {
		t.Fatalf("instance of a requeued provisioning job: %s %s", inst.State, inst.FailCode)
	}
	// The worker now runs it; this time provisioning works.
	if out, err := runner(f.st, static).Run(ctx, f.deadJob); out != fulfil.Done || err != nil {
		t.Fatalf("running the requeued job: %s %v", out, err)
	}
	if inst, _ := f.st.Instance(ctx, f.failedID); inst.State != marketplace.Active {
		t.Fatalf("instance after the retry: %s", inst.State)
	}

	// -keep-attempts keeps the count: one more failure buries the job again.
	id2 := strconv.FormatInt(f.deadJob2, 10)
	res := decode[struct {
		Applied bool
		Jobs    []ops.RetryOutcome
	}](t, f.ok(t, "retry", "-yes", "-keep-attempts", "-json", id2))
	if !res.Applied || len(res.Jobs) != 1 || !res.Jobs[0].Applied || res.Jobs[0].AttemptsAfter != 2 {
		t.Fatalf("retry -keep-attempts: %+v", res)
	}
	if j, _ := f.st.Job(ctx, f.deadJob2); j.State != store.JobPending || j.Attempts != 2 {
		t.Fatalf("job after -keep-attempts: %+v", j)
	}

	// Jobs that are not dead, or do not exist, are refused and left alone.
	before = f.snapshot(t)
	for _, args := range [][]string{{"retry", "-yes", strconv.FormatInt(f.doneJob, 10)}, {"retry", "-yes", "987654"}} {
		code, out, errs := f.run(t, args...)
		if code != ops.ExitError || !strings.Contains(out+errs, "not requeued") {
			t.Fatalf("%v: exit %d\n%s%s", args, code, out, errs)
		}
	}
	if f.snapshot(t) != before {
		t.Fatal("a refused retry changed the database")
	}
}

func TestRetryAllDead(t *testing.T) {
	f := newFixture(t)
	out := f.ok(t, "retry", "-all-dead", "-kind", "provision")
	if strings.Count(out, "would requeue") != 2 {
		t.Fatalf("dry run of -all-dead:\n%s", out)
	}
	f.ok(t, "retry", "-all-dead", "-yes")
	if dead := decode[[]ops.JobView](t, f.ok(t, "jobs", "-state", "DEAD", "-json")); len(dead) != 0 {
		t.Fatalf("dead jobs left: %+v", dead)
	}
}

func TestPurgeNonces(t *testing.T) {
	f := newFixture(t)
	before := f.snapshot(t)
	out := f.ok(t, "purge-nonces")
	if !strings.Contains(out, "dry run: would delete 2 expired nonces of 3 stored") {
		t.Fatalf("dry run:\n%s", out)
	}
	if f.snapshot(t) != before {
		t.Fatal("purge-nonces without -yes changed the database")
	}
	// Batches of one still delete every expired nonce, and only those.
	res := decode[ops.PurgeOutcome](t, f.ok(t, "purge-nonces", "-yes", "-batch", "1", "-json"))
	if !res.Applied || res.Deleted != 2 || res.Expired != 2 {
		t.Fatalf("purge: %+v", res)
	}
	var left []string
	if err := f.st.DB().Select(&left, "SELECT nonce FROM nonces"); err != nil {
		t.Fatal(err)
	}
	if len(left) != 1 || left[0] != "nonce-2" {
		t.Fatalf("nonces left: %v", left)
	}
}

// TestReadOnlyWritesNothing runs every command without -yes, as table and as JSON,
// and compares every table before and after.
func TestReadOnlyWritesNothing(t *testing.T) {
	f := newFixture(t)
	f.monitorRuns(t, "interface failed")
	before := f.snapshot(t)
	dead := strconv.FormatInt(f.deadJob, 10)
	for _, args := range [][]string{
		{"summary"}, {"instances"}, {"instances", "-state", "FAILED"}, {"orders"}, {"orders", "-order", f.renewOrder},
		{"jobs"}, {"jobs", "-state", "DEAD"}, {"history", "-order", "CS-OPS-OK"}, {"history", "-instance", f.failedID},
		{"retry", dead}, {"retry", "-keep-attempts", dead}, {"retry", "-all-dead"}, {"purge-nonces"}, {"purge-nonces", "-batch", "1"},
		{"health"}, {"health", "-check", "interface", "-runs", "3"},
	} {
		for _, asJSON := range []bool{false, true} {
			a := append([]string(nil), args...)
			if asJSON {
				a = append(a, "-json")
			}
			out := f.ok(t, a...)
			if asJSON && !json.Valid([]byte(out)) {
				t.Fatalf("ops %v -json is not JSON:\n%s", a, out)
			}
		}
	}
	if after := f.snapshot(t); after != before {
		t.Fatalf("read-only commands changed the database:\nbefore:\n%s\nafter:\n%s", before, after)
	}
}

func TestUsage(t *testing.T) {
	f := newFixture(t)
	for _, args := range [][]string{
		{}, {"frobnicate"}, {"jobs", "-state", "STUCK"}, {"instances", "-status", "ON"}, {"retry"}, {"retry", "x1"},
		{"retry", "-kind", "provision", "1"}, {"history"}, {"history", "-order", "a", "-instance", "b"}, {"summary", "extra"},
		{"health", "extra"}, {"health", "-stuck-after", "soon"},
	} {
		if code, _, _ := f.run(t, args...); code != ops.ExitUsage {
			t.Fatalf("ops %v: exit %d, want %d", args, code, ops.ExitUsage)
		}
	}
	var out, errb bytes.Buffer
	noLocalRun := filepath.Join(t.TempDir(), "local.json")
	if code := ops.Main(context.Background(), []string{"summary"}, func(k string) string {
		if k == localstate.EnvPath {
			return noLocalRun
		}
		return ""
	}, &out, &errb); code != ops.ExitUsage ||
		!strings.Contains(errb.String(), "DB_DSN") {
		t.Fatalf("no DSN: exit %d %s", code, errb.String())
	}
	// A DSN on the command line works as well, and errors never echo it.
	code, _, errs := f.run(t, "-dsn", "kgops:s3cret-pass@tcp(127.0.0.1:1)/x", "summary")
	if code != ops.ExitError || strings.Contains(errs, "s3cret-pass") {
		t.Fatalf("unreachable database: exit %d: %s", code, errs)
	}
}

// TestRenderingIsInert: whatever text the database holds (a reason an application
// sent, an error it caused, a detail), ops prints no control character, escape
// sequence or bidi override, in tables or in JSON.
func TestRenderingIsInert(t *testing.T) {
	f := newFixture(t)
	const hostile = "boom\x1b[2J\x1b]0;owned\x07\u009b31m\u202Eevil\u202C\u2066x\u2069\r\nend"
	for _, q := range []string{
		"UPDATE instances SET fail_reason = ? WHERE instance_id = '" + f.failedID + "'",
		"UPDATE jobs SET last_error = ? WHERE id = " + strconv.FormatInt(f.deadJob, 10),
	} {
		if _, err := f.st.DB().Exec(q, hostile); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := f.st.DB().Exec("UPDATE instance_orders SET detail = ? WHERE order_id = ?",
		`{"note":"`+"\u009b2J\u202E"+`"}`, f.renewOrder); err != nil {
		t.Fatal(err)
	}
	f.monitorRuns(t, hostile)
	for _, args := range [][]string{
		{"instances"}, {"jobs"}, {"orders"}, {"history", "-order", "CS-OPS-DEAD"}, {"history", "-order", f.renewOrder},
		{"-json", "instances"}, {"-json", "jobs"}, {"-json", "orders"}, {"-json", "history", "-order", "CS-OPS-DEAD"},
		{"health"}, {"-json", "health"},
	} {
		out := f.ok(t, args...)
		if !strings.Contains(out, "boom") && !strings.Contains(out, "note") {
			t.Errorf("ops %s: the stored text is not shown at all:\n%s", strings.Join(args, " "), out)
		}
		for _, r := range out {
			if (r < 0x20 && r != '\n') || (r >= 0x7f && r < 0xa0) || (r >= 0x202a && r <= 0x202e) || (r >= 0x2066 && r <= 0x2069) {
				t.Errorf("ops %s prints %U:\n%q", strings.Join(args, " "), r, out)
				break
			}
		}
	}
}

// monitorRuns records what interface-monitor would after three runs: the
// interface failing twice (alerted, detail as given) after passing once, the
// database passing, and one job due an hour ago that never ran.
func (f *fixture) monitorRuns(t *testing.T, detail string) (stuckJob int64) {
	t.Helper()
	ctx := context.Background()
	now := time.Now().UTC().Truncate(time.Second)
	since := now.Add(-10 * time.Minute)
	checks := []store.MonitorCheck{
		{Name: "interface", Failures: 2, Incident: true, Seq: 3, Since: sql.NullTime{Time: since, Valid: true},
			LastOKAt: sql.NullTime{Time: since.Add(-5 * time.Minute), Valid: true}, LastRunAt: now, LastDetail: detail},
		{Name: "database", Seq: 3, LastOKAt: sql.NullTime{Time: now, Valid: true}, LastRunAt: now, LastDetail: "reachable"},
	}
	var runs []store.MonitorRun
	for i := int64(1); i <= 3; i++ {
		at := now.Add(time.Duration(i-3) * 5 * time.Minute)
		runs = append(runs, store.MonitorRun{Check: "interface", Seq: i, RunAt: at, OK: i == 1, LatencyMS: 12, Detail: map[bool]string{true: "saas.queryInstance 000000 in 12ms", false: detail}[i == 1]},
			store.MonitorRun{Check: "database", Seq: i, RunAt: at, OK: true, Detail: "reachable"})
	}
	if err := f.st.SaveMonitor(ctx, checks, runs, 100); err != nil {
		t.Fatal(err)
	}
	res, err := f.st.CreateInstance(ctx, marketplace.Instance{InstanceID: "inst-stuck", OrderID: "CS-OPS-STUCK", OrderLineID: "CS-OPS-STUCK-000001", BusinessID: "inst-stuck"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.st.DB().Exec("UPDATE jobs SET next_run_at = ? WHERE id = ?", now.Add(-time.Hour), res.JobID); err != nil {
		t.Fatal(err)
	}
	return res.JobID
}

// TestHealth: ops health shows each check's state, the last runs and failures
// and the oldest stuck job; summary counts the failing and alerted checks.
func TestHealth(t *testing.T) {
	f := newFixture(t)
	stuck := f.monitorRuns(t, "saas.queryInstance: HTTP 502, want 200")
	h := decode[ops.Health](t, f.ok(t, "health", "-json"))
	if len(h.Checks) != 2 || h.Checks[1].Check != "interface" || h.Checks[1].Status != ops.CheckAlerted || h.Checks[1].Failures != 2 ||
		h.Checks[0].Status != ops.CheckOK {
		t.Fatalf("checks %+v", h.Checks)
	}
	if len(h.Runs) != 6 || len(h.Failures) != 2 || h.Failures[0].Check != "interface" || h.Failures[0].OK {
		t.Fatalf("runs %+v failures %+v", h.Runs, h.Failures)
	}
	if h.OldestStuckJob == nil || h.OldestStuckJob.ID != stuck {
		t.Fatalf("oldest stuck job %+v, want #%d", h.OldestStuckJob, stuck)
	}
	if one := decode[ops.Health](t, f.ok(t, "health", "-json", "-check", "database", "-runs", "2")); len(one.Checks) != 1 || len(one.Runs) != 2 || len(one.Failures) != 0 {
		t.Fatalf("-check database -runs 2: %+v", one)
	}
	out := f.ok(t, "health")
	_, stuckPart, _ := strings.Cut(out, "Oldest stuck job")
	if !strings.Contains(stuckPart, "inst-stuck") || !strings.Contains(stuckPart, "PENDING") {
		t.Fatalf("health table lacks the stuck job:\n%s", out)
	}
	for _, want := range []string{"ALERTED", "HTTP 502", "FAILED"} {
		if !strings.Contains(out, want) {
			t.Fatalf("health table lacks %q:\n%s", want, out)
		}
	}
	sum := decode[ops.Summary](t, f.ok(t, "summary", "-json"))
	if sum.Monitor.Checks != 2 || len(sum.Monitor.Alerted) != 1 || sum.Monitor.Alerted[0] != "interface" || len(sum.Monitor.Failing) != 1 {
		t.Fatalf("summary monitor %+v", sum.Monitor)
	}
	if s := f.ok(t, "summary"); !strings.Contains(s, "alerted: interface") {
		t.Fatalf("summary table:\n%s", s)
	}
}

// TestLocalRunDatabase: with neither -dsn nor DB_DSN, ops reads the database of
// the running local run named by its state file, and says so; DB_DSN wins over it.
func TestLocalRunDatabase(t *testing.T) {
	f := newFixture(t)
	path := filepath.Join(t.TempDir(), "local.json")
	remove, err := localstate.Write(path, localstate.State{URL: "http://127.0.0.1:1", DSN: f.dsn})
	if err != nil {
		t.Fatal(err)
	}
	defer remove()
	run := func(env map[string]string) (int, string, string) {
		var out, errb bytes.Buffer
		code := ops.Main(context.Background(), []string{"summary", "-json"}, func(k string) string { return env[k] }, &out, &errb)
		return code, out.String(), errb.String()
	}
	code, out, errs := run(map[string]string{localstate.EnvPath: path})
	if code != ops.ExitOK || !strings.Contains(errs, "ops: using the local run's database (state file "+path+")") {
		t.Fatalf("state file: exit %d: %s%s", code, out, errs)
	}
	if strings.Contains(errs, f.dsn) {
		t.Fatalf("the DSN is echoed: %s", errs)
	}
	if !strings.Contains(out, "{") {
		t.Fatalf("no summary: %s", out)
	}
	code, _, errs = run(map[string]string{localstate.EnvPath: path, "DB_DSN": "kgops:pw@tcp(127.0.0.1:1)/x"})
	if code != ops.ExitError || strings.Contains(errs, "local run") {
		t.Fatalf("DB_DSN must win over the state file: exit %d: %s", code, errs)
	}
	// A file left by a run that is gone is ignored.
	remove()
	if _, err := localstate.Write(path, localstate.State{PID: 1 << 30, URL: "http://127.0.0.1:1", DSN: f.dsn}); err != nil {
		t.Fatal(err)
	}
	if code, _, errs := run(map[string]string{localstate.EnvPath: path}); code != ops.ExitUsage || !strings.Contains(errs, "no database") {
		t.Fatalf("stale state file: exit %d: %s", code, errs)
	}
}

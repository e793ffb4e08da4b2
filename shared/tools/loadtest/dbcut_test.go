//go:build load

package loadtest

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"

	"github.com/kgseller/kgseller/shared/tools/dbtest"
)

// outcome is one call of the mixed load.
type outcome struct {
	client     int
	op, order  string
	instance   string
	start, end time.Time
	code       string
	problem    string // transport or shape failure
}

// mixedLoad keeps clients busy with the activities that write (newInstance on
// fresh orders, renewals, freezes and unfreezes, upgrades) and queryInstance, each
// client on the instances it created.
type mixedLoad struct {
	w      *world
	prefix string
	mu     sync.Mutex
	out    []outcome
}

func (m *mixedLoad) run(ctx context.Context, client int) {
	rng := rand.New(rand.NewPCG(uint64(client), uint64(time.Now().UnixNano())))
	var mine []string
	for seq := 0; ctx.Err() == nil; seq++ {
		o := outcome{client: client, order: fmt.Sprintf("%s%d-%d", m.prefix, client, seq)}
		var body string
		pick := rng.IntN(5)
		if len(mine) == 0 {
			pick = 0
		}
		if pick > 0 {
			o.instance = mine[rng.IntN(len(mine))]
		}
		switch pick {
		case 0:
			o.op, body = "newInstance", newInstanceBody(o.order, o.order+"-b")
		case 1:
			o.op = "refreshInstance"
			body = fmt.Sprintf(`{"activity":"refreshInstance","expireTime":"20351124023618","instanceId":%q,"orderId":%q,"orderLineId":"%s-000001","scene":"RENEWAL","testFlag":"1"}`, o.instance, o.order, o.order)
		case 2:
			o.op = "updateInstanceStatus"
			body = fmt.Sprintf(`{"activity":"updateInstanceStatus","instanceId":%q,"status":%q,"testFlag":"1"}`, o.instance, []string{"FREEZE", "UNFREEZE"}[seq%2])
		case 3:
			o.op = "upgradeInstance"
			body = fmt.Sprintf(`{"activity":"upgradeInstance","instanceId":%q,"orderId":%q,"orderLineId":"%s-000001","testFlag":"1"}`, o.instance, o.order, o.order)
		default:
			o.op = "queryInstance"
			body = fmt.Sprintf(`{"activity":"queryInstance","instanceId":%q}`, o.instance)
		}
		o.start = time.Now()
		a, err := m.w.call(context.Background(), body)
		o.end = time.Now()
		switch {
		case err != nil:
			o.problem = err.Error()
		case a.ShapeError() != nil:
			o.problem = fmt.Sprintf("%v (%.200s)", a.ShapeError(), a.Body)
			if id := a.String("request_id"); id != "" {
				o.problem += "; the function logged: " + m.w.logLine(id)
			}
		}
		o.code = a.Code()
		if o.op == "newInstance" && (o.code == "000000" || o.code == "000004") {
			o.instance = a.String("instanceId")
			mine = append(mine, o.instance)
		}
		m.mu.Lock()
		m.out = append(m.out, o)
		m.mu.Unlock()
	}
}

func (m *mixedLoad) outcomes() []outcome {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]outcome(nil), m.out...)
}

// firstSuccessAfter returns the start of the first call started after t that
// succeeded, polling for up to limit.
func (m *mixedLoad) firstSuccessAfter(t time.Time, limit time.Duration) (time.Time, bool) {
	deadline := time.Now().Add(limit)
	for time.Now().Before(deadline) {
		for _, o := range m.outcomes() {
			if o.start.After(t) && o.problem == "" && o.code == "000000" {
				return o.start, true
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	return time.Time{}, false
}

// TestLoadDatabaseCut runs a mixed load while a TCP proxy between the functions and
// the database cuts every connection and refuses new ones; the long form then,
// after recovery, also lets connections hang (a partition). During each fault every call
// must answer 000005 in the documented shape (the request's budget ends a call
// that waits on the database; how long the answer took is not asserted, a loaded
// machine being slow); after each restore calls succeed again; and when the
// worker has caught up nothing is partial: every instance has its provisioning
// job, every change its job and order record, every success its row.
func TestLoadDatabaseCut(t *testing.T) {
	clients := scale(6, 8)
	warm := time.Duration(scale(1500, 4000)) * time.Millisecond
	cutFor := time.Duration(scale(2000, 6000)) * time.Millisecond
	// Calls last the whole request budget (4 s) while connections hang, so the
	// hang must be long enough for some to start and end inside it.
	hangFor := time.Duration(scale(10000, 14000)) * time.Millisecond
	settle := time.Duration(scale(1500, 4000)) * time.Millisecond

	direct := dbtest.NewDatabase(t)
	cfg, err := mysql.ParseDSN(direct)
	if err != nil {
		t.Fatal(err)
	}
	proxy, err := NewProxy(cfg.Addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(proxy.Close)
	via := cfg.Clone()
	via.Addr = proxy.Addr()
	w := start(t, stackOptions{dsn: via.FormatDSN(), direct: direct, timer: 300 * time.Millisecond,
		env: []string{"FULFIL_BASE_DELAY=100ms", "FULFIL_MAX_DELAY=500ms", "FULFIL_MAX_ATTEMPTS=200"}})

	m := &mixedLoad{w: w, prefix: fmt.Sprintf("CUT%d-", time.Now().UnixNano()%1e9)}
	ctx, stop := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	for c := 0; c < clients; c++ {
		wg.Add(1)
		go func(c int) { defer wg.Done(); m.run(ctx, c) }(c)
	}
	defer func() { stop(); wg.Wait() }()

	type fault struct {
		name           string
		from, to       time.Time // the fault lasted from..to
		recovered, end time.Time // first success after it, end of the calm after
	}
	var faults []fault
	inject := func(name string, apply func(), hold time.Duration) {
		apply()
		// The fault is whole once apply returns: a call that began while it was
		// being applied may still have reached the database.
		f := fault{name: name, from: time.Now()}
		time.Sleep(hold)
		f.to = time.Now()
		if err := proxy.Restore(); err != nil {
			t.Fatal(err)
		}
		var ok bool
		if f.recovered, ok = m.firstSuccessAfter(f.to, 30*time.Second); !ok {
			t.Fatalf("no call succeeded within 30 s of the end of the %s", name)
		}
		time.Sleep(settle)
		f.end = time.Now()
		faults = append(faults, f)
		t.Logf("%s for %s; first success %s after the restore", name, hold, f.recovered.Sub(f.to).Round(time.Millisecond))
	}
	time.Sleep(warm)
	inject("cut", proxy.Cut, cutFor)
	if !testing.Short() {
		inject("hang", proxy.Hang, hangFor)
	}
	stop()
	wg.Wait()

	outs := m.outcomes()
	byCode := map[string]int{}
	var problems []string
	during, after := make([]int, len(faults)), make([]int, len(faults))
	for _, o := range outs {
		byCode[o.code]++
		if o.problem != "" {
			problems = append(problems, fmt.Sprintf("%s %s: %s", o.op, o.order, o.problem))
			continue
		}
		for i, f := range faults {
			switch {
			case !o.start.Before(f.from) && !o.end.After(f.to):
				// Wholly inside the fault: the database is unreachable.
				during[i]++
				if o.code != "000005" {
					problems = append(problems, fmt.Sprintf("during the %s, %s %s answered %s, want 000005", f.name, o.op, o.order, o.code))
				}
			case o.start.After(f.recovered) && o.end.Before(f.end):
				// After recovery: everything succeeds again.
				after[i]++
				if o.code == "000005" || (o.code == "000004" && o.op != "newInstance" && o.op != "queryInstance") {
					problems = append(problems, fmt.Sprintf("after the %s recovered, %s %s answered %s", f.name, o.op, o.order, o.code))
				}
			}
		}
	}
	t.Logf("%d calls by %d clients; result codes %v", len(outs), clients, byCode)
	for i, f := range faults {
		t.Logf("%s: %d calls wholly inside it, %d after recovery", f.name, during[i], after[i])
		if during[i] == 0 || after[i] == 0 {
			t.Errorf("the %s saw %d calls during it and %d after recovery: the test did not exercise it", f.name, during[i], after[i])
		}
	}
	if len(problems) > 0 {
		sort.Strings(problems)
		t.Fatalf("%d problems, the first: %s", len(problems), strings.Join(problems[:min(len(problems), 15)], "\n"))
	}
	// A worker that had taken a job's lease when the database went away leaves
	// the job to the next worker once the lease (2 minutes) expires; the long
	// form waits for that and for every instance to be provisioned.
	checkNothingPartial(t, w, m.prefix, outs, !testing.Short())
}

// checkNothingPartial checks that each change committed whole: an instance with
// its provisioning job, each version step with its notification job, each renewal
// and upgrade order with its job, and a stored row for every call that answered
// success. With jobsDone it first waits for the worker to finish every job and
// then also requires every instance to be ACTIVE.
func checkNothingPartial(t *testing.T, w *world, prefix string, outs []outcome, jobsDone bool) {
	t.Helper()
	if jobsDone {
		began := time.Now()
		w.waitFor("every job done", 4*time.Minute, func() bool {
			return w.count("SELECT COUNT(*) FROM jobs WHERE state <> 'DONE'") == 0
		})
		t.Logf("the worker finished every job %s after the load", time.Since(began).Round(time.Second))
	}
	type inst struct {
		version, provisionJobs, versionJobs, refreshOrders, refreshJobs, upgradeOrders, upgradeJobs int
		state                                                                                       string
	}
	insts := map[string]*inst{}
	rows, err := w.db.Query("SELECT instance_id, version, state FROM instances WHERE order_id LIKE ?", prefix+"%")
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var id, state string
		var v int
		if err := rows.Scan(&id, &v, &state); err != nil {
			t.Fatal(err)
		}
		insts[id] = &inst{version: v, state: state}
	}
	rows.Close()
	// Instances outside this load (the interface monitor's probe instance)
	// exist but are not counted; the join reads each job with its instance.
	rows, err = w.db.Query(`SELECT j.kind, COALESCE(j.instance_id, ''), COALESCE(i.order_id, '')
		FROM jobs j LEFT JOIN instances i ON i.instance_id = j.instance_id`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var kind, id, order string
		if err := rows.Scan(&kind, &id, &order); err != nil {
			t.Fatal(err)
		}
		if order != "" && !strings.HasPrefix(order, prefix) {
			continue
		}
		i, ok := insts[id]
		if !ok {
			t.Errorf("a %s job names instance %q, which does not exist", kind, id)
			continue
		}
		switch kind {
		case "provision":
			i.provisionJobs++
		case "refresh":
			i.refreshJobs++
			i.versionJobs++
		case "freeze", "unfreeze", "release":
			i.versionJobs++
		case "upgrade":
			i.upgradeJobs++
		}
	}
	rows.Close()
	orders := map[string]bool{}
	rows, err = w.db.Query(`SELECT o.kind, o.order_id, o.instance_id, COALESCE(i.order_id, '')
		FROM instance_orders o LEFT JOIN instances i ON i.instance_id = o.instance_id`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var kind, order, id, first string
		if err := rows.Scan(&kind, &order, &id, &first); err != nil {
			t.Fatal(err)
		}
		if first != "" && !strings.HasPrefix(first, prefix) {
			continue
		}
		orders[kind+" "+order] = true
		if i, ok := insts[id]; !ok {
			t.Errorf("order %s (%s) names instance %q, which does not exist", order, kind, id)
		} else if strings.HasPrefix(kind, "refresh/") {
			i.refreshOrders++
		} else if kind == "upgrade" {
			i.upgradeOrders++
		}
	}
	rows.Close()
	for id, i := range insts {
		if i.provisionJobs != 1 || i.version != i.versionJobs || i.refreshOrders != i.refreshJobs || i.upgradeOrders != i.upgradeJobs {
			t.Errorf("instance %s is partial: %+v (want one provisioning job, a job per version step, a job per order)", id, *i)
		}
		if jobsDone && i.state != "ACTIVE" {
			t.Errorf("instance %s is %s after every job is done", id, i.state)
		}
	}
	for _, o := range outs {
		if o.problem != "" || o.code != "000000" && o.code != "000004" {
			continue
		}
		switch o.op {
		case "newInstance":
			if insts[o.instance] == nil {
				t.Errorf("newInstance %s answered %s with %s, which is not stored", o.order, o.code, o.instance)
			}
		case "refreshInstance":
			if !orders["refresh/RENEWAL "+o.order] {
				t.Errorf("refreshInstance %s answered %s but its order is not stored", o.order, o.code)
			}
		case "upgradeInstance":
			if !orders["upgrade "+o.order] {
				t.Errorf("upgradeInstance %s answered %s but its order is not stored", o.order, o.code)
			}
		}
	}
	t.Logf("nothing partial: %d instances, %d renewal and upgrade orders", len(insts), len(orders))
}

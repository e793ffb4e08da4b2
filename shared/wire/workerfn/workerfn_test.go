package workerfn

import (
	"context"
	"io"
	"log/slog"
	"strconv"
	"testing"

	"github.com/kgseller/kgseller/shared/fulfil"
	"github.com/kgseller/kgseller/shared/marketplace"
	"github.com/kgseller/kgseller/shared/provision"
	"github.com/kgseller/kgseller/shared/store"
	"github.com/kgseller/kgseller/shared/tools/dbtest"
)

// TestInvocations: an invocation started for a job (the endpoints' asynchronous
// kick) runs that job and nothing else, in the job's own round trips (claim,
// instance, completion); the timer's invocation runs every due job and purges
// expired nonces. Counted on one connection, as a function instance holds it.
func TestInvocations(t *testing.T) {
	c := &dbtest.Counter{}
	st := dbtest.OpenCounted(t, c)
	ctx := context.Background()
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	run := &fulfil.Runner{Store: st, Logger: quiet,
		Handlers: fulfil.Instances{Store: st, Provisioner: provision.Static{FrontEndURL: "https://app/{instanceId}"}}.Handlers()}
	var jobs []int64
	for _, id := range []string{"i-kicked", "i-waiting"} {
		res, err := st.CreateInstance(ctx, marketplace.Instance{InstanceID: id, OrderID: id, OrderLineID: id + "-1", BusinessID: id})
		if err != nil {
			t.Fatal(err)
		}
		jobs = append(jobs, res.JobID)
	}
	trips, stmts := c.RoundTrips(), c.Statements()
	res := work(ctx, run, st, []byte(`{"jobId":`+strconv.FormatInt(jobs[0], 10)+`}`), 20, quiet)
	if res.Done != 1 || res.Retry+res.Dead+res.Skipped != 0 || res.Error != "" {
		t.Fatalf("kicked invocation: %+v", res)
	}
	if n, s := c.RoundTrips()-trips, c.Statements()-stmts; n != 3 || s != 4 {
		t.Errorf("kicked invocation: %d round trips and %d statements, want 3 and 4 (claim and read the job; read the instance; end the job) (%s)",
			n, s, dbtest.Engine())
	}
	if j, err := st.Job(ctx, jobs[1]); err != nil || j.State != store.JobPending || j.Attempts != 0 {
		t.Fatalf("the kicked invocation touched another job: %+v %v", j, err)
	}

	trips, stmts = c.RoundTrips(), c.Statements()
	res = work(ctx, run, st, []byte(`{"version":"v1.0","time":"2026-01-01T00:00:00Z","trigger_type":"TIMER"}`), 20, quiet)
	if res.Done != 1 || res.Error != "" {
		t.Fatalf("timer invocation: %+v", res)
	}
	// Due jobs listed, the job's three, the nonce purge.
	if n, s := c.RoundTrips()-trips, c.Statements()-stmts; n != 5 || s != 6 {
		t.Errorf("timer invocation: %d round trips and %d statements, want 5 and 6 (%s)", n, s, dbtest.Engine())
	}
	for _, id := range jobs {
		if j, err := st.Job(ctx, id); err != nil || j.State != store.JobDone {
			t.Errorf("job %d: %+v %v", id, j, err)
		}
	}
}

//go:build load

package loadtest

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"
)

// TestLoadWorkerKilled kills fulfil-worker at every step of every kind of job
// through the test-only fault hook (KG_FAULT_EXIT_AT): on its first attempt a job's
// worker exits right after taking the lease, on the second right after the
// provisioner's webhook answered, on the third right after the job's end was
// committed. Between attempts the test lets the dead worker's lease run out (it
// moves lease_until into the past, as two minutes would). Each job must end DONE
// exactly once after three attempts, its webhook delivered twice under one event id
// (the attempts that reached the handler) and never again, and a provisioned
// instance must answer queryInstance with what the application returned.
func TestLoadWorkerKilled(t *testing.T) {
	instances := scale(1, 3)
	rec, hook := newReceiver(t)
	// No timer and no asynchronous kick: the test invokes the worker itself, so
	// that it knows which invocation died where.
	w := start(t, stackOptions{timer: time.Hour, env: []string{
		"PROVISIONER=webhook", "PROVISION_WEBHOOK_URL=" + hook, "PROVISION_WEBHOOK_ALLOW_HTTP=true",
		"FULFIL_MODE=timer", "KG_FAULT_EXIT_AT=claimed,handled,completed"}})
	ctx := context.Background()
	steps := []string{"claimed", "handled", "completed"}
	timer := []byte(`{"version":"v2.0","trigger_type":"TIMER","trigger_name":"fulfil-every-minute","user_event":"{\"source\":\"timer\"}"}`)

	type job struct {
		id       int64
		state    string
		attempts int
	}
	jobByKey := func(key string) job {
		t.Helper()
		var j job
		if err := w.db.QueryRow("SELECT id, state, attempts FROM jobs WHERE job_key = ?", key).Scan(&j.id, &j.state, &j.attempts); err != nil {
			t.Fatalf("job %s: %v", key, err)
		}
		return j
	}
	instanceState := func(id string) string {
		var s string
		if err := w.db.QueryRow("SELECT state FROM instances WHERE instance_id = ?", id).Scan(&s); err != nil {
			t.Fatal(err)
		}
		return s
	}
	// runKilled drives one job through its three killed attempts and one clean run.
	runKilled := func(key, instance string) {
		t.Helper()
		j := jobByKey(key)
		for attempt := 1; attempt <= len(steps); attempt++ {
			payload := timer
			if attempt == 1 {
				payload = []byte(fmt.Sprintf(`{"jobId":%d}`, j.id)) // the endpoint's kick
			}
			if out, err := w.stack.Emulator.Invoke(ctx, "fulfil-worker", payload); err == nil {
				t.Fatalf("%s attempt %d: the worker survived step %s and answered %s", key, attempt, steps[attempt-1], out)
			}
			marker := fmt.Sprintf(`"step":%q,"job":%d,`, steps[attempt-1], j.id)
			if !strings.Contains(w.logs.String(), marker) {
				t.Fatalf("%s attempt %d: the worker died, but not at step %s", key, attempt, steps[attempt-1])
			}
			got := jobByKey(key)
			delivered, _, _ := rec.snapshot()
			wantState, wantDelivered := "PENDING", attempt-1
			if attempt == len(steps) {
				wantState = "DONE"
			}
			if got.state != wantState || got.attempts != attempt || delivered[key] != wantDelivered {
				t.Fatalf("%s after the kill at %s: job %s after %d attempts, %d deliveries; want %s, %d, %d",
					key, steps[attempt-1], got.state, got.attempts, delivered[key], wantState, attempt, wantDelivered)
			}
			if strings.HasPrefix(key, "provision:") {
				want := "PROVISIONING"
				if attempt == len(steps) {
					want = "ACTIVE"
				}
				if s := instanceState(instance); s != want {
					t.Fatalf("%s after the kill at %s: instance %s, want %s", key, steps[attempt-1], s, want)
				}
			}
			if got.state == "PENDING" {
				// The dead worker's lease runs out.
				if _, err := w.db.Exec("UPDATE jobs SET lease_until = ? WHERE id = ? AND state = 'PENDING'", time.Now().UTC().Add(-time.Second), j.id); err != nil {
					t.Fatal(err)
				}
			}
		}
		// A clean run afterwards finds nothing left to do.
		out, err := w.stack.Emulator.Invoke(ctx, "fulfil-worker", timer)
		if err != nil {
			t.Fatalf("%s: the worker died on a clean run: %v", key, err)
		}
		var res struct{ Done, Retry, Dead int }
		if err := json.Unmarshal(out, &res); err != nil || res.Done+res.Retry+res.Dead != 0 {
			t.Fatalf("%s: a clean run after the job ended did work: %s %v", key, out, err)
		}
		if got := jobByKey(key); got.state != "DONE" || got.attempts != len(steps) {
			t.Fatalf("%s at the end: %+v", key, got)
		}
	}

	var keys []string
	for n := 0; n < instances; n++ {
		order := fmt.Sprintf("KILL%d-%d", time.Now().UnixNano()%1e9, n)
		call := func(body, want string) {
			t.Helper()
			a, err := w.call(ctx, body)
			if err != nil || a.ShapeError() != nil || a.Code() != want {
				t.Fatalf("%s: %v %v %s", body, err, a.ShapeError(), a.Body)
			}
		}
		a, err := w.call(ctx, newInstanceBody(order, order+"-b"))
		if err != nil || a.Code() != "000004" {
			t.Fatalf("newInstance: %v %s", err, a.Body)
		}
		id := a.String("instanceId")
		runKilled("provision:"+id, id)
		call(fmt.Sprintf(`{"activity":"queryInstance","instanceId":%q}`, id), "000000")
		call(fmt.Sprintf(`{"activity":"refreshInstance","expireTime":"20351124023618","instanceId":%q,"orderId":"%s-R","orderLineId":"%s-R-000001","scene":"RENEWAL","testFlag":"1"}`, id, order, order), "000000")
		runKilled(fmt.Sprintf("refresh:RENEWAL:%s-R:%s-R-000001", order, order), id)
		call(fmt.Sprintf(`{"activity":"updateInstanceStatus","instanceId":%q,"status":"FREEZE","testFlag":"1"}`, id), "000000")
		runKilled(fmt.Sprintf("freeze:%s:2", id), id)
		call(fmt.Sprintf(`{"activity":"upgradeInstance","instanceId":%q,"orderId":"%s-U","orderLineId":"%s-U-000001","testFlag":"1"}`, id, order, order), "000000")
		runKilled(fmt.Sprintf("upgrade:%s-U:%s-U-000001", order, order), id)
		call(fmt.Sprintf(`{"activity":"releaseInstance","instanceId":%q,"testFlag":"1"}`, id), "000000")
		runKilled("release:"+id, id)
		keys = append(keys, "provision:"+id, "refresh:RENEWAL:"+order+"-R:"+order+"-R-000001", fmt.Sprintf("freeze:%s:2", id),
			"upgrade:"+order+"-U:"+order+"-U-000001", "release:"+id)
	}
	delivered, types, badSig := rec.snapshot()
	if badSig != 0 {
		t.Fatalf("%d webhook calls failed signature verification", badSig)
	}
	if len(delivered) != len(keys) {
		t.Fatalf("events delivered: %v, want one id per job of %v", types, keys)
	}
	for _, k := range keys {
		if delivered[k] != 2 {
			t.Errorf("event %s delivered %d times, want 2 (the two attempts that reached the handler)", k, delivered[k])
		}
	}
	t.Logf("%d jobs of 5 kinds, each killed after the claim, after the webhook and after the commit: each done once", len(keys))
}

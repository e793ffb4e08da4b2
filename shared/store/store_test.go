package store_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kgseller/kgseller/shared/marketplace"
	"github.com/kgseller/kgseller/shared/store"
	"github.com/kgseller/kgseller/shared/tools/dbtest"
)

func newInstance(id, order string) marketplace.Instance {
	return marketplace.Instance{InstanceID: id, OrderID: order, OrderLineID: order + "-000001", BusinessID: id}
}

func TestCreateInstanceConcurrentDuplicates(t *testing.T) {
	s, _ := dbtest.Open(t)
	ctx := context.Background()
	const n = 50
	var wg sync.WaitGroup
	ids := make([]string, n)
	created := make([]bool, n)
	errs := make([]error, n)
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			res, err := s.CreateInstance(ctx, newInstance(fmt.Sprintf("biz-%02d", i), "CS-CONC"))
			ids[i], created[i], errs[i] = res.Instance.InstanceID, res.New, err
		}(i)
	}
	wg.Wait()
	first, news := "", 0
	for i := 0; i < n; i++ {
		if errs[i] != nil {
			t.Fatalf("call %d: %v", i, errs[i])
		}
		if created[i] {
			news++
		}
		if first == "" {
			first = ids[i]
		}
		if ids[i] != first {
			t.Fatalf("call %d saw instance %s, another saw %s", i, ids[i], first)
		}
	}
	if news != 1 {
		t.Fatalf("%d calls reported a new instance, want 1", news)
	}
	var rows, jobs int
	if err := s.DB().Get(&rows, "SELECT COUNT(*) FROM instances"); err != nil {
		t.Fatal(err)
	}
	if err := s.DB().Get(&jobs, "SELECT COUNT(*) FROM jobs WHERE kind = 'provision'"); err != nil {
		t.Fatal(err)
	}
	if rows != 1 || jobs != 1 {
		t.Fatalf("rows=%d jobs=%d, want 1 and 1 (engine %s)", rows, jobs, dbtest.Engine())
	}
}

func TestCreateInstanceIDTakenByOtherOrder(t *testing.T) {
	s, _ := dbtest.Open(t)
	ctx := context.Background()
	if _, err := s.CreateInstance(ctx, newInstance("same-business-id", "CS-A")); err != nil {
		t.Fatal(err)
	}
	_, err := s.CreateInstance(ctx, newInstance("same-business-id", "CS-B"))
	if !errors.Is(err, store.ErrIDTaken) {
		t.Fatalf("err = %v, want ErrIDTaken", err)
	}
}

func TestOnDemandKey(t *testing.T) {
	s, _ := dbtest.Open(t)
	ctx := context.Background()
	a := newInstance("ppu-1", "CS-PPU")
	a.OnDemandProductID = "P1"
	b := a
	b.InstanceID, b.OrderLineID = "ppu-2", "CS-PPU-000002"
	if _, err := s.CreateInstance(ctx, a); err != nil {
		t.Fatal(err)
	}
	res, err := s.CreateInstance(ctx, b)
	if err != nil || res.New || res.Instance.InstanceID != "ppu-1" {
		t.Fatalf("same order+product: %+v, %v; want the first instance", res, err)
	}
	c := b
	c.OnDemandProductID = "P2"
	if res, err := s.CreateInstance(ctx, c); err != nil || !res.New {
		t.Fatalf("other product: %+v, %v; want a new instance", res, err)
	}
	// Non-pay-per-use lines leave the product key NULL, which never collides.
	for i := 0; i < 3; i++ {
		if _, err := s.CreateInstance(ctx, newInstance(fmt.Sprintf("n-%d", i), fmt.Sprintf("CS-N%d", i))); err != nil {
			t.Fatal(err)
		}
	}
}

func TestNonces(t *testing.T) {
	s, _ := dbtest.Open(t)
	ctx := context.Background()
	now := time.Now()
	if err := s.RememberNonce(ctx, "basic", "n1", now.Add(-time.Second), 0); err != nil {
		t.Fatal(err)
	}
	if err := s.RememberNonce(ctx, "basic", "n1", now.Add(time.Minute), 0); !errors.Is(err, marketplace.ErrReplay) {
		t.Fatalf("replay: err = %v", err)
	}
	if err := s.RememberNonce(ctx, "kit", "n1", now.Add(time.Minute), 0); err != nil {
		t.Fatalf("same nonce in another scope: %v", err)
	}
	if err := s.RememberNonce(ctx, "basic", "N1", now.Add(time.Minute), 0); err != nil {
		t.Fatalf("nonces must compare byte for byte: %v", err)
	}
	n, err := s.PurgeNonces(ctx, 100)
	if err != nil || n != 1 {
		t.Fatalf("purged %d, %v; want 1", n, err)
	}
}

func TestLifecycle(t *testing.T) {
	s, _ := dbtest.Open(t)
	ctx := context.Background()
	if _, err := s.CreateInstance(ctx, newInstance("i-1", "CS-L")); err != nil {
		t.Fatal(err)
	}
	exp := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	r := store.Refresh{InstanceID: "i-1", OrderID: "CS-R", OrderLineID: "CS-R-1", Scene: "RENEWAL", ExpireTime: exp}
	ch, err := s.ApplyRefresh(ctx, r)
	if err != nil || !ch.Applied || ch.JobID == 0 {
		t.Fatalf("refresh: %+v %v", ch, err)
	}
	r2 := r
	r2.ExpireTime = exp.AddDate(1, 0, 0)
	if ch, err := s.ApplyRefresh(ctx, r2); err != nil || ch.Applied {
		t.Fatalf("repeated refresh order must not apply again: %+v %v", ch, err)
	}
	inst, _ := s.Instance(ctx, "i-1")
	if inst.ExpireTime == nil || !inst.ExpireTime.Equal(exp) {
		t.Fatalf("expire = %v, want %v", inst.ExpireTime, exp)
	}
	if _, err := s.ApplyRefresh(ctx, store.Refresh{InstanceID: "nope", OrderID: "x", OrderLineID: "y", Scene: "RENEWAL", ExpireTime: exp}); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("unknown instance: %v", err)
	}
	for i, c := range []struct {
		target  marketplace.Status
		applied bool
	}{{marketplace.Frozen, true}, {marketplace.Frozen, false}, {marketplace.Normal, true}, {marketplace.Frozen, true}} {
		ch, err := s.SetStatus(ctx, "i-1", c.target)
		if err != nil || ch.Applied != c.applied {
			t.Fatalf("step %d: %+v %v, want applied=%v", i, ch, err, c.applied)
		}
	}
	if ch, err := s.Release(ctx, "i-1", "", ""); err != nil || !ch.Applied {
		t.Fatalf("release: %+v %v", ch, err)
	}
	if ch, err := s.Release(ctx, "i-1", "", ""); err != nil || ch.Applied {
		t.Fatalf("second release: %+v %v", ch, err)
	}
	if ch, err := s.SetStatus(ctx, "i-1", marketplace.Normal); err != nil || ch.Applied {
		t.Fatalf("unfreeze of a released instance must be a no-op: %+v %v", ch, err)
	}
	var jobs int
	_ = s.DB().Get(&jobs, "SELECT COUNT(*) FROM jobs")
	// provision + refresh + freeze + unfreeze + freeze + release
	if jobs != 6 {
		t.Fatalf("jobs = %d, want 6", jobs)
	}
}

// TestRerunJob: a DONE or DEAD job is made pending again once, however many callers
// ask at the same time; a pending job and other states are left alone.
func TestRerunJob(t *testing.T) {
	s, _ := dbtest.Open(t)
	ctx := context.Background()
	created, jobID, err := s.RecordOrderNotice(ctx, "CS-RERUN", "", false, "order.query")
	if err != nil || !created {
		t.Fatal(created, err)
	}
	key := store.OrderNoticeJobKey("CS-RERUN", "")
	if _, rerun, err := s.RerunJob(ctx, key, store.JobDone, store.JobDead); err != nil || rerun {
		t.Fatalf("pending job rerun: %v %v", rerun, err)
	}
	if _, ok, err := s.ClaimJob(ctx, jobID, "w", time.Minute); err != nil || !ok {
		t.Fatal(ok, err)
	}
	if err := s.CompleteJob(ctx, jobID, "w", nil); err != nil {
		t.Fatal(err)
	}
	if _, rerun, _ := s.RerunJob(ctx, key, store.JobDead); rerun {
		t.Fatal("a DONE job rerun when only DEAD ones may be")
	}
	var wg sync.WaitGroup
	var reruns atomic.Int32
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			id, rerun, err := s.RerunJob(ctx, key, store.JobDone, store.JobDead)
			if err != nil {
				t.Error(err)
			}
			if rerun {
				reruns.Add(1)
				if id != jobID {
					t.Errorf("rerun job %d, want %d", id, jobID)
				}
			}
		}()
	}
	wg.Wait()
	j, _ := s.JobByKey(ctx, key)
	if reruns.Load() != 1 || j.State != store.JobPending || j.Attempts != 0 || j.DoneAt.Valid {
		t.Fatalf("%d reruns, job %+v", reruns.Load(), j)
	}
	if _, rerun, _ := s.RerunJob(ctx, "no-such-job", store.JobDone); rerun {
		t.Fatal("a missing job rerun")
	}
}

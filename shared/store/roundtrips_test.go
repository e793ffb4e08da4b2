package store_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/kgseller/kgseller/shared/marketplace"
	"github.com/kgseller/kgseller/shared/store"
	"github.com/kgseller/kgseller/shared/tools/dbtest"
)

// trips runs f and returns the round trips it took on c.
func trips(t *testing.T, c *dbtest.Counter, f func() error) int64 {
	t.Helper()
	before := c.RoundTrips()
	if err := f(); err != nil {
		t.Fatal(err)
	}
	return c.RoundTrips() - before
}

// TestLifecycleChangesInOneRoundTrip: each lifecycle change is one round trip (a
// locked read, the guarded writes, the job's id), writes exactly what the row it
// read calls for, and reports it; a repeated order line costs the rollback of the
// transaction it stopped, on the same connection.
func TestLifecycleChangesInOneRoundTrip(t *testing.T) {
	c := &dbtest.Counter{}
	s := dbtest.OpenCounted(t, c)
	ctx := context.Background()
	if _, err := s.CreateInstance(ctx, newInstance("i-1", "CS-RT1")); err != nil {
		t.Fatal(err)
	}
	job := func(key string) store.Job {
		t.Helper()
		j, err := s.JobByKey(ctx, key)
		if err != nil {
			t.Fatalf("job %s: %v", key, err)
		}
		return j
	}
	var ch store.Change
	change := func(f func() (store.Change, error)) func() error {
		return func() error {
			var err error
			ch, err = f()
			return err
		}
	}
	exp := time.Date(2031, 2, 3, 4, 5, 6, 0, time.UTC)
	refresh := store.Refresh{InstanceID: "i-1", OrderID: "CS-R1", OrderLineID: "CS-R1-1", Scene: "RENEWAL", ExpireTime: exp}
	if n := trips(t, c, change(func() (store.Change, error) { return s.ApplyRefresh(ctx, refresh) })); n != 1 {
		t.Errorf("refresh: %d round trips, want 1", n)
	}
	if !ch.Applied || ch.JobID != job("refresh:RENEWAL:CS-R1:CS-R1-1").ID {
		t.Fatalf("refresh: %+v", ch)
	}
	// A repeated order: the insert of the order stops the transaction, which is
	// rolled back; nothing changes.
	again := refresh
	again.ExpireTime = exp.AddDate(1, 0, 0)
	if n := trips(t, c, change(func() (store.Change, error) { return s.ApplyRefresh(ctx, again) })); n != 2 || ch.Applied {
		t.Errorf("repeated refresh: %+v in %d round trips, want a no-op in 2", ch, n)
	}
	if n := trips(t, c, change(func() (store.Change, error) { return s.SetStatus(ctx, "i-1", marketplace.Frozen) })); n != 1 {
		t.Errorf("freeze: %d round trips, want 1", n)
	}
	// The refresh made version 1: the freeze is version 2.
	if !ch.Applied || ch.JobID != job("freeze:i-1:2").ID {
		t.Fatalf("freeze: %+v", ch)
	}
	if n := trips(t, c, change(func() (store.Change, error) { return s.SetStatus(ctx, "i-1", marketplace.Frozen) })); n != 1 || ch.Applied || ch.JobID != 0 {
		t.Errorf("second freeze: %+v in %d round trips, want a no-op in 1", ch, n)
	}
	if n := trips(t, c, change(func() (store.Change, error) { return s.RecordUpgrade(ctx, "i-1", "CS-U1", "CS-U1-1") })); n != 1 {
		t.Errorf("upgrade: %d round trips, want 1", n)
	}
	if !ch.Applied || ch.JobID != job("upgrade:CS-U1:CS-U1-1").ID {
		t.Fatalf("upgrade: %+v", ch)
	}
	if n := trips(t, c, change(func() (store.Change, error) { return s.RecordUpgrade(ctx, "i-1", "CS-U1", "CS-U1-1") })); n != 2 || ch.Applied {
		t.Errorf("repeated upgrade: %+v in %d round trips, want a no-op in 2", ch, n)
	}
	if n := trips(t, c, change(func() (store.Change, error) { return s.Release(ctx, "i-1", "CS-X", "CS-X-1") })); n != 1 {
		t.Errorf("release: %d round trips, want 1", n)
	}
	if j := job("release:i-1"); !ch.Applied || ch.JobID != j.ID || j.Payload.String != `{"orderId":"CS-X","orderLineId":"CS-X-1"}` {
		t.Fatalf("release: %+v, job %+v", ch, j)
	}
	// A released instance keeps a later renewal order, and nothing else changes.
	late := store.Refresh{InstanceID: "i-1", OrderID: "CS-R2", OrderLineID: "CS-R2-1", Scene: "RENEWAL", ExpireTime: exp.AddDate(2, 0, 0)}
	if ch, err := s.ApplyRefresh(ctx, late); err != nil || !ch.Applied || ch.JobID != 0 {
		t.Fatalf("refresh of a released instance: %+v %v", ch, err)
	}
	if ch, err := s.SetStatus(ctx, "i-1", marketplace.Normal); err != nil || ch.Applied || ch.JobID != 0 {
		t.Fatalf("unfreeze of a released instance: %+v %v", ch, err)
	}
	if _, err := s.JobByKey(ctx, "refresh:RENEWAL:CS-R2:CS-R2-1"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("a released instance's refresh wrote a job: %v", err)
	}
	inst, err := s.Instance(ctx, "i-1")
	if err != nil {
		t.Fatal(err)
	}
	if inst.Status != marketplace.Released || inst.Version != 3 || inst.ReleasedAt == nil || inst.ExpireTime == nil || !inst.ExpireTime.Equal(exp) {
		t.Fatalf("instance after the changes: status %s, version %d, released %v, expiry %v", inst.Status, inst.Version, inst.ReleasedAt, inst.ExpireTime)
	}
	var orders int
	if err := s.DB().Get(&orders, "SELECT COUNT(*) FROM instance_orders WHERE instance_id = 'i-1'"); err != nil || orders != 3 {
		t.Fatalf("%d orders recorded (%v), want 3", orders, err)
	}
	// An unknown instance: every change answers ErrNotFound and writes nothing.
	for name, f := range map[string]func() (store.Change, error){
		"refresh": func() (store.Change, error) {
			return s.ApplyRefresh(ctx, store.Refresh{InstanceID: "nope", OrderID: "CS-N", OrderLineID: "CS-N-1", Scene: "RENEWAL", ExpireTime: exp})
		},
		"status":  func() (store.Change, error) { return s.SetStatus(ctx, "nope", marketplace.Frozen) },
		"release": func() (store.Change, error) { return s.Release(ctx, "nope", "", "") },
		"upgrade": func() (store.Change, error) { return s.RecordUpgrade(ctx, "nope", "CS-N", "CS-N-1") },
	} {
		if ch, err := f(); !errors.Is(err, store.ErrNotFound) || ch.Applied {
			t.Errorf("%s of an unknown instance: %+v %v", name, ch, err)
		}
	}
	var stray int
	if err := s.DB().Get(&stray, "SELECT (SELECT COUNT(*) FROM jobs WHERE instance_id = 'nope') + (SELECT COUNT(*) FROM instance_orders WHERE instance_id = 'nope')"); err != nil || stray != 0 {
		t.Fatalf("%d rows written for an unknown instance (%v)", stray, err)
	}
	if c.Dials() != 1 {
		t.Errorf("%d connections opened, want 1: a stopped transaction was not rolled back on its connection", c.Dials())
	}
}

// TestConcurrentFreezes: concurrent freezes of one instance make one transition
// and one job, whichever engine serialises them.
func TestConcurrentFreezes(t *testing.T) {
	s, _ := dbtest.Open(t)
	ctx := context.Background()
	if _, err := s.CreateInstance(ctx, newInstance("i-c", "CS-C")); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	applied := make(chan bool, 20)
	for i := 0; i < 20; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ch, err := s.SetStatus(ctx, "i-c", marketplace.Frozen)
			if err != nil {
				t.Error(err)
				return
			}
			applied <- ch.Applied
		}()
	}
	wg.Wait()
	close(applied)
	n := 0
	for a := range applied {
		if a {
			n++
		}
	}
	var jobs int
	if err := s.DB().Get(&jobs, "SELECT COUNT(*) FROM jobs WHERE kind = 'freeze'"); err != nil {
		t.Fatal(err)
	}
	if n != 1 || jobs != 1 {
		t.Fatalf("%d freezes applied and %d jobs written, want 1 and 1 (%s)", n, jobs, dbtest.Engine())
	}
}

// TestEffectsFencedByLease: a job's effect, one statement or a transaction of
// several, is written only by the runner that holds the job's lease; a runner
// whose lease was taken over writes nothing at all.
func TestEffectsFencedByLease(t *testing.T) {
	s, _ := dbtest.Open(t)
	ctx := context.Background()
	created, id, err := s.RecordOrderNotice(ctx, "CS-F", "CS-F-1", false, "order.query")
	if err != nil || !created {
		t.Fatal(created, err)
	}
	if _, ok, err := s.ClaimJob(ctx, id, "slow", time.Millisecond); !ok || err != nil {
		t.Fatal(ok, err)
	}
	later := s.WithClock(func() time.Time { return time.Now().Add(time.Second) })
	if _, ok, err := later.ClaimJob(ctx, id, "fast", time.Minute); !ok || err != nil {
		t.Fatal("the expired lease was not taken over:", ok, err)
	}
	details := store.OrderDetails{OrderID: "CS-F", OrderLineID: "CS-F-1", OrderType: "NEW", ProductName: "stale"}
	if err := s.CompleteJob(ctx, id, "slow", store.RecordOrderDetails(details)); !errors.Is(err, store.ErrLeaseLost) {
		t.Fatalf("stale runner: %v, want ErrLeaseLost", err)
	}
	if _, err := s.OrderDetailsFor(ctx, "CS-F", "CS-F-1"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("the stale runner's details were written: %v", err)
	}
	if n, _ := s.OrderNoticeOf(ctx, "CS-F", "CS-F-1"); n.State != store.NoticePending {
		t.Fatalf("the stale runner changed the notice: %s", n.State)
	}
	details.ProductName = "fresh"
	if err := s.CompleteJob(ctx, id, "fast", store.RecordOrderDetails(details)); err != nil {
		t.Fatal(err)
	}
	d, err := s.OrderDetailsFor(ctx, "CS-F", "CS-F-1")
	if err != nil || d.ProductName != "fresh" {
		t.Fatalf("details %+v %v", d, err)
	}
	if n, _ := s.OrderNoticeOf(ctx, "CS-F", "CS-F-1"); n.State != store.NoticeQueried {
		t.Fatalf("notice %s, want QUERIED", n.State)
	}
	if j, _ := s.Job(ctx, id); j.State != store.JobDone {
		t.Fatalf("job %s, want DONE", j.State)
	}

	// A buried job's single effect, likewise.
	res, err := s.CreateInstance(ctx, newInstance("i-f", "CS-F2"))
	if err != nil {
		t.Fatal(err)
	}
	if _, ok, err := s.ClaimJob(ctx, res.JobID, "slow", time.Millisecond); !ok || err != nil {
		t.Fatal(ok, err)
	}
	if _, ok, err := later.ClaimJob(ctx, res.JobID, "fast", time.Minute); !ok || err != nil {
		t.Fatal(ok, err)
	}
	if err := s.BuryJob(ctx, res.JobID, "slow", "gave up", store.FailInstance("i-f", "000005", "stale")); !errors.Is(err, store.ErrLeaseLost) {
		t.Fatalf("stale burial: %v, want ErrLeaseLost", err)
	}
	if inst, _ := s.Instance(ctx, "i-f"); inst.State != marketplace.Provisioning {
		t.Fatalf("the stale runner failed the instance: %s", inst.State)
	}
	// An effect on a row that is gone does not keep the job from ending.
	if err := s.CompleteJob(ctx, res.JobID, "fast", store.ActivateInstance("no-such-instance", marketplace.AppInfo{FrontEndURL: "x"}, "")); err != nil {
		t.Fatal(err)
	}
	if j, _ := s.Job(ctx, res.JobID); j.State != store.JobDone {
		t.Fatalf("job %s, want DONE", j.State)
	}
}

// TestLicenseQuota: the quota holds under concurrent creations, the license and
// its job are written together in one round trip (the job keyed by the license's
// id), and a license beyond the quota leaves nothing, its count taken back.
func TestLicenseQuota(t *testing.T) {
	s, _ := dbtest.Open(t)
	ctx := context.Background()
	const quota, calls = 3, 12
	var wg sync.WaitGroup
	outcomes := make(chan error, calls)
	for i := 0; i < calls; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			res, err := s.CreateLicense(ctx, store.License{EventID: fmt.Sprintf("EV-Q-%02d", i), InstanceID: "i-q", EffectiveTime: time.Now()}, quota, "license.issue")
			if err == nil {
				j, jerr := s.Job(ctx, res.JobID)
				if jerr != nil || j.Key != store.LicenseJobKey(res.License.ID) || j.Payload.String != fmt.Sprintf(`{"licenseId":%d}`, res.License.ID) || j.InstanceID.String != "i-q" {
					err = fmt.Errorf("license %d has job %+v (%v)", res.License.ID, j, jerr)
				}
			}
			outcomes <- err
		}(i)
	}
	wg.Wait()
	close(outcomes)
	made, refused := 0, 0
	for err := range outcomes {
		switch {
		case err == nil:
			made++
		case errors.Is(err, store.ErrLicenseQuota):
			refused++
		default:
			t.Fatal(err)
		}
	}
	var licenses, jobs, issued int
	if err := s.DB().Get(&licenses, "SELECT COUNT(*) FROM licenses"); err != nil {
		t.Fatal(err)
	}
	if err := s.DB().Get(&jobs, "SELECT COUNT(*) FROM jobs"); err != nil {
		t.Fatal(err)
	}
	if err := s.DB().Get(&issued, "SELECT issued FROM license_counts WHERE instance_id = 'i-q'"); err != nil {
		t.Fatal(err)
	}
	if made != quota || refused != calls-quota || licenses != quota || jobs != quota || issued != quota {
		t.Fatalf("%d made, %d refused; %d licenses, %d jobs, count %d; want %d, %d, %d, %d, %d (%s)",
			made, refused, licenses, jobs, issued, quota, calls-quota, quota, quota, quota, dbtest.Engine())
	}
}

// TestLookupLicense reads a license with its job, the instance and its order's
// details in one round trip, and finds nothing where nothing is.
func TestLookupLicense(t *testing.T) {
	c := &dbtest.Counter{}
	s := dbtest.OpenCounted(t, c)
	ctx := context.Background()
	if _, err := s.CreateInstance(ctx, newInstance("i-l", "CS-LK")); err != nil {
		t.Fatal(err)
	}
	var look store.LicenseLookup
	lookup := func(event string) func() error {
		return func() (err error) {
			look, err = s.LookupLicense(ctx, event, "fp", "i-l")
			return err
		}
	}
	if n := trips(t, c, lookup("EV-L")); n != 1 || look.License != nil || look.Instance == nil || look.Instance.OrderID != "CS-LK" || look.Details != nil {
		t.Fatalf("before the license: %+v in %d round trips", look, n)
	}
	res, err := s.CreateLicense(ctx, store.License{EventID: "EV-L", DeviceFingerprint: "fp", InstanceID: "i-l", EffectiveTime: time.Now()}, 0, "license.issue")
	if err != nil {
		t.Fatal(err)
	}
	if _, ok, err := s.ClaimJob(ctx, res.JobID, "w", time.Minute); !ok || err != nil {
		t.Fatal(ok, err)
	}
	exp := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	if err := s.CompleteJob(ctx, res.JobID, "w", store.RecordOrderDetails(store.OrderDetails{OrderID: "CS-LK", OrderLineID: "CS-LK-000001",
		ChargingMode: "PERIOD", ExpireTime: sql.NullTime{Time: exp, Valid: true}})); err != nil {
		t.Fatal(err)
	}
	if n := trips(t, c, lookup("EV-L")); n != 1 {
		t.Fatalf("lookup: %d round trips, want 1", n)
	}
	if look.License == nil || look.License.ID != res.License.ID || look.JobID != res.JobID || look.JobState != store.JobDone {
		t.Fatalf("license %+v, job %d %s", look.License, look.JobID, look.JobState)
	}
	if look.Details == nil || look.Details.ChargingMode != "PERIOD" || !look.Details.ExpireTime.Time.Equal(exp) {
		t.Fatalf("details %+v", look.Details)
	}
	if look, err := s.LookupLicense(ctx, "EV-L", "other device", "nope"); err != nil || look.License != nil || look.Instance != nil || look.Details != nil {
		t.Fatalf("another device, unknown instance: %+v %v", look, err)
	}
}

// TestNoncePurgeRidesTheNonce: a nonce stored with a purge deletes the expired
// nonces in the round trip that stores it; a replay is still refused, and the
// purge made before it stays done.
func TestNoncePurgeRidesTheNonce(t *testing.T) {
	c := &dbtest.Counter{}
	s := dbtest.OpenCounted(t, c)
	ctx := context.Background()
	past, future := time.Now().Add(-time.Hour), time.Now().Add(time.Hour)
	for i := 0; i < 5; i++ {
		if err := s.RememberNonce(ctx, "basic", fmt.Sprintf("old-%d", i), past, 0); err != nil {
			t.Fatal(err)
		}
	}
	count := func() (n int) {
		t.Helper()
		if err := s.DB().Get(&n, "SELECT COUNT(*) FROM nonces"); err != nil {
			t.Fatal(err)
		}
		return n
	}
	if n := trips(t, c, func() error { return s.RememberNonce(ctx, "basic", "fresh", future, 3) }); n != 1 {
		t.Errorf("a purging nonce took %d round trips, want 1", n)
	}
	if n := count(); n != 3 {
		t.Fatalf("%d nonces after purging 3 of 5 expired and storing 1, want 3", n)
	}
	before := c.RoundTrips()
	if err := s.RememberNonce(ctx, "basic", "fresh", future, 10); !errors.Is(err, marketplace.ErrReplay) {
		t.Fatalf("replay with a purge: %v", err)
	}
	if n := c.RoundTrips() - before; n != 1 {
		t.Errorf("a refused replay with a purge took %d round trips, want 1", n)
	}
	if n := count(); n != 1 {
		t.Fatalf("%d nonces left, want the fresh one", n)
	}
}

package fulfil_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kgseller/kgseller/shared/fakes/fakemkt"
	"github.com/kgseller/kgseller/shared/fulfil"
	"github.com/kgseller/kgseller/shared/marketplace"
	"github.com/kgseller/kgseller/shared/openapi"
	"github.com/kgseller/kgseller/shared/provision"
	"github.com/kgseller/kgseller/shared/secretbox"
	"github.com/kgseller/kgseller/shared/store"
	"github.com/kgseller/kgseller/shared/tools/dbtest"
)

// flaky fails the first n provisioning calls, then succeeds; it counts every call.
type flaky struct {
	provision.Static
	failFirst int32
	calls     atomic.Int32
	permanent bool
	notified  atomic.Int32
}

func (f *flaky) Provision(ctx context.Context, req provision.Request) (*marketplace.AppInfo, error) {
	n := f.calls.Add(1)
	if n <= f.failFirst {
		if f.permanent {
			return nil, &provision.Permanent{Code: marketplace.SoldOut, Reason: "sold out"}
		}
		return nil, fmt.Errorf("webhook unavailable (call %d)", n)
	}
	return f.Static.Provision(ctx, req)
}

func (f *flaky) Notify(context.Context, provision.Request) error {
	f.notified.Add(1)
	return nil
}

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func newJob(t *testing.T, s *store.Store, id string) int64 {
	t.Helper()
	res, err := s.CreateInstance(context.Background(), marketplace.Instance{InstanceID: id, OrderID: "CS-" + id, OrderLineID: "CS-" + id + "-1", BusinessID: id})
	if err != nil {
		t.Fatal(err)
	}
	return res.JobID
}

// later returns a store whose clock is d ahead, so backed-off jobs become due.
func later(s *store.Store, d time.Duration) *store.Store {
	return s.WithClock(func() time.Time { return time.Now().Add(d) })
}

func TestRetryThenSucceed(t *testing.T) {
	s, _ := dbtest.Open(t)
	p := &flaky{Static: provision.Static{FrontEndURL: "https://a/{instanceId}"}, failFirst: 2}
	// Backoffs of ten minutes and more: the job cannot become due between two
	// runs however slow the machine, and a clock hours ahead makes it due.
	r := &fulfil.Runner{Store: s, Handlers: fulfil.Instances{Store: s, Provisioner: p}.Handlers(), Logger: quiet(), BaseDelay: 10 * time.Minute, MaxDelay: 40 * time.Minute}
	id := newJob(t, s, "i-retry")
	ctx := context.Background()
	if out, err := r.Run(ctx, id); out != fulfil.Retry || err != nil {
		t.Fatalf("first run: %s %v", out, err)
	}
	// Not due yet: a second run right away does nothing.
	if out, _ := r.Run(ctx, id); out != fulfil.Skipped {
		t.Fatalf("run before the backoff elapsed: %s", out)
	}
	job, _ := s.Job(ctx, id)
	if job.LastError.String == "" || job.NextRunAt.Before(time.Now()) {
		t.Fatalf("after a failure: last_error %q next %v", job.LastError.String, job.NextRunAt)
	}
	r.Store = later(s, time.Hour)
	if out, _ := r.Run(ctx, id); out != fulfil.Retry {
		t.Fatalf("second run: %s", out)
	}
	r.Store = later(s, 2*time.Hour)
	if out, err := r.Run(ctx, id); out != fulfil.Done || err != nil {
		t.Fatalf("third run: %s %v", out, err)
	}
	inst, _ := s.Instance(ctx, "i-retry")
	if inst.State != marketplace.Active || inst.App == nil || inst.App.FrontEndURL != "https://a/i-retry" {
		t.Fatalf("instance %+v", inst)
	}
	if p.calls.Load() != 3 {
		t.Fatalf("%d provisioning calls, want 3", p.calls.Load())
	}
}

func TestDeadAfterMaxAttempts(t *testing.T) {
	s, _ := dbtest.Open(t)
	p := &flaky{failFirst: 100}
	r := &fulfil.Runner{Store: s, Handlers: fulfil.Instances{Store: s, Provisioner: p}.Handlers(), Logger: quiet(), MaxAttempts: 3, BaseDelay: time.Second, MaxDelay: time.Second}
	id := newJob(t, s, "i-dead")
	ctx := context.Background()
	var outs []fulfil.Outcome
	for i := 0; i < 5; i++ {
		r.Store = later(s, time.Duration(i)*time.Hour)
		out, err := r.Run(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		outs = append(outs, out)
	}
	want := []fulfil.Outcome{fulfil.Retry, fulfil.Retry, fulfil.Dead, fulfil.Skipped, fulfil.Skipped}
	if fmt.Sprint(outs) != fmt.Sprint(want) {
		t.Fatalf("outcomes %v, want %v", outs, want)
	}
	job, _ := s.Job(ctx, id)
	if job.State != store.JobDead || job.Attempts != 3 || job.LastError.String == "" {
		t.Fatalf("job %+v", job)
	}
	inst, _ := s.Instance(ctx, "i-dead")
	if inst.State != marketplace.Failed || inst.FailCode != marketplace.InternalError {
		t.Fatalf("instance %+v", inst)
	}
}

func TestPermanentFailureFailsAtOnce(t *testing.T) {
	s, _ := dbtest.Open(t)
	p := &flaky{failFirst: 1, permanent: true}
	r := &fulfil.Runner{Store: s, Handlers: fulfil.Instances{Store: s, Provisioner: p}.Handlers(), Logger: quiet()}
	id := newJob(t, s, "i-perm")
	if out, _ := r.Run(context.Background(), id); out != fulfil.Dead {
		t.Fatalf("outcome %s, want dead", out)
	}
	inst, _ := s.Instance(context.Background(), "i-perm")
	if inst.FailCode != marketplace.SoldOut || inst.FailReason != "sold out" {
		t.Fatalf("instance %+v", inst)
	}
}

func TestRunnersRacing(t *testing.T) {
	s, _ := dbtest.Open(t)
	p := &flaky{Static: provision.Static{FrontEndURL: "https://a/{instanceId}"}}
	const jobs = 20
	for i := 0; i < jobs; i++ {
		newJob(t, s, fmt.Sprintf("race-%02d", i))
	}
	var wg sync.WaitGroup
	var done atomic.Int32
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := &fulfil.Runner{Store: s, Handlers: fulfil.Instances{Store: s, Provisioner: p}.Handlers(), Logger: quiet()}
			counts, err := r.RunDue(context.Background(), jobs)
			if err != nil {
				t.Error(err)
			}
			done.Add(int32(counts[fulfil.Done]))
		}()
	}
	wg.Wait()
	if done.Load() != jobs || p.calls.Load() != jobs {
		t.Fatalf("done %d, provisioning calls %d; want %d each", done.Load(), p.calls.Load(), jobs)
	}
}

func TestLeaseFencesAStaleRunner(t *testing.T) {
	s, _ := dbtest.Open(t)
	id := newJob(t, s, "i-lease")
	ctx := context.Background()
	if _, ok, err := s.ClaimJob(ctx, id, "slow", time.Second); !ok || err != nil {
		t.Fatalf("claim: %v %v", ok, err)
	}
	// The lease expires; another runner takes the job over.
	future := later(s, time.Minute)
	if _, ok, err := future.ClaimJob(ctx, id, "fast", time.Minute); !ok || err != nil {
		t.Fatalf("takeover: %v %v", ok, err)
	}
	if err := s.CompleteJob(ctx, id, "slow", store.ActivateInstance("i-lease", marketplace.AppInfo{FrontEndURL: "x"}, "")); !errors.Is(err, store.ErrLeaseLost) {
		t.Fatalf("stale runner completed the job: %v", err)
	}
	if err := s.CompleteJob(ctx, id, "fast", store.ActivateInstance("i-lease", marketplace.AppInfo{FrontEndURL: "y"}, "")); err != nil {
		t.Fatal(err)
	}
	inst, _ := s.Instance(ctx, "i-lease")
	if inst.App.FrontEndURL != "y" {
		t.Fatalf("app %v", inst.App)
	}
}

func TestBackoffGrowsWithJitter(t *testing.T) {
	r := &fulfil.Runner{BaseDelay: time.Second, MaxDelay: time.Minute}
	for n, hi := range map[int]time.Duration{1: time.Second, 2: 2 * time.Second, 3: 4 * time.Second, 10: time.Minute} {
		for i := 0; i < 50; i++ {
			d := r.Backoff(n)
			if d < hi/2 || d > hi {
				t.Fatalf("Backoff(%d) = %v, want within [%v, %v]", n, d, hi/2, hi)
			}
		}
	}
}

func TestCheckAppInfo(t *testing.T) {
	long := make([]rune, 513)
	for i := range long {
		long[i] = 'a'
	}
	if err := provision.CheckAppInfo(marketplace.AppInfo{FrontEndURL: string(long)}, false); err == nil {
		t.Fatalf("over-long frontEndUrl accepted")
	}
	if err := provision.CheckAppInfo(marketplace.AppInfo{}, false); err == nil {
		t.Fatalf("empty frontEndUrl accepted")
	}
	if err := provision.CheckAppInfo(marketplace.AppInfo{FrontEndURL: "https://x"}, false); err != nil {
		t.Fatal(err)
	}
}

// TestOrderQueryFailuresRetriedThenDead makes Query Order fail with 5xx and with
// timeouts: each failure is retried with backoff, and after the last attempt the job
// is DEAD with the error kept and the instance FAILED.
func TestOrderQueryFailuresRetriedThenDead(t *testing.T) {
	s, _ := dbtest.Open(t)
	fake := fakemkt.New("AK", "SK")
	srv := httptest.NewServer(fake)
	defer srv.Close()
	// The stalled call outlasts any client timeout; the others answer at once, well
	// within the 3 s even on a busy machine.
	client, err := openapi.New(openapi.Options{Endpoint: srv.URL, AK: "AK", SK: "SK", Timeout: 3 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	fake.Fail(openapi.QueryOrderPath, fakemkt.Fault{Status: 503}, fakemkt.Fault{Delay: time.Hour}, fakemkt.Fault{Status: 500})
	p := &flaky{Static: provision.Static{FrontEndURL: "https://a/{instanceId}"}}
	r := &fulfil.Runner{Store: s, Handlers: fulfil.Instances{Store: s, Provisioner: p, Orders: client}.Handlers(), Logger: quiet(),
		MaxAttempts: 3, BaseDelay: time.Second, MaxDelay: time.Minute}
	id := newJob(t, s, "i-q")
	ctx := context.Background()
	var next []time.Time
	for i, want := range []fulfil.Outcome{fulfil.Retry, fulfil.Retry, fulfil.Dead} {
		r.Store = later(s, time.Duration(i)*time.Hour)
		out, err := r.Run(ctx, id)
		if err != nil || out != want {
			t.Fatalf("attempt %d: %s %v, want %s", i+1, out, err, want)
		}
		job, _ := s.Job(ctx, id)
		next = append(next, job.NextRunAt)
		if out == fulfil.Retry && !strings.Contains(job.LastError.String, "querying order") {
			t.Fatalf("attempt %d: last error %q", i+1, job.LastError.String)
		}
	}
	// Backoff grows: the second wait is at least the first one's lower bound.
	if !next[1].After(next[0]) {
		t.Fatalf("retry times %v do not move forward", next[:2])
	}
	job, _ := s.Job(ctx, id)
	if job.State != store.JobDead || job.Attempts != 3 || !strings.Contains(job.LastError.String, "HTTP 500") {
		t.Fatalf("dead job %+v", job)
	}
	inst, _ := s.Instance(ctx, "i-q")
	if inst.State != marketplace.Failed {
		t.Fatalf("instance %+v", inst)
	}
	if p.calls.Load() != 0 {
		t.Fatalf("the provisioner was called %d times without an order", p.calls.Load())
	}
	if n := len(fake.CallsTo(openapi.QueryOrderPath)); n != 3 {
		t.Fatalf("%d Query Order calls, want 3", n)
	}
}

// TestOrderQueryAppliedThenProvisioned checks the happy path: the order is queried
// once, with a verified signature, and handed to the provisioner.
func TestOrderQueryAppliedThenProvisioned(t *testing.T) {
	s, _ := dbtest.Open(t)
	fake := fakemkt.New("AK", "SK")
	srv := httptest.NewServer(fake)
	defer srv.Close()
	client, _ := openapi.New(openapi.Options{Endpoint: srv.URL, AK: "AK", SK: "SK"})
	var got *openapi.Order
	p := provisionFunc(func(req provision.Request) (*marketplace.AppInfo, error) {
		got = req.Order
		return &marketplace.AppInfo{FrontEndURL: "https://x"}, nil
	})
	r := &fulfil.Runner{Store: s, Handlers: fulfil.Instances{Store: s, Provisioner: p, Orders: client}.Handlers(), Logger: quiet()}
	res, err := s.CreateInstance(context.Background(), marketplace.Instance{InstanceID: "i-o", OrderID: "MOCKONDEMAND", OrderLineID: "MOCKONDEMAND-000001", BusinessID: "i-o"})
	if err != nil {
		t.Fatal(err)
	}
	if out, err := r.Run(context.Background(), res.JobID); out != fulfil.Done || err != nil {
		t.Fatalf("%s %v", out, err)
	}
	line, ok := got.Line("MOCKONDEMAND-000001")
	if got == nil || !ok || line.ChargingMode != "ON_DEMAND" {
		t.Fatalf("order handed to the provisioner: %+v", got)
	}
	calls := fake.Calls()
	if len(calls) != 1 || !calls[0].Verified {
		t.Fatalf("calls %+v", calls)
	}
}

type provisionFunc func(provision.Request) (*marketplace.AppInfo, error)

func (f provisionFunc) Provision(_ context.Context, req provision.Request) (*marketplace.AppInfo, error) {
	return f(req)
}
func (provisionFunc) Notify(context.Context, provision.Request) error { return nil }
func (provisionFunc) CheckChange(context.Context, marketplace.Instance, provision.Product) error {
	return nil
}

func TestPasswordSealedAtRest(t *testing.T) {
	s, _ := dbtest.Open(t)
	key, _ := secretbox.NewKey()
	box, _ := secretbox.New(key)
	p := provisionFunc(func(req provision.Request) (*marketplace.AppInfo, error) {
		return &marketplace.AppInfo{FrontEndURL: "https://x", UserName: "admin", Password: "initial-P@ss"}, nil
	})
	id := newJob(t, s, "i-pw")
	r := &fulfil.Runner{Store: s, Handlers: fulfil.Instances{Store: s, Provisioner: p, Box: box}.Handlers(), Logger: quiet()}
	if out, err := r.Run(context.Background(), id); out != fulfil.Done || err != nil {
		t.Fatalf("%s %v", out, err)
	}
	var appInfo, secret string
	if err := s.DB().QueryRow("SELECT app_info, app_secret FROM instances WHERE instance_id = 'i-pw'").Scan(&appInfo, &secret); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(appInfo, "initial-P@ss") || strings.Contains(secret, "initial-P@ss") {
		t.Fatalf("password stored in clear: %s / %s", appInfo, secret)
	}
	if pw, err := box.Open(secret, marketplace.PasswordContext("i-pw")); err != nil || pw != "initial-P@ss" {
		t.Fatalf("sealed password opens to %q, %v", pw, err)
	}
	// Without a data key the job refuses to keep a password.
	id2 := newJob(t, s, "i-pw2")
	r.Handlers = fulfil.Instances{Store: s, Provisioner: p}.Handlers()
	if out, _ := r.Run(context.Background(), id2); out != fulfil.Dead {
		t.Fatalf("without a data key: %s", out)
	}
}

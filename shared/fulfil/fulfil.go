// Package fulfil runs outbox jobs: it takes a job's lease, performs the side effect
// through the handler of the job's kind, and records the outcome together with the
// job's end in one transaction. Failures are retried with exponential backoff and jitter until
// MaxAttempts, then the job is DEAD with its last error kept.
package fulfil

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	mrand "math/rand/v2"
	"time"
	"unicode/utf8"

	"github.com/kgseller/kgseller/shared/marketplace"
	"github.com/kgseller/kgseller/shared/provision"
	"github.com/kgseller/kgseller/shared/store"
)

// Handler performs the side effect of one job kind.
type Handler struct {
	// Run does the work. It returns what to record together with the job's end
	// (nil when there is nothing to record) or an error: a *provision.Permanent error
	// buries the job at once, any other error is retried with backoff.
	Run func(ctx context.Context, job store.Job) (store.TxFunc, error)
	// Dead, when set, returns what to record when the job is buried.
	Dead func(job store.Job, cause error) store.TxFunc
}

// Runner executes jobs. The zero values of the tuning fields are sensible.
type Runner struct {
	Store *store.Store
	// Handlers maps job kinds to their handlers; a job of another kind is buried.
	Handlers map[string]Handler
	// Owner identifies this runner in leases; a random one is drawn when empty.
	Owner       string
	Lease       time.Duration // default 2m
	MaxAttempts int           // default 8
	BaseDelay   time.Duration // default 5s, doubled per attempt
	MaxDelay    time.Duration // default 30m
	Logger      *slog.Logger
}

// Merge combines handler maps; later maps win on a shared kind.
func Merge(maps ...map[string]Handler) map[string]Handler {
	out := map[string]Handler{}
	for _, m := range maps {
		for k, h := range m {
			out[k] = h
		}
	}
	return out
}

func (r *Runner) defaults() {
	if r.Owner == "" {
		b := make([]byte, 8)
		_, _ = rand.Read(b)
		r.Owner = "runner-" + hex.EncodeToString(b)
	}
	if r.Lease <= 0 {
		r.Lease = 2 * time.Minute
	}
	if r.MaxAttempts <= 0 {
		r.MaxAttempts = 8
	}
	if r.BaseDelay <= 0 {
		r.BaseDelay = 5 * time.Second
	}
	if r.MaxDelay <= 0 {
		r.MaxDelay = 30 * time.Minute
	}
	if r.Logger == nil {
		r.Logger = slog.Default()
	}
}

// Backoff returns the delay before attempt n+1 after n failed attempts: exponential
// from BaseDelay, capped at MaxDelay, with full jitter over its upper half so that
// jobs failing together do not retry together.
func (r *Runner) Backoff(n int) time.Duration {
	r.defaults()
	d := r.BaseDelay
	for i := 1; i < n && d < r.MaxDelay; i++ {
		d *= 2
	}
	if d > r.MaxDelay {
		d = r.MaxDelay
	}
	half := d / 2
	return half + time.Duration(mrand.Int64N(int64(half)+1))
}

// Outcome says what happened to one job.
type Outcome string

const (
	Done    Outcome = "done"
	Retry   Outcome = "retry"
	Dead    Outcome = "dead"
	Skipped Outcome = "skipped" // another runner holds it, or it is not due or pending
)

// Run executes one job if its lease can be taken.
func (r *Runner) Run(ctx context.Context, jobID int64) (Outcome, error) {
	r.defaults()
	job, ok, err := r.Store.ClaimJob(ctx, jobID, r.Owner, r.Lease)
	if err != nil {
		return Skipped, err
	}
	if !ok {
		return Skipped, nil
	}
	return r.execute(ctx, job)
}

// RunDue executes up to limit due jobs, one after another, and reports how many
// reached each outcome.
func (r *Runner) RunDue(ctx context.Context, limit int) (map[Outcome]int, error) {
	r.defaults()
	ids, err := r.Store.DueJobs(ctx, limit)
	if err != nil {
		return nil, err
	}
	counts := map[Outcome]int{}
	for _, id := range ids {
		if ctx.Err() != nil {
			break
		}
		out, err := r.Run(ctx, id)
		if err != nil {
			r.Logger.Error("job run failed", "job", id, "err", err)
		}
		counts[out]++
	}
	return counts, nil
}

func (r *Runner) execute(ctx context.Context, job store.Job) (Outcome, error) {
	h, ok := r.Handlers[job.Kind]
	if !ok {
		return r.fail(ctx, job, Handler{}, &provision.Permanent{Code: marketplace.InternalError, Reason: "no handler for job kind " + job.Kind})
	}
	apply, err := h.Run(ctx, job)
	if err != nil {
		return r.fail(ctx, job, h, err)
	}
	if err := r.Store.CompleteJob(ctx, job.ID, r.Owner, apply); err != nil {
		return Skipped, err
	}
	r.Logger.Info("job done", "job", job.ID, "kind", job.Kind, "instanceId", job.InstanceID.String, "attempt", job.Attempts)
	return Done, nil
}

// fail reschedules the job, or buries it after a permanent error or the last
// attempt, recording the handler's dead-letter result with it.
func (r *Runner) fail(ctx context.Context, job store.Job, h Handler, cause error) (Outcome, error) {
	msg := cause.Error()
	_, permanent := provision.IsPermanent(cause)
	if !permanent && job.Attempts < r.MaxAttempts {
		next := time.Now().Add(r.Backoff(job.Attempts))
		r.Logger.Warn("job failed, will retry", "job", job.ID, "kind", job.Kind, "attempt", job.Attempts, "next", next.UTC().Format(time.RFC3339), "err", msg)
		if err := r.Store.RetryJob(ctx, job.ID, r.Owner, next, msg); err != nil {
			return Skipped, err
		}
		return Retry, nil
	}
	r.Logger.Error("job dead", "job", job.ID, "kind", job.Kind, "attempts", job.Attempts, "err", msg)
	var apply store.TxFunc
	if h.Dead != nil {
		apply = h.Dead(job, cause)
	}
	if err := r.Store.BuryJob(ctx, job.ID, r.Owner, msg, apply); err != nil {
		return Skipped, err
	}
	return Dead, nil
}

// InstanceHandlers returns the handlers of the SaaS instance jobs: provisioning,
// which makes the instance ACTIVE (or FAILED when it is buried), and the lifecycle
// notifications.
func InstanceHandlers(st *store.Store, p provision.Provisioner) map[string]Handler {
	notify := Handler{Run: func(ctx context.Context, job store.Job) (store.TxFunc, error) {
		inst, err := st.Instance(ctx, job.InstanceID.String)
		if err != nil {
			return nil, fmt.Errorf("loading instance %s: %w", job.InstanceID.String, err)
		}
		return nil, p.Notify(ctx, job.Kind, inst, []byte(job.Payload.String))
	}}
	return map[string]Handler{
		marketplace.JobProvision: {
			Run: func(ctx context.Context, job store.Job) (store.TxFunc, error) {
				inst, err := st.Instance(ctx, job.InstanceID.String)
				if err != nil {
					return nil, fmt.Errorf("loading instance %s: %w", job.InstanceID.String, err)
				}
				app, err := p.Provision(ctx, inst)
				if err == nil {
					err = CheckAppInfo(app)
				}
				if err != nil {
					return nil, err
				}
				return store.ActivateInstance(inst.InstanceID, app), nil
			},
			Dead: func(job store.Job, cause error) store.TxFunc {
				code, reason := marketplace.InternalError, "provisioning failed"
				if perm, ok := provision.IsPermanent(cause); ok {
					code, reason = perm.Code, perm.Reason
				}
				return store.FailInstance(job.InstanceID.String, code, reason)
			},
		},
		marketplace.JobRefresh:  notify,
		marketplace.JobFreeze:   notify,
		marketplace.JobUnfreeze: notify,
		marketplace.JobRelease:  notify,
		marketplace.JobUpgrade:  notify,
	}
}

// CheckAppInfo enforces the documented field lengths on what a provisioner returns,
// so an over-long value fails the job visibly instead of failing the marketplace's
// field-length check later.
func CheckAppInfo(a marketplace.AppInfo) error {
	for _, f := range []struct {
		name, v string
		max     int
	}{
		{"frontEndUrl", a.FrontEndURL, 512}, {"adminUrl", a.AdminURL, 512},
		{"userName", a.UserName, 128}, {"password", a.Password, 128}, {"memo", a.Memo, 1024},
	} {
		if utf8.RuneCountInString(f.v) > f.max {
			return &provision.Permanent{Code: marketplace.InternalError, Reason: fmt.Sprintf("provisioner returned a %s longer than %d characters", f.name, f.max)}
		}
	}
	if a.FrontEndURL == "" {
		return &provision.Permanent{Code: marketplace.InternalError, Reason: "provisioner returned no frontEndUrl"}
	}
	return nil
}

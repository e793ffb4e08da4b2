// Package fulfil runs outbox jobs: it takes a job's lease, performs the side effect
// through the handler of the job's kind, and records the outcome together with the
// job's end in one transaction. Failures are retried with exponential backoff and jitter until
// MaxAttempts, then the job is DEAD with its last error kept.
package fulfil

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"
	mrand "math/rand/v2"
	"time"

	"github.com/kgseller/kgseller/shared/marketplace"
	"github.com/kgseller/kgseller/shared/openapi"
	"github.com/kgseller/kgseller/shared/provision"
	"github.com/kgseller/kgseller/shared/secretbox"
	"github.com/kgseller/kgseller/shared/store"
)

// Handler performs the side effect of one job kind.
type Handler struct {
	// Run does the work. It returns what to record together with the job's end
	// (nil when there is nothing to record) or an error: a *provision.Permanent error
	// buries the job at once, any other error is retried with backoff.
	Run func(ctx context.Context, job store.Job) (store.Effect, error)
	// Dead, when set, returns what to record when the job is buried.
	Dead func(job store.Job, cause error) store.Effect
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
	// Hook, when set, is called at each Step of a job's run. It is a seam for
	// fault-injection tests, which stop the worker process there; it stays nil in
	// production.
	Hook func(step string, job store.Job)
}

// Steps of a job's run at which Runner.Hook is called.
const (
	StepClaimed   = "claimed"   // the lease is taken; the handler has not run
	StepHandled   = "handled"   // the handler succeeded; nothing is recorded yet
	StepCompleted = "completed" // the job's end and its result are committed
)

func (r *Runner) hook(step string, job store.Job) {
	if r.Hook != nil {
		r.Hook(step, job)
	}
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
	r.hook(StepClaimed, job)
	return r.execute(ctx, job)
}

// RunInline runs a job in the request that committed it (FULFIL_MODE=inline) and
// reports whether the job ended, done or dead, so that the caller reads again what
// it changed. A failure is logged: the job stays committed for a later run.
func (r *Runner) RunInline(ctx context.Context, jobID int64) bool {
	out, err := r.Run(ctx, jobID)
	if err != nil {
		r.Logger.Warn("inline fulfilment", "job", jobID, "err", err)
	}
	return out == Done || out == Dead
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
	r.hook(StepHandled, job)
	if err := r.Store.CompleteJob(ctx, job.ID, r.Owner, apply); err != nil {
		return Skipped, err
	}
	r.hook(StepCompleted, job)
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
	var apply store.Effect
	if h.Dead != nil {
		apply = h.Dead(job, cause)
	}
	if err := r.Store.BuryJob(ctx, job.ID, r.Owner, msg, apply); err != nil {
		return Skipped, err
	}
	return Dead, nil
}

// OrderSource answers Query Order (openapi.Client; the fake marketplace locally).
type OrderSource interface {
	QueryOrder(ctx context.Context, orderID, orderLineID string) (*openapi.Order, error)
}

// Instances runs the SaaS instance jobs.
type Instances struct {
	Store       *store.Store
	Provisioner provision.Provisioner
	// Orders answers Query Order; nil provisions without the order.
	Orders OrderSource
	// Box seals provisioned passwords at rest; without it a provisioner that
	// returns a password fails the job, rather than the password being kept in clear.
	Box *secretbox.Box
	// EncryptedCredentials limits userName and password to what still fits the
	// 128-character field once queryInstance encrypts them (see provision.CheckAppInfo).
	EncryptedCredentials bool
}

// Handlers returns the handlers of the instance jobs. Provisioning queries the
// order (when Orders is set), asks the provisioner, and makes the instance ACTIVE
// with its access information, or leaves it PROVISIONING when the application will
// call back; a buried provisioning job makes the instance FAILED. Upgrades query the
// upgrade order; the other lifecycle events are delivered as they are.
func (d Instances) Handlers() map[string]Handler {
	st, p, orders := d.Store, d.Provisioner, d.Orders
	request := func(ctx context.Context, job store.Job) (provision.Request, error) {
		inst, err := st.Instance(ctx, job.InstanceID.String)
		if err != nil {
			return provision.Request{}, fmt.Errorf("loading instance %s: %w", job.InstanceID.String, err)
		}
		return provision.Request{Kind: job.Kind, Key: job.Key, Instance: inst, Payload: payload(job)}, nil
	}
	notify := Handler{Run: func(ctx context.Context, job store.Job) (store.Effect, error) {
		req, err := request(ctx, job)
		if err != nil {
			return nil, err
		}
		if job.Kind == marketplace.JobUpgrade && orders != nil {
			var ref struct {
				OrderID     string `json:"orderId"`
				OrderLineID string `json:"orderLineId"`
			}
			_ = json.Unmarshal(req.Payload, &ref)
			if req.Order, err = queryOrder(ctx, orders, ref.OrderID, ref.OrderLineID); err != nil {
				return nil, err
			}
		}
		return nil, p.Notify(ctx, req)
	}}
	return map[string]Handler{
		marketplace.JobProvision: {
			Run: func(ctx context.Context, job store.Job) (store.Effect, error) {
				req, err := request(ctx, job)
				if err != nil {
					return nil, err
				}
				if orders != nil {
					if req.Order, err = queryOrder(ctx, orders, req.Instance.OrderID, req.Instance.OrderLineID); err != nil {
						return nil, err
					}
				}
				app, err := p.Provision(ctx, req)
				if err != nil {
					return nil, err
				}
				if app == nil {
					return nil, nil // accepted: the provisioning callback completes it
				}
				sealed, err := provision.SealAppInfo(d.Box, req.Instance.InstanceID, *app, d.EncryptedCredentials)
				if err != nil {
					return nil, err
				}
				return store.ActivateInstance(req.Instance.InstanceID, *app, sealed), nil
			},
			Dead: func(job store.Job, cause error) store.Effect {
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

// queryOrder calls Query Order; an answer the marketplace will not change on retry
// (a client error) fails the job at once.
func queryOrder(ctx context.Context, orders OrderSource, orderID, orderLineID string) (*openapi.Order, error) {
	o, err := orders.QueryOrder(ctx, orderID, orderLineID)
	if err == nil {
		return o, nil
	}
	if !openapi.Temporary(err) {
		return nil, &provision.Permanent{Code: marketplace.InternalError, Reason: "querying order " + orderID + ": " + err.Error()}
	}
	return nil, fmt.Errorf("querying order %s: %w", orderID, err)
}

func payload(job store.Job) json.RawMessage {
	if !job.Payload.Valid || job.Payload.String == "" {
		return nil
	}
	return json.RawMessage(job.Payload.String)
}

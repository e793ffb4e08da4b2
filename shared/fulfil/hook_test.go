package fulfil_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/kgseller/kgseller/shared/fulfil"
	"github.com/kgseller/kgseller/shared/marketplace"
	"github.com/kgseller/kgseller/shared/provision"
	"github.com/kgseller/kgseller/shared/store"
	"github.com/kgseller/kgseller/shared/tools/dbtest"
)

// TestHookSteps checks where the fault-injection hook is called and what is true
// of the job at each step.
func TestHookSteps(t *testing.T) {
	s, _ := dbtest.Open(t)
	ctx := context.Background()
	p := &flaky{Static: provision.Static{FrontEndURL: "https://a/{instanceId}"}, failFirst: 1}
	var steps []string
	r := &fulfil.Runner{Store: s, Handlers: fulfil.Instances{Store: s, Provisioner: p}.Handlers(), Logger: quiet(), BaseDelay: time.Millisecond, MaxDelay: time.Millisecond}
	r.Hook = func(step string, job store.Job) {
		steps = append(steps, step)
		stored, err := s.Job(ctx, job.ID)
		if err != nil {
			t.Fatal(err)
		}
		inst, err := s.Instance(ctx, job.InstanceID.String)
		if err != nil {
			t.Fatal(err)
		}
		switch step {
		case fulfil.StepClaimed:
			if stored.State != store.JobPending || stored.LeaseOwner.String != r.Owner || p.calls.Load() != int32(stored.Attempts-1) {
				t.Errorf("at %s: job %+v after %d provisioning calls", step, stored, p.calls.Load())
			}
		case fulfil.StepHandled:
			if stored.State != store.JobPending || inst.State != marketplace.Provisioning || p.calls.Load() != 2 {
				t.Errorf("at %s: job %s, instance %s, %d provisioning calls", step, stored.State, inst.State, p.calls.Load())
			}
		case fulfil.StepCompleted:
			if stored.State != store.JobDone || inst.State != marketplace.Active {
				t.Errorf("at %s: job %s, instance %s", step, stored.State, inst.State)
			}
		}
	}
	id := newJob(t, s, "i-hook")
	if out, err := r.Run(ctx, id); out != fulfil.Retry || err != nil {
		t.Fatalf("first run: %s %v", out, err)
	}
	// A failed attempt reaches only the claim.
	if !slices.Equal(steps, []string{fulfil.StepClaimed}) {
		t.Fatalf("steps of a failed attempt: %v", steps)
	}
	steps = nil
	r.Store = later(s, time.Minute)
	if out, err := r.Run(ctx, id); out != fulfil.Done || err != nil {
		t.Fatalf("second run: %s %v", out, err)
	}
	if want := []string{fulfil.StepClaimed, fulfil.StepHandled, fulfil.StepCompleted}; !slices.Equal(steps, want) {
		t.Fatalf("steps %v, want %v", steps, want)
	}
}

// crash stands for the worker process dying inside Runner.Run.
type crash struct{}

// TestRunnerDiesAtEachStep stops a runner at each step, as a killed worker would
// stop, and checks that another runner, once the lease has expired, finishes the
// job exactly once: the job ends DONE, the instance ACTIVE, and the provisioner is
// called again only when the dead runner had already called it.
func TestRunnerDiesAtEachStep(t *testing.T) {
	for _, tc := range []struct {
		step      string
		calls     int32 // provisioning calls in all
		attempts  int
		secondRun fulfil.Outcome
	}{
		{fulfil.StepClaimed, 1, 2, fulfil.Done},
		{fulfil.StepHandled, 2, 2, fulfil.Done},
		{fulfil.StepCompleted, 1, 1, fulfil.Skipped},
	} {
		t.Run(tc.step, func(t *testing.T) {
			s, _ := dbtest.Open(t)
			ctx := context.Background()
			p := &flaky{Static: provision.Static{FrontEndURL: "https://a/{instanceId}"}}
			handlers := fulfil.Instances{Store: s, Provisioner: p}.Handlers()
			dying := &fulfil.Runner{Store: s, Handlers: handlers, Logger: quiet(), Lease: time.Minute,
				Hook: func(step string, _ store.Job) {
					if step == tc.step {
						panic(crash{})
					}
				}}
			id := newJob(t, s, "i-die")
			func() {
				defer func() {
					if _, ok := recover().(crash); !ok {
						t.Fatalf("the runner did not stop at %s", tc.step)
					}
				}()
				_, _ = dying.Run(ctx, id)
			}()
			next := &fulfil.Runner{Store: s, Handlers: handlers, Logger: quiet()}
			// While the dead runner's lease lasts, nobody else runs the job.
			if out, err := next.Run(ctx, id); out != fulfil.Skipped || err != nil {
				t.Fatalf("run during the lease: %s %v", out, err)
			}
			next.Store = later(s, 2*time.Minute)
			if out, err := next.Run(ctx, id); out != tc.secondRun || err != nil {
				t.Fatalf("run after the lease: %s %v, want %s", out, err, tc.secondRun)
			}
			if out, _ := next.Run(ctx, id); out != fulfil.Skipped {
				t.Fatalf("third run: %s", out)
			}
			job, _ := s.Job(ctx, id)
			inst, _ := s.Instance(ctx, "i-die")
			if job.State != store.JobDone || job.Attempts != tc.attempts || inst.State != marketplace.Active || p.calls.Load() != tc.calls {
				t.Fatalf("job %s after %d attempts, instance %s, %d provisioning calls; want DONE, %d, ACTIVE, %d",
					job.State, job.Attempts, inst.State, p.calls.Load(), tc.attempts, tc.calls)
			}
		})
	}
}

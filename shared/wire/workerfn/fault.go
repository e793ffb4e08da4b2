package workerfn

import (
	"log/slog"
	"os"
	"slices"
	"strings"

	"github.com/kgseller/kgseller/shared/config"
	"github.com/kgseller/kgseller/shared/fulfil"
	"github.com/kgseller/kgseller/shared/store"
)

// faultExitCode is the exit status of a worker stopped by fault injection.
const faultExitCode = 3

// faultHook reads KG_FAULT_EXIT_AT, a TEST-ONLY setting of fulfil-worker that must
// never be set in a deployment: a comma-separated list of job steps (claimed,
// handled, completed; see fulfil.Step*) at which the worker process exits, the
// n-th listed step on a job's n-th attempt. "handled" stops every job once, after
// its side effect and before its end is recorded; "claimed,handled,completed" stops
// every job at each step in turn. The load suite (shared/tools/loadtest) uses it to kill
// the worker mid-job. Empty (the default) installs no hook.
func faultHook(l *config.Loader, logger *slog.Logger, exit func(int)) func(string, store.Job) {
	v := l.String(config.FaultExitAt, "")
	if v == "" {
		return nil
	}
	var steps []string
	for _, s := range strings.Split(v, ",") {
		s = strings.TrimSpace(s)
		if !slices.Contains([]string{fulfil.StepClaimed, fulfil.StepHandled, fulfil.StepCompleted}, s) {
			l.Invalid(config.FaultExitAt, "lists steps among claimed, handled, completed (test-only)")
			return nil
		}
		steps = append(steps, s)
	}
	logger.Warn("fault injection is on (KG_FAULT_EXIT_AT, test-only): the worker exits at job steps", "steps", v)
	return func(step string, job store.Job) {
		if n := job.Attempts; n >= 1 && n <= len(steps) && steps[n-1] == step {
			logger.Warn("fault injection: worker exits", "step", step, "job", job.ID, "kind", job.Kind, "attempt", n)
			exit(faultExitCode)
		}
	}
}

// workerFaultHook is faultHook for a real worker process.
func workerFaultHook(l *config.Loader, logger *slog.Logger) func(string, store.Job) {
	return faultHook(l, logger, os.Exit)
}

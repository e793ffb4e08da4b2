// Package workerfn assembles fulfil-worker from its settings: the job runner with
// every family's jobs (instances, licenses, order notices).
package workerfn

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"time"

	"github.com/kgseller/kgseller/shared/config"
	"github.com/kgseller/kgseller/shared/fgruntime"
	"github.com/kgseller/kgseller/shared/fulfil"
	"github.com/kgseller/kgseller/shared/license"
	"github.com/kgseller/kgseller/shared/ordernotify"
	"github.com/kgseller/kgseller/shared/store"
)

// families are the job kinds fulfil-worker runs, one per endpoint family that
// commits jobs.
var families = []fulfil.Family{fulfil.InstanceJobs, license.JobFamily, ordernotify.JobFamily}

// WorkerResult is what an invocation of fulfil-worker reports.
type WorkerResult struct {
	Done         int    `json:"done"`
	Retry        int    `json:"retry"`
	Dead         int    `json:"dead"`
	Skipped      int    `json:"skipped"`
	NoncesPurged int64  `json:"noncesPurged"`
	Error        string `json:"error,omitempty"`
}

// workerMargin is the time left unused at the end of an invocation, so the last job
// finishes before FunctionGraph's timeout.
const workerMargin = 3 * time.Second

// FulfilWorker builds the fulfil-worker function. It is invoked asynchronously by
// the endpoints right after they commit a job, with {"jobId": N}, and then runs
// that job and nothing else: the job's own round trips are all it costs the
// database. Its TIMER trigger (every minute) runs every due job until the time
// budget is spent (jobs whose start was lost, retries after their backoff) and
// purges expired nonces.
func FulfilWorker(src config.Source) fgruntime.InvokeFunc {
	logger := config.Logger(src)
	l := config.New(src)
	dsn, pool := store.Load(l)
	batch := l.Int(config.FulfilBatch, 20)
	template := fulfil.LoadRunner(l, logger)
	template.Hook = workerFaultHook(l, logger) // nil unless the test-only KG_FAULT_EXIT_AT is set
	var builders []func(*store.Store) map[string]fulfil.Handler
	for _, family := range families {
		builders = append(builders, family(l, logger))
	}
	var run *fulfil.Runner
	st, cfgErr := store.OpenConfigured(l, dsn, pool)
	if cfgErr == nil {
		handlers := make([]map[string]fulfil.Handler, 0, len(builders))
		for _, b := range builders {
			handlers = append(handlers, b(st))
		}
		r := template
		r.Store, r.Handlers = st, fulfil.Merge(handlers...)
		run = &r
	}
	return func(ctx context.Context, payload []byte) ([]byte, error) {
		if cfgErr != nil {
			logger.Error("fulfil-worker is misconfigured", "err", cfgErr.Error())
			return json.Marshal(WorkerResult{Error: "misconfigured"})
		}
		res := work(ctx, run, st, payload, batch, logger)
		return json.Marshal(res)
	}
}

func work(ctx context.Context, run *fulfil.Runner, st *store.Store, payload []byte, batch int, logger *slog.Logger) WorkerResult {
	deadline, ok := ctx.Deadline()
	if !ok {
		deadline = time.Now().Add(50 * time.Second)
	}
	ctx, cancel := context.WithDeadline(ctx, deadline.Add(-workerMargin))
	defer cancel()
	var res WorkerResult
	count := func(o fulfil.Outcome) {
		switch o {
		case fulfil.Done:
			res.Done++
		case fulfil.Retry:
			res.Retry++
		case fulfil.Dead:
			res.Dead++
		default:
			res.Skipped++
		}
	}
	var kick struct {
		JobID int64 `json:"jobId"`
	}
	if json.Unmarshal(payload, &kick) == nil && kick.JobID > 0 {
		out, err := run.Run(ctx, kick.JobID)
		if err != nil {
			res.Error = fmt.Sprintf("running job %d: %v", kick.JobID, err)
			logger.Error("running job", "job", kick.JobID, "err", err)
		}
		count(out)
		logger.Info("worker run", "job", kick.JobID, "outcome", string(out))
		return res
	}
	for ctx.Err() == nil {
		counts, err := run.RunDue(ctx, batch)
		if err != nil {
			res.Error = fmt.Sprintf("listing due jobs: %v", err)
			logger.Error("listing due jobs", "err", err)
			break
		}
		n := 0
		for o, c := range counts {
			for i := 0; i < c; i++ {
				count(o)
			}
			n += c
		}
		if n < batch {
			break
		}
	}
	if purged, err := st.PurgeNonces(ctx, 5000); err == nil {
		res.NoncesPurged = purged
	} else if ctx.Err() == nil {
		logger.Warn("purging nonces", "err", err)
	}
	logger.Info("worker run", "done", res.Done, "retry", res.Retry, "dead", res.Dead, "skipped", res.Skipped, "noncesPurged", res.NoncesPurged)
	return res
}

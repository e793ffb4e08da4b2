package fulfil

import (
	"context"
	"log/slog"
	"strconv"
	"time"

	"github.com/kgseller/kgseller/shared/aksk"
	"github.com/kgseller/kgseller/shared/config"
	"github.com/kgseller/kgseller/shared/fgasync"
	"github.com/kgseller/kgseller/shared/kgsign"
	"github.com/kgseller/kgseller/shared/openapi"
	"github.com/kgseller/kgseller/shared/provision"
	"github.com/kgseller/kgseller/shared/secretbox"
	"github.com/kgseller/kgseller/shared/store"
)

// Family reads the settings of one family of jobs (recording problems on l) and
// returns how to build its handlers once the store is open. Each endpoint family
// that commits jobs has one; fulfil-worker runs them all.
type Family func(l *config.Loader, logger *slog.Logger) func(st *store.Store) map[string]Handler

// LoadRunner reads the job runner's retry settings; the caller adds the store and
// the handlers.
func LoadRunner(l *config.Loader, logger *slog.Logger) Runner {
	return Runner{
		Lease:       l.Duration(config.FulfilLease, 2*time.Minute),
		MaxAttempts: l.Int(config.FulfilMaxAttempts, 8),
		BaseDelay:   l.Duration(config.FulfilBaseDelay, 5*time.Second),
		MaxDelay:    l.Duration(config.FulfilMaxDelay, 30*time.Minute),
		Logger:      logger,
	}
}

// InstanceJobs is the family of the instance jobs (provisioning and lifecycle
// notifications): the provisioner, Query Order, the data key and whether
// queryInstance encrypts credentials.
func InstanceJobs(l *config.Loader, _ *slog.Logger) func(*store.Store) map[string]Handler {
	inst := Instances{
		Provisioner:          provision.Load(l),
		Box:                  secretbox.Load(l, false),
		EncryptedCredentials: kgsign.LoadEncryptType(l) != "",
	}
	if c := openapi.LoadQueryOrder(l); c != nil {
		inst.Orders = c
	}
	return func(st *store.Store) map[string]Handler {
		inst.Store = st
		return inst.Handlers()
	}
}

// Handoff reads FULFIL_MODE and returns, for the store once it is open, the
// function an endpoint calls with each job it commits, which reports whether the
// job ran (to its end) in the request:
//   - async (the default when FULFIL_WORKER_URN is set) starts an asynchronous
//     invocation of fulfil-worker, which costs the request that API call and no
//     database round trip, and reports false: the job cannot have run yet;
//   - timer leaves the job to the worker's timer trigger (nil);
//   - inline runs the job in the request, with the endpoint's job families (read
//     only in this mode), for setups without a worker.
func Handoff(l *config.Loader, logger *slog.Logger, families ...Family) func(*store.Store) func(context.Context, int64) bool {
	none := func(*store.Store) func(context.Context, int64) bool { return nil }
	urn := l.String(config.FulfilWorkerURN, "")
	def := "timer"
	if urn != "" {
		def = "async"
	}
	switch l.Choice(config.FulfilMode, def, "async", "inline", "timer") {
	case "inline":
		run := LoadRunner(l, logger)
		builders := make([]func(*store.Store) map[string]Handler, len(families))
		for i, f := range families {
			builders[i] = f(l, logger)
		}
		return func(st *store.Store) func(context.Context, int64) bool {
			maps := make([]map[string]Handler, len(builders))
			for i, b := range builders {
				maps[i] = b(st)
			}
			r := run
			r.Store, r.Handlers = st, Merge(maps...)
			return r.RunInline
		}
	case "async":
		if urn == "" {
			l.Invalid(config.FulfilMode, "async needs "+config.FulfilWorkerURN)
			return none
		}
		inv, err := fgasync.New(l.String(config.FulfilWorkerEndpoint, ""), urn, aksk.Credentials{
			AK: l.String(config.CloudAK, ""), SK: l.String(config.CloudSK, ""),
		})
		if err != nil {
			l.Invalid(config.FulfilWorkerURN, "is not a function URN")
			return none
		}
		kick := func(ctx context.Context, jobID int64) bool {
			// Best effort: the job is committed, and the timer trigger runs it if this
			// invocation is lost.
			ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
			defer cancel()
			if err := inv.Invoke(ctx, []byte(`{"jobId":`+strconv.FormatInt(jobID, 10)+`}`)); err != nil {
				logger.Warn("starting the worker failed; the timer will run the job", "job", jobID, "err", err)
			}
			return false
		}
		return func(*store.Store) func(context.Context, int64) bool { return kick }
	default:
		return none
	}
}

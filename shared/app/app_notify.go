package app

import (
	"context"
	"log/slog"

	"github.com/kgseller/kgseller/shared/config"
	"github.com/kgseller/kgseller/shared/endpoint"
	"github.com/kgseller/kgseller/shared/fgruntime"
	"github.com/kgseller/kgseller/shared/fulfil"
	"github.com/kgseller/kgseller/shared/ordernotify"
	"github.com/kgseller/kgseller/shared/store"
)

// OrderNotify builds the order-notify function: POST /order/notify, orderNotify
// for every product type, verified with the generic-interface key
// (KG_ACCESS_KEY_NOTIFY, else KG_ACCESS_KEY), nonce scope "notify". The order is
// queried by the worker (FULFIL_MODE as for saas-produce); FULFIL_MODE=inline
// queries it in the request and then needs the open-API settings here.
func OrderNotify(src config.Source) fgruntime.Handler {
	logger := Logger(src)
	l := config.New(src)
	cfg, dsn, pool := loadEndpoint(l, config.KeyNotify, "notify")
	svc := &ordernotify.Service{}
	var kick func(context.Context, int64)
	var jobs *ordernotify.Jobs
	// The inline mode is read here rather than through dispatcher, whose inline
	// mode brings the instance provisioner's settings, which this function lacks.
	if l.String("FULFIL_MODE", "") == "inline" {
		jobs = &ordernotify.Jobs{Orders: orders(l)}
	} else {
		_, kick, _ = dispatcher(l, logger)
	}
	run := runnerSettings(l, logger)
	if err := l.Err(); err != nil {
		return endpoint.Misconfigured(cfg.Verifier.Keys, err, logger)
	}
	st, err := store.Open(dsn, pool)
	if err != nil {
		return endpoint.Misconfigured(cfg.Verifier.Keys, err, logger)
	}
	svc.Store = st
	switch {
	case kick != nil:
		svc.Fulfil = kick
	case jobs != nil:
		jobs.Store = st
		run.Store, run.Handlers = st, jobs.Handlers()
		svc.Fulfil = func(ctx context.Context, jobID int64) {
			if _, err := run.Run(ctx, jobID); err != nil {
				logger.Warn("inline fulfilment", "job", jobID, "err", err)
			}
		}
	}
	cfg.Nonces, cfg.Decode, cfg.Logger = st, svc.Decode, logger
	return endpoint.Handler(cfg)
}

// orderJobFamily is the worker's order-notification job family (jobFamilies).
func orderJobFamily(l *config.Loader, _ *slog.Logger) func(*store.Store) map[string]fulfil.Handler {
	jobs := ordernotify.Jobs{Orders: orders(l)}
	return func(st *store.Store) map[string]fulfil.Handler {
		jobs.Store = st
		return jobs.Handlers()
	}
}

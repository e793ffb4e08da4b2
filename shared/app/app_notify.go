package app

import (
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
// (KG_ACCESS_KEY_NOTIFY, else KG_ACCESS_KEY). saas-produce and license-produce
// answer orderNotify at their own addresses the same way (addressNotify). The order is
// queried by the worker (FULFIL_MODE as for saas-produce); FULFIL_MODE=inline
// queries it in the request and then needs the open-API settings here.
func OrderNotify(src config.Source) fgruntime.Handler {
	logger := Logger(src)
	l := config.New(src)
	cfg, dsn, pool := loadEndpoint(l, config.KeyNotify, "notify")
	svc := &ordernotify.Service{}
	fulfilWith := handoff(l, logger, orderJobFamily)
	if err := l.Err(); err != nil {
		return endpoint.Misconfigured(cfg.Verifier.Keys, err, logger)
	}
	st, err := store.Open(dsn, pool)
	if err != nil {
		return endpoint.Misconfigured(cfg.Verifier.Keys, err, logger)
	}
	svc.Store, svc.Fulfil = st, fulfilWith(st)
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

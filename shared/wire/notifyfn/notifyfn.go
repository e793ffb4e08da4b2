// Package notifyfn assembles order-notify from its settings.
package notifyfn

import (
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
// answer orderNotify at their own addresses the same way. The order is queried by
// the worker (FULFIL_MODE as for saas-produce); FULFIL_MODE=inline queries it in
// the request and then needs the open-API settings here.
func OrderNotify(src config.Source) fgruntime.Handler {
	logger := config.Logger(src)
	l := config.New(src)
	cfg := endpoint.Load(l, config.KeyNotify, "notify")
	dsn, pool := store.Load(l)
	svc := &ordernotify.Service{}
	fulfilWith := fulfil.Handoff(l, logger, ordernotify.JobFamily)
	st, err := store.OpenConfigured(l, dsn, pool)
	if err != nil {
		return endpoint.Misconfigured(cfg.Verifier.Keys, err, logger)
	}
	svc.Store, svc.Fulfil = st, fulfilWith(st)
	cfg.Nonces, cfg.Decode, cfg.Logger = st, svc.Decode, logger
	return endpoint.Handler(cfg)
}

// Package saasfn assembles saas-produce from its settings: the SaaS basic
// interface at the function's production addresses, and orderNotify there too.
package saasfn

import (
	"github.com/kgseller/kgseller/shared/config"
	"github.com/kgseller/kgseller/shared/endpoint"
	"github.com/kgseller/kgseller/shared/fgruntime"
	"github.com/kgseller/kgseller/shared/fulfil"
	"github.com/kgseller/kgseller/shared/kgsign"
	"github.com/kgseller/kgseller/shared/ordernotify"
	"github.com/kgseller/kgseller/shared/provision"
	"github.com/kgseller/kgseller/shared/saas"
	"github.com/kgseller/kgseller/shared/secretbox"
	"github.com/kgseller/kgseller/shared/store"
)

// SaaSProduce builds the saas-produce function, which answers POST at its
// production addresses (/saas/produce, /): the seven SaaS basic activities,
// verified with the basic key, and orderNotify as order-notify answers it
// (ordernotify.AtAddress). A configuration error still yields a handler, which
// answers every call with 000005 in the documented shape and logs which settings
// are wrong.
func SaaSProduce(src config.Source) fgruntime.Handler {
	logger := config.Logger(src)
	l := config.New(src)
	cfg := endpoint.Load(l, config.KeyBasic, "basic")
	dsn, pool := store.Load(l)
	notify := ordernotify.AddressEndpoint(l, cfg, "basic")
	svc := &saas.Service{Provisioner: provision.Load(l), Box: secretbox.Load(l, false), EncryptType: kgsign.LoadEncryptType(l)}
	fulfilWith := fulfil.Handoff(l, logger, fulfil.InstanceJobs, ordernotify.JobFamily)
	st, err := store.OpenConfigured(l, dsn, pool)
	if err != nil {
		return endpoint.Misconfigured(cfg.Verifier.Keys, err, logger)
	}
	svc.Store, svc.Fulfil = st, fulfilWith(st)
	cfg.Nonces, cfg.Decode, cfg.Logger = st, svc.Decode, logger
	notify.Nonces, notify.Logger = st, logger
	return ordernotify.AtAddress(cfg, notify, &ordernotify.Service{Store: st, Fulfil: svc.Fulfil})
}

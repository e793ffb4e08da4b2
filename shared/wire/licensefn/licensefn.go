// Package licensefn assembles license-produce from its settings: the License
// activities and the instance activities of online-License products at the
// function's production address, and orderNotify there too.
package licensefn

import (
	"github.com/kgseller/kgseller/shared/config"
	"github.com/kgseller/kgseller/shared/endpoint"
	"github.com/kgseller/kgseller/shared/fgruntime"
	"github.com/kgseller/kgseller/shared/fulfil"
	"github.com/kgseller/kgseller/shared/kgsign"
	"github.com/kgseller/kgseller/shared/license"
	"github.com/kgseller/kgseller/shared/ordernotify"
	"github.com/kgseller/kgseller/shared/provision"
	"github.com/kgseller/kgseller/shared/saas"
	"github.com/kgseller/kgseller/shared/secretbox"
	"github.com/kgseller/kgseller/shared/store"
)

// LicenseProduce builds the license-produce function, which answers POST at its
// production address (/license/produce): the License activities (getLicenseAsync
// and the license-code lifecycle) and the instance activities of online-License
// products, verified with the License key (KG_ACCESS_KEY_LICENSE, else
// KG_ACCESS_KEY), and orderNotify as order-notify answers it. A configuration
// error still yields a handler that answers 000005 in shape.
func LicenseProduce(src config.Source) fgruntime.Handler {
	logger := config.Logger(src)
	l := config.New(src)
	cfg := endpoint.Load(l, config.KeyLicense, "license")
	dsn, pool := store.Load(l)
	notify := ordernotify.AddressEndpoint(l, cfg, "license")
	instances := &saas.Service{Provisioner: provision.Load(l), Box: secretbox.Load(l, false), EncryptType: kgsign.LoadEncryptType(l)}
	svc := &license.Service{
		Instances:   instances.Decode,
		Quota:       l.Int(config.LicenseQuota, 0),
		DeviceBound: l.Bool(config.LicenseDeviceBound, false),
	}
	if svc.Quota < 0 {
		l.Invalid(config.LicenseQuota, "must not be negative")
	}
	fulfilWith := fulfil.Handoff(l, logger, fulfil.InstanceJobs, license.JobFamily, ordernotify.JobFamily)
	st, err := store.OpenConfigured(l, dsn, pool)
	if err != nil {
		return endpoint.Misconfigured(cfg.Verifier.Keys, err, logger)
	}
	f := fulfilWith(st)
	instances.Store, svc.Store = st, st
	instances.Fulfil, svc.Fulfil = f, f
	cfg.Nonces, cfg.Decode, cfg.Logger = st, svc.Decode, logger
	notify.Nonces, notify.Logger = st, logger
	return ordernotify.AtAddress(cfg, notify, &ordernotify.Service{Store: st, Fulfil: f})
}

// Package kitfn assembles the five joint-operation Kit sync functions from their
// settings.
package kitfn

import (
	"github.com/kgseller/kgseller/shared/config"
	"github.com/kgseller/kgseller/shared/endpoint"
	"github.com/kgseller/kgseller/shared/fgruntime"
	"github.com/kgseller/kgseller/shared/kit"
	"github.com/kgseller/kgseller/shared/kit/clientsecret"
	"github.com/kgseller/kgseller/shared/secretbox"
	"github.com/kgseller/kgseller/shared/store"
)

// function assembles one Kit sync function: the Kit key set, x-sign headers
// (nonces remembered under the Kit key), and the decoder that decode picks from
// the service. withSecrets adds the RSA key and the data key (applicationSync).
func function(src config.Source, withSecrets bool, decode func(*kit.Service) endpoint.Decoder) fgruntime.Handler {
	logger := config.Logger(src)
	l := config.New(src)
	cfg := endpoint.Load(l, config.KeyKit, "kit")
	cfg.Scheme = endpoint.KitHeaders
	dsn, pool := store.Load(l)
	svc := &kit.Service{}
	if withSecrets {
		svc.Secrets = clientsecret.Load(l)
		svc.Box = secretbox.Load(l, true)
	}
	st, err := store.OpenConfigured(l, dsn, pool)
	if err != nil {
		return endpoint.Misconfigured(cfg.Verifier.Keys, err, logger)
	}
	svc.Store = st
	cfg.Nonces, cfg.Decode, cfg.Logger = st, decode(svc), logger
	return endpoint.Handler(cfg)
}

// TenantSync builds kit-tenant-sync: {address}/produceAPI/v2/tenantSync.
func TenantSync(src config.Source) fgruntime.Handler {
	return function(src, false, func(s *kit.Service) endpoint.Decoder { return s.DecodeTenantSync })
}

// ApplicationSync builds kit-application-sync: {address}/produceAPI/v2/applicationSync.
func ApplicationSync(src config.Source) fgruntime.Handler {
	return function(src, true, func(s *kit.Service) endpoint.Decoder { return s.DecodeApplicationSync })
}

// AuthSync builds kit-auth-sync: {address}/produceAPI/v2/authSync.
func AuthSync(src config.Source) fgruntime.Handler {
	return function(src, false, func(s *kit.Service) endpoint.Decoder { return s.DecodeAuthSync })
}

// SingleOrgSync builds kit-single-org-sync: {address}/produceAPI/v2/singleOrgSync.
func SingleOrgSync(src config.Source) fgruntime.Handler {
	return function(src, false, func(s *kit.Service) endpoint.Decoder { return s.DecodeSingleOrgSync })
}

// AllOrgSync builds kit-all-org-sync: {address}/produceAPI/v2/allOrgSync.
func AllOrgSync(src config.Source) fgruntime.Handler {
	return function(src, false, func(s *kit.Service) endpoint.Decoder { return s.DecodeAllOrgSync })
}

package app

import (
	"crypto/rsa"

	"github.com/kgseller/kgseller/shared/config"
	"github.com/kgseller/kgseller/shared/endpoint"
	"github.com/kgseller/kgseller/shared/fgruntime"
	"github.com/kgseller/kgseller/shared/kit"
	"github.com/kgseller/kgseller/shared/kit/clientsecret"
	"github.com/kgseller/kgseller/shared/secretbox"
	"github.com/kgseller/kgseller/shared/store"
)

// Settings of the Kit functions beyond those of every endpoint.
const (
	// SettingKitRSAKey is the seller's RSA private key (at least 3072 bits) that
	// decrypts applicationSync's clientSecret: PEM, or base64 of PEM or of DER.
	SettingKitRSAKey = "KG_KIT_RSA_PRIVATE_KEY"
	// SettingDataKey seals secrets at rest (32 bytes, base64).
	SettingDataKey = "KG_DATA_KEY"
)

// kitFunction assembles one Kit sync function: Kit key set, x-sign headers (nonces
// remembered under the Kit key), and the decoder that decode picks from the
// service. withSecrets adds
// the RSA key and the data key (applicationSync).
func kitFunction(src config.Source, withSecrets bool, decode func(*kit.Service) endpoint.Decoder) fgruntime.Handler {
	logger := Logger(src)
	l := config.New(src)
	cfg, dsn, pool := loadEndpoint(l, config.KeyKit, "kit")
	cfg.Scheme = endpoint.KitHeaders
	svc := &kit.Service{}
	if withSecrets {
		svc.Secrets = loadKitRSA(l)
		svc.Box = loadDataKey(l)
	}
	if err := l.Err(); err != nil {
		return endpoint.Misconfigured(cfg.Verifier.Keys, err, logger)
	}
	st, err := store.Open(dsn, pool)
	if err != nil {
		return endpoint.Misconfigured(cfg.Verifier.Keys, err, logger)
	}
	svc.Store = st
	cfg.Nonces, cfg.Decode, cfg.Logger = st, decode(svc), logger
	return endpoint.Handler(cfg)
}

// loadKitRSA reads KG_KIT_RSA_PRIVATE_KEY and, during a key change,
// KG_KIT_RSA_PRIVATE_KEY_PREVIOUS.
func loadKitRSA(l *config.Loader) *clientsecret.Decrypter {
	values := map[string]string{
		SettingKitRSAKey:               l.Required(SettingKitRSAKey),
		SettingKitRSAKey + "_PREVIOUS": l.String(SettingKitRSAKey+"_PREVIOUS", ""),
	}
	var keys []*rsa.PrivateKey
	for _, name := range []string{SettingKitRSAKey, SettingKitRSAKey + "_PREVIOUS"} {
		if values[name] == "" {
			continue
		}
		k, err := clientsecret.ParsePrivateKey(values[name])
		if err != nil {
			l.Invalid(name, "is not usable: "+err.Error())
			return nil
		}
		keys = append(keys, k)
	}
	if len(keys) == 0 {
		return nil
	}
	return clientsecret.NewFromKeys(keys...)
}

// loadDataKey reads KG_DATA_KEY, which these functions require.
func loadDataKey(l *config.Loader) *secretbox.Box {
	if l.Required(SettingDataKey) == "" {
		return nil
	}
	return optionalDataKey(l)
}

// KitTenantSync builds kit-tenant-sync: POST /produceAPI/v2/tenantSync.
func KitTenantSync(src config.Source) fgruntime.Handler {
	return kitFunction(src, false, func(s *kit.Service) endpoint.Decoder { return s.DecodeTenantSync })
}

// KitApplicationSync builds kit-application-sync: POST /produceAPI/v2/applicationSync.
func KitApplicationSync(src config.Source) fgruntime.Handler {
	return kitFunction(src, true, func(s *kit.Service) endpoint.Decoder { return s.DecodeApplicationSync })
}

// KitAuthSync builds kit-auth-sync: POST /produceAPI/v2/authSync.
func KitAuthSync(src config.Source) fgruntime.Handler {
	return kitFunction(src, false, func(s *kit.Service) endpoint.Decoder { return s.DecodeAuthSync })
}

// KitSingleOrgSync builds kit-single-org-sync: POST /produceAPI/v2/singleOrgSync.
func KitSingleOrgSync(src config.Source) fgruntime.Handler {
	return kitFunction(src, false, func(s *kit.Service) endpoint.Decoder { return s.DecodeSingleOrgSync })
}

// KitAllOrgSync builds kit-all-org-sync: POST /produceAPI/v2/allOrgSync.
func KitAllOrgSync(src config.Source) fgruntime.Handler {
	return kitFunction(src, false, func(s *kit.Service) endpoint.Decoder { return s.DecodeAllOrgSync })
}

package app

import (
	"encoding/json"
	"log/slog"
	"time"

	"github.com/kgseller/kgseller/shared/config"
	"github.com/kgseller/kgseller/shared/endpoint"
	"github.com/kgseller/kgseller/shared/fgruntime"
	"github.com/kgseller/kgseller/shared/fulfil"
	"github.com/kgseller/kgseller/shared/license"
	"github.com/kgseller/kgseller/shared/licensefile"
	"github.com/kgseller/kgseller/shared/mktcall"
	"github.com/kgseller/kgseller/shared/ordernotify"
	"github.com/kgseller/kgseller/shared/produce"
	"github.com/kgseller/kgseller/shared/store"
)

// Settings of the License functions.
const (
	// SettingLicenseSigningKey is the seller's Ed25519 private key that signs
	// license documents: base64 of the 32-byte seed, or PKCS#8 PEM.
	SettingLicenseSigningKey = "KG_LICENSE_SIGNING_KEY"
	// SettingLicenseFeatures maps skuCode or productId ("*": any) to the features
	// a license grants, as a JSON object of string arrays.
	SettingLicenseFeatures = "KG_LICENSE_FEATURES"
	// SettingLicenseQuota is how many licenses one instance may hold (0: no limit).
	SettingLicenseQuota = "KG_LICENSE_QUOTA"
	// SettingLicenseDeviceBound makes deviceFingerprint mandatory.
	SettingLicenseDeviceBound = "KG_LICENSE_DEVICE_BOUND"
)

// LicenseProduce builds the license-produce function, which answers POST at its
// production address (/license/produce): the License activities (getLicenseAsync
// and the license-code lifecycle) and the instance activities of online-License
// products, verified with the License key (KG_ACCESS_KEY_LICENSE, else
// KG_ACCESS_KEY), and orderNotify as order-notify answers it (addressNotify). A
// configuration error still yields a handler that answers 000005 in shape.
func LicenseProduce(src config.Source) fgruntime.Handler {
	logger := Logger(src)
	l := config.New(src)
	cfg, dsn, pool := loadEndpoint(l, config.KeyLicense, "license")
	notify := addressNotify(l, cfg, "license")
	instances := &produce.Service{Provisioner: provisioner(l), Box: optionalDataKey(l), EncryptType: encryptType(l)}
	svc := &license.Service{
		Produce:     instances,
		Quota:       l.Int(SettingLicenseQuota, 0),
		DeviceBound: l.Bool(SettingLicenseDeviceBound, false),
	}
	if svc.Quota < 0 {
		l.Invalid(SettingLicenseQuota, "must not be negative")
	}
	fulfilWith := handoff(l, logger, instanceJobFamily, licenseJobFamily, orderJobFamily)
	if err := l.Err(); err != nil {
		return endpoint.Misconfigured(cfg.Verifier.Keys, err, logger)
	}
	st, err := store.Open(dsn, pool)
	if err != nil {
		return endpoint.Misconfigured(cfg.Verifier.Keys, err, logger)
	}
	f := fulfilWith(st)
	instances.Store, svc.Store = st, st
	instances.Fulfil, svc.Fulfil = f, f
	cfg.Nonces, cfg.Decode, cfg.Logger = st, svc.Decode, logger
	notify.Nonces, notify.Logger = st, logger
	return withOrderNotify(cfg, notify, &ordernotify.Service{Store: st, Fulfil: f})
}

// licenseJobs reads what the license jobs need: the signing key, the features,
// Query Order and the upload client. The key and the upload credentials are
// optional here, so a worker of a seller without License products needs neither;
// license jobs wait (and say why in their last error) until they are set.
func licenseJobs(l *config.Loader) license.Jobs {
	j := license.Jobs{Orders: orders(l)}
	if v := l.String(SettingLicenseSigningKey, ""); v != "" {
		key, err := licensefile.ParsePrivateKey(v)
		if err != nil {
			l.Invalid(SettingLicenseSigningKey, "must be base64 of a 32-byte Ed25519 seed or a PKCS#8 PEM key")
		} else {
			j.Signer = licensefile.NewSigner(key)
		}
	}
	if v := l.String(SettingLicenseFeatures, ""); v != "" {
		if err := json.Unmarshal([]byte(v), &j.Features); err != nil {
			l.Invalid(SettingLicenseFeatures, `must be a JSON object such as {"*":["basic"],"<skuCode>":["basic","pro"]}`)
		}
	}
	ak, sk := l.String("HUAWEICLOUD_SDK_AK", ""), l.String("HUAWEICLOUD_SDK_SK", "")
	if ak != "" && sk != "" {
		c, err := mktcall.New(mktcall.Options{
			Region: l.String("KG_MKT_REGION", "cn"), Endpoint: l.String("KG_MKT_ENDPOINT", ""), AK: ak, SK: sk,
			Timeout: l.Duration("KG_MKT_TIMEOUT", 10*time.Second),
		})
		if err != nil {
			l.Invalid("KG_MKT_REGION/KG_MKT_ENDPOINT", "are not usable: "+err.Error())
		} else {
			j.Uploader = license.EventFiles{Client: c}
		}
	}
	return j
}

// licenseJobFamily is the worker's License job family (jobFamilies).
func licenseJobFamily(l *config.Loader, _ *slog.Logger) func(*store.Store) map[string]fulfil.Handler {
	jobs := licenseJobs(l)
	return func(st *store.Store) map[string]fulfil.Handler {
		jobs.Store = st
		return jobs.Handlers()
	}
}

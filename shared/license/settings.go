package license

import (
	"encoding/json"
	"log/slog"

	"github.com/kgseller/kgseller/shared/config"
	"github.com/kgseller/kgseller/shared/fulfil"
	"github.com/kgseller/kgseller/shared/licensefile"
	"github.com/kgseller/kgseller/shared/openapi"
	"github.com/kgseller/kgseller/shared/store"
)

// LoadJobs reads what the license jobs need: the signing key
// (KG_LICENSE_SIGNING_KEY), the features (KG_LICENSE_FEATURES), Query Order and
// the upload client. The key and the upload credentials are optional, so a worker
// of a seller without License products needs neither; license jobs wait (and say
// why in their last error) until they are set.
func LoadJobs(l *config.Loader) Jobs {
	var j Jobs
	if c := openapi.LoadQueryOrder(l); c != nil {
		j.Orders = c
	}
	if v := l.String(config.LicenseSigningKey, ""); v != "" {
		key, err := licensefile.ParsePrivateKey(v)
		if err != nil {
			l.Invalid(config.LicenseSigningKey, "must be base64 of a 32-byte Ed25519 seed or a PKCS#8 PEM key")
		} else {
			j.Signer = licensefile.NewSigner(key)
		}
	}
	if v := l.String(config.LicenseFeatures, ""); v != "" {
		if err := json.Unmarshal([]byte(v), &j.Features); err != nil {
			l.Invalid(config.LicenseFeatures, `must be a JSON object such as {"*":["basic"],"<skuCode>":["basic","pro"]}`)
		}
	}
	if c := openapi.Load(l, false); c != nil {
		j.Uploader = EventFiles{Client: c}
	}
	return j
}

// JobFamily is the License job family (fulfil.Family).
func JobFamily(l *config.Loader, _ *slog.Logger) func(*store.Store) map[string]fulfil.Handler {
	jobs := LoadJobs(l)
	return func(st *store.Store) map[string]fulfil.Handler {
		jobs.Store = st
		return jobs.Handlers()
	}
}

package endpoint

import (
	"github.com/kgseller/kgseller/shared/config"
	"github.com/kgseller/kgseller/shared/kgsign"
)

// LoadKeys returns the key set of an interface type (config.KeyBasic, …):
// KG_ACCESS_KEY_<TYPE> or, when that is unset, KG_ACCESS_KEY; the previous key of
// a key change comes from the same names with _PREVIOUS appended.
// KG_ACCESS_KEY_BASE64=true decodes both (the EU console shows keys
// base64-encoded). Problems are recorded on l by setting name.
func LoadKeys(l *config.Loader, kind string) kgsign.KeySet {
	specific := config.AccessKey + "_" + kind
	primary, name := l.String(specific, ""), specific
	if primary == "" {
		primary, name = l.String(config.AccessKey, ""), config.AccessKey
	}
	previous := l.String(name+config.Previous, "")
	if primary == "" {
		l.Missing(specific + " or " + config.AccessKey)
		return kgsign.KeySet{}
	}
	ks, err := kgsign.NewKeySet(primary, previous, l.Bool(config.AccessKeyBase64, false))
	if err != nil {
		l.Invalid(name, "is not usable: "+err.Error())
		return kgsign.KeySet{}
	}
	return ks
}

// Load reads the settings of an endpoint of one interface type: its keys, the
// signature's time window, the body limit, the request budget and how often
// nonces are purged. label names the type in the request logs. The caller adds
// the nonce store and the decoder.
func Load(l *config.Loader, kind, label string) Config {
	return Config{
		Scope: label,
		Verifier: &kgsign.Verifier{
			Keys:             LoadKeys(l, kind),
			Tolerance:        l.Duration(config.SignTolerance, kgsign.DefaultTolerance),
			FutureSkew:       l.Duration(config.SignFutureSkew, kgsign.DefaultFutureSkew),
			KitHashedPayload: l.Bool(config.KitHashedPayload, false),
		},
		MaxBody:    l.Int(config.MaxBodyBytes, DefaultMaxBody),
		Timeout:    l.Duration(config.RequestTimeout, DefaultTimeout),
		PurgeEvery: l.Int(config.NoncePurgeEvery, 64),
	}
}

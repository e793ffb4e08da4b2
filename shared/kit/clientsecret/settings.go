package clientsecret

import (
	"crypto/rsa"

	"github.com/kgseller/kgseller/shared/config"
)

// Load reads KG_KIT_RSA_PRIVATE_KEY (required) and, during a key change,
// KG_KIT_RSA_PRIVATE_KEY_PREVIOUS.
func Load(l *config.Loader) *Decrypter {
	names := []string{config.KitRSAPrivateKey, config.KitRSAPrivateKey + config.Previous}
	values := []string{l.Required(names[0]), l.String(names[1], "")}
	var keys []*rsa.PrivateKey
	for i, v := range values {
		if v == "" {
			continue
		}
		k, err := ParsePrivateKey(v)
		if err != nil {
			l.Invalid(names[i], "is not usable: "+err.Error())
			return nil
		}
		keys = append(keys, k)
	}
	if len(keys) == 0 {
		return nil
	}
	return NewFromKeys(keys...)
}

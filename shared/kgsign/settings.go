package kgsign

import "github.com/kgseller/kgseller/shared/config"

// LoadEncryptType reads KG_QUERY_ENCRYPT_TYPE: empty (queryInstance returns
// credentials in plain text, the default), "1" (AES-256) or "2" (AES-128).
func LoadEncryptType(l *config.Loader) EncryptType {
	return EncryptType(l.Choice(config.QueryEncryptType, "", "", string(AES256), string(AES128)))
}

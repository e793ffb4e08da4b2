package config

import (
	"strings"

	"github.com/go-sql-driver/mysql"
)

// secretSettings are the settings whose values are secrets. Loggers mask their
// values wherever they appear, and those of their _PREVIOUS variants.
var secretSettings = []string{
	"KG_ACCESS_KEY", "KG_ACCESS_KEY_BASIC", "KG_ACCESS_KEY_KIT", "KG_ACCESS_KEY_LICENSE", "KG_ACCESS_KEY_NOTIFY",
	"HUAWEICLOUD_SDK_AK", "HUAWEICLOUD_SDK_SK",
	"HUAWEICLOUD_SDK_SECURITY_TOKEN",
	"PROVISION_WEBHOOK_SECRET", "KG_DATA_KEY", "KG_KIT_RSA_PRIVATE_KEY", "SSO_SESSION_KEY",
	"KG_LICENSE_SIGNING_KEY", "APIG_SIGNATURE_SECRET",
}

// SecretValues returns the values of the secret settings that src defines (and
// the password inside DB_DSN), for loggers to mask.
func SecretValues(src Source) []string {
	var out []string
	for _, name := range secretSettings {
		for _, n := range []string{name, name + "_PREVIOUS"} {
			if v := strings.TrimSpace(src(n)); v != "" {
				out = append(out, v)
			}
		}
	}
	if dsn := src("DB_DSN"); dsn != "" {
		if cfg, err := mysql.ParseDSN(dsn); err == nil && cfg.Passwd != "" {
			out = append(out, cfg.Passwd)
		}
	}
	return out
}

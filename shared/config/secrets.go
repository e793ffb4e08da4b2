package config

import (
	"strings"

	"github.com/go-sql-driver/mysql"
)

// secretSettings are the settings whose values are secrets. Loggers mask their
// values wherever they appear; a previous-key variant (_PREVIOUS) is included.
var secretSettings = []string{
	"KG_ACCESS_KEY", "KG_ACCESS_KEY_BASIC", "KG_ACCESS_KEY_KIT", "KG_ACCESS_KEY_LICENSE", "KG_ACCESS_KEY_NOTIFY",
	"HUAWEICLOUD_SDK_AK", "HUAWEICLOUD_SDK_SK",
	"PROVISION_WEBHOOK_SECRET", "KG_DATA_KEY", "KG_KIT_RSA_PRIVATE_KEY", "KG_SESSION_KEY",
	"KG_LICENSE_SIGNING_KEY", "KG_API_BACKEND_SECRET",
}

// IsSecretSetting reports whether a setting name holds a secret: a listed name (or
// its _PREVIOUS variant), or any name that says so (KEY, SECRET, PASSWORD, TOKEN).
func IsSecretSetting(name string) bool {
	base := strings.TrimSuffix(name, "_PREVIOUS")
	for _, s := range secretSettings {
		if base == s {
			return true
		}
	}
	u := strings.ToUpper(name)
	for _, w := range []string{"SECRET", "PASSWORD", "TOKEN", "PRIVATE_KEY", "_SK"} {
		if strings.Contains(u, w) {
			return true
		}
	}
	return false
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

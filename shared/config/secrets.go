package config

import (
	"strings"
)

// SecretValues returns the values of the secret settings that src defines (and
// the password inside DB_DSN), for loggers to mask.
func SecretValues(src Source) []string {
	var out []string
	for _, n := range SecretNames() {
		if v := strings.TrimSpace(src(n)); v != "" {
			out = append(out, v)
		}
	}
	if p := dsnPassword(src(DBDSN)); p != "" {
		out = append(out, p)
	}
	return out
}

// dsnPassword returns the password of a go-sql-driver/mysql DSN
// ([user[:password]@][net[(addr)]]/dbname[?params]), read the way that driver
// reads it: the user info ends at the last '@' before the last '/'. It is parsed
// here rather than by the driver so that functions without a database do not
// link one.
func dsnPassword(dsn string) string {
	slash := strings.LastIndexByte(dsn, '/')
	if slash < 0 {
		return ""
	}
	at := strings.LastIndexByte(dsn[:slash], '@')
	if at < 0 {
		return ""
	}
	_, pass, ok := strings.Cut(dsn[:at], ":")
	if !ok {
		return ""
	}
	return pass
}

package config

import (
	"github.com/go-sql-driver/mysql"
	"strings"
	"testing"
)

func TestRuntimeUserData(t *testing.T) {
	t.Setenv("RUNTIME_USERDATA", `{"FROM_USERDATA":"u","BOTH":"userdata"}`)
	t.Setenv("BOTH", "env")
	src := Env()
	if src("FROM_USERDATA") != "u" || src("BOTH") != "env" || src("NEITHER") != "" {
		t.Errorf("Env lookup: %q %q %q", src("FROM_USERDATA"), src("BOTH"), src("NEITHER"))
	}
}

func TestSecretValues(t *testing.T) {
	src := Map(map[string]string{
		"KG_ACCESS_KEY": "k-primary", "KG_ACCESS_KEY_BASIC_PREVIOUS": "k-old", "SSO_SESSION_KEY": "sess",
		"DB_DSN": "app:db-pass-1@tcp(h:3306)/d", "LOG_LEVEL": "info",
	})
	got := strings.Join(SecretValues(src), ",")
	for _, want := range []string{"k-primary", "k-old", "sess", "db-pass-1"} {
		if !strings.Contains(got, want) {
			t.Errorf("SecretValues misses %q: %s", want, got)
		}
	}
	if strings.Contains(got, "info") {
		t.Errorf("a plain setting is treated as a secret: %s", got)
	}
}

// TestDSNPassword: the password masked in logs is the one the MySQL driver reads
// from the DSN, parsed without linking the driver.
func TestDSNPassword(t *testing.T) {
	for _, dsn := range []string{
		"app:db-pass-1@tcp(h:3306)/d", "app:p@ss:w/rd@tcp(h:3306)/d?parseTime=true", "app@tcp(h)/d",
		"app:@tcp(h)/d", "/d", "app:x@/d", "u:pw@unix(/tmp/sock)/d", "user:pa@ss@tcp(1.2.3.4)/db",
	} {
		want := ""
		if cfg, err := mysql.ParseDSN(dsn); err == nil {
			want = cfg.Passwd
		}
		if got := dsnPassword(dsn); got != want {
			t.Errorf("dsnPassword(%q) = %q, the driver reads %q", dsn, got, want)
		}
	}
}

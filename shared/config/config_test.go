package config

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/kgseller/kgseller/shared/kgsign"
)

func TestErrorsNameSettingsNeverValues(t *testing.T) {
	l := New(Map(map[string]string{
		"KG_REQUEST_TIMEOUT":   "soon-secret-ish",
		"DB_MAX_OPEN":          "lots",
		"KG_ACCESS_KEY_BASE64": "true",
		"KG_ACCESS_KEY":        "%%%not-base64-secret%%%",
	}))
	_ = l.Required("DB_DSN")
	_ = l.Duration("KG_REQUEST_TIMEOUT", time.Second)
	_ = l.Int("DB_MAX_OPEN", 4)
	_ = l.Keys(KeyBasic)
	err := l.Err()
	var ce *Error
	if !errors.As(err, &ce) {
		t.Fatalf("err = %v", err)
	}
	msg := err.Error()
	for _, want := range []string{"DB_DSN", "KG_REQUEST_TIMEOUT", "DB_MAX_OPEN", "KG_ACCESS_KEY"} {
		if !strings.Contains(msg, want) {
			t.Errorf("error %q does not name %s", msg, want)
		}
	}
	for _, secret := range []string{"soon-secret-ish", "lots", "not-base64-secret"} {
		if strings.Contains(msg, secret) {
			t.Errorf("error %q repeats a value", msg)
		}
	}
}

func TestKeysPerType(t *testing.T) {
	src := Map(map[string]string{
		"KG_ACCESS_KEY":              "shared",
		"KG_ACCESS_KEY_KIT":          "kit-key",
		"KG_ACCESS_KEY_KIT_PREVIOUS": "kit-old",
	})
	l := New(src)
	basic, kit := l.Keys(KeyBasic), l.Keys(KeyKit)
	if err := l.Err(); err != nil {
		t.Fatal(err)
	}
	body := []byte("x")
	if kgsign.BodySign(basic.Primary(), body) != kgsign.BodySign(kgsign.NewKey([]byte("shared"), ""), body) || basic.Len() != 1 {
		t.Errorf("basic key does not fall back to KG_ACCESS_KEY")
	}
	if kit.Len() != 2 || kgsign.BodySign(kit.Keys()[1], body) != kgsign.BodySign(kgsign.NewKey([]byte("kit-old"), ""), body) {
		t.Errorf("kit keys wrong")
	}
	l2 := New(Map(nil))
	l2.Keys(KeyNotify)
	if err := l2.Err(); err == nil || !strings.Contains(err.Error(), "KG_ACCESS_KEY_NOTIFY or KG_ACCESS_KEY") {
		t.Errorf("missing key error = %v", err)
	}
}

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

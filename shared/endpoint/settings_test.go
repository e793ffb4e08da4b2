package endpoint_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/kgseller/kgseller/shared/config"
	"github.com/kgseller/kgseller/shared/endpoint"
	"github.com/kgseller/kgseller/shared/kgsign"
)

// TestSignatureWindowSettings: KG_SIGN_TOLERANCE sets how old a timestamp may be,
// KG_SIGN_FUTURE_SKEW how far ahead; a bad value is named.
func TestSignatureWindowSettings(t *testing.T) {
	l := config.New(config.Map(map[string]string{"KG_ACCESS_KEY": "k", "KG_SIGN_TOLERANCE": "90s", "KG_SIGN_FUTURE_SKEW": "30s"}))
	cfg := endpoint.Load(l, config.KeyBasic, "basic")
	if past, future := cfg.Verifier.Window(); past != 90*time.Second || future != 30*time.Second {
		t.Fatalf("window %v, %v", past, future)
	}
	l = config.New(config.Map(map[string]string{"KG_ACCESS_KEY": "k"}))
	cfg = endpoint.Load(l, config.KeyBasic, "basic")
	if past, future := cfg.Verifier.Window(); past != kgsign.DefaultTolerance || future != kgsign.DefaultFutureSkew {
		t.Fatalf("default window %v, %v", past, future)
	}
	l = config.New(config.Map(map[string]string{"KG_ACCESS_KEY": "k", "DB_DSN": "x", "KG_SIGN_FUTURE_SKEW": "soon"}))
	endpoint.Load(l, config.KeyBasic, "basic")
	if err := l.Err(); err == nil || !strings.Contains(err.Error(), "KG_SIGN_FUTURE_SKEW") {
		t.Fatalf("bad future skew: %v", err)
	}
}

func TestErrorsNameSettingsNeverValues(t *testing.T) {
	l := config.New(config.Map(map[string]string{
		"KG_REQUEST_TIMEOUT":   "soon-secret-ish",
		"DB_MAX_OPEN":          "lots",
		"KG_ACCESS_KEY_BASE64": "true",
		"KG_ACCESS_KEY":        "%%%not-base64-secret%%%",
	}))
	_ = l.Required("DB_DSN")
	_ = l.Duration("KG_REQUEST_TIMEOUT", time.Second)
	_ = l.Int("DB_MAX_OPEN", 4)
	_ = endpoint.LoadKeys(l, config.KeyBasic)
	err := l.Err()
	var ce *config.Error
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
	src := config.Map(map[string]string{
		"KG_ACCESS_KEY":              "shared",
		"KG_ACCESS_KEY_KIT":          "kit-key",
		"KG_ACCESS_KEY_KIT_PREVIOUS": "kit-old",
	})
	l := config.New(src)
	basic, kit := endpoint.LoadKeys(l, config.KeyBasic), endpoint.LoadKeys(l, config.KeyKit)
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
	l2 := config.New(config.Map(nil))
	endpoint.LoadKeys(l2, config.KeyNotify)
	if err := l2.Err(); err == nil || !strings.Contains(err.Error(), "KG_ACCESS_KEY_NOTIFY or KG_ACCESS_KEY") {
		t.Errorf("missing key error = %v", err)
	}
}

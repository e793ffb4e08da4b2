package clientsecret_test

import (
	"crypto/rand"
	"crypto/rsa"
	"strings"
	"testing"

	"github.com/kgseller/kgseller/shared/config"
	"github.com/kgseller/kgseller/shared/kit/clientsecret"
	"github.com/kgseller/kgseller/shared/secretbox"
)

func TestKitRSASettingErrorsNameTheSetting(t *testing.T) {
	small, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	smallPEM, _ := clientsecret.PrivatePEM(small)
	for name, value := range map[string]string{"garbage": "secret-garbage-value", "2048 bits": string(smallPEM)} {
		l := config.New(config.Map(map[string]string{config.KitRSAPrivateKey: value}))
		if d := clientsecret.Load(l); d != nil {
			t.Fatalf("%s accepted", name)
		}
		msg := l.Err().Error()
		if !strings.Contains(msg, config.KitRSAPrivateKey) || strings.Contains(msg, "secret-garbage-value") || strings.Contains(msg, "PRIVATE KEY") {
			t.Fatalf("%s: %q", name, msg)
		}
	}
	l := config.New(config.Map(nil))
	clientsecret.Load(l)
	secretbox.Load(l, true)
	if msg := l.Err().Error(); !strings.Contains(msg, config.KitRSAPrivateKey) || !strings.Contains(msg, config.DataKey) {
		t.Fatalf("missing settings not named: %q", msg)
	}
	l = config.New(config.Map(map[string]string{config.DataKey: "dG9vIHNob3J0"}))
	if secretbox.Load(l, true) != nil || !strings.Contains(l.Err().Error(), config.DataKey) {
		t.Fatal("a short data key was accepted")
	}
}

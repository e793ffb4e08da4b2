package licensefile_test

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/kgseller/kgseller/shared/licensefile"
)

func newSigner(t *testing.T) *licensefile.Signer {
	t.Helper()
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return licensefile.NewSigner(priv)
}

var (
	effective = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	expire    = time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)
)

func payload() licensefile.Payload {
	exp := expire
	return licensefile.Payload{
		LicenseID: "LIC-1", EventID: "EV-1", InstanceID: "inst-1", OrderID: "CS1", OrderLineID: "CS1-000001",
		Product:       licensefile.Product{ProductID: "OFFI1", SKUCode: "sku-1", ProductName: "Pro", Quantity: "50"},
		Customer:      licensefile.Customer{CustomerID: "c-1", CustomerName: "Buyer"},
		EffectiveTime: effective, ExpireTime: &exp, Features: []string{"basic", "pro"},
		IssuedAt: effective,
	}
}

func TestSignVerifyRoundTrip(t *testing.T) {
	s := newSigner(t)
	doc, err := s.Sign(payload())
	if err != nil {
		t.Fatal(err)
	}
	again, _ := s.Sign(payload())
	if !bytes.Equal(doc, again) {
		t.Fatal("signing the same payload twice gave different bytes")
	}
	p, err := licensefile.Verify(doc, []ed25519.PublicKey{s.Public()}, licensefile.Options{Now: effective.AddDate(0, 6, 0)})
	if err != nil {
		t.Fatal(err)
	}
	if p.Format != licensefile.Format || p.InstanceID != "inst-1" || p.Product.Quantity != "50" || p.Customer.CustomerID != "c-1" ||
		!p.ExpireTime.Equal(expire) || strings.Join(p.Features, ",") != "basic,pro" {
		t.Fatalf("payload %+v", p)
	}
}

// tamper rewrites the signed payload of a document with edit, keeping the
// signature.
func tamper(t *testing.T, doc []byte, edit func(map[string]any)) []byte {
	t.Helper()
	var env map[string]string
	if err := json.Unmarshal(doc, &env); err != nil {
		t.Fatal(err)
	}
	raw, _ := base64.RawURLEncoding.DecodeString(env["payload"])
	var p map[string]any
	_ = json.Unmarshal(raw, &p)
	edit(p)
	raw, _ = json.Marshal(p)
	env["payload"] = base64.RawURLEncoding.EncodeToString(raw)
	out, _ := json.Marshal(env)
	return out
}

func TestVerifyRejects(t *testing.T) {
	s := newSigner(t)
	other := newSigner(t)
	doc, _ := s.Sign(payload())
	bound := payload()
	bound.DeviceFingerprint = "device-A"
	boundDoc, _ := s.Sign(bound)
	now := effective.AddDate(0, 1, 0)
	keys := []ed25519.PublicKey{s.Public()}
	cases := []struct {
		name string
		doc  []byte
		keys []ed25519.PublicKey
		o    licensefile.Options
		want error
	}{
		{"more features", tamper(t, doc, func(p map[string]any) { p["features"] = []string{"basic", "pro", "enterprise"} }), keys, licensefile.Options{Now: now}, licensefile.ErrBadSignature},
		{"later expiry", tamper(t, doc, func(p map[string]any) { p["expireTime"] = "2099-01-01T00:00:00Z" }), keys, licensefile.Options{Now: now}, licensefile.ErrBadSignature},
		{"another seller's key", doc, []ed25519.PublicKey{other.Public()}, licensefile.Options{Now: now}, licensefile.ErrUnknownKey},
		{"expired", doc, keys, licensefile.Options{Now: expire.Add(time.Hour)}, licensefile.ErrExpired},
		{"not yet valid", doc, keys, licensefile.Options{Now: effective.Add(-time.Hour)}, licensefile.ErrNotYetValid},
		{"another device", boundDoc, keys, licensefile.Options{Now: now, Fingerprint: "device-B"}, licensefile.ErrWrongDevice},
		{"no device given", boundDoc, keys, licensefile.Options{Now: now}, licensefile.ErrWrongDevice},
		{"not JSON", []byte("hello"), keys, licensefile.Options{}, licensefile.ErrMalformed},
		{"trailing data", append(append([]byte{}, doc...), []byte(`{"x":1}`)...), keys, licensefile.Options{}, licensefile.ErrMalformed},
		{"truncated signature", bytes.Replace(doc, []byte(`"signature": "`), []byte(`"signature": "AA`), 1), keys, licensefile.Options{}, licensefile.ErrMalformed},
	}
	for _, c := range cases {
		if _, err := licensefile.Verify(c.doc, c.keys, c.o); !errors.Is(err, c.want) {
			t.Errorf("%s: err %v, want %v", c.name, err, c.want)
		}
	}
	// The leeway tolerates a clock slightly behind.
	if _, err := licensefile.Verify(doc, keys, licensefile.Options{Now: effective.Add(-time.Minute), Leeway: 5 * time.Minute}); err != nil {
		t.Errorf("within leeway: %v", err)
	}
	if _, err := licensefile.Verify(boundDoc, keys, licensefile.Options{Now: now, Fingerprint: "device-A"}); err != nil {
		t.Errorf("right device: %v", err)
	}
}

func TestKeyEncodings(t *testing.T) {
	_, priv, _ := ed25519.GenerateKey(rand.Reader)
	pemKey, _ := licensefile.PrivatePEM(priv)
	for name, v := range map[string]string{
		"seed":   base64.StdEncoding.EncodeToString(priv.Seed()),
		"full":   base64.StdEncoding.EncodeToString(priv),
		"pkcs8":  string(pemKey),
		"spaced": "  " + base64.StdEncoding.EncodeToString(priv.Seed()) + "\n",
	} {
		got, err := licensefile.ParsePrivateKey(v)
		if err != nil || !got.Equal(priv) {
			t.Errorf("%s: %v", name, err)
		}
	}
	for _, v := range []string{"", "not base64!", base64.StdEncoding.EncodeToString([]byte("short"))} {
		if _, err := licensefile.ParsePrivateKey(v); err == nil {
			t.Errorf("ParsePrivateKey(%q) accepted", v)
		} else if v != "" && strings.Contains(err.Error(), v) {
			t.Errorf("error repeats the key: %v", err)
		}
	}
	pub := priv.Public().(ed25519.PublicKey)
	pubPEM, _ := licensefile.PublicPEM(pub)
	for _, v := range []string{string(pubPEM), base64.StdEncoding.EncodeToString(pub)} {
		got, err := licensefile.ParsePublicKey(v)
		if err != nil || !got.Equal(pub) {
			t.Errorf("ParsePublicKey: %v", err)
		}
	}
	if _, err := licensefile.ParsePublicKey(string(pemKey)); err == nil {
		t.Error("a private key PEM was accepted as a public key")
	}
}

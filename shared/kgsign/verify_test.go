package kgsign

import (
	"crypto/sha1"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"
)

func sha1Sum(b []byte) [20]byte { return sha1.Sum(b) }

var body = []byte(`{"activity":"queryInstance","instanceId":"i-1","testFlag":"1"}`)

func TestVerifyV2Window(t *testing.T) {
	now := time.UnixMilli(1_700_000_000_000)
	ver := Verifier{Keys: MustKeySet("k1"), Now: func() time.Time { return now }}
	k := key("k1")
	cases := []struct {
		name string
		ts   string
		want error
	}{
		{"ms now", strconv.FormatInt(now.UnixMilli(), 10), nil},
		{"seconds now", strconv.FormatInt(now.Unix(), 10), nil},
		{"ms 59s old", strconv.FormatInt(now.Add(-59*time.Second).UnixMilli(), 10), nil},
		{"ms 59s ahead", strconv.FormatInt(now.Add(59*time.Second).UnixMilli(), 10), nil},
		{"ms 61s old", strconv.FormatInt(now.Add(-61*time.Second).UnixMilli(), 10), ErrTooOld},
		// A marketplace clock running ahead is tolerated up to the future skew.
		{"ms 61s ahead", strconv.FormatInt(now.Add(61*time.Second).UnixMilli(), 10), nil},
		{"ms 5m ahead", strconv.FormatInt(now.Add(DefaultFutureSkew).UnixMilli(), 10), nil},
		{"ms 5m1s ahead", strconv.FormatInt(now.Add(DefaultFutureSkew+time.Second).UnixMilli(), 10), ErrTooOld},
		{"seconds 4m ahead", strconv.FormatInt(now.Add(4*time.Minute).Unix(), 10), nil},
		{"seconds 61s old", strconv.FormatInt(now.Add(-61*time.Second).Unix(), 10), ErrTooOld},
		{"not a number", "12ab", ErrInvalidTimestamp},
		{"negative", "-1", ErrInvalidTimestamp},
		{"overflow", "99999999999999999999999", ErrInvalidTimestamp},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			sig := V2Signature(k, "n1", c.ts, body)
			_, err := ver.VerifyV2(sig, c.ts, "n1", body)
			if !errors.Is(err, c.want) {
				t.Fatalf("err = %v, want %v", err, c.want)
			}
		})
	}
}

// TestFutureSkewSetting: the future skew and the past window are set separately.
func TestFutureSkewSetting(t *testing.T) {
	now := time.UnixMilli(1_700_000_000_000)
	ver := Verifier{Keys: MustKeySet("k1"), Now: func() time.Time { return now }, FutureSkew: 30 * time.Second, Tolerance: 90 * time.Second}
	for _, c := range []struct {
		d    time.Duration
		want error
	}{{29 * time.Second, nil}, {31 * time.Second, ErrTooOld}, {-89 * time.Second, nil}, {-91 * time.Second, ErrTooOld}} {
		ts := strconv.FormatInt(now.Add(c.d).UnixMilli(), 10)
		if _, err := ver.VerifyV2(V2Signature(key("k1"), "n", ts, body), ts, "n", body); !errors.Is(err, c.want) {
			t.Errorf("%v from now: err = %v, want %v", c.d, err, c.want)
		}
	}
	if past, future := (&Verifier{}).Window(); past != DefaultTolerance || future != DefaultFutureSkew {
		t.Errorf("default window %v, %v", past, future)
	}
}

func TestVerifyV2Rejections(t *testing.T) {
	now := time.Now()
	ts := strconv.FormatInt(now.UnixMilli(), 10)
	ver := Verifier{Keys: MustKeySet("k1"), Now: func() time.Time { return now }}
	good := V2Signature(key("k1"), "n1", ts, body)
	cases := []struct {
		name, sig, ts, nonce string
		body                 []byte
		want                 error
	}{
		{"missing signature", "", ts, "n1", body, ErrNotSigned},
		{"missing timestamp", good, "", "n1", body, ErrNotSigned},
		{"missing nonce", good, ts, "", body, ErrNotSigned},
		{"other key", V2Signature(key("k2"), "n1", ts, body), ts, "n1", body, ErrNoValidSignature},
		{"other nonce", good, ts, "n2", body, ErrNoValidSignature},
		{"short signature", good[:62], ts, "n1", body, ErrNoValidSignature},
		{"non-hex signature", strings.Repeat("Z", 64), ts, "n1", body, ErrNoValidSignature},
		{"long nonce", good, ts, strings.Repeat("n", MaxNonceLen+1), body, ErrInvalidNonce},
		{"control byte nonce", good, ts, "n\x00", body, ErrInvalidNonce},
		{"changed body", good, ts, "n1", []byte(strings.Replace(string(body), "i-1", "i-2", 1)), ErrNoValidSignature},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if _, err := ver.VerifyV2(c.sig, c.ts, c.nonce, c.body); !errors.Is(err, c.want) {
				t.Fatalf("err = %v, want %v", err, c.want)
			}
		})
	}
}

func TestKeyRotation(t *testing.T) {
	now := time.Now()
	ts := strconv.FormatInt(now.UnixMilli(), 10)
	ks, err := NewKeySet("new-key", "old-key", false)
	if err != nil {
		t.Fatal(err)
	}
	ver := Verifier{Keys: ks, Now: func() time.Time { return now }}
	for _, c := range []struct{ key, label string }{{"new-key", "primary"}, {"old-key", "previous"}} {
		got, err := ver.VerifyV2(V2Signature(key(c.key), "n", ts, body), ts, "n", body)
		if err != nil {
			t.Fatalf("%s: %v", c.key, err)
		}
		if got.Key.Label() != c.label {
			t.Errorf("%s matched %s, want %s", c.key, got.Key.Label(), c.label)
		}
		// The matched key signs the answer: its Body-Sign must equal the one computed
		// with the raw key.
		if BodySign(got.Key, body) != BodySign(key(c.key), body) {
			t.Errorf("%s: answer signed with the wrong key", c.key)
		}
	}
	if _, err := ver.VerifyV2(V2Signature(key("retired"), "n", ts, body), ts, "n", body); !errors.Is(err, ErrNoValidSignature) {
		t.Errorf("retired key accepted: %v", err)
	}
}

func TestNewKeySetBase64(t *testing.T) {
	ks, err := NewKeySet("cmVhbC1rZXk=", "", true) // base64("real-key")
	if err != nil {
		t.Fatal(err)
	}
	if BodySign(ks.Primary(), body) != BodySign(key("real-key"), body) {
		t.Errorf("base64 key not decoded")
	}
	if _, err := NewKeySet("not base64!!", "", true); err == nil || strings.Contains(err.Error(), "not base64!!") {
		t.Errorf("bad base64: err = %v (must fail without echoing the value)", err)
	}
	if _, err := NewKeySet("", "old", false); !errors.Is(err, ErrNoKey) {
		t.Errorf("missing primary: err = %v", err)
	}
}

func TestKeyNeverPrinted(t *testing.T) {
	ks := MustKeySet("super-secret-value")
	k := ks.Primary()
	for _, s := range []string{
		fmt.Sprint(k), fmt.Sprintf("%v %+v %#v %s %q %x %X", k, k, k, k, k, k, k),
		fmt.Sprint(ks), fmt.Sprintf("%v %+v %#v", ks, ks, ks),
		fmt.Sprintf("%+v", struct{ K Key }{k}),
	} {
		if strings.Contains(s, "super-secret") || strings.Contains(s, fmt.Sprintf("%x", "super-secret")) {
			t.Fatalf("key leaked: %s", s)
		}
	}
	b, _ := k.MarshalText()
	if strings.Contains(string(b), "secret") {
		t.Fatalf("key leaked through MarshalText")
	}
}

func TestDecryptFieldRejectsGarbage(t *testing.T) {
	k := key("k")
	for _, s := range []string{"", "short", "AbCdEf0123456789", "AbCdEf0123456789!!!", "AbCdEf0123456789AAAA", "AbCdEf0123456789AAAAAAAAAAAAAAAAAAAAAA=="} {
		if _, err := DecryptField(k, AES256, s); err == nil {
			t.Errorf("DecryptField(%q) succeeded", s)
		}
	}
	if _, err := EncryptFieldIV(k, AES256, "short", "x"); err == nil {
		t.Errorf("short IV accepted")
	}
	if _, err := EncryptField(k, EncryptType("3"), "x"); err == nil {
		t.Errorf("unknown encryptType accepted")
	}
}

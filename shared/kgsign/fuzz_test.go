package kgsign

import (
	"bytes"
	"encoding/json"
	"net/url"
	"os"
	"reflect"
	"strconv"
	"testing"
	"time"
)

// FuzzVerifyV2 checks that the verifier never panics and never accepts a request
// whose signature was not made with the active key over these bytes or their
// canonical form, and that it reports the form and digest that matched.
func FuzzVerifyV2(f *testing.F) {
	now := time.UnixMilli(1680508066618)
	f.Add("C3E0739F9F9AC29F41D171EBC4882300BB9B6BE2290F8EBD13D0B4E20F85B6D2", "1680508066618",
		"50D83FDECAED6CCD8EF597F2A577950527928BA287D04E6036E92B2806FD17DA",
		[]byte(`{"activity":"newInstance","businessId":"87b94795-0603-4e24-8ae5-69420d60e3c8","orderId":"CS2211181819B4LVS","orderLineId":"CS2211181819B4LVS-000001","testFlag":"1"}`))
	f.Add("C3E0739F9F9AC29F41D171EBC4882300BB9B6BE2290F8EBD13D0B4E20F85B6D2", "1680508066618",
		"50D83FDECAED6CCD8EF597F2A577950527928BA287D04E6036E92B2806FD17DA",
		[]byte(`{"testFlag":1, "orderLineId":"CS2211181819B4LVS-000001","activity":"newInstance","businessId":"87b94795-0603-4e24-8ae5-69420d60e3c8","orderId":"CS2211181819B4LVS"}`))
	f.Add("", "", "", []byte{})
	f.Add("zz", "1680508066", "\x00", []byte("{"))
	ver := Verifier{Keys: MustKeySet("TestAccessKey-0123456789"), Now: func() time.Time { return now }}
	k := key("TestAccessKey-0123456789")
	f.Fuzz(func(t *testing.T, sig, ts, nonce string, body []byte) {
		got, err := ver.VerifyV2(sig, ts, nonce, body)
		if err != nil {
			return
		}
		if got.Key.IsZero() {
			t.Fatalf("accepted without a key")
		}
		payload := body
		if got.Form == FormCanonical {
			if payload, err = CanonicalBasic(body); err != nil {
				t.Fatalf("matched a canonical form the body does not have: %v", err)
			}
		}
		if got.Digest != DigestHMAC && got.Digest != DigestSHA256 {
			t.Fatalf("digest %q", got.Digest)
		}
		if want := V2SignatureDigest(k, nonce, ts, payload, got.Digest); !equalFoldHex(sig, want) {
			t.Fatalf("accepted %s as %s, want %s", sig, got.Match(), want)
		}
		if _, err := ParseTimestamp(ts); err != nil {
			t.Fatalf("accepted bad timestamp %q", ts)
		}
	})
}

// FuzzVerifyKit does the same for the Kit x-sign header.
func FuzzVerifyKit(f *testing.F) {
	now := time.UnixMilli(1680508066618)
	f.Add("BCFE871C7CA242BC35BD0A17BECF940525A1E6BD05FC215B471BF84B4EB58B06", "1680508066618", "abc",
		[]byte(`{"activity":"orderNotify","orderId":"CS1","orderLineId":"CS1-000001","testFlag":"1"}`), false)
	f.Add("BCFE871C7CA242BC35BD0A17BECF940525A1E6BD05FC215B471BF84B4EB58B06", "1680508066618", "abc",
		[]byte(`{"testFlag":"1","orderId":"CS1","orderLineId":"CS1-000001","activity":"orderNotify","x":null}`), false)
	f.Add("", "1", "n", []byte("x"), true)
	k := key("testAccessKey")
	f.Fuzz(func(t *testing.T, sig, ts, nonce string, body []byte, hashed bool) {
		ver := Verifier{Keys: MustKeySet("testAccessKey"), Now: func() time.Time { return now }, KitHashedPayload: hashed}
		got, err := ver.VerifyKit(sig, ts, nonce, body)
		if err != nil {
			return
		}
		payload := body
		if got.Form == FormCanonical {
			if payload, err = CanonicalKit(body); err != nil {
				t.Fatalf("matched a canonical form the body does not have: %v", err)
			}
		}
		want := KitSignature(k, nonce, ts, payload, false)
		if hashed {
			want = V2SignatureDigest(k, nonce, ts, payload, got.Digest)
		}
		if !equalFoldHex(sig, want) {
			t.Fatalf("accepted %s as %s, want %s", sig, got.Match(), want)
		}
	})
}

// FuzzCanonical checks that the canonical forms never panic, are valid JSON, are
// their own canonical form, and that the Kit form means what the body means to
// encoding/json (top-level nulls aside): the request is decoded from the raw body,
// so a signature over the canonical form must not stand for another value.
func FuzzCanonical(f *testing.F) {
	raw, _ := os.ReadFile("../../testdata/signing/inputs.json")
	var in struct{ Inputs []struct{ Body string } }
	_ = json.Unmarshal(raw, &in)
	for _, v := range in.Inputs {
		f.Add([]byte(v.Body))
	}
	f.Add([]byte(`{"a":{"b":[1,2.50,-0,1e-7,"x\u0000"]},"a":null}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		kit, kerr := CanonicalKit(body)
		basic, berr := CanonicalBasic(body)
		if (kerr == nil) != (berr == nil) {
			t.Fatalf("kit error %v, basic error %v", kerr, berr)
		}
		if kerr != nil {
			return
		}
		if !json.Valid(body) {
			t.Fatalf("canonical form of invalid JSON %q", body)
		}
		for _, c := range []struct {
			out   []byte
			canon func([]byte) ([]byte, error)
		}{{kit, CanonicalKit}, {basic, CanonicalBasic}} {
			if !json.Valid(c.out) {
				t.Fatalf("canonical form %q is not JSON", c.out)
			}
			again, err := c.canon(c.out)
			if err != nil || !bytes.Equal(again, c.out) {
				t.Fatalf("canonical form of %q is %q, then %q (%v)", body, c.out, again, err)
			}
		}
		var a, b map[string]any
		if err := json.Unmarshal(body, &a); err != nil {
			t.Fatalf("encoding/json refuses %q: %v", body, err)
		}
		if err := json.Unmarshal(kit, &b); err != nil {
			t.Fatal(err)
		}
		for k, v := range a {
			if v == nil {
				delete(a, k)
			}
		}
		if !reflect.DeepEqual(a, b) {
			t.Fatalf("body %q means %v, its canonical form %q means %v", body, a, kit, b)
		}
	})
}

// FuzzV1 checks the V1 recogniser never panics on arbitrary query strings and only
// accepts a token computed with the key.
func FuzzV1(f *testing.F) {
	f.Add("activity=newInstance&timeStamp=20200727073711903&authToken=T9zJByss6TSnote1A5MY%2FuoxB6oc3F%2BrkE%2BBuSdz4ek%3D")
	f.Add("authToken=&timeStamp=")
	k := key("TestAccessKey-0123456789")
	ver := Verifier{Keys: MustKeySet("TestAccessKey-0123456789")}
	f.Fuzz(func(t *testing.T, q string) {
		params, err := url.ParseQuery(q)
		if err != nil {
			return
		}
		if _, err := ver.VerifyV1(params); err != nil {
			return
		}
		if params.Get("authToken") != V1AuthToken(k, params.Get("timeStamp"), V1Message(params)) {
			t.Fatalf("accepted a forged V1 token for %q", q)
		}
	})
}

// FuzzFieldCrypto checks that any plaintext round-trips and that decryption of
// arbitrary input fails cleanly instead of panicking.
func FuzzFieldCrypto(f *testing.F) {
	f.Add("admin", "AbCdEf0123456789svn14DF0HILVyQibIBGudw==", true)
	f.Add("", "", false)
	k := key("TestAccessKey-0123456789")
	f.Fuzz(func(t *testing.T, plain, garbage string, aes256 bool) {
		et := AES128
		if aes256 {
			et = AES256
		}
		enc, err := EncryptField(k, et, plain)
		if err != nil {
			t.Fatal(err)
		}
		dec, err := DecryptField(k, et, enc)
		if err != nil || dec != plain {
			t.Fatalf("round trip of %q = %q, %v", plain, dec, err)
		}
		_, _ = DecryptField(k, et, garbage)
	})
}

func equalFoldHex(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := 0; i < len(a); i++ {
		x, y := a[i], b[i]
		if x >= 'a' && x <= 'f' {
			x -= 'a' - 'A'
		}
		if x != y {
			return false
		}
	}
	return true
}

func TestParseTimestampMagnitude(t *testing.T) {
	for _, c := range []struct {
		in   string
		want int64
	}{{"1680508066618", 1680508066618}, {"1680508066", 1680508066000}, {"999999999999", 999999999999000}} {
		got, err := ParseTimestamp(c.in)
		if err != nil || got.UnixMilli() != c.want {
			t.Errorf("ParseTimestamp(%s) = %d, %v; want %d", c.in, got.UnixMilli(), err, c.want)
		}
	}
	if _, err := ParseTimestamp(strconv.Itoa(0)); err == nil {
		t.Errorf("zero accepted")
	}
}

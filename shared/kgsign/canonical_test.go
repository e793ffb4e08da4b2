package kgsign

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"
)

// canonicalDoc mirrors testdata/signing/canonical-vectors.json, computed with Java and
// Jackson by testdata/signing/CanonicalVectors.java.
type canonicalDoc struct {
	AccessKey string `json:"accessKey"`
	Nonce     string `json:"nonce"`
	Timestamp string `json:"timestamp"`
	Vectors   []struct {
		Name       string            `json:"name"`
		Form       string            `json:"form"`
		Body       string            `json:"body"`
		Canonical  *string           `json:"canonical"`
		Signatures map[string]string `json:"signatures"`
		KitHashed  map[string]string `json:"kitHashedSignatures"`
	} `json:"vectors"`
}

func loadCanonical(t *testing.T) canonicalDoc {
	t.Helper()
	raw, err := os.ReadFile("../../testdata/signing/canonical-vectors.json")
	if err != nil {
		t.Fatalf("reading vectors: %v", err)
	}
	var doc canonicalDoc
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatalf("decoding vectors: %v", err)
	}
	if len(doc.Vectors) < 10 {
		t.Fatalf("only %d canonical vectors", len(doc.Vectors))
	}
	return doc
}

// TestCanonicalSignatureVectors: every signature the Java reference computed, over the
// raw bytes or the canonical form, with the documented HMAC inner digest or a plain
// SHA-256 one, verifies; and the verifier says which one matched.
func TestCanonicalSignatureVectors(t *testing.T) {
	doc := loadCanonical(t)
	ts, _ := ParseTimestamp(doc.Timestamp)
	for _, v := range doc.Vectors {
		t.Run(v.Name, func(t *testing.T) {
			check := func(label, sig string, hashed bool) {
				ver := Verifier{Keys: MustKeySet("another-key", doc.AccessKey), Now: func() time.Time { return ts }, KitHashedPayload: hashed}
				verify := ver.VerifyV2
				if v.Form == "kit" {
					verify = ver.VerifyKit
				}
				got, err := verify(sig, doc.Timestamp, doc.Nonce, []byte(v.Body))
				if err != nil {
					t.Fatalf("%s (hashed %v): %v", label, hashed, err)
				}
				if got.Key.Label() != "previous" {
					t.Errorf("%s: matched key %s", label, got.Key.Label())
				}
				form, digest, _ := strings.Cut(label, "/")
				if v.Canonical != nil && *v.Canonical == v.Body {
					form = string(FormRaw) // the same bytes: the raw form is tried first
				}
				if string(got.Form) != form || string(got.Digest) != digest {
					t.Errorf("%s: matched %s/%s", label, got.Form, got.Digest)
				}
				// Any other nonce or key fails.
				if _, err := verify(sig, doc.Timestamp, doc.Nonce+"x", []byte(v.Body)); !errors.Is(err, ErrNoValidSignature) {
					t.Errorf("%s: other nonce: %v", label, err)
				}
			}
			if len(v.Signatures) == 0 {
				t.Fatal("vector without signatures")
			}
			for label, sig := range v.Signatures {
				check(label, sig, false)
			}
			for label, sig := range v.KitHashed {
				check(label, sig, true)
			}
		})
	}
}

// TestCanonicalFormVectors: the canonical form is byte for byte what Jackson wrote.
func TestCanonicalFormVectors(t *testing.T) {
	doc := loadCanonical(t)
	for _, v := range doc.Vectors {
		t.Run(v.Name, func(t *testing.T) {
			canon := CanonicalBasic
			if v.Form == "kit" {
				canon = CanonicalKit
			}
			got, err := canon([]byte(v.Body))
			switch {
			case v.Canonical == nil && err == nil:
				t.Fatalf("canonical form %s of a body Jackson refuses", got)
			case v.Canonical != nil && err != nil:
				t.Fatalf("refused: %v; want %s", err, *v.Canonical)
			case v.Canonical != nil && string(got) != *v.Canonical:
				t.Fatalf("canonical form\n got %s\nwant %s", got, *v.Canonical)
			}
		})
	}
}

// TestCanonicalUTF16KeyOrder is computed by hand. U+1F600 is the UTF-16 pair D83D DE00
// and U+FF21 the single unit FF21: D83D < FF21, so Java's String.compareTo puts the
// emoji first, although its code point (1F600) is larger. Byte (UTF-8) or code-point
// order, as Go's sort.Strings and Python's sort_keys use, would put U+FF21 first.
func TestCanonicalUTF16KeyOrder(t *testing.T) {
	body := `{"b":1,"\uff21":2,"\ud83d\ude00":3,"a":4,"\ue000":5,"\ud7ff":6}`
	// a (0061) < b (0062) < U+D7FF < U+1F600 (D83D…) < U+E000 < U+FF21
	want := "{\"a\":4,\"b\":1,\"\ud7ff\":6,\"\U0001F600\":3,\"\ue000\":5,\"\uff21\":2}"
	got, err := CanonicalKit([]byte(body))
	if err != nil || string(got) != want {
		t.Fatalf("CanonicalKit = %s, %v; want %s", got, err, want)
	}
	got, err = CanonicalBasic([]byte(body))
	wantBasic := strings.NewReplacer(":4", `:"4"`, ":1", `:"1"`, ":6", `:"6"`, ":3", `:"3"`, ":5", `:"5"`, ":2", `:"2"`).Replace(want)
	if err != nil || string(got) != wantBasic {
		t.Fatalf("CanonicalBasic = %s, %v; want %s", got, err, wantBasic)
	}
}

// TestCanonicalRefusals: bodies with no canonical form.
func TestCanonicalRefusals(t *testing.T) {
	for _, body := range []string{
		``, ` `, `null`, `"x"`, `[]`, `{"a":1}{}`, `{"a":1} x`, `{"a":}`, `{"a":1,}`, `{a:1}`,
		`{"a":"\ud800"}`, `{"a":"\udc00x"}`, `{"a":"` + "\xff" + `"}`, `{"a":"` + "\x01" + `"}`,
		`{"a":01}`, `{"a":1.}`, `{"a":.5}`, `{"a":1e}`, `{"a":-}`, `{"a":1e400}`, `{"a":tru}`,
		`{"a":"\x"}`, `{"a":"\u12"}`, strings.Repeat(`{"a":`, 40) + "1" + strings.Repeat("}", 40),
	} {
		if got, err := CanonicalKit([]byte(body)); err == nil {
			t.Errorf("CanonicalKit(%q) = %s", body, got)
		}
		if got, err := CanonicalBasic([]byte(body)); err == nil {
			t.Errorf("CanonicalBasic(%q) = %s", body, got)
		}
	}
}

// TestCanonicalDoesNotWidenForgery: a signature over one body's canonical form does
// not verify a body that means something else.
func TestCanonicalDoesNotWidenForgery(t *testing.T) {
	now := time.UnixMilli(1_700_000_000_000)
	ts := strconv.FormatInt(now.UnixMilli(), 10)
	ver := Verifier{Keys: MustKeySet("k1"), Now: func() time.Time { return now }}
	signed := []byte(`{"activity":"newInstance","orderId":"CS1","testFlag":"1"}`)
	sig := V2Signature(key("k1"), "n1", ts, signed)
	same := []string{
		`{ "testFlag": 1, "orderId": "CS1", "activity": "newInstance" }`,
		`{"activity":"newInstance","orderId":"CS1","testFlag":"1","orderLineId":null}`,
		`{"activity":"newInstance","orderId":"C\u0053\u0031","testFlag":"1"}`,
	}
	for _, b := range same {
		got, err := ver.VerifyV2(sig, ts, "n1", []byte(b))
		if err != nil || got.Form != FormCanonical {
			t.Errorf("%s: %v %s", b, err, got.Form)
		}
	}
	other := []string{
		`{"activity":"newInstance","orderId":"CS2","testFlag":"1"}`,
		`{"activity":"newInstance","orderId":"CS1","testFlag":"0"}`,
		`{"activity":"newInstance","orderId":"CS1","testFlag":"1","orderLineId":"x"}`,
		`{"activity":"newInstance","orderId":"CS1","testFlag":"1","orderLineId":""}`,
		`{"activity":"newInstance","orderId":"CS1"}`,
		`[{"activity":"newInstance","orderId":"CS1","testFlag":"1"}]`,
		`{"activity":"newInstance","orderId":"CS1","testFlag":"1"} `, // trailing space
	}
	for i, b := range other {
		_, err := ver.VerifyV2(sig, ts, "n1", []byte(b))
		if i == len(other)-1 {
			// Trailing white space is not content: the canonical form is the signed one.
			if err != nil {
				t.Errorf("%s: %v", b, err)
			}
			continue
		}
		if !errors.Is(err, ErrNoValidSignature) {
			t.Errorf("%s accepted: %v", b, err)
		}
	}
}

// TestSpecial8: the word-at-a-time scan finds every quote, backslash and control
// byte at every position.
func TestSpecial8(t *testing.T) {
	for pos := 0; pos < 8; pos++ {
		for c := 0; c < 256; c++ {
			w := []byte("abcdefgh")
			w[pos] = byte(c)
			want := c == '"' || c == '\\' || c < 0x20
			if got := special8(binary.LittleEndian.Uint64(w)); got != want {
				t.Fatalf("byte %#x at %d: special8 = %v", c, pos, got)
			}
		}
	}
}

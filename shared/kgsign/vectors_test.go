package kgsign

import (
	"encoding/hex"
	"encoding/json"
	"errors"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"
)

// vector mirrors testdata/vectors.json (docs/protocol.md#test-vectors).
type vector struct {
	Name         string `json:"name"`
	Scheme       string `json:"scheme"`
	AccessKey    string `json:"accessKey"`
	Nonce        string `json:"nonce"`
	Timestamp    string `json:"timestamp"`
	TimeStamp    string `json:"timeStamp"`
	Body         string `json:"body"`
	InnerHex     string `json:"innerHex"`
	Signature    string `json:"signature"`
	Header       string `json:"header"`
	SortedParams string `json:"sortedParams"`
	AuthToken    string `json:"authToken"`
	AES128KeyHex string `json:"aes128KeyHex"`
	AES256KeyHex string `json:"aes256KeyHex"`
	EncryptType  string `json:"encryptType"`
	IV           string `json:"iv"`
	Plaintext    string `json:"plaintext"`
	Ciphertext   string `json:"ciphertext"`
}

func loadVectors(t *testing.T, scheme string) []vector {
	t.Helper()
	raw, err := os.ReadFile("../../testdata/vectors.json")
	if err != nil {
		t.Fatalf("reading vectors: %v", err)
	}
	var doc struct {
		Vectors []vector `json:"vectors"`
	}
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatalf("decoding vectors: %v", err)
	}
	var out []vector
	for _, v := range doc.Vectors {
		if v.Scheme == scheme {
			out = append(out, v)
		}
	}
	if len(out) == 0 {
		t.Fatalf("no vectors for scheme %q", scheme)
	}
	return out
}

func key(s string) Key { return NewKey([]byte(s), "test") }

func TestV2QuerySignatureVectors(t *testing.T) {
	for _, v := range loadVectors(t, "v2-query") {
		t.Run(v.Name, func(t *testing.T) {
			k := key(v.AccessKey)
			if got := V2InnerHex(k, []byte(v.Body)); got != v.InnerHex {
				t.Errorf("inner = %s, want %s", got, v.InnerHex)
			}
			if got := V2Signature(k, v.Nonce, v.Timestamp, []byte(v.Body)); got != v.Signature {
				t.Errorf("signature = %s, want %s", got, v.Signature)
			}
			ts, _ := ParseTimestamp(v.Timestamp)
			ver := Verifier{Keys: MustKeySet(v.AccessKey), Now: func() time.Time { return ts }}
			for _, sig := range []string{v.Signature, strings.ToLower(v.Signature)} {
				if _, err := ver.VerifyV2(sig, v.Timestamp, v.Nonce, []byte(v.Body)); err != nil {
					t.Errorf("VerifyV2(%s): %v", sig, err)
				}
			}
			// Another value is another request; white space around the JSON is not.
			tampered := []byte(strings.Replace(v.Body, `"testFlag":"1"`, `"testFlag":"0"`, 1))
			if _, err := ver.VerifyV2(v.Signature, v.Timestamp, v.Nonce, tampered); !errors.Is(err, ErrNoValidSignature) {
				t.Errorf("tampered body: err = %v, want ErrNoValidSignature", err)
			}
			if got, err := ver.VerifyV2(v.Signature, v.Timestamp, v.Nonce, []byte(v.Body+" ")); err != nil || got.Form != FormCanonical {
				t.Errorf("trailing space: %v, form %s; want the canonical form to match", err, got.Form)
			}
		})
	}
}

func TestKitSignatureVector(t *testing.T) {
	for _, v := range loadVectors(t, "kit-x-sign") {
		k := key(v.AccessKey)
		if got := KitSignature(k, v.Nonce, v.Timestamp, []byte(v.Body), false); got != v.Signature {
			t.Errorf("%s: x-sign = %s, want %s", v.Name, got, v.Signature)
		}
		ts, _ := ParseTimestamp(v.Timestamp)
		ver := Verifier{Keys: MustKeySet(v.AccessKey), Now: func() time.Time { return ts }}
		if _, err := ver.VerifyKit(v.Signature, v.Timestamp, v.Nonce, []byte(v.Body)); err != nil {
			t.Errorf("%s: VerifyKit: %v", v.Name, err)
		}
		// The hashed-payload setting must reject the raw-payload signature and accept
		// the basic-style one.
		ver.KitHashedPayload = true
		if _, err := ver.VerifyKit(v.Signature, v.Timestamp, v.Nonce, []byte(v.Body)); !errors.Is(err, ErrNoValidSignature) {
			t.Errorf("%s: hashed setting accepted the raw signature: %v", v.Name, err)
		}
		hashed := KitSignature(k, v.Nonce, v.Timestamp, []byte(v.Body), true)
		if hashed != V2Signature(k, v.Nonce, v.Timestamp, []byte(v.Body)) {
			t.Errorf("hashed Kit formula differs from the V2 formula")
		}
		if _, err := ver.VerifyKit(hashed, v.Timestamp, v.Nonce, []byte(v.Body)); err != nil {
			t.Errorf("%s: hashed VerifyKit: %v", v.Name, err)
		}
	}
}

func TestV1AuthTokenVector(t *testing.T) {
	for _, v := range loadVectors(t, "v1-authToken") {
		k := key(v.AccessKey)
		if got := V1AuthToken(k, v.TimeStamp, v.SortedParams); got != v.AuthToken {
			t.Errorf("authToken = %s, want %s", got, v.AuthToken)
		}
		// The same message rebuilt from unordered parameters must match too.
		params, err := url.ParseQuery(v.SortedParams)
		if err != nil {
			t.Fatal(err)
		}
		if got := V1Message(params); got != v.SortedParams {
			t.Errorf("V1Message = %s, want %s", got, v.SortedParams)
		}
		params.Set("authToken", v.AuthToken)
		ver := Verifier{Keys: MustKeySet("other-key", v.AccessKey)}
		got, err := ver.VerifyV1(params)
		if err != nil {
			t.Fatalf("VerifyV1: %v", err)
		}
		if got.Key.Label() != "previous" {
			t.Errorf("matched key %s, want the second (previous) key", got.Key.Label())
		}
		params.Set("orderId", "CS-forged")
		if _, err := ver.VerifyV1(params); !errors.Is(err, ErrNoValidSignature) {
			t.Errorf("forged V1 params: err = %v", err)
		}
	}
}

func TestBodySignVectors(t *testing.T) {
	for _, v := range loadVectors(t, "body-sign") {
		k := key(v.AccessKey)
		if got := BodySign(k, []byte(v.Body)); got != v.Signature {
			t.Errorf("%s: Body-Sign = %s, want %s", v.Name, got, v.Signature)
		}
		if got := BodySignHeader(k, []byte(v.Body)); got != v.Header {
			t.Errorf("%s: header = %s, want %s", v.Name, got, v.Header)
		}
	}
}

func TestSHA1PRNGKeyVectors(t *testing.T) {
	for _, v := range loadVectors(t, "sha1prng") {
		if got := hex.EncodeToString(JavaSHA1PRNG([]byte(v.AccessKey), 16)); got != v.AES128KeyHex {
			t.Errorf("AES-128 key = %s, want %s", got, v.AES128KeyHex)
		}
		if got := hex.EncodeToString(JavaSHA1PRNG([]byte(v.AccessKey), 32)); got != v.AES256KeyHex {
			t.Errorf("AES-256 key = %s, want %s", got, v.AES256KeyHex)
		}
	}
}

// TestSHA1PRNGSignedCarry shows why the signed-byte carry matters: an unsigned carry
// changes the second SHA-1 block, which AES-256 keys use.
func TestSHA1PRNGSignedCarry(t *testing.T) {
	v := loadVectors(t, "sha1prng")[0]
	unsigned := func(seed []byte, n int) []byte {
		s := sha1Sum(seed)
		state := s[:]
		var out []byte
		for len(out) < n {
			block := sha1Sum(state)
			c := 1
			for i := range state {
				sum := int(state[i]) + int(block[i]) + c
				state[i] = byte(sum)
				c = sum >> 8
			}
			out = append(out, block[:]...)
		}
		return out[:n]
	}
	if got := hex.EncodeToString(unsigned([]byte(v.AccessKey), 32)); got == v.AES256KeyHex {
		t.Fatalf("an unsigned carry reproduced the AES-256 vector; the vector no longer exercises the signed carry")
	}
}

func TestAESFieldVectors(t *testing.T) {
	for _, v := range loadVectors(t, "aes-cbc-field") {
		t.Run(v.Name, func(t *testing.T) {
			k := key(v.AccessKey)
			et := EncryptType(v.EncryptType)
			got, err := EncryptFieldIV(k, et, v.IV, v.Plaintext)
			if err != nil {
				t.Fatal(err)
			}
			if got != v.Ciphertext {
				t.Errorf("ciphertext = %s, want %s", got, v.Ciphertext)
			}
			plain, err := DecryptField(k, et, v.Ciphertext)
			if err != nil || plain != v.Plaintext {
				t.Errorf("DecryptField = %q, %v; want %q", plain, err, v.Plaintext)
			}
			rnd, err := EncryptField(k, et, v.Plaintext)
			if err != nil {
				t.Fatal(err)
			}
			if rnd[:16] == v.IV {
				t.Errorf("EncryptField reused the vector IV")
			}
			if back, err := DecryptField(k, et, rnd); err != nil || back != v.Plaintext {
				t.Errorf("round trip = %q, %v", back, err)
			}
		})
	}
}

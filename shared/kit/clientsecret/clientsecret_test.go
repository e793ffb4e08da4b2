package clientsecret

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
)

var (
	keyOnce    sync.Once
	key1, key2 *rsa.PrivateKey
)

func keys(t *testing.T) (*rsa.PrivateKey, *rsa.PrivateKey) {
	t.Helper()
	keyOnce.Do(func() {
		var err error
		if key1, err = Generate(3072); err != nil {
			panic(err)
		}
		if key2, err = Generate(3072); err != nil {
			panic(err)
		}
	})
	return key1, key2
}

func TestDecryptBothOAEPHashes(t *testing.T) {
	k, _ := keys(t)
	d := NewFromKeys(k)
	for _, h := range []crypto.Hash{crypto.SHA256, crypto.SHA1} {
		ct, err := Encrypt(&k.PublicKey, "s3cr3t-"+h.String(), h)
		if err != nil {
			t.Fatal(err)
		}
		got, err := d.Decrypt(ct)
		if err != nil || got != "s3cr3t-"+h.String() {
			t.Fatalf("%v: got %q, %v", h, got, err)
		}
	}
	// Go's own encryption the Java way (EncryptWith JavaOAEP) too.
	ct, err := EncryptWith(&k.PublicKey, "java-way", JavaOAEP)
	if got, derr := d.Decrypt(ct); err != nil || derr != nil || got != "java-way" {
		t.Fatalf("JavaOAEP: %q, %v, %v", got, err, derr)
	}
	// A hash the marketplace is not expected to use does not decrypt.
	ct, _ = Encrypt(&k.PublicKey, "x", crypto.SHA512)
	if _, err := d.Decrypt(ct); !errors.Is(err, ErrDecrypt) {
		t.Fatalf("SHA-512 ciphertext: %v, want ErrDecrypt", err)
	}
}

func TestDecryptEncodings(t *testing.T) {
	k, _ := keys(t)
	d := NewFromKeys(k)
	ct, _ := Encrypt(&k.PublicKey, "plain", crypto.SHA256)
	raw, _ := base64.StdEncoding.DecodeString(ct)
	wrapped := ""
	for i := 0; i < len(ct); i += 76 {
		wrapped += ct[i:min(i+76, len(ct))] + "\r\n"
	}
	for name, v := range map[string]string{
		"std":          ct,
		"raw std":      base64.RawStdEncoding.EncodeToString(raw),
		"url":          base64.URLEncoding.EncodeToString(raw),
		"raw url":      base64.RawURLEncoding.EncodeToString(raw),
		"mime-wrapped": wrapped,
	} {
		if got, err := d.Decrypt(v); err != nil || got != "plain" {
			t.Errorf("%s: %q %v", name, got, err)
		}
	}
	for name, v := range map[string]string{"empty": "", "not base64": "%%%", "short": "AAAA"} {
		_, err := d.Decrypt(v)
		if err == nil {
			t.Errorf("%s decrypted", name)
		}
	}
}

func TestPreviousKeyStillDecrypts(t *testing.T) {
	k1, k2 := keys(t)
	cur, _ := PrivatePEM(k2)
	prev, _ := PrivatePEM(k1)
	d, err := New(string(cur), string(prev))
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range []*rsa.PrivateKey{k1, k2} {
		ct, _ := Encrypt(&k.PublicKey, "both", crypto.SHA1)
		if got, err := d.Decrypt(ct); err != nil || got != "both" {
			t.Fatalf("%q %v", got, err)
		}
	}
	only, _ := New(string(cur), "")
	ct, _ := Encrypt(&k1.PublicKey, "old", crypto.SHA256)
	if _, err := only.Decrypt(ct); !errors.Is(err, ErrDecrypt) {
		t.Fatalf("the current key alone decrypted the old key's ciphertext: %v", err)
	}
}

func TestParsePrivateKeyForms(t *testing.T) {
	k, _ := keys(t)
	pkcs8, _ := PrivatePEM(k)
	pkcs1 := pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(k)})
	der8, _ := x509.MarshalPKCS8PrivateKey(k)
	forms := map[string]string{
		"pkcs8 pem":        string(pkcs8),
		"pkcs1 pem":        string(pkcs1),
		"escaped newlines": strings.ReplaceAll(string(pkcs8), "\n", `\n`),
		"base64 of pem":    base64.StdEncoding.EncodeToString(pkcs8),
		"base64 pkcs8 der": base64.StdEncoding.EncodeToString(der8),
		"base64 pkcs1 der": base64.StdEncoding.EncodeToString(x509.MarshalPKCS1PrivateKey(k)),
	}
	for name, v := range forms {
		got, err := ParsePrivateKey(v)
		if err != nil || !got.Equal(k) {
			t.Errorf("%s: %v", name, err)
		}
	}
	for name, v := range map[string]string{"empty": "", "garbage": "hello", "broken pem": "-----BEGIN PRIVATE KEY-----\nAAAA\n"} {
		if _, err := ParsePrivateKey(v); !errors.Is(err, ErrKey) {
			t.Errorf("%s: %v, want ErrKey", name, err)
		}
	}
}

func TestSmallKeysRefused(t *testing.T) {
	small, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	p, _ := PrivatePEM(small)
	if _, err := ParsePrivateKey(string(p)); !errors.Is(err, ErrKeySize) {
		t.Fatalf("2048-bit key: %v, want ErrKeySize", err)
	}
	if _, err := Generate(2048); !errors.Is(err, ErrKeySize) {
		t.Fatalf("Generate(2048): %v", err)
	}
}

func TestPublicKeyRoundTrip(t *testing.T) {
	k, _ := keys(t)
	p, err := PublicPEM(&k.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	b64, _ := PublicBase64(&k.PublicKey)
	for _, v := range []string{string(p), b64} {
		pub, err := ParsePublicKey(v)
		if err != nil || !pub.Equal(&k.PublicKey) {
			t.Fatalf("public key round trip: %v", err)
		}
	}
}

func TestDecrypterNeverPrintsKeys(t *testing.T) {
	k, _ := keys(t)
	d := NewFromKeys(k)
	for _, s := range []string{fmt.Sprint(d), fmt.Sprintf("%v %+v %#v %s", d, d, d, d)} {
		if strings.Contains(s, k.N.String()[:20]) || !strings.Contains(s, "redacted") {
			t.Fatalf("decrypter formatted as %q", s)
		}
	}
}

// TestIndependentVectors decrypts ciphertexts made by Java (the JDK's default
// RSA/ECB/OAEPWithSHA-256AndMGF1Padding: SHA-256 for OAEP, SHA-1 for MGF1) and by
// OpenSSL with every OAEP/MGF1 hash pair the marketplace may use
// (testdata/clientsecret/README.md has the commands).
func TestIndependentVectors(t *testing.T) {
	dir := "../../../testdata/clientsecret/"
	read := func(name string) string {
		b, err := os.ReadFile(dir + name)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	d, err := New(read("test-key.pem"), "")
	if err != nil {
		t.Fatal(err)
	}
	want := read("plaintext.txt")
	for _, name := range []string{"java-oaep-sha256-default.b64", "oaep-sha256-mgf1-sha1.b64", "oaep-sha256-mgf1-sha256.b64", "oaep-sha1-mgf1-sha1.b64"} {
		got, err := d.Decrypt(read(name))
		if err != nil || got != want {
			t.Errorf("%s: %q, %v; want %q", name, got, err, want)
		}
	}
	// The same ciphertext under another key does not decrypt.
	k1, _ := keys(t)
	if _, err := NewFromKeys(k1).Decrypt(read("java-oaep-sha256-default.b64")); !errors.Is(err, ErrDecrypt) {
		t.Errorf("another key: %v", err)
	}
}

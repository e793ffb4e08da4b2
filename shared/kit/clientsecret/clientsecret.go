// Package clientsecret decrypts the clientSecret of Kit applicationSync calls. The
// marketplace encrypts it with the RSA public key the seller uploaded when creating
// the application (at least 3072 bits, OAEP padding) and sends it base64-encoded.
// Which OAEP hashes it uses is not documented. The marketplace runs Java, whose
// "RSA/ECB/OAEPWithSHA-256AndMGF1Padding" uses SHA-256 for OAEP but SHA-1 for MGF1
// by default; that pair is tried first, then SHA-256 throughout, then SHA-1.
// Keys and plaintexts are never formatted into errors or logs.
package clientsecret

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	_ "crypto/sha1" // crypto.SHA1 for OAEP and MGF1
	_ "crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"strings"
)

// MinBits is the smallest key the marketplace accepts.
const MinBits = 3072

var (
	// ErrKey: the configured value is not an RSA private key in a supported form.
	ErrKey = errors.New("not an RSA private key (PEM, base64 of PEM, or base64 of PKCS#8/PKCS#1 DER)")
	// ErrKeySize: the key is shorter than MinBits.
	ErrKeySize = fmt.Errorf("the RSA key must have at least %d bits", MinBits)
	// ErrEncoding: the clientSecret is not base64.
	ErrEncoding = errors.New("clientSecret is not base64")
	// ErrDecrypt: the clientSecret does not decrypt under any configured key and hash.
	ErrDecrypt = errors.New("clientSecret does not decrypt with the configured RSA private key (OAEP SHA-256 with MGF1 SHA-1 or SHA-256, or SHA-1)")
)

// Decrypter holds the seller's private keys: the current one and, during a key
// change, the previous one.
type Decrypter struct {
	keys []*rsa.PrivateKey
}

// New builds a decrypter from the configured values; previous may be empty.
func New(current, previous string) (*Decrypter, error) {
	d := &Decrypter{}
	for _, v := range []string{current, previous} {
		if strings.TrimSpace(v) == "" {
			continue
		}
		k, err := ParsePrivateKey(v)
		if err != nil {
			return nil, err
		}
		d.keys = append(d.keys, k)
	}
	if len(d.keys) == 0 {
		return nil, ErrKey
	}
	return d, nil
}

// NewFromKeys builds a decrypter from parsed keys (tests, tools).
func NewFromKeys(keys ...*rsa.PrivateKey) *Decrypter {
	return &Decrypter{keys: append([]*rsa.PrivateKey(nil), keys...)}
}

// String keeps the keys out of logs.
func (d *Decrypter) String() string { return "clientsecret.Decrypter{[redacted]}" }

// GoString keeps the keys out of %#v.
func (d *Decrypter) GoString() string { return d.String() }

// Decrypt returns the plaintext of a base64 RSA-OAEP ciphertext.
func (d *Decrypter) Decrypt(b64 string) (string, error) {
	ct, err := DecodeBase64(b64)
	if err != nil {
		return "", ErrEncoding
	}
	for _, k := range d.keys {
		for _, o := range oaepParams {
			if pt, err := k.Decrypt(nil, ct, &o); err == nil {
				return string(pt), nil
			}
		}
	}
	return "", ErrDecrypt
}

// JavaOAEP is what Java's "RSA/ECB/OAEPWithSHA-256AndMGF1Padding" uses with its
// default parameters: SHA-256 for OAEP, SHA-1 for MGF1.
var JavaOAEP = rsa.OAEPOptions{Hash: crypto.SHA256, MGFHash: crypto.SHA1}

// oaepParams are the OAEP hash pairs tried, in order: Java's default, SHA-256 for
// both, SHA-1 for both (a zero MGFHash means the same hash as Hash). Each try is a
// private-key operation, so the likeliest comes first.
var oaepParams = []rsa.OAEPOptions{JavaOAEP, {Hash: crypto.SHA256}, {Hash: crypto.SHA1}}

// DecodeBase64 accepts standard or URL-safe base64, padded or not, with line breaks
// or spaces anywhere (as MIME encoders wrap it).
func DecodeBase64(s string) ([]byte, error) {
	s = strings.Map(func(r rune) rune {
		switch r {
		case ' ', '\t', '\r', '\n':
			return -1
		}
		return r
	}, s)
	if s == "" {
		return nil, ErrEncoding
	}
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if b, err := enc.DecodeString(s); err == nil {
			return b, nil
		}
	}
	return nil, ErrEncoding
}

// ParsePrivateKey reads a private key given as PEM ("PRIVATE KEY" or "RSA PRIVATE
// KEY"), as PEM with literal \n sequences (a one-line environment variable), as
// base64 of that PEM, or as base64 of PKCS#8 or PKCS#1 DER. Keys below MinBits are
// refused.
func ParsePrivateKey(value string) (*rsa.PrivateKey, error) {
	v := strings.TrimSpace(strings.ReplaceAll(value, `\n`, "\n"))
	var der []byte
	if strings.HasPrefix(v, "-----BEGIN") {
		block, _ := pem.Decode([]byte(v))
		if block == nil {
			return nil, ErrKey
		}
		der = block.Bytes
	} else {
		raw, err := DecodeBase64(v)
		if err != nil {
			return nil, ErrKey
		}
		if block, _ := pem.Decode(raw); block != nil {
			der = block.Bytes
		} else {
			der = raw
		}
	}
	var key *rsa.PrivateKey
	if k, err := x509.ParsePKCS8PrivateKey(der); err == nil {
		rk, ok := k.(*rsa.PrivateKey)
		if !ok {
			return nil, ErrKey
		}
		key = rk
	} else if k, err := x509.ParsePKCS1PrivateKey(der); err == nil {
		key = k
	} else {
		return nil, ErrKey
	}
	if key.N.BitLen() < MinBits {
		return nil, ErrKeySize
	}
	return key, nil
}

// Generate returns a new key pair of the given size (at least MinBits).
func Generate(bits int) (*rsa.PrivateKey, error) {
	if bits < MinBits {
		return nil, ErrKeySize
	}
	k, err := rsa.GenerateKey(rand.Reader, bits)
	if err != nil {
		return nil, fmt.Errorf("clientsecret: generating key: %w", err)
	}
	return k, nil
}

// PrivatePEM encodes a private key as PKCS#8 PEM.
func PrivatePEM(k *rsa.PrivateKey) ([]byte, error) {
	der, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		return nil, fmt.Errorf("clientsecret: encoding private key: %w", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), nil
}

// PublicPEM encodes the public half as an X.509 SubjectPublicKeyInfo PEM.
func PublicPEM(pub *rsa.PublicKey) ([]byte, error) {
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return nil, fmt.Errorf("clientsecret: encoding public key: %w", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}), nil
}

// PublicBase64 is the public key as base64 of its SubjectPublicKeyInfo DER, the
// one-line form (PEM without header, footer and line breaks) consoles often ask for.
func PublicBase64(pub *rsa.PublicKey) (string, error) {
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return "", fmt.Errorf("clientsecret: encoding public key: %w", err)
	}
	return base64.StdEncoding.EncodeToString(der), nil
}

// ParsePublicKey reads a public key as PEM or base64 DER (PKIX or PKCS#1).
func ParsePublicKey(value string) (*rsa.PublicKey, error) {
	v := strings.TrimSpace(value)
	var der []byte
	if block, _ := pem.Decode([]byte(v)); block != nil {
		der = block.Bytes
	} else {
		raw, err := DecodeBase64(v)
		if err != nil {
			return nil, errors.New("clientsecret: not an RSA public key")
		}
		der = raw
	}
	if k, err := x509.ParsePKIXPublicKey(der); err == nil {
		if rk, ok := k.(*rsa.PublicKey); ok {
			return rk, nil
		}
	}
	if k, err := x509.ParsePKCS1PublicKey(der); err == nil {
		return k, nil
	}
	return nil, errors.New("clientsecret: not an RSA public key")
}

// Encrypt encrypts as a marketplace using h for OAEP and MGF1 would: RSA-OAEP,
// base64. Tests use it.
func Encrypt(pub *rsa.PublicKey, plain string, h crypto.Hash) (string, error) {
	return EncryptWith(pub, plain, rsa.OAEPOptions{Hash: h})
}

// EncryptWith encrypts with the given OAEP parameters, base64. With JavaOAEP it does
// what a Java marketplace most plausibly does; the local run's marketplace stand-in
// and kgsim use that.
func EncryptWith(pub *rsa.PublicKey, plain string, o rsa.OAEPOptions) (string, error) {
	ct, err := rsa.EncryptOAEPWithOptions(rand.Reader, pub, []byte(plain), &o)
	if err != nil {
		return "", fmt.Errorf("clientsecret: encrypting: %w", err)
	}
	return base64.StdEncoding.EncodeToString(ct), nil
}

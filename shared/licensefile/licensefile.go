// Package licensefile makes and checks the signed license documents that online
// License products deliver through the marketplace. A document is a small JSON
// envelope around the license's own JSON (the payload), signed with the seller's
// Ed25519 key. The seller's software verifies it offline with the public key alone:
// Verify needs no network, no clock beyond the caller's and no other state.
//
//	{"format":"kgseller-license/v1","alg":"Ed25519","keyId":"…","payload":"<base64url>","signature":"<base64url>"}
//
// The signature covers the exact payload bytes, so no canonical JSON form is needed
// to check it; the payload names its format again, so a signature cannot be lifted
// onto another kind of document.
package licensefile

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"
)

// Format names this version of the document.
const Format = "kgseller-license/v1"

// Alg is the only signature algorithm.
const Alg = "Ed25519"

// Sentinel errors of Verify; a document that fails is never partly trusted.
var (
	ErrMalformed    = errors.New("licensefile: not a license document")
	ErrUnknownKey   = errors.New("licensefile: signed with a key that is not trusted")
	ErrBadSignature = errors.New("licensefile: signature does not match")
	ErrNotYetValid  = errors.New("licensefile: license is not yet valid")
	ErrExpired      = errors.New("licensefile: license has expired")
	ErrWrongDevice  = errors.New("licensefile: license is bound to another device")
)

// Product is what was bought.
type Product struct {
	ProductID   string `json:"productId,omitempty"`
	SKUCode     string `json:"skuCode,omitempty"`
	ProductName string `json:"productName,omitempty"`
	// Quantity is the order line's linearValue (users, seats…), as text.
	Quantity string `json:"quantity,omitempty"`
}

// Customer is who bought it.
type Customer struct {
	CustomerID   string `json:"customerId,omitempty"`
	CustomerName string `json:"customerName,omitempty"`
}

// Payload is the signed content of a license.
type Payload struct {
	Format            string     `json:"format"`
	LicenseID         string     `json:"licenseId"`
	EventID           string     `json:"eventId"`
	InstanceID        string     `json:"instanceId"`
	OrderID           string     `json:"orderId,omitempty"`
	OrderLineID       string     `json:"orderLineId,omitempty"`
	Product           Product    `json:"product"`
	Customer          Customer   `json:"customer"`
	EffectiveTime     time.Time  `json:"effectiveTime"`
	ExpireTime        *time.Time `json:"expireTime,omitempty"`
	DeviceFingerprint string     `json:"deviceFingerprint,omitempty"`
	Features          []string   `json:"features"`
	Test              bool       `json:"test,omitempty"`
	IssuedAt          time.Time  `json:"issuedAt"`
}

// envelope is the document on the wire.
type envelope struct {
	Format    string `json:"format"`
	Alg       string `json:"alg"`
	KeyID     string `json:"keyId"`
	Payload   string `json:"payload"`
	Signature string `json:"signature"`
}

// KeyID names a public key: the first 8 bytes of its SHA-256, in hex.
func KeyID(pub ed25519.PublicKey) string {
	sum := sha256.Sum256(pub)
	return hex.EncodeToString(sum[:8])
}

// Signer signs documents with one private key.
type Signer struct {
	key ed25519.PrivateKey
	id  string
}

// NewSigner returns a signer for key.
func NewSigner(key ed25519.PrivateKey) *Signer {
	return &Signer{key: key, id: KeyID(key.Public().(ed25519.PublicKey))}
}

// KeyID is the id of the signer's public key.
func (s *Signer) KeyID() string { return s.id }

// Public is the signer's public key, which the seller's software embeds.
func (s *Signer) Public() ed25519.PublicKey { return s.key.Public().(ed25519.PublicKey) }

// String keeps the key out of logs.
func (s *Signer) String() string { return "licensefile.Signer{" + s.id + "}" }

// GoString keeps the key out of %#v.
func (s *Signer) GoString() string { return s.String() }

// Sign encodes p (its Format is set) and returns the signed document. Ed25519 is
// deterministic: the same payload and key always give the same bytes.
func (s *Signer) Sign(p Payload) ([]byte, error) {
	p.Format = Format
	if p.Features == nil {
		p.Features = []string{}
	}
	payload, err := json.Marshal(p)
	if err != nil {
		return nil, fmt.Errorf("licensefile: encoding payload: %w", err)
	}
	env := envelope{
		Format: Format, Alg: Alg, KeyID: s.id,
		Payload:   base64.RawURLEncoding.EncodeToString(payload),
		Signature: base64.RawURLEncoding.EncodeToString(ed25519.Sign(s.key, payload)),
	}
	doc, err := json.MarshalIndent(env, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("licensefile: encoding document: %w", err)
	}
	return append(doc, '\n'), nil
}

// Options tune Verify.
type Options struct {
	// Now is the time the license must be valid at; zero skips the time checks.
	Now time.Time
	// Leeway tolerates clock differences at both ends of the validity window.
	Leeway time.Duration
	// Fingerprint is this device's fingerprint. A license bound to a device is
	// accepted only when it matches; a license without a binding accepts any.
	Fingerprint string
}

// Verify checks a document against the trusted public keys and returns its
// payload. The signature is checked before anything in the payload is read.
func Verify(doc []byte, keys []ed25519.PublicKey, o Options) (Payload, error) {
	var env envelope
	dec := json.NewDecoder(bytes.NewReader(doc))
	if err := dec.Decode(&env); err != nil || env.Format != Format || env.Alg != Alg {
		return Payload{}, ErrMalformed
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return Payload{}, ErrMalformed // trailing data
	}
	payload, err := base64.RawURLEncoding.DecodeString(env.Payload)
	if err != nil {
		return Payload{}, ErrMalformed
	}
	sig, err := base64.RawURLEncoding.DecodeString(env.Signature)
	if err != nil || len(sig) != ed25519.SignatureSize {
		return Payload{}, ErrMalformed
	}
	var key ed25519.PublicKey
	for _, k := range keys {
		if KeyID(k) == env.KeyID {
			key = k
			break
		}
	}
	if key == nil {
		return Payload{}, ErrUnknownKey
	}
	if !ed25519.Verify(key, payload, sig) {
		return Payload{}, ErrBadSignature
	}
	var p Payload
	if err := json.Unmarshal(payload, &p); err != nil || p.Format != Format {
		return Payload{}, ErrMalformed
	}
	if !o.Now.IsZero() {
		if o.Now.Add(o.Leeway).Before(p.EffectiveTime) {
			return p, fmt.Errorf("%w: effective from %s", ErrNotYetValid, p.EffectiveTime.UTC().Format(time.RFC3339))
		}
		if p.ExpireTime != nil && o.Now.Add(-o.Leeway).After(*p.ExpireTime) {
			return p, fmt.Errorf("%w: expired at %s", ErrExpired, p.ExpireTime.UTC().Format(time.RFC3339))
		}
	}
	if p.DeviceFingerprint != "" && p.DeviceFingerprint != o.Fingerprint {
		return p, ErrWrongDevice
	}
	return p, nil
}

// ParsePrivateKey reads an Ed25519 private key: PEM (PKCS#8 "PRIVATE KEY"), or
// base64 of the 32-byte seed or of the 64-byte private key.
func ParsePrivateKey(s string) (ed25519.PrivateKey, error) {
	s = strings.TrimSpace(s)
	if block, _ := pem.Decode([]byte(s)); block != nil {
		k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
		if err != nil {
			return nil, errors.New("licensefile: PEM is not a PKCS#8 private key")
		}
		ek, ok := k.(ed25519.PrivateKey)
		if !ok {
			return nil, errors.New("licensefile: PEM key is not Ed25519")
		}
		return ek, nil
	}
	raw, err := decodeBase64(s)
	if err != nil {
		return nil, errors.New("licensefile: key is neither PEM nor base64")
	}
	switch len(raw) {
	case ed25519.SeedSize:
		return ed25519.NewKeyFromSeed(raw), nil
	case ed25519.PrivateKeySize:
		return ed25519.NewKeyFromSeed(raw[:ed25519.SeedSize]), nil
	}
	return nil, fmt.Errorf("licensefile: key has %d bytes, want a %d-byte seed", len(raw), ed25519.SeedSize)
}

// ParsePublicKey reads an Ed25519 public key: PEM (PKIX "PUBLIC KEY") or base64 of
// the 32 raw bytes.
func ParsePublicKey(s string) (ed25519.PublicKey, error) {
	s = strings.TrimSpace(s)
	if block, _ := pem.Decode([]byte(s)); block != nil {
		k, err := x509.ParsePKIXPublicKey(block.Bytes)
		if err != nil {
			return nil, errors.New("licensefile: PEM is not a PKIX public key")
		}
		ek, ok := k.(ed25519.PublicKey)
		if !ok {
			return nil, errors.New("licensefile: PEM key is not Ed25519")
		}
		return ek, nil
	}
	raw, err := decodeBase64(s)
	if err != nil || len(raw) != ed25519.PublicKeySize {
		return nil, fmt.Errorf("licensefile: public key must be PEM or base64 of %d bytes", ed25519.PublicKeySize)
	}
	return ed25519.PublicKey(raw), nil
}

// PublicPEM encodes a public key as PEM, the form to embed in the seller's software.
func PublicPEM(pub ed25519.PublicKey) ([]byte, error) {
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}), nil
}

// PrivatePEM encodes a private key as PKCS#8 PEM.
func PrivatePEM(key ed25519.PrivateKey) ([]byte, error) {
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), nil
}

func decodeBase64(s string) ([]byte, error) {
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if b, err := enc.DecodeString(s); err == nil {
			return b, nil
		}
	}
	return nil, errors.New("not base64")
}

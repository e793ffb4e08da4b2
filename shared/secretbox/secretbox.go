// Package secretbox seals secrets kept at rest in the database (client secrets,
// provisioned credentials) with AES-256-GCM under a key from configuration
// (KG_DATA_KEY, 32 bytes, base64). A sealed value is "v1:" + base64(nonce ||
// ciphertext); the associated data binds it to its row, so a sealed value copied
// into another row does not open.
package secretbox

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
)

const prefix = "v1:"

var (
	// ErrKey is returned for a key that is not 32 bytes of base64.
	ErrKey = errors.New("secretbox: the data key must be 32 bytes, base64-encoded")
	// ErrOpen is returned for any value that does not open under the key.
	ErrOpen = errors.New("secretbox: sealed value does not open")
)

// Box seals and opens values. Its key is never printed.
type Box struct {
	aead cipher.AEAD
}

// New builds a box from the base64 form of a 32-byte key.
func New(b64Key string) (*Box, error) {
	key, err := base64.StdEncoding.DecodeString(strings.TrimSpace(b64Key))
	if err != nil || len(key) != 32 {
		return nil, ErrKey
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, ErrKey
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("secretbox: %w", err)
	}
	return &Box{aead: aead}, nil
}

// NewKey returns a fresh random key in its base64 form.
func NewKey() (string, error) {
	k := make([]byte, 32)
	if _, err := rand.Read(k); err != nil {
		return "", fmt.Errorf("secretbox: %w", err)
	}
	return base64.StdEncoding.EncodeToString(k), nil
}

// Seal encrypts plain, bound to context (for example "kit_app:<instanceId>:<appId>").
func (b *Box) Seal(plain, context string) (string, error) {
	nonce := make([]byte, b.aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return "", fmt.Errorf("secretbox: %w", err)
	}
	out := b.aead.Seal(nonce, nonce, []byte(plain), []byte(context))
	return prefix + base64.StdEncoding.EncodeToString(out), nil
}

// Open decrypts a value sealed with the same key and context.
func (b *Box) Open(sealed, context string) (string, error) {
	if !strings.HasPrefix(sealed, prefix) {
		return "", ErrOpen
	}
	raw, err := base64.StdEncoding.DecodeString(sealed[len(prefix):])
	if err != nil || len(raw) < b.aead.NonceSize()+b.aead.Overhead() {
		return "", ErrOpen
	}
	n := b.aead.NonceSize()
	plain, err := b.aead.Open(nil, raw[:n], raw[n:], []byte(context))
	if err != nil {
		return "", ErrOpen
	}
	return string(plain), nil
}

// String keeps the box (and its key) out of logs.
func (b *Box) String() string { return "secretbox.Box{[redacted]}" }

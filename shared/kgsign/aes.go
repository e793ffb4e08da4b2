package kgsign

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha1"
	"encoding/base64"
	"errors"
	"fmt"
)

// EncryptType selects the AES key size of encrypted fields, as the marketplace's
// encryptType field spells it.
type EncryptType string

const (
	// AES256 is encryptType "1", the documented default.
	AES256 EncryptType = "1"
	// AES128 is encryptType "2".
	AES128 EncryptType = "2"
)

// KeyBytes returns the AES key length of the type.
func (t EncryptType) KeyBytes() (int, error) {
	switch t {
	case AES256, "":
		return 32, nil
	case AES128:
		return 16, nil
	}
	return 0, fmt.Errorf("kgsign: unknown encryptType %q", string(t))
}

// ivLen is the length of the plain-text IV prefix of an encrypted field.
const ivLen = 16

const ivAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"

// ErrCiphertext is returned for any malformed encrypted field; the cause is not
// detailed, so the error cannot serve as a padding oracle.
var ErrCiphertext = errors.New("kgsign: malformed encrypted field")

// JavaSHA1PRNG returns the first n bytes that Sun's SHA1PRNG produces after
// setSeed(seed) on a fresh instance: the key material that Java's
// KeyGenerator("AES").init(bits, SHA1PRNG seeded with the access key) yields.
func JavaSHA1PRNG(seed []byte, n int) []byte {
	s := sha1.Sum(seed)
	state := s[:]
	out := make([]byte, 0, n+sha1.Size)
	for len(out) < n {
		block := sha1.Sum(state)
		updateState(state, block[:])
		out = append(out, block[:]...)
	}
	return out[:n]
}

// updateState computes state = state + output + 1 (mod 2^160), little-endian over
// the byte array, with Java's signed-byte arithmetic: the carry is an arithmetic
// shift of a signed sum and can be -1. An unsigned carry gives a different second
// block, hence wrong AES-256 keys.
func updateState(state, output []byte) {
	last := 1
	changed := false
	for i := range state {
		v := int(int8(state[i])) + int(int8(output[i])) + last
		t := byte(v)
		changed = changed || state[i] != t
		state[i] = t
		last = v >> 8
	}
	if !changed {
		state[0]++
	}
}

// fieldCipher derives the AES block cipher for an access key and encryptType.
func fieldCipher(k Key, t EncryptType) (cipher.Block, error) {
	n, err := t.KeyBytes()
	if err != nil {
		return nil, err
	}
	return aes.NewCipher(JavaSHA1PRNG(k.b, n))
}

// NewIV returns a fresh 16-character alphanumeric IV, as the Java sample draws it.
func NewIV() (string, error) {
	buf := make([]byte, ivLen)
	if _, err := rand.Read(buf); err != nil {
		return "", fmt.Errorf("kgsign: reading random IV: %w", err)
	}
	for i, b := range buf {
		// 256 is not a multiple of 62; the bias is irrelevant for a CBC IV, which
		// only needs to be unpredictable, not uniform.
		buf[i] = ivAlphabet[int(b)%len(ivAlphabet)]
	}
	return string(buf), nil
}

// EncryptFieldIV encrypts plain as iv + base64(AES-CBC-PKCS5(plain)). iv must be 16
// bytes; EncryptField draws one.
func EncryptFieldIV(k Key, t EncryptType, iv, plain string) (string, error) {
	if len(iv) != ivLen {
		return "", fmt.Errorf("kgsign: IV must be %d bytes, got %d", ivLen, len(iv))
	}
	block, err := fieldCipher(k, t)
	if err != nil {
		return "", err
	}
	pad := aes.BlockSize - len(plain)%aes.BlockSize
	buf := make([]byte, 0, len(plain)+pad)
	buf = append(append(buf, plain...), bytes.Repeat([]byte{byte(pad)}, pad)...)
	cipher.NewCBCEncrypter(block, []byte(iv)).CryptBlocks(buf, buf)
	return iv + base64.StdEncoding.EncodeToString(buf), nil
}

// EncryptField encrypts a sensitive field (appInfo userName/password) with a random IV.
func EncryptField(k Key, t EncryptType, plain string) (string, error) {
	iv, err := NewIV()
	if err != nil {
		return "", err
	}
	return EncryptFieldIV(k, t, iv, plain)
}

// DecryptField reverses EncryptField (and decrypts V1 mobilePhone/email values).
func DecryptField(k Key, t EncryptType, field string) (string, error) {
	if len(field) <= ivLen {
		return "", ErrCiphertext
	}
	ct, err := base64.StdEncoding.DecodeString(field[ivLen:])
	if err != nil || len(ct) == 0 || len(ct)%aes.BlockSize != 0 {
		return "", ErrCiphertext
	}
	block, err := fieldCipher(k, t)
	if err != nil {
		return "", err
	}
	cipher.NewCBCDecrypter(block, []byte(field[:ivLen])).CryptBlocks(ct, ct)
	pad := int(ct[len(ct)-1])
	if pad == 0 || pad > aes.BlockSize {
		return "", ErrCiphertext
	}
	for _, b := range ct[len(ct)-pad:] {
		if int(b) != pad {
			return "", ErrCiphertext
		}
	}
	return string(ct[:len(ct)-pad]), nil
}

package kgsign

import (
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
)

// Key is an access key. Its bytes never leave the package in printable form: every
// fmt verb prints "[redacted]", so a Key logged by mistake discloses nothing.
type Key struct {
	b  []byte
	id string // short label for logs: "primary" or "previous"
}

// NewKey wraps raw key material. label names the key in logs.
func NewKey(secret []byte, label string) Key {
	return Key{b: append([]byte(nil), secret...), id: label}
}

// Label returns the key's log label, never its value.
func (k Key) Label() string { return k.id }

// IsZero reports whether the key is empty.
func (k Key) IsZero() bool { return len(k.b) == 0 }

// String implements fmt.Stringer without disclosing the key.
func (k Key) String() string { return "[redacted]" }

// GoString implements fmt.GoStringer without disclosing the key.
func (k Key) GoString() string { return "kgsign.Key{[redacted]}" }

// Format makes every verb, including %x and %v, print the redacted form.
func (k Key) Format(f fmt.State, _ rune) { _, _ = f.Write([]byte("[redacted]")) }

// MarshalText keeps the key out of JSON and other text encodings.
func (k Key) MarshalText() ([]byte, error) { return []byte("[redacted]"), nil }

// Bytes returns a copy of the key material for callers that must hand it to another
// library (the AES derivation, for example).
func (k Key) Bytes() []byte { return append([]byte(nil), k.b...) }

// KeySet holds the active access keys of one interface type: the primary key and,
// during a key change in the Seller Console, the previous one. Requests verify under
// either; answers are signed with the key that verified the request.
type KeySet struct {
	keys []Key
}

// ErrNoKey is returned when a key set is built without a primary key.
var ErrNoKey = errors.New("kgsign: no access key configured")

// NewKeySet builds a key set from configuration values. previous may be empty. When
// base64Encoded is true, each value is the console's Base64 form of the real key (as
// the EU Seller Console shows it) and is decoded first.
func NewKeySet(primary, previous string, base64Encoded bool) (KeySet, error) {
	var ks KeySet
	for _, c := range []struct{ v, label string }{{primary, "primary"}, {previous, "previous"}} {
		v := strings.TrimSpace(c.v)
		if v == "" {
			continue
		}
		raw := []byte(v)
		if base64Encoded {
			dec, err := base64.StdEncoding.DecodeString(v)
			if err != nil {
				// Never echo the value: only say which key is malformed.
				return KeySet{}, fmt.Errorf("kgsign: %s access key is not valid base64", c.label)
			}
			raw = dec
		}
		if len(raw) == 0 {
			continue
		}
		ks.keys = append(ks.keys, NewKey(raw, c.label))
	}
	if len(ks.keys) == 0 || strings.TrimSpace(primary) == "" {
		return KeySet{}, ErrNoKey
	}
	return ks, nil
}

// MustKeySet is NewKeySet for tests and tools with literal keys.
func MustKeySet(keys ...string) KeySet {
	var ks KeySet
	labels := []string{"primary", "previous"}
	for i, k := range keys {
		label := "extra"
		if i < len(labels) {
			label = labels[i]
		}
		ks.keys = append(ks.keys, NewKey([]byte(k), label))
	}
	if len(ks.keys) == 0 {
		panic(ErrNoKey)
	}
	return ks
}

// Primary returns the key used to sign answers when no request key is known.
func (ks KeySet) Primary() Key {
	if len(ks.keys) == 0 {
		return Key{}
	}
	return ks.keys[0]
}

// Keys returns the active keys, primary first.
func (ks KeySet) Keys() []Key { return ks.keys }

// Len returns the number of active keys.
func (ks KeySet) Len() int { return len(ks.keys) }

// String implements fmt.Stringer without disclosing any key.
func (ks KeySet) String() string { return fmt.Sprintf("kgsign.KeySet{%d keys}", len(ks.keys)) }

// Format keeps every verb redacted.
func (ks KeySet) Format(f fmt.State, _ rune) { _, _ = f.Write([]byte(ks.String())) }

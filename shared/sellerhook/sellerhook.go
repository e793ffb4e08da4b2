// Package sellerhook signs and verifies the messages exchanged with the seller's own
// application: the provisioning webhook this project sends, and the callbacks and
// usage reports the application sends back. The scheme follows Stripe's: header
//
//	KG-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, t + "." + body)>
//
// with a tolerance window against replays and several accepted secrets during a
// secret change.
package sellerhook

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Header is the signature header name.
const Header = "KG-Signature"

// DefaultTolerance bounds the age of a signed message.
const DefaultTolerance = 5 * time.Minute

// Errors.
var (
	ErrNoSignature = errors.New("sellerhook: missing or malformed KG-Signature header")
	ErrTooOld      = errors.New("sellerhook: signature timestamp outside the tolerance window")
	ErrMismatch    = errors.New("sellerhook: signature does not match")
	ErrNoSecret    = errors.New("sellerhook: no secret configured")
)

func mac(secret []byte, ts string, body []byte) []byte {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(ts))
	m.Write([]byte{'.'})
	m.Write(body)
	return m.Sum(nil)
}

// Sign returns the header value for body at time now.
func Sign(secret []byte, body []byte, now time.Time) string {
	ts := strconv.FormatInt(now.Unix(), 10)
	return "t=" + ts + ",v1=" + hex.EncodeToString(mac(secret, ts, body))
}

// Secrets holds the accepted secrets, the first one signing. It never prints them.
type Secrets struct{ keys [][]byte }

// NewSecrets builds a secret set from configuration values; empty values are skipped.
func NewSecrets(values ...string) (Secrets, error) {
	var s Secrets
	for _, v := range values {
		if v = strings.TrimSpace(v); v != "" {
			s.keys = append(s.keys, []byte(v))
		}
	}
	if len(s.keys) == 0 {
		return Secrets{}, ErrNoSecret
	}
	return s, nil
}

// Sign signs with the first secret.
func (s Secrets) Sign(body []byte, now time.Time) string { return Sign(s.keys[0], body, now) }

// String keeps the secrets out of logs.
func (s Secrets) String() string { return "sellerhook.Secrets{[redacted]}" }

// Format keeps every fmt verb, %#v and %x included, redacted.
func (s Secrets) Format(f fmt.State, _ rune) { _, _ = f.Write([]byte(s.String())) }

// Signed is what a verified signature establishes: when the message was signed,
// and the signature itself (the HMAC that matched, in lower-case hex), which is
// the same for every copy of the message and so identifies a replay.
type Signed struct {
	Time      time.Time
	Signature string
}

// Verify checks a header value against body, accepting any configured secret.
func (s Secrets) Verify(header string, body []byte, now time.Time, tolerance time.Duration) error {
	_, err := s.VerifySigned(header, body, now, tolerance)
	return err
}

// VerifySigned is Verify that also returns the signing time and the matched
// signature, for receivers that refuse replays and date what they store.
func (s Secrets) VerifySigned(header string, body []byte, now time.Time, tolerance time.Duration) (Signed, error) {
	if len(s.keys) == 0 {
		return Signed{}, ErrNoSecret
	}
	if tolerance <= 0 {
		tolerance = DefaultTolerance
	}
	var ts string
	var sigs [][]byte
	for _, part := range strings.Split(header, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok {
			continue
		}
		switch k {
		case "t":
			ts = v
		case "v1":
			if b, err := hex.DecodeString(v); err == nil && len(b) == sha256.Size {
				sigs = append(sigs, b)
			}
		}
	}
	n, err := strconv.ParseInt(ts, 10, 64)
	if err != nil || len(sigs) == 0 {
		return Signed{}, ErrNoSignature
	}
	signedAt := time.Unix(n, 0)
	if d := now.Sub(signedAt); d > tolerance || d < -tolerance {
		return Signed{}, ErrTooOld
	}
	var matched []byte
	for _, key := range s.keys {
		want := mac(key, ts, body)
		for _, sig := range sigs {
			if hmac.Equal(want, sig) && matched == nil {
				matched = want
			}
		}
	}
	if matched == nil {
		return Signed{}, ErrMismatch
	}
	return Signed{Time: signedAt, Signature: hex.EncodeToString(matched)}, nil
}

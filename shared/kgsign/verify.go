package kgsign

import (
	"crypto/hmac"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"net/url"
	"strconv"
	"time"
)

// Sentinel errors, in the style of stripe-go's webhook package. Callers map every one
// of them to result code 000001; the distinction is for logs and tests.
var (
	// ErrNotSigned: the signature, timestamp or nonce is missing.
	ErrNotSigned = errors.New("kgsign: request is not signed")
	// ErrInvalidTimestamp: the timestamp is not a positive integer.
	ErrInvalidTimestamp = errors.New("kgsign: timestamp is not a valid integer")
	// ErrTooOld: the timestamp lies outside the tolerance window (either direction).
	ErrTooOld = errors.New("kgsign: timestamp outside the tolerance window")
	// ErrInvalidNonce: the nonce is longer than MaxNonceLen or holds control bytes.
	ErrInvalidNonce = errors.New("kgsign: nonce is malformed")
	// ErrNoValidSignature: the signature matches none of the active keys.
	ErrNoValidSignature = errors.New("kgsign: signature matches no active key")
)

const (
	// DefaultTolerance is the documented ±60 s window.
	DefaultTolerance = 60 * time.Second
	// MaxNonceLen bounds what a nonce store must hold. Documented nonces have 16–64 chars.
	MaxNonceLen = 128
	// msThreshold: timestamps at or above 10^12 are milliseconds, smaller ones seconds.
	msThreshold = 1_000_000_000_000
)

// Verifier checks inbound marketplace signatures against a key set and a clock.
type Verifier struct {
	Keys KeySet
	// Tolerance is the accepted clock difference; zero means DefaultTolerance.
	Tolerance time.Duration
	// Now is the clock; nil means time.Now. Tests inject a fixed clock.
	Now func() time.Time
	// KitHashedPayload selects the basic-style (hashed payload) Kit formula instead of
	// the documented raw-payload one.
	KitHashedPayload bool
}

// Verified describes a request that passed verification.
type Verified struct {
	Key       Key       // the key that matched; answers are signed with it
	Nonce     string    // the nonce, for the replay store
	Timestamp time.Time // the request time
}

// ParseTimestamp reads a UNIX timestamp in seconds or milliseconds, chosen by magnitude.
func ParseTimestamp(s string) (time.Time, error) {
	if s == "" || len(s) > 19 {
		return time.Time{}, ErrInvalidTimestamp
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n <= 0 {
		return time.Time{}, ErrInvalidTimestamp
	}
	if n >= msThreshold {
		return time.UnixMilli(n), nil
	}
	return time.Unix(n, 0), nil
}

func (v *Verifier) now() time.Time {
	if v.Now != nil {
		return v.Now()
	}
	return time.Now()
}

func (v *Verifier) tolerance() time.Duration {
	if v.Tolerance > 0 {
		return v.Tolerance
	}
	return DefaultTolerance
}

// checkCommon validates the presence and shape of the three signing values and the
// timestamp window, and decodes the hex signature.
func (v *Verifier) checkCommon(signature, timestamp, nonce string) ([]byte, time.Time, error) {
	if signature == "" || timestamp == "" || nonce == "" {
		return nil, time.Time{}, ErrNotSigned
	}
	if len(nonce) > MaxNonceLen {
		return nil, time.Time{}, ErrInvalidNonce
	}
	for i := 0; i < len(nonce); i++ {
		if nonce[i] < 0x20 || nonce[i] == 0x7f {
			return nil, time.Time{}, ErrInvalidNonce
		}
	}
	ts, err := ParseTimestamp(timestamp)
	if err != nil {
		return nil, time.Time{}, err
	}
	if d := v.now().Sub(ts); d > v.tolerance() || d < -v.tolerance() {
		return nil, time.Time{}, ErrTooOld
	}
	// Hex decoding makes the comparison case-insensitive without a data-dependent
	// upper-casing step; a wrong length simply never matches.
	sig, err := hex.DecodeString(signature)
	if err != nil || len(sig) != 32 {
		return nil, time.Time{}, ErrNoValidSignature
	}
	return sig, ts, nil
}

// VerifyV2 verifies the query signature of a basic, License, license-code or
// orderNotify call over the raw body bytes exactly as received.
func (v *Verifier) VerifyV2(signature, timestamp, nonce string, body []byte) (Verified, error) {
	sig, ts, err := v.checkCommon(signature, timestamp, nonce)
	if err != nil {
		return Verified{}, err
	}
	return v.match(sig, ts, nonce, func(k Key) []byte { return v2MAC(k.b, nonce, timestamp, body) })
}

// VerifyKit verifies the x-sign header of a joint-operation Kit call.
func (v *Verifier) VerifyKit(signature, timestamp, nonce string, body []byte) (Verified, error) {
	sig, ts, err := v.checkCommon(signature, timestamp, nonce)
	if err != nil {
		return Verified{}, err
	}
	return v.match(sig, ts, nonce, func(k Key) []byte {
		if v.KitHashedPayload {
			return v2MAC(k.b, nonce, timestamp, body)
		}
		return kitMAC(k.b, nonce, timestamp, body)
	})
}

// match compares against every active key without stopping early, so the time taken
// does not reveal which key (if any) matched.
func (v *Verifier) match(sig []byte, ts time.Time, nonce string, mac func(Key) []byte) (Verified, error) {
	found := -1
	for i, k := range v.Keys.keys {
		if hmac.Equal(mac(k), sig) && found < 0 {
			found = i
		}
	}
	if found < 0 {
		return Verified{}, ErrNoValidSignature
	}
	return Verified{Key: v.Keys.keys[found], Nonce: nonce, Timestamp: ts}, nil
}

// VerifyV1 recognises a retired V1 call: params holds every query parameter,
// URL-decoded, including authToken and timeStamp (yyyyMMddHHmmssSSS, UTC).
// The window is not applied: V1 is only recognised, never served.
func (v *Verifier) VerifyV1(params url.Values) (Verified, error) {
	token, ts := params.Get("authToken"), params.Get("timeStamp")
	if token == "" || ts == "" {
		return Verified{}, ErrNotSigned
	}
	got, err := base64.StdEncoding.DecodeString(token)
	if err != nil || len(got) != 32 {
		return Verified{}, ErrNoValidSignature
	}
	msg := V1Message(params)
	found := -1
	for i, k := range v.Keys.keys {
		want, _ := base64.StdEncoding.DecodeString(V1AuthToken(k, ts, msg))
		if hmac.Equal(want, got) && found < 0 {
			found = i
		}
	}
	if found < 0 {
		return Verified{}, ErrNoValidSignature
	}
	return Verified{Key: v.Keys.keys[found]}, nil
}

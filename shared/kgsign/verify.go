package kgsign

import (
	"bytes"
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
	// ErrTooOld: the timestamp is older than the tolerance, or further ahead of the
	// clock than the future skew.
	ErrTooOld = errors.New("kgsign: timestamp outside the tolerance window")
	// ErrInvalidNonce: the nonce is longer than MaxNonceLen or holds control bytes.
	ErrInvalidNonce = errors.New("kgsign: nonce is malformed")
	// ErrNoValidSignature: the signature matches none of the active keys.
	ErrNoValidSignature = errors.New("kgsign: signature matches no active key")
)

const (
	// DefaultTolerance is the documented 60 s window: how old a timestamp may be.
	DefaultTolerance = 60 * time.Second
	// DefaultFutureSkew is how far ahead of the clock a timestamp may be. Huawei's
	// sample refuses no future timestamp; a bound keeps the nonce store finite, and a
	// generous one keeps a marketplace whose clock runs ahead from locking sellers out.
	DefaultFutureSkew = 5 * time.Minute
	// MaxNonceLen bounds what a nonce store must hold. Documented nonces have 16–64 chars.
	MaxNonceLen = 128
	// msThreshold: timestamps at or above 10^12 are milliseconds, smaller ones seconds.
	msThreshold = 1_000_000_000_000
)

// Verifier checks inbound marketplace signatures against a key set and a clock.
type Verifier struct {
	Keys KeySet
	// Tolerance is how old a timestamp may be; zero means DefaultTolerance.
	Tolerance time.Duration
	// FutureSkew is how far ahead of the clock a timestamp may be; zero means
	// DefaultFutureSkew.
	FutureSkew time.Duration
	// Now is the clock; nil means time.Now. Tests inject a fixed clock.
	Now func() time.Time
	// KitHashedPayload selects the basic-style (hashed payload) Kit formula instead of
	// the documented raw-payload one.
	KitHashedPayload bool
}

// Form names the bytes a matching signature was computed over.
type Form string

const (
	// FormRaw: the body exactly as received.
	FormRaw Form = "raw"
	// FormCanonical: the canonical JSON form of the body (CanonicalBasic for V2
	// calls, CanonicalKit for Kit calls), as Huawei's Java sample signs it.
	FormCanonical Form = "canonical"
)

// Digest names the inner digest of a matching signature.
type Digest string

const (
	// DigestHMAC: the documented inner digest, HMAC-SHA256(accessKey, payload).
	DigestHMAC Digest = "hmac-sha256"
	// DigestSHA256: a plain SHA-256 of the payload, as a public TypeScript sample
	// computes it. The outer HMAC still keys the signature.
	DigestSHA256 Digest = "sha256"
	// DigestNone: the Kit's documented formula signs the payload itself.
	DigestNone Digest = "none"
)

// Verified describes a request that passed verification.
type Verified struct {
	Key       Key       // the key that matched; answers are signed with it
	Nonce     string    // the nonce, for the replay store
	Timestamp time.Time // the request time
	Form      Form      // what the signature was computed over
	Digest    Digest    // its inner digest
}

// Match names what matched, for logs: "raw/hmac-sha256", "canonical/sha256", ….
func (v Verified) Match() string { return string(v.Form) + "/" + string(v.Digest) }

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

// Window returns how old (past) and how far ahead (future) a timestamp may be.
func (v *Verifier) Window() (past, future time.Duration) {
	past, future = v.Tolerance, v.FutureSkew
	if past <= 0 {
		past = DefaultTolerance
	}
	if future <= 0 {
		future = DefaultFutureSkew
	}
	return past, future
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
	past, future := v.Window()
	if age := v.now().Sub(ts); age > past || -age > future {
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
// orderNotify call. The signature may be computed over the raw body or over its
// canonical form (CanonicalBasic), with the documented HMAC inner digest or a plain
// SHA-256 one; Verified says which matched.
func (v *Verifier) VerifyV2(signature, timestamp, nonce string, body []byte) (Verified, error) {
	sig, ts, err := v.checkCommon(signature, timestamp, nonce)
	if err != nil {
		return Verified{}, err
	}
	return v.match(sig, ts, nonce, timestamp, body, hashedDigests, CanonicalBasic)
}

// VerifyKit verifies the x-sign header of a joint-operation Kit call, over the raw
// body or its canonical form (CanonicalKit).
func (v *Verifier) VerifyKit(signature, timestamp, nonce string, body []byte) (Verified, error) {
	sig, ts, err := v.checkCommon(signature, timestamp, nonce)
	if err != nil {
		return Verified{}, err
	}
	digests := payloadDigest
	if v.KitHashedPayload {
		digests = hashedDigests
	}
	return v.match(sig, ts, nonce, timestamp, body, digests, CanonicalKit)
}

var (
	hashedDigests = []Digest{DigestHMAC, DigestSHA256}
	payloadDigest = []Digest{DigestNone}
)

// match tries the raw body first and, only if nothing matched, its canonical form.
// The canonical form is computed at most once per request, never for a request whose
// raw bytes verify, and not compared again when it equals the raw bytes (a body the
// marketplace sent sorted and compact).
func (v *Verifier) match(sig []byte, ts time.Time, nonce, timestamp string, body []byte, digests []Digest,
	canonical func([]byte) ([]byte, error)) (Verified, error) {
	form := FormRaw
	found, digest := v.matchPayload(sig, nonce, timestamp, body, digests)
	if found < 0 {
		c, err := canonical(body)
		if err != nil || bytes.Equal(c, body) {
			return Verified{}, ErrNoValidSignature
		}
		form = FormCanonical
		if found, digest = v.matchPayload(sig, nonce, timestamp, c, digests); found < 0 {
			return Verified{}, ErrNoValidSignature
		}
	}
	return Verified{Key: v.Keys.keys[found], Nonce: nonce, Timestamp: ts, Form: form, Digest: digest}, nil
}

// matchPayload compares the signature with the MAC of every active key and every
// digest over one payload, without stopping early, so the time taken does not reveal
// which key or digest (if any) matched. It returns the first match, or -1.
func (v *Verifier) matchPayload(sig []byte, nonce, timestamp string, payload []byte, digests []Digest) (int, Digest) {
	found, foundDigest := -1, Digest("")
	plain := ""
	for i, k := range v.Keys.keys {
		for _, d := range digests {
			var mac []byte
			switch d {
			case DigestNone:
				mac = kitMAC(k.b, nonce, timestamp, payload)
			case DigestSHA256:
				if plain == "" { // the same for every key
					plain = innerHex(nil, payload, DigestSHA256)
				}
				mac = v2MAC(k.b, nonce, timestamp, plain)
			default:
				mac = v2MAC(k.b, nonce, timestamp, innerHex(k.b, payload, DigestHMAC))
			}
			if hmac.Equal(mac, sig) && found < 0 {
				found, foundDigest = i, d
			}
		}
	}
	return found, foundDigest
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

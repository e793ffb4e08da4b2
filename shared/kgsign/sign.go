// Package kgsign implements the KooGallery signing and crypto schemes: the V2 query
// signature, the Kit x-sign header, the retired V1 authToken, the Body-Sign response
// header and the SHA1PRNG-derived AES field encryption. Every function here is pure:
// no I/O, no globals, no logging, so it can be fuzzed and reused by tests and tools.
package kgsign

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"net/url"
	"sort"
	"strings"
)

func hmacSHA256(key, msg []byte) []byte {
	m := hmac.New(sha256.New, key)
	m.Write(msg)
	return m.Sum(nil)
}

// v2MAC returns the raw V2 query-signature MAC over an inner digest (lower-case hex):
// HMAC(key, key + nonce + timestamp + inner).
func v2MAC(key []byte, nonce, timestamp, inner string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write(key)
	m.Write([]byte(nonce))
	m.Write([]byte(timestamp))
	m.Write([]byte(inner))
	return m.Sum(nil)
}

// innerHex returns the inner digest of a payload, lower-case hex: HMAC(key, payload)
// (documented) or SHA-256(payload) (a public sample's reading).
func innerHex(key []byte, payload []byte, d Digest) string {
	if d == DigestSHA256 {
		sum := sha256.Sum256(payload)
		return hex.EncodeToString(sum[:])
	}
	return hex.EncodeToString(hmacSHA256(key, payload))
}

// kitMAC returns the raw Kit x-sign MAC in its documented form:
// HMAC(key, key + nonce + timestamp + payload).
func kitMAC(key []byte, nonce, timestamp string, payload []byte) []byte {
	m := hmac.New(sha256.New, key)
	m.Write(key)
	m.Write([]byte(nonce))
	m.Write([]byte(timestamp))
	m.Write(payload)
	return m.Sum(nil)
}

// V2Signature returns the upper-case hex V2 query signature that the marketplace
// sends with basic, License, license-code and orderNotify calls, as documented:
// the inner digest is HMAC-SHA256(accessKey, body).
func V2Signature(k Key, nonce, timestamp string, body []byte) string {
	return V2SignatureDigest(k, nonce, timestamp, body, DigestHMAC)
}

// V2SignatureDigest returns the V2 query signature with the given inner digest:
// DigestHMAC (documented) or DigestSHA256 (plain SHA-256 of the payload, as a public
// TypeScript sample computes it). The payload is signed as given: pass a canonical
// form (CanonicalBasic) to sign the way Huawei's Java sample does.
func V2SignatureDigest(k Key, nonce, timestamp string, payload []byte, d Digest) string {
	return strings.ToUpper(hex.EncodeToString(v2MAC(k.b, nonce, timestamp, innerHex(k.b, payload, d))))
}

// V2InnerHex returns the lower-case hex inner HMAC of the body, the value that goes
// into the V2 canonical request. It is exposed for diagnostics and tests.
func V2InnerHex(k Key, body []byte) string {
	return innerHex(k.b, body, DigestHMAC)
}

// KitSignature returns the upper-case hex Kit x-sign. With hashedPayload false it is
// the documented raw-payload formula; with hashedPayload true it is the basic-style
// formula (the V2 query signature), which some Kit deployments may use instead.
func KitSignature(k Key, nonce, timestamp string, body []byte, hashedPayload bool) string {
	if hashedPayload {
		return V2Signature(k, nonce, timestamp, body)
	}
	return strings.ToUpper(hex.EncodeToString(kitMAC(k.b, nonce, timestamp, body)))
}

// BodySign returns the base64 HMAC-SHA256 of the exact response bytes, keyed by the
// access key alone (not key+timestamp).
func BodySign(k Key, body []byte) string {
	return base64.StdEncoding.EncodeToString(hmacSHA256(k.b, body))
}

// BodySignHeader returns the value of the Body-Sign response header.
func BodySignHeader(k Key, body []byte) string {
	return `sign_type="HMAC-SHA256", signature="` + BodySign(k, body) + `"`
}

// V1Message returns the canonical V1 message: every parameter except authToken,
// sorted by name, joined as name=value with '&'. Values are used as given (already
// URL-decoded).
func V1Message(params url.Values) string {
	names := make([]string, 0, len(params))
	for name := range params {
		if name != "authToken" {
			names = append(names, name)
		}
	}
	sort.Strings(names)
	var b strings.Builder
	for i, name := range names {
		if i > 0 {
			b.WriteByte('&')
		}
		b.WriteString(name)
		b.WriteByte('=')
		b.WriteString(params.Get(name))
	}
	return b.String()
}

// V1AuthToken returns base64(HMAC-SHA256(key + timeStamp, message)), the retired V1
// authToken. The project only recognises V1 traffic; it never serves it.
func V1AuthToken(k Key, timeStamp, message string) string {
	key := make([]byte, 0, len(k.b)+len(timeStamp))
	key = append(append(key, k.b...), timeStamp...)
	return base64.StdEncoding.EncodeToString(hmacSHA256(key, []byte(message)))
}

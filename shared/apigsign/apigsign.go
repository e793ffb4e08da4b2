// Package apigsign verifies Huawei API Gateway "SDK-HMAC-SHA256" AK/SK signatures
// on the receiving side. Outbound calls are signed by the Huawei Go SDK's signer
// (core/auth/signer); this package is the other half: the fake marketplace, the fake
// FunctionGraph API and the APIG-backend example verify with it. It recomputes the
// signature over whatever SignedHeaders a request declares, which is how the two
// published vectors (which sign content-type) are reproduced even though the SDK
// signer itself never signs content-type.
package apigsign

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"time"
)

// Algorithm is the only scheme this package accepts.
const Algorithm = "SDK-HMAC-SHA256"

// DateFormat is the X-Sdk-Date layout.
const DateFormat = "20060102T150405Z"

// DefaultSkew is the clock difference APIG tolerates.
const DefaultSkew = 15 * time.Minute

// Sentinel errors.
var (
	ErrNoAuth        = errors.New("apigsign: no SDK-HMAC-SHA256 Authorization header")
	ErrMalformed     = errors.New("apigsign: malformed Authorization header")
	ErrUnknownKey    = errors.New("apigsign: unknown access key")
	ErrDate          = errors.New("apigsign: X-Sdk-Date missing, unsigned or outside the allowed skew")
	ErrBadSignature  = errors.New("apigsign: signature does not match")
	ErrUnsignedHost  = errors.New("apigsign: host is not signed")
	ErrHeaderMissing = errors.New("apigsign: a signed header is missing")
	// ErrPayloadHash: the signed X-Sdk-Content-Sha256 is not the hash of the body
	// received, so the signature does not cover that body.
	ErrPayloadHash = errors.New("apigsign: X-Sdk-Content-Sha256 does not match the body")
	// ErrUnsignedPayload: the request was signed as UNSIGNED-PAYLOAD, which leaves
	// the body unauthenticated, and the verifier does not allow it.
	ErrUnsignedPayload = errors.New("apigsign: UNSIGNED-PAYLOAD is not allowed")
)

// UnsignedPayload is the X-Sdk-Content-Sha256 value of a request whose body is not
// signed (the SDK signer sends it for bodies that are neither JSON nor BSON).
const UnsignedPayload = "UNSIGNED-PAYLOAD"

// contentSHA256 is the header that, when signed, stands for the body's hash in the
// canonical request.
const contentSHA256 = "x-sdk-content-sha256"

// Authorization is a parsed Authorization header.
type Authorization struct {
	AccessKey     string
	SignedHeaders []string
	Signature     string
}

// ParseAuthorization reads "SDK-HMAC-SHA256 Access=AK, SignedHeaders=a;b, Signature=hex".
func ParseAuthorization(v string) (Authorization, error) {
	rest, ok := strings.CutPrefix(strings.TrimSpace(v), Algorithm+" ")
	if !ok {
		return Authorization{}, ErrNoAuth
	}
	var a Authorization
	for _, part := range strings.Split(rest, ",") {
		k, val, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok {
			return Authorization{}, ErrMalformed
		}
		switch k {
		case "Access":
			a.AccessKey = val
		case "SignedHeaders":
			a.SignedHeaders = strings.Split(val, ";")
		case "Signature":
			a.Signature = val
		}
	}
	if a.AccessKey == "" || len(a.SignedHeaders) == 0 || len(a.Signature) != 64 {
		return Authorization{}, ErrMalformed
	}
	for i, h := range a.SignedHeaders {
		if h == "" || h != strings.ToLower(h) || (i > 0 && a.SignedHeaders[i-1] >= h) {
			return Authorization{}, ErrMalformed
		}
	}
	return a, nil
}

// Request is the part of an HTTP request the signature covers.
type Request struct {
	Method  string
	Path    string              // unescaped path, as http.Request.URL.Path
	Query   map[string][]string // decoded query values
	Headers map[string][]string // lower-case names
	Body    []byte
}

// FromHTTP extracts a Request from r and its already-read body.
func FromHTTP(r *http.Request, body []byte) Request {
	h := map[string][]string{}
	for k, vals := range r.Header {
		h[strings.ToLower(k)] = vals
	}
	if r.Host != "" {
		h["host"] = []string{r.Host}
	}
	return Request{Method: r.Method, Path: r.URL.Path, Query: r.URL.Query(), Headers: h, Body: body}
}

// CanonicalRequest builds the canonical request over the given signed headers.
func CanonicalRequest(req Request, signed []string) (string, error) {
	var b strings.Builder
	b.WriteString(req.Method)
	b.WriteByte('\n')
	b.WriteString(canonicalURI(req.Path))
	b.WriteByte('\n')
	b.WriteString(canonicalQuery(req.Query))
	b.WriteByte('\n')
	for _, name := range signed {
		vals, ok := req.Headers[name]
		if !ok {
			return "", fmt.Errorf("%w: %s", ErrHeaderMissing, name)
		}
		vals = append([]string(nil), vals...)
		sort.Strings(vals)
		for _, v := range vals {
			b.WriteString(name)
			b.WriteByte(':')
			b.WriteString(strings.TrimSpace(v))
			b.WriteByte('\n')
		}
	}
	b.WriteByte('\n')
	b.WriteString(strings.Join(signed, ";"))
	b.WriteByte('\n')
	b.WriteString(payloadHash(req, signed))
	return b.String(), nil
}

// payloadHash is the hex SHA-256 of the body, or the signed X-Sdk-Content-Sha256
// value (the SDK sends UNSIGNED-PAYLOAD for bodies that are not JSON); Verify then
// checks that value against the body (checkPayload).
func payloadHash(req Request, signed []string) string {
	for _, name := range signed {
		if name == contentSHA256 {
			if vals := req.Headers[name]; len(vals) > 0 {
				return vals[0]
			}
		}
	}
	sum := sha256.Sum256(req.Body)
	return hex.EncodeToString(sum[:])
}

// StringToSign builds the string to sign from a canonical request.
func StringToSign(canonical, date string) string {
	sum := sha256.Sum256([]byte(canonical))
	return Algorithm + "\n" + date + "\n" + hex.EncodeToString(sum[:])
}

// Signature returns the hex signature of a string to sign.
func Signature(sk []byte, stringToSign string) string {
	m := hmac.New(sha256.New, sk)
	m.Write([]byte(stringToSign))
	return hex.EncodeToString(m.Sum(nil))
}

// Verifier checks signed requests.
type Verifier struct {
	// Secret returns the secret key of an access key.
	Secret func(ak string) ([]byte, bool)
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Skew is the accepted clock difference; zero means DefaultSkew.
	Skew time.Duration
	// RequireHost makes an unsigned host an error (APIG requires it).
	RequireHost bool
	// AllowUnsignedPayload accepts requests signed as UNSIGNED-PAYLOAD, whose body
	// the signature does not cover; without it they fail with ErrUnsignedPayload.
	AllowUnsignedPayload bool
}

// Verify checks req's Authorization header and returns the access key that signed it.
func (v Verifier) Verify(req Request) (string, error) {
	vals := req.Headers["authorization"]
	if len(vals) == 0 {
		return "", ErrNoAuth
	}
	auth, err := ParseAuthorization(vals[0])
	if err != nil {
		return "", err
	}
	sk, ok := v.Secret(auth.AccessKey)
	if !ok {
		return "", ErrUnknownKey
	}
	if !contains(auth.SignedHeaders, "x-sdk-date") {
		return "", ErrDate
	}
	if v.RequireHost && !contains(auth.SignedHeaders, "host") {
		return "", ErrUnsignedHost
	}
	dates := req.Headers["x-sdk-date"]
	if len(dates) != 1 {
		return "", ErrDate
	}
	t, err := time.Parse(DateFormat, dates[0])
	if err != nil {
		return "", ErrDate
	}
	now := time.Now()
	if v.Now != nil {
		now = v.Now()
	}
	skew := v.Skew
	if skew == 0 {
		skew = DefaultSkew
	}
	if d := now.Sub(t); d > skew || d < -skew {
		return "", ErrDate
	}
	canonical, err := CanonicalRequest(req, auth.SignedHeaders)
	if err != nil {
		return "", err
	}
	want := Signature(sk, StringToSign(canonical, dates[0]))
	if !hmac.Equal([]byte(want), []byte(strings.ToLower(auth.Signature))) {
		return "", ErrBadSignature
	}
	if err := v.checkPayload(req, auth.SignedHeaders); err != nil {
		return "", err
	}
	return auth.AccessKey, nil
}

// checkPayload binds the body to the signature when the canonical request used the
// signed X-Sdk-Content-Sha256 instead of hashing the body: the value must be the
// body's SHA-256, or UNSIGNED-PAYLOAD where that is allowed. Without this check a
// captured request could carry any other body for as long as its date is accepted.
func (v Verifier) checkPayload(req Request, signed []string) error {
	if !contains(signed, contentSHA256) {
		return nil // the canonical request hashed the body itself
	}
	vals := req.Headers[contentSHA256]
	if len(vals) == 0 {
		return ErrHeaderMissing
	}
	claimed := strings.TrimSpace(vals[0])
	if claimed == UnsignedPayload {
		if v.AllowUnsignedPayload {
			return nil
		}
		return ErrUnsignedPayload
	}
	sum := sha256.Sum256(req.Body)
	if !hmac.Equal([]byte(strings.ToLower(claimed)), []byte(hex.EncodeToString(sum[:]))) {
		return ErrPayloadHash
	}
	return nil
}

// VerifyHTTP is Verify for an http.Request and its already-read body.
func (v Verifier) VerifyHTTP(r *http.Request, body []byte) (string, error) {
	return v.Verify(FromHTTP(r, body))
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// canonicalURI escapes each path segment and ensures a trailing slash.
func canonicalURI(path string) string {
	segs := strings.Split(path, "/")
	for i, s := range segs {
		segs[i] = escape(s)
	}
	u := strings.Join(segs, "/")
	if !strings.HasSuffix(u, "/") {
		u += "/"
	}
	return u
}

// canonicalQuery sorts keys and, per key, values; escapes both; "k=" for empty.
func canonicalQuery(q map[string][]string) string {
	keys := make([]string, 0, len(q))
	for k := range q {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var parts []string
	for _, k := range keys {
		vals := append([]string(nil), q[k]...)
		sort.Strings(vals)
		for _, v := range vals {
			parts = append(parts, escape(k)+"="+escape(v))
		}
	}
	return strings.Join(parts, "&")
}

// escape is RFC 3986 percent-encoding with upper-case hex, leaving A–Z a–z 0–9 - _ . ~.
func escape(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '_' || c == '.' || c == '~' {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte("0123456789ABCDEF"[c>>4])
		b.WriteByte("0123456789ABCDEF"[c&15])
	}
	return b.String()
}

// Package probe calls a production interface the way the marketplace does: it
// signs each body (V2 query signature or Kit x-sign headers) with a fresh nonce and
// timestamp, and checks the answer's shape and Body-Sign (check.go) and its
// documented fields (fields.go). The signing tool, the marketplace simulator, the
// interface monitor and the tests share it.
package probe

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/kgseller/kgseller/shared/kgsign"
)

// Client signs and sends requests to one production URL.
type Client struct {
	URL  string
	Key  kgsign.Key
	Kit  bool // sign with x-sign headers instead of query parameters
	HTTP *http.Client
	// Now is the clock used for timestamps; nil means time.Now.
	Now func() time.Time
	// KitHashedPayload signs Kit calls with the basic-style hashed-payload formula
	// (the server's KG_KIT_HASHED_PAYLOAD=true) instead of the documented raw one.
	KitHashedPayload bool
	// InnerDigest is the inner digest of hashed-payload signatures: empty or
	// kgsign.DigestHMAC as documented, kgsign.DigestSHA256 as a public sample does.
	InnerDigest kgsign.Digest
}

// Signed is a prepared request.
type Signed struct {
	URL     string
	Headers map[string]string
	Body    []byte
	Nonce   string
}

// NewNonce returns a 64-character upper-case hex nonce, as the marketplace sends.
func NewNonce() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return strings.ToUpper(hex.EncodeToString(b))
}

// Sign prepares body with a fresh nonce.
func (c *Client) Sign(body []byte) (Signed, error) {
	now := time.Now
	if c.Now != nil {
		now = c.Now
	}
	return c.SignWith(body, NewNonce(), strconv.FormatInt(now().UnixMilli(), 10))
}

// SignWith prepares body with a given nonce and timestamp (replays, stale requests).
func (c *Client) SignWith(body []byte, nonce, timestamp string) (Signed, error) {
	u, err := url.Parse(c.URL)
	if err != nil {
		return Signed{}, fmt.Errorf("probe: bad URL: %w", err)
	}
	s := Signed{Body: body, Nonce: nonce, Headers: map[string]string{
		"Content-Type": "application/json;charset=utf8", "Accept": "application/json",
	}}
	digest := c.InnerDigest
	if digest == "" {
		digest = kgsign.DigestHMAC
	}
	if c.Kit {
		s.Headers["x-sign"] = kgsign.KitSignature(c.Key, nonce, timestamp, body, false)
		if c.KitHashedPayload {
			s.Headers["x-sign"] = kgsign.V2SignatureDigest(c.Key, nonce, timestamp, body, digest)
		}
		s.Headers["x-timestamp"], s.Headers["x-nonce"] = timestamp, nonce
	} else {
		q := u.Query()
		q.Set("signature", kgsign.V2SignatureDigest(c.Key, nonce, timestamp, body, digest))
		q.Set("timestamp", timestamp)
		q.Set("nonce", nonce)
		u.RawQuery = q.Encode()
	}
	s.URL = u.String()
	return s, nil
}

// signatureParams are the query parameters of a V2 signature.
var signatureParams = []string{"signature", "timestamp", "nonce"}

// StripSignature returns u without the signature's query parameters, for
// messages: a signed query string is long and says nothing to a reader.
func StripSignature(u string) string {
	p, err := url.Parse(u)
	if err != nil || p.RawQuery == "" {
		return u
	}
	q := p.Query()
	for _, name := range signatureParams {
		q.Del(name)
	}
	p.RawQuery = q.Encode()
	return p.String()
}

// Answer is a production interface's answer.
type Answer struct {
	Status int
	Header http.Header
	Body   []byte
	// Fields is the body decoded as a JSON object, numbers kept as json.Number
	// (DecodeObject); nil when the body is not one JSON object.
	Fields      map[string]any
	ContentType string
	Elapsed     time.Duration
	// Key is the key the answer must be signed with: the request's.
	Key kgsign.Key
	// TLS is the connection's TLS state (nil over plain HTTP).
	TLS *tls.ConnectionState
}

// Code returns the answer's resultCode ("" if absent).
func (a Answer) Code() string { s, _ := a.Fields["resultCode"].(string); return s }

// String returns a field as text.
func (a Answer) String(name string) string { s, _ := a.Fields[name].(string); return s }

// Post signs body and sends it.
func (c *Client) Post(ctx context.Context, body []byte) (Answer, error) {
	s, err := c.Sign(body)
	if err != nil {
		return Answer{}, err
	}
	return c.Send(ctx, s)
}

// Send sends a prepared request and reads the answer.
func (c *Client) Send(ctx context.Context, s Signed) (Answer, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.URL, bytes.NewReader(s.Body))
	if err != nil {
		return Answer{}, err
	}
	for k, v := range s.Headers {
		req.Header.Set(k, v)
	}
	hc := c.HTTP
	if hc == nil {
		hc = http.DefaultClient
	}
	start := time.Now()
	resp, err := hc.Do(req)
	if err != nil {
		// The error quotes the URL; its signature is noise in every message.
		var ue *url.Error
		if errors.As(err, &ue) {
			ue.URL = StripSignature(ue.URL)
		}
		return Answer{}, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 8<<20))
	if err != nil {
		return Answer{}, err
	}
	return Answer{
		Status: resp.StatusCode, Header: resp.Header, Body: body, Elapsed: time.Since(start),
		ContentType: resp.Header.Get("Content-Type"), Fields: DecodeObject(body), Key: c.Key, TLS: resp.TLS,
	}, nil
}

package apigsign

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"net/url"
	"os"
	"sort"
	"strings"
	"testing"
	"time"
)

type vector struct {
	Name                   string            `json:"name"`
	Scheme                 string            `json:"scheme"`
	Method                 string            `json:"method"`
	Path                   string            `json:"path"`
	Query                  string            `json:"query"`
	Headers                map[string]string `json:"headers"`
	Body                   string            `json:"body"`
	SK                     string            `json:"sk"`
	CanonicalRequestSha256 string            `json:"canonicalRequestSha256"`
	SignedHeaders          string            `json:"signedHeaders"`
	Signature              string            `json:"signature"`
}

func vectors(t *testing.T) []vector {
	raw, err := os.ReadFile("../../testdata/vectors.json")
	if err != nil {
		t.Fatal(err)
	}
	var doc struct{ Vectors []vector }
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	var out []vector
	for _, v := range doc.Vectors {
		if v.Scheme == "sdk-hmac-sha256" {
			out = append(out, v)
		}
	}
	if len(out) != 2 {
		t.Fatalf("%d SDK-HMAC-SHA256 vectors, want 2", len(out))
	}
	return out
}

func (v vector) request(t *testing.T) (Request, []string) {
	q, err := url.ParseQuery(v.Query)
	if err != nil {
		t.Fatal(err)
	}
	h := map[string][]string{}
	var signed []string
	for k, val := range v.Headers {
		h[k] = []string{val}
		signed = append(signed, k)
	}
	sort.Strings(signed)
	return Request{Method: v.Method, Path: v.Path, Query: q, Headers: h, Body: []byte(v.Body)}, signed
}

// TestPublishedVectors reproduces both published SDK-HMAC-SHA256 vectors, which
// sign every header they list (content-type included).
func TestPublishedVectors(t *testing.T) {
	for _, v := range vectors(t) {
		t.Run(v.Name, func(t *testing.T) {
			req, signed := v.request(t)
			if v.SignedHeaders != "" && strings.Join(signed, ";") != v.SignedHeaders {
				t.Fatalf("signed headers %v, want %s", signed, v.SignedHeaders)
			}
			canonical, err := CanonicalRequest(req, signed)
			if err != nil {
				t.Fatal(err)
			}
			if v.CanonicalRequestSha256 != "" {
				sum := sha256.Sum256([]byte(canonical))
				if got := hex.EncodeToString(sum[:]); got != v.CanonicalRequestSha256 {
					t.Fatalf("canonical request hash %s, want %s\n%s", got, v.CanonicalRequestSha256, canonical)
				}
			}
			if got := Signature([]byte(v.SK), StringToSign(canonical, v.Headers["x-sdk-date"])); got != v.Signature {
				t.Fatalf("signature %s, want %s", got, v.Signature)
			}
			// The verifier accepts the request with the vector's Authorization header...
			date, _ := time.Parse(DateFormat, v.Headers["x-sdk-date"])
			ver := Verifier{Secret: func(ak string) ([]byte, bool) { return []byte(v.SK), ak == "AK" }, Now: func() time.Time { return date }, RequireHost: true}
			req.Headers["authorization"] = []string{"SDK-HMAC-SHA256 Access=AK, SignedHeaders=" + strings.Join(signed, ";") + ", Signature=" + v.Signature}
			if ak, err := ver.Verify(req); err != nil || ak != "AK" {
				t.Fatalf("Verify = %q, %v", ak, err)
			}
			// ...and rejects it once anything signed changes.
			req.Headers["host"] = []string{"evil.example.com"}
			if _, err := ver.Verify(req); !errors.Is(err, ErrBadSignature) {
				t.Fatalf("tampered host: %v", err)
			}
		})
	}
}

func TestVerifierRejections(t *testing.T) {
	v := vectors(t)[1]
	date, _ := time.Parse(DateFormat, v.Headers["x-sdk-date"])
	base := func() (Request, Verifier) {
		req, signed := v.request(t)
		req.Headers["authorization"] = []string{"SDK-HMAC-SHA256 Access=AK, SignedHeaders=" + strings.Join(signed, ";") + ", Signature=" + v.Signature}
		return req, Verifier{Secret: func(ak string) ([]byte, bool) { return []byte(v.SK), ak == "AK" }, Now: func() time.Time { return date }, RequireHost: true}
	}
	cases := map[string]struct {
		mutate func(*Request, *Verifier)
		want   error
	}{
		"no auth":      {func(r *Request, _ *Verifier) { delete(r.Headers, "authorization") }, ErrNoAuth},
		"other scheme": {func(r *Request, _ *Verifier) { r.Headers["authorization"] = []string{"Bearer x"} }, ErrNoAuth},
		"unknown key": {func(r *Request, _ *Verifier) {
			r.Headers["authorization"][0] = strings.Replace(r.Headers["authorization"][0], "Access=AK", "Access=ZZ", 1)
		}, ErrUnknownKey},
		"stale":         {func(_ *Request, ver *Verifier) { ver.Now = func() time.Time { return date.Add(time.Hour) } }, ErrDate},
		"body changed":  {func(r *Request, _ *Verifier) { r.Body = []byte("{}") }, ErrBadSignature},
		"query added":   {func(r *Request, _ *Verifier) { r.Query = map[string][]string{"a": {"1"}} }, ErrBadSignature},
		"method":        {func(r *Request, _ *Verifier) { r.Method = "GET" }, ErrBadSignature},
		"header gone":   {func(r *Request, _ *Verifier) { delete(r.Headers, "x-stage") }, ErrHeaderMissing},
		"malformed sig": {func(r *Request, _ *Verifier) { r.Headers["authorization"][0] += "00" }, ErrMalformed},
	}
	for name, c := range cases {
		req, ver := base()
		c.mutate(&req, &ver)
		if _, err := ver.Verify(req); !errors.Is(err, c.want) {
			t.Errorf("%s: err = %v, want %v", name, err, c.want)
		}
	}
}

func TestEscapeAndQuery(t *testing.T) {
	if got := canonicalQuery(map[string][]string{"b": {"2", "1"}, "a b": {""}, "c": {"x/y+z"}}); got != "a%20b=&b=1&b=2&c=x%2Fy%2Bz" {
		t.Fatalf("canonical query %s", got)
	}
	if got := canonicalURI("/v1/a b/中"); got != "/v1/a%20b/%E4%B8%AD/" {
		t.Fatalf("canonical uri %s", got)
	}
}

// TestSignedContentHashBindsTheBody: when X-Sdk-Content-Sha256 is signed, the
// canonical request carries that value instead of the body's hash, so the verifier
// compares it with the body it received.
func TestSignedContentHashBindsTheBody(t *testing.T) {
	date := time.Date(2026, 5, 1, 10, 0, 0, 0, time.UTC)
	sk := []byte("sk")
	sign := func(body []byte, contentSha string) Request {
		req := Request{Method: "POST", Path: "/v1/x", Headers: map[string][]string{
			"host": {"api.example.com"}, "x-sdk-date": {date.Format(DateFormat)}, "x-sdk-content-sha256": {contentSha},
		}, Body: body}
		signed := []string{"host", "x-sdk-content-sha256", "x-sdk-date"}
		canonical, err := CanonicalRequest(req, signed)
		if err != nil {
			t.Fatal(err)
		}
		req.Headers["authorization"] = []string{"SDK-HMAC-SHA256 Access=AK, SignedHeaders=" + strings.Join(signed, ";") +
			", Signature=" + Signature(sk, StringToSign(canonical, date.Format(DateFormat)))}
		return req
	}
	v := Verifier{Secret: func(ak string) ([]byte, bool) { return sk, ak == "AK" }, Now: func() time.Time { return date }, RequireHost: true}
	body := []byte(`{"n":1}`)
	sum := sha256.Sum256(body)
	good := sign(body, hex.EncodeToString(sum[:]))
	if _, err := v.Verify(good); err != nil {
		t.Fatalf("body matching its signed hash: %v", err)
	}
	good.Body = []byte(`{"n":2}`)
	if _, err := v.Verify(good); !errors.Is(err, ErrPayloadHash) {
		t.Errorf("other body under the signed hash: %v, want ErrPayloadHash", err)
	}
	if _, err := v.Verify(sign(body, strings.Repeat("ab", 32))); !errors.Is(err, ErrPayloadHash) {
		t.Errorf("signed hash of nothing received: %v, want ErrPayloadHash", err)
	}
	unsigned := sign(body, UnsignedPayload)
	if _, err := v.Verify(unsigned); !errors.Is(err, ErrUnsignedPayload) {
		t.Errorf("UNSIGNED-PAYLOAD: %v, want ErrUnsignedPayload", err)
	}
	v.AllowUnsignedPayload = true
	if _, err := v.Verify(unsigned); err != nil {
		t.Errorf("UNSIGNED-PAYLOAD where allowed: %v", err)
	}
}

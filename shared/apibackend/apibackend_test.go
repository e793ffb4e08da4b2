package apibackend_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/kgseller/kgseller/shared/aksk"
	"github.com/kgseller/kgseller/shared/apibackend"
	"github.com/kgseller/kgseller/shared/apigsign"
	"github.com/kgseller/kgseller/shared/config"
	"github.com/kgseller/kgseller/shared/fgruntime/httpfn"
)

var keys = []apibackend.Key{{Key: "sig-key-current", Secret: "sig-secret-current"}, {Key: "sig-key-previous", Secret: "sig-secret-previous"}}

func server(t *testing.T) *httptest.Server {
	t.Helper()
	h := apibackend.Handler(apibackend.Options{Keys: keys, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	srv := httptest.NewServer(httpfn.HTTPHandler(h))
	t.Cleanup(srv.Close)
	return srv
}

// signed builds a request the way API Gateway signs a backend call: SDK-HMAC-SHA256
// with the signature key's Key and Secret (here through the Huawei SDK signer).
func signed(t *testing.T, base string, cred aksk.Credentials, date time.Time, method, path string, q url.Values, body []byte) *http.Request {
	t.Helper()
	req, err := aksk.Request(cred, base, date.UTC().Format(aksk.Date), aksk.Call{Method: method, Path: path, Query: q, Body: body,
		Headers: map[string]string{"X-Request-Id": "req-1"}})
	if err != nil {
		t.Fatal(err)
	}
	return req
}

func do(t *testing.T, req *http.Request) (int, map[string]any) {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var m map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&m); err != nil {
		t.Fatalf("answer is not JSON: %v", err)
	}
	if resp.Header.Get("Content-Type") != "application/json" {
		t.Fatalf("Content-Type %q", resp.Header.Get("Content-Type"))
	}
	return resp.StatusCode, m
}

func TestAcceptsSignedRequests(t *testing.T) {
	srv := server(t)
	for _, k := range keys {
		body := []byte(`{"text":"hi"}`)
		status, m := do(t, signed(t, srv.URL, aksk.Credentials{AK: k.Key, SK: k.Secret}, time.Now(), http.MethodPost, "/api/v1/echo/items",
			url.Values{"b": {"2"}, "a": {"1"}}, body))
		if status != http.StatusOK || m["path"] != "/api/v1/echo/items" || m["method"] != "POST" || m["bodyBytes"] != float64(len(body)) ||
			m["requestId"] != "req-1" {
			t.Fatalf("key %s: %d %v", k.Key, status, m)
		}
	}
	status, m := do(t, signed(t, srv.URL, aksk.Credentials{AK: keys[0].Key, SK: keys[0].Secret}, time.Now(), http.MethodGet, "/api/v1/echo", nil, nil))
	if status != http.StatusOK || m["method"] != "GET" {
		t.Fatalf("GET: %d %v", status, m)
	}
}

func TestRejectsUnsignedAndForged(t *testing.T) {
	srv := server(t)
	good := aksk.Credentials{AK: keys[0].Key, SK: keys[0].Secret}
	body := []byte(`{"text":"hi"}`)
	cases := map[string]func() *http.Request{
		"unsigned": func() *http.Request {
			r, _ := http.NewRequest(http.MethodPost, srv.URL+"/api/v1/echo", bytes.NewReader(body))
			return r
		},
		"wrong secret": func() *http.Request {
			return signed(t, srv.URL, aksk.Credentials{AK: keys[0].Key, SK: "guessed"}, time.Now(), http.MethodPost, "/api/v1/echo", nil, body)
		},
		"unknown key": func() *http.Request {
			return signed(t, srv.URL, aksk.Credentials{AK: "someone-else", SK: "x"}, time.Now(), http.MethodPost, "/api/v1/echo", nil, body)
		},
		"body changed after signing": func() *http.Request {
			r := signed(t, srv.URL, good, time.Now(), http.MethodPost, "/api/v1/echo", nil, body)
			changed := []byte(`{"text":"ho"}`)
			r.Body, r.ContentLength = io.NopCloser(bytes.NewReader(changed)), int64(len(changed))
			return r
		},
		"path changed after signing": func() *http.Request {
			r := signed(t, srv.URL, good, time.Now(), http.MethodPost, "/api/v1/echo", nil, body)
			r.URL.Path = "/api/v1/echo/admin"
			return r
		},
		"query changed after signing": func() *http.Request {
			r := signed(t, srv.URL, good, time.Now(), http.MethodPost, "/api/v1/echo", url.Values{"n": {"1"}}, body)
			r.URL.RawQuery = "n=2"
			return r
		},
		"stale date": func() *http.Request {
			return signed(t, srv.URL, good, time.Now().Add(-time.Hour), http.MethodPost, "/api/v1/echo", nil, body)
		},
		"malformed authorization": func() *http.Request {
			r := signed(t, srv.URL, good, time.Now(), http.MethodPost, "/api/v1/echo", nil, body)
			r.Header.Set("Authorization", "SDK-HMAC-SHA256 Access=x")
			return r
		},
	}
	for name, mk := range cases {
		status, m := do(t, mk())
		if status != http.StatusUnauthorized || m["error_code"] != "BACKEND.0401" {
			t.Errorf("%s: %d %v, want 401", name, status, m)
		}
		if _, echoed := m["path"]; echoed {
			t.Errorf("%s: the request reached the business logic", name)
		}
	}
}

// captured is a request API Gateway signed, as an attacker on the path would
// capture it: the SDK signer puts the X-Sdk-Content-Sha256 it is given into the
// canonical request instead of hashing the body.
func captured(t *testing.T, base string, contentSha string, contentType string, body []byte) *http.Request {
	t.Helper()
	headers := map[string]string{}
	if contentSha != "" {
		headers["X-Sdk-Content-Sha256"] = contentSha
	}
	req, err := aksk.Request(aksk.Credentials{AK: keys[0].Key, SK: keys[0].Secret}, base, time.Now().UTC().Format(aksk.Date),
		aksk.Call{Method: http.MethodPost, Path: "/api/v1/echo", Body: body, ContentType: contentType, Headers: headers})
	if err != nil {
		t.Fatal(err)
	}
	return req
}

func replaceBody(r *http.Request, body []byte) *http.Request {
	r.Body, r.ContentLength = io.NopCloser(bytes.NewReader(body)), int64(len(body))
	return r
}

// TestCapturedRequestCannotCarryAnotherBody: a signed X-Sdk-Content-Sha256 must be
// the hash of the body received, so a captured request's body cannot be replaced
// within the signature's 15 minutes; UNSIGNED-PAYLOAD is refused unless allowed,
// and so is a signature that does not cover host.
func TestCapturedRequestCannotCarryAnotherBody(t *testing.T) {
	var logs bytes.Buffer
	h := apibackend.Handler(apibackend.Options{Keys: keys, Logger: slog.New(slog.NewJSONHandler(&logs, nil))})
	srv := httptest.NewServer(httpfn.HTTPHandler(h))
	t.Cleanup(srv.Close)

	body := []byte(`{"amount":1}`)
	sum := sha256.Sum256(body)
	hash := hex.EncodeToString(sum[:])
	// The genuine request passes.
	if status, m := do(t, captured(t, srv.URL, hash, "", body)); status != http.StatusOK || m["bodyBytes"] != float64(len(body)) {
		t.Fatalf("genuine request: %d %v", status, m)
	}
	// The same captured headers with another body do not.
	status, m := do(t, replaceBody(captured(t, srv.URL, hash, "", body), []byte(`{"amount":1000000}`)))
	if status != http.StatusUnauthorized || m["error_code"] != "BACKEND.0401" {
		t.Errorf("replaced body: %d %v, want 401", status, m)
	}
	// A signed X-Sdk-Content-Sha256 that is not the body's hash at all.
	status, m = do(t, captured(t, srv.URL, strings.Repeat("0", 64), "", body))
	if status != http.StatusUnauthorized {
		t.Errorf("wrong content hash: %d %v, want 401", status, m)
	}
	// UNSIGNED-PAYLOAD (the SDK's choice for non-JSON bodies) signs no body at all.
	logs.Reset()
	status, m = do(t, replaceBody(captured(t, srv.URL, "", "text/plain", body), []byte("anything")))
	if status != http.StatusUnauthorized {
		t.Errorf("UNSIGNED-PAYLOAD: %d %v, want 401", status, m)
	}
	if !strings.Contains(logs.String(), config.APIGAllowUnsignedPayload) {
		t.Errorf("the refusal does not name %s: %s", config.APIGAllowUnsignedPayload, logs.String())
	}
	// A signature that leaves host out could be sent to any other backend.
	noHost := signedWithout(t, srv.URL, "host", body)
	if status, m := do(t, noHost); status != http.StatusUnauthorized {
		t.Errorf("host not signed: %d %v, want 401", status, m)
	}
}

// TestUnsignedPayloadWhenAllowed: with the setting, UNSIGNED-PAYLOAD passes.
func TestUnsignedPayloadWhenAllowed(t *testing.T) {
	h := apibackend.Handler(apibackend.Options{Keys: keys, AllowUnsignedPayload: true, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	srv := httptest.NewServer(httpfn.HTTPHandler(h))
	t.Cleanup(srv.Close)
	if status, m := do(t, captured(t, srv.URL, "", "text/plain", []byte("a b c"))); status != http.StatusOK {
		t.Fatalf("UNSIGNED-PAYLOAD allowed: %d %v", status, m)
	}
}

// TestIdenticalRequestsBothServed: two callers may send the same request in the
// same second; the backend keeps no nonce and serves both.
func TestIdenticalRequestsBothServed(t *testing.T) {
	srv := server(t)
	body := []byte(`{"text":"same"}`)
	first := signed(t, srv.URL, aksk.Credentials{AK: keys[0].Key, SK: keys[0].Secret}, time.Now(), http.MethodPost, "/api/v1/echo", nil, body)
	second := first.Clone(context.Background())
	second.Body = io.NopCloser(bytes.NewReader(body))
	for i, r := range []*http.Request{first, second} {
		if status, m := do(t, r); status != http.StatusOK {
			t.Fatalf("request %d: %d %v", i+1, status, m)
		}
	}
}

// signedWithout signs a POST of body over every header the SDK would sign except
// leave (host or another), the way a client that omits it would.
func signedWithout(t *testing.T, base, leave string, body []byte) *http.Request {
	t.Helper()
	r, err := http.NewRequest(http.MethodPost, base+"/api/v1/echo", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	date := time.Now().UTC().Format(apigsign.DateFormat)
	r.Header.Set("X-Sdk-Date", date)
	r.Header.Set("Content-Type", "application/json")
	signedNames := []string{"host", "x-sdk-date"}
	var keep []string
	for _, n := range signedNames {
		if n != leave {
			keep = append(keep, n)
		}
	}
	canonical, err := apigsign.CanonicalRequest(apigsign.FromHTTP(r, body), keep)
	if err != nil {
		t.Fatal(err)
	}
	sig := apigsign.Signature([]byte(keys[0].Secret), apigsign.StringToSign(canonical, date))
	r.Header.Set("Authorization", "SDK-HMAC-SHA256 Access="+keys[0].Key+", SignedHeaders="+strings.Join(keep, ";")+", Signature="+sig)
	return r
}

// TestOversizedBody: a body over 1 MiB answers 413 in the backend's error shape,
// before any signature work.
func TestOversizedBody(t *testing.T) {
	srv := server(t)
	body := bytes.Repeat([]byte("x"), apibackend.MaxBody+1)
	status, m := do(t, signed(t, srv.URL, aksk.Credentials{AK: keys[0].Key, SK: keys[0].Secret}, time.Now(), http.MethodPost, "/api/v1/echo", nil, body))
	if status != http.StatusRequestEntityTooLarge || m["error_code"] != "BACKEND.0413" {
		t.Fatalf("oversized body: %d %v, want 413 BACKEND.0413", status, m)
	}
}

package apibackend_test

import (
	"bytes"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"
	"time"

	"github.com/kgseller/kgseller/shared/aksk"
	"github.com/kgseller/kgseller/shared/apibackend"
	"github.com/kgseller/kgseller/shared/fgruntime"
)

var keys = []apibackend.Key{{Key: "sig-key-current", Secret: "sig-secret-current"}, {Key: "sig-key-previous", Secret: "sig-secret-previous"}}

func server(t *testing.T) *httptest.Server {
	t.Helper()
	h := apibackend.Handler(apibackend.Options{Keys: keys, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	srv := httptest.NewServer(fgruntime.HTTPHandler(h))
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

package mktcall

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/kgseller/kgseller/shared/apigsign"
)

func TestOptions(t *testing.T) {
	if _, err := New(Options{Endpoint: "http://x"}); !errors.Is(err, ErrNoCredentials) {
		t.Fatalf("no credentials: %v", err)
	}
	if _, err := New(Options{AK: "a", SK: "s", Region: "mars"}); err == nil || !strings.Contains(err.Error(), "cn, eu, intl") {
		t.Fatalf("unknown region: %v", err)
	}
	if _, err := New(Options{AK: "a", SK: "s", Endpoint: "ftp://x"}); err == nil {
		t.Fatal("an ftp endpoint was accepted")
	}
	c, err := New(Options{AK: "AKVISIBLE", SK: "SKSECRET"})
	if err != nil || len(c.endpoints) != 2 || strings.Contains(c.String()+c.GoString(), "SKSECRET") {
		t.Fatalf("cn client %v %v", c, err)
	}
}

// TestSignedAndFallback: calls are signed (verified by the receiving side), and an
// unreachable first host falls through to the next one; an HTTP error does not.
func TestSignedAndFallback(t *testing.T) {
	v := apigsign.Verifier{Secret: func(ak string) ([]byte, bool) { return []byte("sk"), ak == "ak" }, RequireHost: true}
	var verified int
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body := make([]byte, r.ContentLength)
		_, _ = r.Body.Read(body)
		if _, err := v.VerifyHTTP(r, body); err == nil {
			verified++
		}
		w.WriteHeader(http.StatusTeapot)
		_, _ = w.Write([]byte(`{"error_code":"X.1","error_msg":"m","data":{"k":1}}`))
	}))
	defer srv.Close()
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	dead := "http://" + ln.Addr().String()
	ln.Close()
	c, _ := New(Options{AK: "ak", SK: "sk", Endpoint: srv.URL})
	c.endpoints = []string{dead, srv.URL}
	resp, err := c.Send(context.Background(), Request{Method: "POST", Path: "/p", Body: []byte(`{"a":1}`)})
	if err != nil || resp.Status != http.StatusTeapot || verified != 1 {
		t.Fatalf("send: %+v %v (verified %d)", resp, err, verified)
	}
	env := DecodeEnvelope(resp.Body)
	if env.Code() != "X.1" || env.Message() != "m" || string(env.Data) != `{"k":1}` {
		t.Fatalf("envelope %+v", env)
	}
	if e := DecodeEnvelope([]byte(`{"resultCode":"MKT.0000","resultMsg":"ok"}`)); e.Code() != "MKT.0000" || e.Message() != "ok" {
		t.Fatalf("resultCode envelope %+v", e)
	}
	c.endpoints = []string{dead}
	if _, err := c.Send(context.Background(), Request{Method: "GET", Path: "/p"}); err == nil {
		t.Fatal("an unreachable host answered")
	}
}

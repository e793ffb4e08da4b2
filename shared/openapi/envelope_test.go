package openapi

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/kgseller/kgseller/shared/apigsign"
)

// TestSignedCallAndEnvelope: a call is signed (verified by the receiving side), an
// HTTP error comes back as an answer, and both answer shapes decode.
func TestSignedCallAndEnvelope(t *testing.T) {
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
	c, err := New(Options{AK: "ak", SK: "sk", Endpoint: srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	resp, err := c.Send(context.Background(), Call{Method: "POST", Path: "/p", Body: []byte(`{"a":1}`)})
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
	if e := DecodeEnvelope([]byte(`not json`)); e.Code() != "" {
		t.Fatalf("non-JSON envelope %+v", e)
	}
}

package openapi

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kgseller/kgseller/shared/apigsign"
)

// recorder verifies every request with apigsign and remembers the outcome.
type recorder struct {
	mu       sync.Mutex
	verifier apigsign.Verifier
	errs     []error
	bodies   [][]byte
	answer   func(w http.ResponseWriter, r *http.Request)
}

func (rec *recorder) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	_, err := rec.verifier.VerifyHTTP(r, body)
	rec.mu.Lock()
	rec.errs = append(rec.errs, err)
	rec.bodies = append(rec.bodies, body)
	rec.mu.Unlock()
	if err != nil {
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	if rec.answer != nil {
		rec.answer(w, r)
		return
	}
	_, _ = io.WriteString(w, `{"resultCode":"MKT.0000","resultMsg":"Success","extra":{"ignored":true}}`)
}

func newRecorder(ak, sk string) *recorder {
	return &recorder{verifier: apigsign.Verifier{Secret: func(k string) ([]byte, bool) { return []byte(sk), k == ak }, RequireHost: true,
		AllowUnsignedPayload: true}}
}

// TestEverySignedRequestVerifies sends requests of many shapes (paths, query
// values with reserved characters, JSON and multipart bodies) through the SDK
// signer and checks that the receiving-side verifier accepts each one.
func TestEverySignedRequestVerifies(t *testing.T) {
	rec := newRecorder("AK-TEST", "SK-TEST")
	srv := httptest.NewServer(rec)
	defer srv.Close()
	c, err := New(Options{Endpoint: srv.URL, AK: "AK-TEST", SK: "SK-TEST"})
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	chars := []rune("abcXYZ019-_.~ /+=&%?#中文😀'\"")
	word := func() string {
		n := 1 + rng.IntN(8)
		out := make([]rune, n)
		for i := range out {
			out[i] = chars[rng.IntN(len(chars))]
		}
		return string(out)
	}
	calls := []Call{
		{Method: http.MethodGet, Path: QueryOrderPath, Query: url.Values{"orderId": {"MOCKPERIODYEARNEW"}, "orderLineId": {"MOCKPERIODYEARNEW-000001"}}},
		{Method: http.MethodPost, Path: "/api/mkp-openapi-public/global/v1/license/activate", Body: []byte(`{"licenseCode":"X"}`)},
		{Method: http.MethodPost, Path: "/api/mkp-openapi-public/global/v1/market-event/ev-1/file", ContentType: "multipart/form-data; boundary=b", Body: []byte("--b\r\nContent-Disposition: form-data; name=\"file\"\r\n\r\nx\r\n--b--\r\n")},
		{Method: http.MethodGet, Path: "/empty-query-value", Query: url.Values{"a": {""}, "b": {"1"}}},
	}
	for i := 0; i < 40; i++ {
		q := url.Values{}
		for j := 0; j < rng.IntN(4); j++ {
			q.Add(word(), word())
		}
		calls = append(calls, Call{Method: []string{http.MethodGet, http.MethodPost}[i%2], Path: "/api/" + url.PathEscape(word()) + "/x", Query: q, Body: []byte(`{"v":"` + strings.ReplaceAll(word(), `"`, "") + `"}`)})
	}
	for i, call := range calls {
		if err := c.Do(context.Background(), call, nil); err != nil {
			t.Fatalf("call %d %+v: %v", i, call, err)
		}
	}
	for i, err := range rec.errs {
		if err != nil {
			t.Errorf("request %d failed verification: %v", i, err)
		}
	}
	if len(rec.errs) != len(calls) {
		t.Fatalf("%d requests received, want %d", len(rec.errs), len(calls))
	}
	// The bytes that arrived are the bytes that were hashed.
	if string(rec.bodies[1]) != `{"licenseCode":"X"}` {
		t.Fatalf("body sent as %q", rec.bodies[1])
	}
}

func TestWrongSecretIsRejected(t *testing.T) {
	rec := newRecorder("AK", "right")
	srv := httptest.NewServer(rec)
	defer srv.Close()
	c, _ := New(Options{Endpoint: srv.URL, AK: "AK", SK: "wrong"})
	err := c.Do(context.Background(), Call{Method: http.MethodGet, Path: QueryOrderPath}, nil)
	var apiErr *APIError
	if !errors.As(err, &apiErr) || apiErr.Status != http.StatusUnauthorized || Temporary(err) {
		t.Fatalf("err = %v", err)
	}
	if !errors.Is(rec.errs[0], apigsign.ErrBadSignature) {
		t.Fatalf("verifier said %v", rec.errs[0])
	}
}

func TestQueryOrderDecoding(t *testing.T) {
	rec := newRecorder("AK", "SK")
	rec.answer = func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, `{"resultCode":"MKT.0000","resultMsg":"Success","orderInfo":{"orderId":"`+r.URL.Query().Get("orderId")+`","orderType":"NEW","createTime":"20241121090846",
 "orderLine":[{"orderLineId":"L-1","chargingMode":"PERIOD","periodType":"year","periodNumber":1,"expireTime":"20251121235959",
   "productInfo":[{"productId":"OFFI1","skuCode":"s","linearValue":50.5,"productName":"名字"}],"newField":{"x":1}}],
 "buyerInfo":{"mobilePhone":"1","email":null,"customerId":"c","customerType":0,"userId":null},"extendParams":[]}}`)
	}
	srv := httptest.NewServer(rec)
	defer srv.Close()
	c, _ := New(Options{Endpoint: srv.URL, AK: "AK", SK: "SK"})
	o, err := c.QueryOrder(context.Background(), "CS1", "L-1")
	if err != nil {
		t.Fatal(err)
	}
	line, ok := o.Line("L-1")
	if !ok || line.PeriodNumber != "1" || line.ProductInfo[0].LinearValue != "50.5" || o.BuyerInfo.CustomerType != "0" || o.BuyerInfo.Email != "" {
		t.Fatalf("decoded %+v %+v", o, line)
	}
	if _, ok := o.Line("other"); ok {
		t.Fatalf("found a line that does not exist")
	}
	if _, err := c.QueryOrder(context.Background(), "", ""); err == nil {
		t.Fatalf("empty orderId accepted")
	}
}

func TestBusinessErrorAndServerError(t *testing.T) {
	n := 0
	rec := newRecorder("AK", "SK")
	rec.answer = func(w http.ResponseWriter, r *http.Request) {
		n++
		if n == 1 {
			_, _ = io.WriteString(w, `{"resultCode":"MKT.0100","resultMsg":"order not found"}`)
			return
		}
		w.WriteHeader(http.StatusBadGateway)
		_, _ = io.WriteString(w, "upstream down")
	}
	srv := httptest.NewServer(rec)
	defer srv.Close()
	c, _ := New(Options{Endpoint: srv.URL, AK: "AK", SK: "SK"})
	_, err := c.QueryOrder(context.Background(), "CS1", "")
	var apiErr *APIError
	if !errors.As(err, &apiErr) || apiErr.ResultCode != "MKT.0100" || apiErr.ResultMsg != "order not found" {
		t.Fatalf("business error: %v", err)
	}
	_, err = c.QueryOrder(context.Background(), "CS1", "")
	if !errors.As(err, &apiErr) || apiErr.Status != http.StatusBadGateway || !Temporary(err) {
		t.Fatalf("server error: %v", err)
	}
}

func TestFallbackHostWhenUnreachable(t *testing.T) {
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	dead := "http://" + ln.Addr().String()
	ln.Close()
	rec := newRecorder("AK", "SK")
	srv := httptest.NewServer(rec)
	defer srv.Close()
	c, _ := New(Options{Endpoint: srv.URL, AK: "AK", SK: "SK"})
	c.endpoints = []string{dead, srv.URL}
	if err := c.Do(context.Background(), Call{Method: http.MethodGet, Path: "/x"}, nil); err != nil {
		t.Fatalf("fallback: %v", err)
	}
	if len(rec.errs) != 1 || rec.errs[0] != nil {
		t.Fatalf("fallback host saw %v", rec.errs)
	}
	// An HTTP answer, even an error, comes from the first reachable host: no fallback.
	failing := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusBadGateway) }))
	defer failing.Close()
	c.endpoints = []string{failing.URL, srv.URL}
	resp, err := c.Send(context.Background(), Call{Method: http.MethodGet, Path: "/x"})
	if err != nil || resp.Status != http.StatusBadGateway || len(rec.errs) != 1 {
		t.Fatalf("HTTP error fell through to the next host: %+v %v", resp, err)
	}
	c.endpoints = []string{dead}
	if _, err := c.Send(context.Background(), Call{Method: http.MethodGet, Path: "/x"}); err == nil {
		t.Fatal("an unreachable host answered")
	}
}

func TestTimeoutAndTLS(t *testing.T) {
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-time.After(5 * time.Second):
		case <-r.Context().Done():
		}
	}))
	defer slow.Close()
	c, _ := New(Options{Endpoint: slow.URL, AK: "AK", SK: "SK", Timeout: 100 * time.Millisecond})
	if err := c.Do(context.Background(), Call{Method: http.MethodGet, Path: "/"}, nil); err == nil || !Temporary(err) {
		t.Fatalf("slow server: %v", err)
	}
	// A self-signed certificate is refused: TLS is verified strictly.
	tlsSrv := httptest.NewTLSServer(newRecorder("AK", "SK"))
	defer tlsSrv.Close()
	c, _ = New(Options{Endpoint: tlsSrv.URL, AK: "AK", SK: "SK"})
	if err := c.Do(context.Background(), Call{Method: http.MethodGet, Path: "/"}, nil); err == nil || !strings.Contains(err.Error(), "certificate") {
		t.Fatalf("self-signed TLS accepted: %v", err)
	}
}

func TestOptions(t *testing.T) {
	if _, err := New(Options{}); !errors.Is(err, ErrNoCredentials) {
		t.Errorf("no credentials: %v", err)
	}
	if _, err := New(Options{AK: "a", SK: "b", Region: "mars"}); err == nil {
		t.Errorf("unknown region accepted")
	}
	c, err := New(Options{AK: "a", SK: "secret-value"})
	if err != nil || c.endpoints[0] != "https://mkt.myhuaweicloud.com" || c.endpoints[1] != "https://mkt.myhuaweicloud.cn" {
		t.Fatalf("cn hosts %v %v", c, err)
	}
	if s := fmt.Sprintf("%v %+v %s", c, c, c); strings.Contains(s, "secret-value") {
		t.Fatalf("client printed its secret: %s", s)
	}
}

package probe

import (
	"context"
	"net"
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"github.com/kgseller/kgseller/shared/endpoint"
	"github.com/kgseller/kgseller/shared/kgsign"
	"github.com/kgseller/kgseller/shared/marketplace"
)

var unitKey = kgsign.NewKey([]byte("unit-key"), "unit")

// answer builds an Answer as Send would receive it.
func answer(body string, header http.Header) *Answer {
	if header == nil {
		header = http.Header{}
		header.Set("Content-Type", "application/json")
		header.Set("Body-Sign", kgsign.BodySignHeader(unitKey, []byte(body)))
	}
	return &Answer{Status: 200, Header: header, Body: []byte(body), ContentType: header.Get("Content-Type"),
		Fields: DecodeObject([]byte(body)), Key: unitKey}
}

func mustContain(t *testing.T, problems []string, want string) {
	t.Helper()
	if !strings.Contains(strings.Join(problems, "; "), want) {
		t.Fatalf("problems %q do not mention %q", problems, want)
	}
}

func TestCheckShape(t *testing.T) {
	good := `{"resultCode":"000000","resultMsg":"success."}`
	if p := answer(good, nil).Problems(); len(p) != 0 {
		t.Fatalf("good answer: %q", p)
	}
	// Huawei's own samples put a space after "signature=": accepted.
	h := http.Header{}
	h.Set("Content-Type", "application/json;charset=UTF-8")
	h.Set("Body-Sign", `sign_type="HMAC-SHA256", signature= "`+kgsign.BodySign(unitKey, []byte(good))+`"`)
	if p := answer(good, h).Problems(); len(p) != 0 {
		t.Fatalf("sample spacing: %q", p)
	}

	cases := []struct {
		name, body string
		mutate     func(h http.Header)
		want       string
	}{
		{"wrong key", good, func(h http.Header) {
			h.Set("Body-Sign", kgsign.BodySignHeader(kgsign.NewKey([]byte("other"), "o"), []byte(good)))
		}, "Body-Sign does not match"},
		{"no Body-Sign", good, func(h http.Header) { h.Del("Body-Sign") }, "Body-Sign header missing"},
		{"unquoted", good, func(h http.Header) { h.Set("Body-Sign", "sign_type=HMAC-SHA256, signature=abc") }, "double-quoted"},
		{"other algorithm", good, func(h http.Header) { h.Set("Body-Sign", `sign_type="HMAC-SHA1", signature="YWJj"`) }, `want sign_type="HMAC-SHA256"`},
		{"text/plain", good, func(h http.Header) { h.Set("Content-Type", "text/plain") }, "want application/json"},
		{"5-digit code", `{"resultCode":"00000","resultMsg":"x"}`, nil, "not 6 digits"},
		{"numeric code", `{"resultCode":0,"resultMsg":"x"}`, nil, "resultCode missing or not a string"},
		{"no resultMsg", `{"resultCode":"000000"}`, nil, "resultMsg missing"},
		{"long resultMsg", `{"resultCode":"000000","resultMsg":"` + strings.Repeat("字", 256) + `"}`, nil, "256 characters, at most 255"},
		{"not an object", `["000000"]`, nil, "not a JSON object"},
		{"trailing data", good + `{}`, nil, "not a JSON object"},
	}
	for _, c := range cases {
		a := answer(c.body, nil)
		if c.mutate != nil {
			c.mutate(a.Header)
			a.ContentType = a.Header.Get("Content-Type")
		}
		mustContain(t, a.Problems(), c.want)
	}
	a := answer(good, nil)
	a.Status = 404
	mustContain(t, a.Problems(), "HTTP 404, want 200 (route not found")
}

func TestShapeErrorAndBodySignOK(t *testing.T) {
	good := answer(`{"resultCode":"000000","resultMsg":"ok"}`, nil)
	if good.ShapeError() != nil || !good.BodySignOK() {
		t.Fatalf("good answer: %v %v", good.ShapeError(), good.BodySignOK())
	}
	bad := answer(`{"resultCode":"000000","resultMsg":"ok"}`, nil)
	bad.Key = kgsign.NewKey([]byte("other"), "o")
	if bad.ShapeError() == nil || bad.BodySignOK() {
		t.Fatal("an answer signed with another key passes")
	}
}

func TestCheckEvent(t *testing.T) {
	k := kgsign.NewKey([]byte("event-key"), "t")
	good := endpoint.Respond(k, marketplace.NewResult(marketplace.Success, ""))
	m, err := CheckEvent(good, k)
	if err != nil || m["resultCode"] != "000000" {
		t.Fatalf("a Respond answer fails the check: %v %v", m, err)
	}
	for name, mutate := range map[string]func(*events.APIGatewayProxyResponse){
		"status":  func(r *events.APIGatewayProxyResponse) { r.StatusCode = 500 },
		"type":    func(r *events.APIGatewayProxyResponse) { r.Headers["Content-Type"] = "text/plain" },
		"no sign": func(r *events.APIGatewayProxyResponse) { delete(r.Headers, "Body-Sign") },
		"other key": func(r *events.APIGatewayProxyResponse) {
			r.Headers["Body-Sign"] = kgsign.BodySignHeader(kgsign.NewKey([]byte("x"), ""), []byte(r.Body))
		},
		"short code": func(r *events.APIGatewayProxyResponse) { r.Body = `{"resultCode":"0","resultMsg":""}` },
		"non-ascii":  func(r *events.APIGatewayProxyResponse) { r.Body = `{"resultCode":"000000","resultMsg":"é"}` },
	} {
		r := endpoint.Respond(k, marketplace.NewResult(marketplace.Success, ""))
		mutate(&r)
		if name == "short code" || name == "non-ascii" {
			r.Headers["Body-Sign"] = kgsign.BodySignHeader(k, []byte(r.Body))
		}
		if _, err := CheckEvent(r, k); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func TestStripSignature(t *testing.T) {
	for in, want := range map[string]string{
		"http://h/saas/produce?nonce=N&signature=S&timestamp=1": "http://h/saas/produce",
		"http://h/p?a=1&signature=S":                            "http://h/p?a=1",
		"http://h/p":                                            "http://h/p",
	} {
		if got := StripSignature(in); got != want {
			t.Errorf("StripSignature(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestSendErrorHasNoSignature: a refused call's error names the URL without
// the signed query string.
func TestSendErrorHasNoSignature(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	url := "http://" + ln.Addr().String() + "/saas/produce"
	ln.Close()
	_, err = (&Client{URL: url, Key: unitKey}).Post(context.Background(), []byte(`{}`))
	if err == nil || strings.Contains(err.Error(), "signature") || !strings.Contains(err.Error(), url) {
		t.Fatalf("error %v", err)
	}
}

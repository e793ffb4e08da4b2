package aksk

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/huaweicloud/huaweicloud-sdk-go-v3/core/auth/signer"
	"github.com/huaweicloud/huaweicloud-sdk-go-v3/core/request"

	"github.com/kgseller/kgseller/shared/apigsign"
)

// sdkRequest signs a call with the Huawei Cloud Go SDK's own signer, as the
// project did before signing was written here: the reference the tests hold
// Request to.
func sdkRequest(t testing.TB, cred Credentials, endpoint, sdkDate string, call Call) *http.Request {
	t.Helper()
	u, _ := url.Parse(endpoint)
	ct := call.ContentType
	if ct == "" {
		ct = "application/json"
	}
	b := request.NewHttpRequestBuilder().WithEndpoint(endpoint).WithPath(call.Path).WithMethod(call.Method).
		AddHeaderParam("Content-Type", ct).AddHeaderParam("Host", u.Host).AddHeaderParam("X-Sdk-Date", sdkDate)
	if cred.SecurityToken != "" {
		b.AddHeaderParam("X-Security-Token", cred.SecurityToken)
	}
	for k, v := range call.Headers {
		b.AddHeaderParam(k, v)
	}
	for k, vals := range call.Query {
		if len(vals) == 1 {
			b.AddQueryParam(k, reflect.ValueOf(vals[0]))
		} else {
			b.AddQueryParam(k, reflect.ValueOf(vals))
		}
	}
	if call.Body != nil {
		b.WithBody("", string(call.Body))
	}
	sdkReq := b.Build()
	headers, err := signer.Sign(sdkReq, cred.AK, cred.SK)
	if err != nil {
		t.Fatal(err)
	}
	req, err := sdkReq.ConvertRequest()
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	return req
}

// same reports how two signed requests differ on the wire: method, URL, headers
// and body.
func same(a, b *http.Request) string {
	if a.Method != b.Method {
		return "method " + a.Method + " / " + b.Method
	}
	if a.URL.String() != b.URL.String() {
		return "URL " + a.URL.String() + " / " + b.URL.String()
	}
	ha, hb := map[string][]string{}, map[string][]string{}
	for k, v := range a.Header {
		ha[k] = append([]string(nil), v...)
		sort.Strings(ha[k])
	}
	for k, v := range b.Header {
		hb[k] = append([]string(nil), v...)
		sort.Strings(hb[k])
	}
	if !reflect.DeepEqual(ha, hb) {
		ja, _ := json.Marshal(ha)
		jb, _ := json.Marshal(hb)
		return "headers " + string(ja) + " / " + string(jb)
	}
	ba, bb := readBody(a), readBody(b)
	if !bytes.Equal(ba, bb) {
		return "body " + string(ba) + " / " + string(bb)
	}
	return ""
}

func readBody(r *http.Request) []byte {
	if r.Body == nil {
		return nil
	}
	b, _ := io.ReadAll(r.Body)
	return b
}

var calls = []Call{
	{Method: http.MethodGet, Path: "/api/mkp-openapi-public/global/v1/order/query", Query: url.Values{"orderId": {"CS1907251024HPW2Q"}, "orderLineId": {"CS1907251024HPW2Q-000001"}}},
	{Method: http.MethodGet, Path: "/api/mkp-openapi-public/global/v1/order/query", Query: url.Values{"orderId": {"MOCK PERIOD+YEAR/NEW&x=1"}}},
	{Method: http.MethodPost, Path: "/v2/0123456789abcdef/fgs/functions/urn:fss:cn-north-4:0123:function:default:fulfil-worker:latest/invocations-async", Body: []byte(`{"jobId":42}`)},
	{Method: http.MethodPost, Path: "/api/mkp-openapi-public/global/v2/license/activate", Body: []byte(`{"licenseCode":"ABC","deviceFingerprint":"中文 é","a":[1,2]}`)},
	{Method: http.MethodGet, Path: "/v1/0123456789abcdef/secrets/kgseller-db/versions/latest"},
	{Method: http.MethodGet, Path: "/v1/p/secrets/name.with-dots_and_underscores/versions/v12"},
	{Method: http.MethodPost, Path: "/api/mkp-openapi-public/global/v1/market-event/EVT-1/file", ContentType: "multipart/form-data; boundary=abc123",
		Body: []byte("--abc123\r\nContent-Disposition: form-data; name=\"file\"; filename=\"l.json\"\r\n\r\n{}\r\n--abc123--\r\n")},
	{Method: http.MethodPost, Path: "/v2/p/notifications/topics/urn:smn:cn-north-4:p:kg-alerts/publish", Body: []byte(`{"subject":"s","message":"m"}`)},
	{Method: http.MethodGet, Path: "/a path/with spaces/", Query: url.Values{"multi": {"b", "a", "c d"}, "empty": {""}, "sym~._-": {"*'()!"}}},
	{Method: http.MethodPut, Path: "/x", Headers: map[string]string{"X-Project-Id": "p1", "X-Custom_Ignored": "u", "Content-Type-Extra": "v"}, Body: []byte(`[]`)},
	{Method: http.MethodDelete, Path: ""},
	{Method: http.MethodPost, Path: "/bson", ContentType: "application/bson", Body: []byte{0x05, 0, 0, 0, 0}},
}

// TestSameAsTheSDKSigner: every call of the corpus is signed into exactly the
// request the Huawei Cloud Go SDK's signer produces (URL, every header, the
// Authorization value included, and body), with and without a security token.
func TestSameAsTheSDKSigner(t *testing.T) {
	for _, cred := range []Credentials{
		{AK: "HUAWEIAKEXAMPLE00001", SK: "example-secret-key"},
		{AK: "TEMPAK", SK: "temp-sk", SecurityToken: "token/with+chars=="},
	} {
		for i, c := range calls {
			for _, endpoint := range []string{"https://mkt.myhuaweicloud.com", "http://127.0.0.1:8081"} {
				ours, err := Request(cred, endpoint, "20260102T030405Z", c)
				if err != nil {
					t.Fatalf("call %d: %v", i, err)
				}
				theirs := sdkRequest(t, cred, endpoint, "20260102T030405Z", c)
				if d := same(ours, theirs); d != "" {
					t.Errorf("call %d (%s %s) at %s differs from the SDK signer: %s", i, c.Method, c.Path, endpoint, d)
				}
			}
		}
	}
}

// TestVerifiedByTheReceivingSide: what Request signs, apigsign verifies; a body
// changed after signing fails, except where the SDK signs UNSIGNED-PAYLOAD.
func TestVerifiedByTheReceivingSide(t *testing.T) {
	cred := Credentials{AK: "AK1", SK: "sk-1"}
	v := apigsign.Verifier{Secret: func(ak string) ([]byte, bool) { return []byte("sk-1"), ak == "AK1" }, RequireHost: true, AllowUnsignedPayload: true,
		Now: func() (t0 time.Time) { t0, _ = time.Parse(Date, "20260102T030405Z"); return }}
	for i, c := range calls {
		req, err := Request(cred, "https://example.com", "20260102T030405Z", c)
		if err != nil {
			t.Fatal(err)
		}
		body := readBody(req)
		if ak, err := v.VerifyHTTP(req, body); err != nil || ak != "AK1" {
			t.Errorf("call %d: %v", i, err)
		}
		if strings.Contains(c.ContentType, "multipart") || len(body) == 0 {
			continue
		}
		if _, err := v.VerifyHTTP(req, append([]byte(" "), body...)); err == nil {
			t.Errorf("call %d: a changed body verified", i)
		}
	}
}

func TestRefusesWhatItCannotSign(t *testing.T) {
	if _, err := Request(Credentials{AK: "a"}, "https://x", "20260102T030405Z", Call{Method: "GET"}); err != ErrNoCredentials {
		t.Errorf("no SK: %v", err)
	}
	if _, err := Request(Credentials{AK: "a", SK: "s"}, "not a url", "20260102T030405Z", Call{Method: "GET"}); err == nil {
		t.Error("bad endpoint accepted")
	}
	if _, err := Request(Credentials{AK: "a", SK: "s"}, "https://x", "2026-01-02", Call{Method: "GET"}); err == nil {
		t.Error("bad date accepted")
	}
}

// FuzzSameAsTheSDKSigner: any path, query and body are signed as the SDK signs them.
func FuzzSameAsTheSDKSigner(f *testing.F) {
	f.Add("GET", "/api/x", "k", "v", []byte(`{"a":1}`), "application/json")
	f.Add("POST", "/a b/ü", "q q", "&=+", []byte("x"), "text/plain")
	f.Fuzz(func(t *testing.T, method, path, qk, qv string, body []byte, ct string) {
		if method == "" || strings.ContainsAny(method, " \t\r\n()<>@,;:\\\"/[]?={}") || !isPrintable(path+qk+qv+ct) || qk == "" {
			return
		}
		if !strings.HasPrefix(path, "/") || strings.ContainsAny(path, "?#%") {
			return
		}
		c := Call{Method: method, Path: path, Query: url.Values{qk: {qv}}, ContentType: ct, Body: body}
		if strings.TrimSpace(ct) == "" || strings.ContainsAny(ct, "\r\n") {
			c.ContentType = ""
		}
		cred := Credentials{AK: "AK", SK: "SK"}
		ours, err := Request(cred, "https://example.com", "20260102T030405Z", c)
		if err != nil {
			return
		}
		if d := same(ours, sdkRequest(t, cred, "https://example.com", "20260102T030405Z", c)); d != "" {
			t.Fatalf("differs from the SDK signer: %s", d)
		}
	})
}

func isPrintable(s string) bool {
	for _, r := range s {
		if r < 0x20 || r == 0x7f {
			return false
		}
	}
	return true
}

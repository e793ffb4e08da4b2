// Package aksk signs outbound requests to Huawei Cloud APIs (the KooGallery open
// API, FunctionGraph) with "SDK-HMAC-SHA256" through the huaweicloud-sdk-go-v3
// signer, and converts them with the SDK's own request type, so what is signed is
// exactly what is sent.
package aksk

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"reflect"

	"github.com/huaweicloud/huaweicloud-sdk-go-v3/core/auth/signer"
	"github.com/huaweicloud/huaweicloud-sdk-go-v3/core/request"
)

// Credentials are an access key pair, optionally temporary (with a security token,
// as a FunctionGraph agency provides). They never print.
type Credentials struct {
	AK, SK, SecurityToken string
}

// Valid reports whether both keys are set.
func (c Credentials) Valid() bool { return c.AK != "" && c.SK != "" }

// String keeps the keys out of logs.
func (c Credentials) String() string { return "aksk.Credentials{[redacted]}" }

// GoString keeps the keys out of %#v.
func (c Credentials) GoString() string { return c.String() }

// ErrNoCredentials is returned when AK or SK is missing.
var ErrNoCredentials = errors.New("aksk: access key and secret key are required")

// Call is one request to sign.
type Call struct {
	Method      string
	Path        string
	Query       url.Values
	ContentType string // default application/json
	Headers     map[string]string
	Body        []byte
}

// Date is the X-Sdk-Date layout.
const Date = signer.BasicDateFormat

// Request builds and signs a call to endpoint (scheme://host) at the given
// X-Sdk-Date. The Host header is added explicitly because the SDK signer signs only
// the headers a request carries.
func Request(cred Credentials, endpoint, sdkDate string, call Call) (*http.Request, error) {
	if !cred.Valid() {
		return nil, ErrNoCredentials
	}
	u, err := url.Parse(endpoint)
	if err != nil || u.Host == "" {
		return nil, fmt.Errorf("aksk: bad endpoint %q", endpoint)
	}
	ct := call.ContentType
	if ct == "" {
		ct = "application/json"
	}
	b := request.NewHttpRequestBuilder().
		WithEndpoint(endpoint).
		WithPath(call.Path).
		WithMethod(call.Method).
		AddHeaderParam("Content-Type", ct).
		AddHeaderParam("Host", u.Host).
		AddHeaderParam("X-Sdk-Date", sdkDate)
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
		return nil, fmt.Errorf("aksk: signing: %w", err)
	}
	req, err := sdkReq.ConvertRequest()
	if err != nil {
		return nil, fmt.Errorf("aksk: building request: %w", err)
	}
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	if call.Body != nil {
		// Keep the exact hashed bytes, replayable.
		body := call.Body
		req.Body = io.NopCloser(bytes.NewReader(body))
		req.ContentLength = int64(len(body))
		req.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }
	}
	req.Host = u.Host
	return req, nil
}

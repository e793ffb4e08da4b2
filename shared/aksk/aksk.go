// Package aksk signs outbound requests to Huawei Cloud APIs (the KooGallery open
// API, FunctionGraph, CSMS, SMN) with "SDK-HMAC-SHA256": the same canonical
// request, signed headers, payload hash and Authorization header as the signer of
// the Huawei Cloud Go SDK (core/auth/signer), computed with shared/apigsign's
// canonical form, which the receiving side verifies with. It is written here
// rather than called in the SDK because the SDK's signer brings its request
// package, BSON, JSON-iterator, INI and SM2/SM3 code into every function binary
// (1.5 MB and more per function); the tests sign a corpus of calls with both and
// require byte-identical requests, and the two published vectors verify.
package aksk

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"time"

	"github.com/kgseller/kgseller/shared/apigsign"
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
const Date = apigsign.DateFormat

// unsignedPayload is what the SDK signer sends as X-Sdk-Content-Sha256 for a body
// that is neither JSON nor BSON (a multipart upload): the body is then not hashed.
const unsignedPayload = apigsign.UnsignedPayload

// Request builds and signs a call to endpoint (scheme://host) at the given
// X-Sdk-Date (layout Date). As the SDK signer does, it signs every header the call
// carries except Content-Type and names with an underscore, among them Host,
// X-Sdk-Date and, for temporary credentials, X-Security-Token.
func Request(cred Credentials, endpoint, sdkDate string, call Call) (*http.Request, error) {
	if !cred.Valid() {
		return nil, ErrNoCredentials
	}
	u, err := url.Parse(endpoint)
	if err != nil || u.Host == "" {
		return nil, fmt.Errorf("aksk: bad endpoint %q", endpoint)
	}
	if _, err := time.Parse(Date, sdkDate); err != nil {
		return nil, fmt.Errorf("aksk: X-Sdk-Date %q is not in the %s layout", sdkDate, Date)
	}
	ct := call.ContentType
	if ct == "" {
		ct = "application/json"
	}
	// The header set, one value per name, later entries replacing earlier ones as
	// the SDK's request builder does.
	headers := map[string]string{"Content-Type": ct, "Host": u.Host, "X-Sdk-Date": sdkDate}
	if cred.SecurityToken != "" {
		headers["X-Security-Token"] = cred.SecurityToken
	}
	for k, v := range call.Headers {
		headers[k] = v
	}
	if !strings.Contains(ct, "application/json") && !strings.Contains(ct, "application/bson") {
		headers["X-Sdk-Content-Sha256"] = unsignedPayload
	}
	lower := map[string][]string{}
	var signed []string
	for k, v := range headers {
		name := strings.ToLower(k)
		lower[name] = append(lower[name], v)
		if strings.HasPrefix(name, "content-type") || strings.Contains(k, "_") {
			continue
		}
		signed = append(signed, name)
	}
	sort.Strings(signed)
	signed = uniq(signed)
	canonical, err := apigsign.CanonicalRequest(apigsign.Request{
		Method: call.Method, Path: call.Path, Query: call.Query, Headers: lower, Body: call.Body,
	}, signed)
	if err != nil {
		return nil, fmt.Errorf("aksk: signing: %w", err)
	}
	sig := apigsign.Signature([]byte(cred.SK), apigsign.StringToSign(canonical, sdkDate))

	body := call.Body
	req, err := http.NewRequest(call.Method, endpoint, bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("aksk: building request: %w", err)
	}
	if call.Path != "" {
		req.URL.Path = call.Path
	}
	req.URL.RawQuery = encodeQuery(call.Query)
	for k, v := range headers {
		req.Header.Add(k, v)
	}
	req.Header.Set("Authorization", apigsign.Algorithm+" Access="+cred.AK+", SignedHeaders="+strings.Join(signed, ";")+", Signature="+sig)
	// Keep the exact hashed bytes, replayable.
	req.ContentLength = int64(len(body))
	req.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }
	req.Host = u.Host
	return req, nil
}

// encodeQuery writes the query as the SDK does: url.Values encoding with spaces
// as %20 and no "=" after an empty value.
func encodeQuery(q url.Values) string {
	if len(q) == 0 {
		return ""
	}
	return strings.ReplaceAll(strings.ReplaceAll(strings.Trim(q.Encode(), "="), "=&", "&"), "+", "%20")
}

func uniq(sorted []string) []string {
	out := sorted[:0]
	for i, s := range sorted {
		if i == 0 || s != sorted[i-1] {
			out = append(out, s)
		}
	}
	return out
}

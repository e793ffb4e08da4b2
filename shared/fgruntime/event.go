// Package fgruntime runs aws-lambda-go shaped handlers on Huawei FunctionGraph: as a
// custom runtime (bootstrap polling RUNTIME_API_ADDR), as an HTTP function (net/http
// on 127.0.0.1:8000) or, when AWS_LAMBDA_RUNTIME_API is set, through lambda.Start.
// It owns the translation between FunctionGraph's APIG trigger event and the events
// types, which differ in ways that silently lose data if decoded naively.
package fgruntime

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/aws/aws-lambda-go/events"
)

// Values is a header or query map whose values arrive as a string or as an array of
// strings depending on the gateway version; numbers and booleans are read as text.
type Values map[string][]string

// UnmarshalJSON accepts {"k":"v"}, {"k":["v1","v2"]}, {"k":1}, {"k":null} and null.
func (v *Values) UnmarshalJSON(b []byte) error {
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(b, &raw); err != nil {
		return fmt.Errorf("fgruntime: values must be an object: %w", err)
	}
	out := make(Values, len(raw))
	for k, r := range raw {
		vals, err := decodeValue(r)
		if err != nil {
			return fmt.Errorf("fgruntime: value of %q: %w", k, err)
		}
		out[k] = vals
	}
	*v = out
	return nil
}

func decodeValue(r json.RawMessage) ([]string, error) {
	r = bytes.TrimSpace(r)
	if len(r) == 0 || string(r) == "null" {
		return nil, nil
	}
	switch r[0] {
	case '"':
		var s string
		err := json.Unmarshal(r, &s)
		return []string{s}, err
	case '[':
		var items []json.RawMessage
		if err := json.Unmarshal(r, &items); err != nil {
			return nil, err
		}
		out := make([]string, 0, len(items))
		for _, it := range items {
			vals, err := decodeValue(it)
			if err != nil {
				return nil, err
			}
			out = append(out, vals...)
		}
		return out, nil
	case '{':
		return nil, errors.New("nested object")
	default: // number or boolean: keep the literal text
		return []string{string(r)}, nil
	}
}

// RequestContext is FunctionGraph's APIG request context.
type RequestContext struct {
	APIID     string `json:"apiId"`
	RequestID string `json:"requestId"`
	Stage     string `json:"stage"`
	SourceIP  string `json:"sourceIp"`
}

// Event is the APIG trigger event as FunctionGraph delivers it.
type Event struct {
	Body                  string          `json:"body"`
	RequestContext        RequestContext  `json:"requestContext"`
	QueryStringParameters Values          `json:"queryStringParameters"`
	HTTPMethod            string          `json:"httpMethod"`
	PathParameters        Values          `json:"pathParameters"`
	Headers               Values          `json:"headers"`
	Path                  string          `json:"path"`
	IsBase64Encoded       bool            `json:"isBase64Encoded"`
	UserData              json.RawMessage `json:"user_data,omitempty"`

	// bodyDropped is the length of a body the runtime dropped because the event
	// was over its limit; the request is then marked, and its body reads as
	// ErrBodyTooLarge.
	bodyDropped int64
}

// UserDataKey is the key under RequestContext.Authorizer that carries APIG's
// user_data (custom-authoriser output), which the events types have no field for.
const UserDataKey = "user_data"

// Request converts the event into the aws-lambda-go request type that handlers take.
// The body is base64-decoded here when the event says it is encoded, so handlers see
// the raw bytes the caller signed; a body that is flagged but not valid base64 (as in
// Huawei's documented example) is passed through unchanged.
func (e Event) Request() events.APIGatewayProxyRequest {
	req := events.APIGatewayProxyRequest{
		Path:       e.Path,
		HTTPMethod: strings.ToUpper(e.HTTPMethod),
		Body:       e.Body,
		RequestContext: events.APIGatewayProxyRequestContext{
			APIID:      e.RequestContext.APIID,
			RequestID:  e.RequestContext.RequestID,
			Stage:      e.RequestContext.Stage,
			HTTPMethod: strings.ToUpper(e.HTTPMethod),
			Path:       e.Path,
			Identity:   events.APIGatewayRequestIdentity{SourceIP: e.RequestContext.SourceIP},
		},
	}
	if e.IsBase64Encoded {
		if dec, ok := decodeBase64(e.Body); ok {
			req.Body = string(dec)
		}
	}
	req.Headers, req.MultiValueHeaders = flatten(e.Headers, true)
	req.QueryStringParameters, req.MultiValueQueryStringParameters = flatten(e.QueryStringParameters, false)
	req.PathParameters, _ = flatten(e.PathParameters, false)
	if ud := userDataString(e.UserData); ud != "" {
		req.RequestContext.Authorizer = map[string]interface{}{UserDataKey: ud}
	}
	if e.bodyDropped > 0 {
		MarkBodyDropped(&req, e.bodyDropped)
	}
	return req
}

func userDataString(r json.RawMessage) string {
	r = bytes.TrimSpace(r)
	if len(r) == 0 || string(r) == "null" {
		return ""
	}
	var s string
	if json.Unmarshal(r, &s) == nil {
		return s
	}
	return string(r)
}

// flatten returns the single-value and multi-value maps. Header names are
// lower-cased; repeated header values are joined with ", " as HTTP allows, while the
// first query value wins in the single-value map.
func flatten(v Values, header bool) (map[string]string, map[string][]string) {
	if len(v) == 0 {
		return map[string]string{}, map[string][]string{}
	}
	single := make(map[string]string, len(v))
	multi := make(map[string][]string, len(v))
	for k, vals := range v {
		if header {
			k = strings.ToLower(k)
		}
		multi[k] = append(multi[k], vals...)
	}
	for k, vals := range multi {
		switch {
		case len(vals) == 0:
			single[k] = ""
		case header:
			single[k] = strings.Join(vals, ", ")
		default:
			single[k] = vals[0]
		}
	}
	return single, multi
}

func decodeBase64(s string) ([]byte, bool) {
	if dec, err := base64.StdEncoding.DecodeString(s); err == nil {
		return dec, true
	}
	if dec, err := base64.RawStdEncoding.DecodeString(s); err == nil {
		return dec, true
	}
	return nil, false
}

// RawBody returns the request body bytes, decoding base64 when the request is
// flagged as encoded. Handlers call it so they work the same under every runtime.
// A body the runtime had to drop (the event was over its limit) is
// ErrBodyTooLarge.
func RawBody(req events.APIGatewayProxyRequest) ([]byte, error) {
	if n, ok := bodyDropped(req); ok {
		return nil, fmt.Errorf("%w: %d bytes dropped with an event over the runtime's limit", ErrBodyTooLarge, n)
	}
	if !req.IsBase64Encoded {
		return []byte(req.Body), nil
	}
	if dec, ok := decodeBase64(req.Body); ok {
		return dec, nil
	}
	return nil, errors.New("fgruntime: body is flagged base64 but does not decode")
}

// Header returns a request header by case-insensitive name.
func Header(req events.APIGatewayProxyRequest, name string) string {
	if v, ok := req.Headers[name]; ok {
		return v
	}
	lower := strings.ToLower(name)
	for k, v := range req.Headers {
		if strings.ToLower(k) == lower {
			return v
		}
	}
	for k, vals := range req.MultiValueHeaders {
		if strings.ToLower(k) == lower && len(vals) > 0 {
			return strings.Join(vals, ", ")
		}
	}
	return ""
}

// Query returns a query parameter, falling back to the multi-value map.
func Query(req events.APIGatewayProxyRequest, name string) string {
	if v, ok := req.QueryStringParameters[name]; ok {
		return v
	}
	if vals := req.MultiValueQueryStringParameters[name]; len(vals) > 0 {
		return vals[0]
	}
	return ""
}

// Response is the answer FunctionGraph requires: all four keys always present (the
// events type drops isBase64Encoded when false, which APIG may reject with a 500).
type Response struct {
	StatusCode      int               `json:"statusCode"`
	Headers         map[string]string `json:"headers"`
	Body            string            `json:"body"`
	IsBase64Encoded bool              `json:"isBase64Encoded"`
}

// FromProxyResponse converts a handler's answer. Multi-value headers are folded into
// the single map (joined with ", ") except Set-Cookie, of which only the last value
// can be carried; handlers that need several cookies set one combined cookie.
func FromProxyResponse(r events.APIGatewayProxyResponse) Response {
	h := make(map[string]string, len(r.Headers)+len(r.MultiValueHeaders))
	for k, v := range r.Headers {
		h[k] = v
	}
	keys := make([]string, 0, len(r.MultiValueHeaders))
	for k := range r.MultiValueHeaders {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		vals := r.MultiValueHeaders[k]
		if len(vals) == 0 {
			continue
		}
		if strings.EqualFold(k, "Set-Cookie") {
			h[k] = vals[len(vals)-1]
			continue
		}
		h[k] = strings.Join(vals, ", ")
	}
	status := r.StatusCode
	if status == 0 {
		status = 200
	}
	return Response{StatusCode: status, Headers: h, Body: r.Body, IsBase64Encoded: r.IsBase64Encoded}
}

// ParseResponse decodes a function's answer strictly: all four keys must be present,
// as APIG demands. The local emulator uses it to catch adapter regressions.
func ParseResponse(b []byte) (Response, error) {
	var keys map[string]json.RawMessage
	if err := json.Unmarshal(b, &keys); err != nil {
		return Response{}, fmt.Errorf("fgruntime: response is not a JSON object: %w", err)
	}
	for _, k := range []string{"statusCode", "headers", "body", "isBase64Encoded"} {
		if _, ok := keys[k]; !ok {
			return Response{}, fmt.Errorf("fgruntime: response lacks %q", k)
		}
	}
	var r Response
	if err := json.Unmarshal(b, &r); err != nil {
		return Response{}, fmt.Errorf("fgruntime: response fields: %w", err)
	}
	return r, nil
}

// BodyBytes returns the response body bytes, decoding base64 when flagged.
func (r Response) BodyBytes() ([]byte, error) {
	if !r.IsBase64Encoded {
		return []byte(r.Body), nil
	}
	return base64.StdEncoding.DecodeString(r.Body)
}

// itoa is strconv.Itoa, kept local to the package's few formatting needs.
func itoa(n int) string { return strconv.Itoa(n) }

// Package apibackend is an example backend of an API-type product
// (docs/protocol.md#api-products). API Gateway authenticates the buyer's
// application, meters and bills every call, and — with a signature key bound to the
// API — signs each request it forwards with the key's Key/Secret in the
// SDK-HMAC-SHA256 scheme. The backend's only security duty is to accept nothing but
// those signed requests: this handler verifies the signature with shared/apigsign
// and answers 401 to anything unsigned or wrongly signed, before looking at the
// request. Its business logic is a small echo, to be replaced by the seller's own.
package apibackend

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"sort"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/kgseller/kgseller/shared/apigsign"
	"github.com/kgseller/kgseller/shared/config"
	"github.com/kgseller/kgseller/shared/fgruntime"
)

// MaxBody bounds the request body the example accepts.
const MaxBody = 1 << 20

// Key is one APIG signature key: the Key and Secret entered in the APIG console.
type Key struct {
	Key    string
	Secret string
}

// Options configure the handler.
type Options struct {
	// Keys are the accepted signature keys (the current one and, during a change,
	// the previous one).
	Keys []Key
	// Skew is the accepted difference between X-Sdk-Date and now (default 15m,
	// API Gateway's own).
	Skew   time.Duration
	Now    func() time.Time
	Logger *slog.Logger
	// AllowUnsignedPayload accepts requests signed as UNSIGNED-PAYLOAD, whose body
	// the signature does not cover (config.APIGAllowUnsignedPayload).
	AllowUnsignedPayload bool
}

// Handler returns the APIG-triggered handler of the example API.
func Handler(o Options) fgruntime.Handler {
	secrets := map[string][]byte{}
	for _, k := range o.Keys {
		secrets[k.Key] = []byte(k.Secret)
	}
	// Host must be signed, as API Gateway signs it; identical signed requests are
	// not refused, since two callers may send the same call in the same second.
	v := apigsign.Verifier{
		Secret:               func(ak string) ([]byte, bool) { s, ok := secrets[ak]; return s, ok },
		Now:                  o.Now,
		Skew:                 o.Skew,
		RequireHost:          true,
		AllowUnsignedPayload: o.AllowUnsignedPayload,
	}
	logger := o.Logger
	if logger == nil {
		logger = slog.Default()
	}
	return func(ctx context.Context, req events.APIGatewayProxyRequest) (events.APIGatewayProxyResponse, error) {
		body, err := fgruntime.ReadBody(req, MaxBody)
		switch {
		case errors.Is(err, fgruntime.ErrBodyTooLarge):
			logger.Warn("request body too large", "err", err.Error(), "path", req.Path,
				"requestId", requestID(req), "sourceIp", req.RequestContext.Identity.SourceIP)
			return reply(http.StatusRequestEntityTooLarge, map[string]string{"error_code": "BACKEND.0413", "error_msg": "request body is larger than 1 MiB"}), nil
		case err != nil:
			return reply(http.StatusBadRequest, map[string]string{"error_code": "BACKEND.0400", "error_msg": "request body is not acceptable"}), nil
		}
		if _, err := v.Verify(signedRequest(req, body)); err != nil {
			attrs := []any{"reason", reason(err), "path", req.Path,
				"requestId", requestID(req), "sourceIp", req.RequestContext.Identity.SourceIP}
			if errors.Is(err, apigsign.ErrUnsignedPayload) {
				attrs = append(attrs, "setting", config.APIGAllowUnsignedPayload)
			}
			logger.Warn("rejected an unsigned or wrongly signed request", attrs...)
			return reply(http.StatusUnauthorized, map[string]string{"error_code": "BACKEND.0401", "error_msg": "request is not signed by API Gateway"}), nil
		}
		return echo(req, body), nil
	}
}

// reason names a verification failure for the log, without any key material.
func reason(err error) string {
	for _, e := range []error{apigsign.ErrNoAuth, apigsign.ErrMalformed, apigsign.ErrUnknownKey, apigsign.ErrDate,
		apigsign.ErrBadSignature, apigsign.ErrHeaderMissing, apigsign.ErrUnsignedHost, apigsign.ErrPayloadHash,
		apigsign.ErrUnsignedPayload} {
		if errors.Is(err, e) {
			return e.Error()
		}
	}
	return "verification failed"
}

// signedRequest rebuilds the request APIG signed from the trigger event (or the
// HTTP function's request): method, path, query, lower-case headers and body.
func signedRequest(req events.APIGatewayProxyRequest, body []byte) apigsign.Request {
	headers := map[string][]string{}
	for k, v := range req.Headers {
		headers[strings.ToLower(k)] = []string{v}
	}
	for k, vals := range req.MultiValueHeaders {
		if len(vals) > 0 {
			headers[strings.ToLower(k)] = vals
		}
	}
	query := map[string][]string{}
	for k, v := range req.QueryStringParameters {
		query[k] = []string{v}
	}
	for k, vals := range req.MultiValueQueryStringParameters {
		if len(vals) > 0 {
			query[k] = vals
		}
	}
	return apigsign.Request{Method: strings.ToUpper(req.HTTPMethod), Path: req.Path, Query: query, Headers: headers, Body: body}
}

// echo is the example's business logic: it describes the call it received.
func echo(req events.APIGatewayProxyRequest, body []byte) events.APIGatewayProxyResponse {
	sum := sha256.Sum256(body)
	query := map[string]string{}
	keys := make([]string, 0, len(req.QueryStringParameters))
	for k := range req.QueryStringParameters {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		query[k] = req.QueryStringParameters[k]
	}
	return reply(http.StatusOK, map[string]any{
		"message":    "hello from the API backend",
		"method":     strings.ToUpper(req.HTTPMethod),
		"path":       req.Path,
		"query":      query,
		"bodyBytes":  len(body),
		"bodySha256": hex.EncodeToString(sum[:]),
		"requestId":  requestID(req),
	})
}

// requestID is API Gateway's request id: the X-Request-Id header it sends to a
// backend, or the trigger event's request context.
func requestID(req events.APIGatewayProxyRequest) string {
	if id := fgruntime.Header(req, "x-request-id"); id != "" {
		return id
	}
	return req.RequestContext.RequestID
}

func reply(status int, v any) events.APIGatewayProxyResponse {
	b, _ := json.Marshal(v)
	return events.APIGatewayProxyResponse{
		StatusCode: status,
		Headers:    map[string]string{"Content-Type": "application/json"},
		Body:       string(b),
	}
}

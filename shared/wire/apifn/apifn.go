// Package apifn assembles api-backend, the example backend of an API-type
// product, from its settings. It links no database, Kit, SSO or License code.
package apifn

import (
	"context"
	"net/http"

	"github.com/aws/aws-lambda-go/events"

	"github.com/kgseller/kgseller/shared/apibackend"
	"github.com/kgseller/kgseller/shared/apigsign"
	"github.com/kgseller/kgseller/shared/config"
	"github.com/kgseller/kgseller/shared/fgruntime"
)

// Backend builds the api-backend function, the example backend of an
// API-type product: it accepts only requests API Gateway signed with the bound
// signature key. Misconfigured, it refuses every request (503).
func Backend(src config.Source) fgruntime.Handler {
	logger := config.Logger(src)
	l := config.New(src)
	keys := []apibackend.Key{{Key: l.Required(config.APIGSignatureKey), Secret: l.Required(config.APIGSignatureSecret)}}
	if k, s := l.String(config.APIGSignatureKey+config.Previous, ""), l.String(config.APIGSignatureSecret+config.Previous, ""); k != "" || s != "" {
		if k == "" || s == "" {
			l.Invalid(config.APIGSignatureKey+config.Previous, "and "+config.APIGSignatureSecret+config.Previous+" must be set together")
		}
		keys = append(keys, apibackend.Key{Key: k, Secret: s})
	}
	skew := l.Duration(config.APIGSignatureSkew, apigsign.DefaultSkew)
	allowUnsigned := l.Bool(config.APIGAllowUnsignedPayload, false)
	if err := l.Err(); err != nil {
		return func(ctx context.Context, req events.APIGatewayProxyRequest) (events.APIGatewayProxyResponse, error) {
			logger.Error("function is misconfigured", "err", err.Error())
			return events.APIGatewayProxyResponse{StatusCode: http.StatusServiceUnavailable,
				Headers: map[string]string{"Content-Type": "application/json"},
				Body:    `{"error_code":"BACKEND.0503","error_msg":"service misconfigured"}`}, nil
		}
	}
	return apibackend.Handler(apibackend.Options{Keys: keys, Skew: skew, AllowUnsignedPayload: allowUnsigned, Logger: logger})
}

package app

import (
	"context"
	"net/http"

	"github.com/aws/aws-lambda-go/events"

	"github.com/kgseller/kgseller/shared/apibackend"
	"github.com/kgseller/kgseller/shared/apigsign"
	"github.com/kgseller/kgseller/shared/config"
	"github.com/kgseller/kgseller/shared/fgruntime"
)

// Settings of the API-backend example: the signature key bound to the API in API
// Gateway, and the previous one during a change.
const (
	SettingAPIGKey            = "APIG_SIGNATURE_KEY"
	SettingAPIGSecret         = "APIG_SIGNATURE_SECRET"
	SettingAPIGKeyPrevious    = "APIG_SIGNATURE_KEY_PREVIOUS"
	SettingAPIGSecretPrevious = "APIG_SIGNATURE_SECRET_PREVIOUS"
)

// APIBackend builds the api-backend function, the example backend of an
// API-type product: it accepts only requests API Gateway signed with the bound
// signature key. Misconfigured, it refuses every request (503).
func APIBackend(src config.Source) fgruntime.Handler {
	logger := Logger(src)
	l := config.New(src)
	keys := []apibackend.Key{{Key: l.Required(SettingAPIGKey), Secret: l.Required(SettingAPIGSecret)}}
	if k, s := l.String(SettingAPIGKeyPrevious, ""), l.String(SettingAPIGSecretPrevious, ""); k != "" || s != "" {
		if k == "" || s == "" {
			l.Invalid(SettingAPIGKeyPrevious, "and "+SettingAPIGSecretPrevious+" must be set together")
		}
		keys = append(keys, apibackend.Key{Key: k, Secret: s})
	}
	skew := l.Duration("APIG_SIGNATURE_SKEW", apigsign.DefaultSkew)
	allowUnsigned := l.Bool(apibackend.SettingAllowUnsignedPayload, false)
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

// Package sellerfn assembles the functions the seller's application calls
// (provision-callback, usage-report) from their settings.
package sellerfn

import (
	"context"
	"net/http"

	"github.com/aws/aws-lambda-go/events"

	"github.com/kgseller/kgseller/shared/config"
	"github.com/kgseller/kgseller/shared/fgruntime"
	"github.com/kgseller/kgseller/shared/kgsign"
	"github.com/kgseller/kgseller/shared/secretbox"
	"github.com/kgseller/kgseller/shared/sellerapi"
	"github.com/kgseller/kgseller/shared/sellerhook"
	"github.com/kgseller/kgseller/shared/store"
)

// sellerAPI assembles a function the seller's application calls, authenticated with
// the webhook secret.
func sellerAPI(src config.Source, handler func(*sellerapi.Service) fgruntime.Handler) fgruntime.Handler {
	logger := config.Logger(src)
	l := config.New(src)
	dsn, pool := store.Load(l)
	svc := &sellerapi.Service{Secrets: sellerhook.LoadSecrets(l), Box: secretbox.Load(l, false),
		EncryptedCredentials: kgsign.LoadEncryptType(l) != "",
		AllowHTTP:            l.Bool(config.ProvisionWebhookAllowHTTP, false), Logger: logger}
	st, err := store.OpenConfigured(l, dsn, pool)
	svc.Store = st
	if err != nil {
		return func(ctx context.Context, req events.APIGatewayProxyRequest) (events.APIGatewayProxyResponse, error) {
			logger.Error("function is misconfigured", "err", err.Error())
			return events.APIGatewayProxyResponse{StatusCode: http.StatusServiceUnavailable,
				Headers: map[string]string{"Content-Type": "application/json"}, Body: `{"error":"service misconfigured"}`}, nil
		}
	}
	return handler(svc)
}

// ProvisionCallback builds provision-callback: POST /seller/provision-callback.
func ProvisionCallback(src config.Source) fgruntime.Handler {
	return sellerAPI(src, (*sellerapi.Service).CallbackHandler)
}

// UsageReport builds usage-report: POST /seller/usage.
func UsageReport(src config.Source) fgruntime.Handler {
	return sellerAPI(src, (*sellerapi.Service).UsageHandler)
}

package app

import (
	"context"
	"net/http"

	"github.com/aws/aws-lambda-go/events"

	"github.com/kgseller/kgseller/shared/config"
	"github.com/kgseller/kgseller/shared/fgruntime"
	"github.com/kgseller/kgseller/shared/sellerapi"
	"github.com/kgseller/kgseller/shared/store"
)

// sellerAPI assembles a function the seller's application calls, authenticated with
// the webhook secret.
func sellerAPI(src config.Source, handler func(*sellerapi.Service) fgruntime.Handler) fgruntime.Handler {
	logger := Logger(src)
	l := config.New(src)
	dsn := l.Required("DB_DSN")
	pool := store.Options{MaxOpen: l.Int("DB_MAX_OPEN", 4), MaxIdle: l.Int("DB_MAX_IDLE", 2)}
	svc := &sellerapi.Service{Secrets: webhookSecrets(l), Box: optionalDataKey(l), EncryptedCredentials: encryptType(l) != "",
		AllowHTTP: l.Bool(SettingWebhookAllowHTTP, false), Logger: logger}
	err := l.Err()
	if err == nil {
		svc.Store, err = store.Open(dsn, pool)
	}
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

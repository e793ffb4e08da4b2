// Package app assembles each function from configuration: settings, store,
// provisioner and handler. functions/*/main.go hand the result to the runtime; tests
// and the local tools build the very same handlers in-process.
package app

import (
	"context"
	"log/slog"
	"os"
	"strings"

	"github.com/kgseller/kgseller/shared/config"
	"github.com/kgseller/kgseller/shared/endpoint"
	"github.com/kgseller/kgseller/shared/fgruntime"
	"github.com/kgseller/kgseller/shared/fulfil"
	"github.com/kgseller/kgseller/shared/kgsign"
	"github.com/kgseller/kgseller/shared/produce"
	"github.com/kgseller/kgseller/shared/provision"
	"github.com/kgseller/kgseller/shared/store"
)

// Logger returns the JSON logger functions write to stderr (FunctionGraph ships it
// to LTS). LOG_LEVEL=debug|info|warn|error.
func Logger(src config.Source) *slog.Logger {
	level := slog.LevelInfo
	switch strings.ToLower(src("LOG_LEVEL")) {
	case "debug":
		level = slog.LevelDebug
	case "warn":
		level = slog.LevelWarn
	case "error":
		level = slog.LevelError
	}
	return slog.New(slog.NewJSONHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
}

// loadEndpoint reads the settings of an endpoint of one interface type.
func loadEndpoint(l *config.Loader, keyType, scope string) (endpoint.Config, string, store.Options) {
	keys := l.Keys(keyType)
	ver := &kgsign.Verifier{
		Keys:             keys,
		Tolerance:        l.Duration("KG_SIGN_TOLERANCE", kgsign.DefaultTolerance),
		KitHashedPayload: l.Bool("KG_KIT_HASHED_PAYLOAD", false),
	}
	cfg := endpoint.Config{
		Scope:      scope,
		Verifier:   ver,
		MaxBody:    l.Int("KG_MAX_BODY_BYTES", endpoint.DefaultMaxBody),
		Timeout:    l.Duration("KG_REQUEST_TIMEOUT", endpoint.DefaultTimeout),
		PurgeEvery: l.Int("KG_NONCE_PURGE_EVERY", 64),
	}
	dsn := l.Required("DB_DSN")
	pool := store.Options{MaxOpen: l.Int("DB_MAX_OPEN", 4), MaxIdle: l.Int("DB_MAX_IDLE", 2)}
	return cfg, dsn, pool
}

// provisioner builds the configured provisioner.
func provisioner(l *config.Loader) provision.Provisioner {
	switch kind := l.String("PROVISIONER", "static"); kind {
	case "static":
		return provision.Static{
			FrontEndURL: l.Required("PROVISION_FRONTEND_URL"),
			AdminURL:    l.String("PROVISION_ADMIN_URL", ""),
			Memo:        l.String("PROVISION_MEMO", ""),
		}
	default:
		l.Invalid("PROVISIONER", "must be static")
		return nil
	}
}

// SaaSProduce builds the saas-produce function: POST /saas/produce, the seven SaaS
// basic activities. A configuration error still yields a handler, which answers
// every call with 000005 in the documented shape and logs which settings are wrong.
func SaaSProduce(src config.Source) fgruntime.Handler {
	logger := Logger(src)
	l := config.New(src)
	cfg, dsn, pool := loadEndpoint(l, config.KeyBasic, "basic")
	prov := provisioner(l)
	inline := l.Bool("FULFIL_INLINE", true)
	if err := l.Err(); err != nil {
		return endpoint.Misconfigured(cfg.Verifier.Keys, err, logger)
	}
	st, err := store.Open(dsn, pool)
	if err != nil {
		return endpoint.Misconfigured(cfg.Verifier.Keys, err, logger)
	}
	svc := &produce.Service{Store: st, Provisioner: prov}
	if inline {
		runner := &fulfil.Runner{Store: st, Handlers: fulfil.InstanceHandlers(st, prov), Logger: logger}
		svc.Fulfil = func(ctx context.Context, jobID int64) {
			if _, err := runner.Run(ctx, jobID); err != nil {
				logger.Warn("inline fulfilment", "job", jobID, "err", err)
			}
		}
	}
	cfg.Nonces, cfg.Decode, cfg.Logger = st, svc.Decode, logger
	return endpoint.Handler(cfg)
}

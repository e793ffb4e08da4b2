// Package app assembles each function from configuration: settings, store,
// provisioner and handler. functions/*/main.go hand the result to the runtime; tests
// and the local tools build the very same handlers in-process.
package app

import (
	"context"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/kgseller/kgseller/shared/aksk"
	"github.com/kgseller/kgseller/shared/config"
	"github.com/kgseller/kgseller/shared/endpoint"
	"github.com/kgseller/kgseller/shared/fgasync"
	"github.com/kgseller/kgseller/shared/fgruntime"
	"github.com/kgseller/kgseller/shared/fulfil"
	"github.com/kgseller/kgseller/shared/kgsign"
	"github.com/kgseller/kgseller/shared/openapi"
	"github.com/kgseller/kgseller/shared/ordernotify"
	"github.com/kgseller/kgseller/shared/produce"
	"github.com/kgseller/kgseller/shared/provision"
	"github.com/kgseller/kgseller/shared/redact"
	"github.com/kgseller/kgseller/shared/secretbox"
	"github.com/kgseller/kgseller/shared/sellerhook"
	"github.com/kgseller/kgseller/shared/store"
)

// Logger returns the JSON logger functions write to stderr (FunctionGraph ships it
// to LTS), with every configured secret masked. LOG_LEVEL=debug|info|warn|error.
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
	h := slog.NewJSONHandler(os.Stderr, &slog.HandlerOptions{Level: level})
	logger := slog.New(redact.Handler(h, redact.New(config.SecretValues(src)...)))
	// Libraries that log through the default logger are masked too.
	slog.SetDefault(logger)
	return logger
}

// loadEndpoint reads the settings of an endpoint of one interface type; scope names
// the type in the request logs.
func loadEndpoint(l *config.Loader, keyType, scope string) (endpoint.Config, string, store.Options) {
	keys := l.Keys(keyType)
	ver := &kgsign.Verifier{
		Keys:             keys,
		Tolerance:        l.Duration("KG_SIGN_TOLERANCE", kgsign.DefaultTolerance),
		FutureSkew:       l.Duration("KG_SIGN_FUTURE_SKEW", kgsign.DefaultFutureSkew),
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

// provisioner builds the configured provisioner: PROVISIONER=static (default) or
// webhook.
func provisioner(l *config.Loader) provision.Provisioner {
	switch kind := l.String("PROVISIONER", "static"); kind {
	case "static":
		return provision.Static{
			FrontEndURL: l.Required("PROVISION_FRONTEND_URL"),
			AdminURL:    l.String("PROVISION_ADMIN_URL", ""),
			Memo:        l.String("PROVISION_MEMO", ""),
		}
	case "webhook":
		return webhookProvisioner(l)
	default:
		l.Invalid("PROVISIONER", "must be static or webhook")
		return nil
	}
}

// SettingWebhookAllowHTTP allows http for the webhook URL and for the URLs the
// application returns (local runs and tests only).
const SettingWebhookAllowHTTP = "PROVISION_WEBHOOK_ALLOW_HTTP"

// webhookSecrets reads PROVISION_WEBHOOK_SECRET (and _PREVIOUS during a change),
// which signs webhook calls and authenticates the application's callbacks.
func webhookSecrets(l *config.Loader) sellerhook.Secrets {
	secrets, err := sellerhook.NewSecrets(l.Required("PROVISION_WEBHOOK_SECRET"), l.String("PROVISION_WEBHOOK_SECRET_PREVIOUS", ""))
	if err != nil {
		return sellerhook.Secrets{}
	}
	return secrets
}

func webhookProvisioner(l *config.Loader) provision.Provisioner {
	rawURL := l.Required("PROVISION_WEBHOOK_URL")
	secrets := webhookSecrets(l)
	allowHTTP := l.Bool(SettingWebhookAllowHTTP, false)
	if rawURL == "" {
		return nil
	}
	w, err := provision.NewWebhook(rawURL, secrets, allowHTTP)
	if err != nil {
		l.Invalid("PROVISION_WEBHOOK_URL", "must be an absolute https URL")
		return nil
	}
	return w
}

// optionalDataKey reads KG_DATA_KEY when it is set.
func optionalDataKey(l *config.Loader) *secretbox.Box {
	v := l.String(SettingDataKey, "")
	if v == "" {
		return nil
	}
	box, err := secretbox.New(v)
	if err != nil {
		l.Invalid(SettingDataKey, "must be 32 bytes, base64-encoded")
		return nil
	}
	return box
}

// encryptType reads KG_QUERY_ENCRYPT_TYPE: empty (credentials in plain text, the
// default), "1" (AES-256) or "2" (AES-128).
func encryptType(l *config.Loader) kgsign.EncryptType {
	t := kgsign.EncryptType(l.String("KG_QUERY_ENCRYPT_TYPE", ""))
	switch t {
	case "", kgsign.AES256, kgsign.AES128:
		return t
	}
	l.Invalid("KG_QUERY_ENCRYPT_TYPE", "must be empty, 1 (AES-256) or 2 (AES-128)")
	return ""
}

// orders builds the Query Order client from HUAWEICLOUD_SDK_AK/SK, KG_MKT_REGION
// and KG_MKT_ENDPOINT. KG_QUERY_ORDERS=false provisions without querying orders.
func orders(l *config.Loader) fulfil.OrderSource {
	if !l.Bool("KG_QUERY_ORDERS", true) {
		return nil
	}
	ak, sk := l.Required("HUAWEICLOUD_SDK_AK"), l.Required("HUAWEICLOUD_SDK_SK")
	if ak == "" || sk == "" {
		return nil
	}
	c, err := openapi.New(openapi.Options{
		Region: l.String("KG_MKT_REGION", "cn"), Endpoint: l.String("KG_MKT_ENDPOINT", ""), AK: ak, SK: sk,
		Timeout: l.Duration("KG_MKT_TIMEOUT", 10*time.Second),
	})
	if err != nil {
		l.Invalid("KG_MKT_REGION/KG_MKT_ENDPOINT", "are not usable: "+err.Error())
		return nil
	}
	return c
}

// runnerSettings reads the retry settings of the job runner; the caller adds the
// store and handlers.
func runnerSettings(l *config.Loader, logger *slog.Logger) fulfil.Runner {
	return fulfil.Runner{
		Lease:       l.Duration("FULFIL_LEASE", 2*time.Minute),
		MaxAttempts: l.Int("FULFIL_MAX_ATTEMPTS", 8),
		BaseDelay:   l.Duration("FULFIL_BASE_DELAY", 5*time.Second),
		MaxDelay:    l.Duration("FULFIL_MAX_DELAY", 30*time.Minute),
		Logger:      logger,
	}
}

// instanceJobs reads what running instance jobs needs.
func instanceJobs(l *config.Loader) fulfil.Instances {
	return fulfil.Instances{
		Provisioner:          provisioner(l),
		Orders:               orders(l),
		Box:                  optionalDataKey(l),
		EncryptedCredentials: encryptType(l) != "",
	}
}

// handoff reads FULFIL_MODE and returns, for the store once it is open, the
// function an endpoint calls with each job it commits:
//   - async (the default when FULFIL_WORKER_URN is set) starts an asynchronous
//     invocation of fulfil-worker;
//   - timer leaves the job to the worker's timer trigger (nil);
//   - inline runs the job in the request, with the endpoint's job families (read
//     only in this mode), for setups without a worker.
func handoff(l *config.Loader, logger *slog.Logger, families ...jobFamily) func(*store.Store) func(context.Context, int64) {
	none := func(*store.Store) func(context.Context, int64) { return nil }
	urn := l.String("FULFIL_WORKER_URN", "")
	def := "timer"
	if urn != "" {
		def = "async"
	}
	switch mode := l.String("FULFIL_MODE", def); mode {
	case "timer":
		return none
	case "inline":
		run := runnerSettings(l, logger)
		builders := make([]func(*store.Store) map[string]fulfil.Handler, len(families))
		for i, f := range families {
			builders[i] = f(l, logger)
		}
		return func(st *store.Store) func(context.Context, int64) {
			maps := make([]map[string]fulfil.Handler, len(builders))
			for i, b := range builders {
				maps[i] = b(st)
			}
			r := run
			r.Store, r.Handlers = st, fulfil.Merge(maps...)
			return func(ctx context.Context, jobID int64) {
				if _, err := r.Run(ctx, jobID); err != nil {
					logger.Warn("inline fulfilment", "job", jobID, "err", err)
				}
			}
		}
	case "async":
		if urn == "" {
			l.Invalid("FULFIL_MODE", "async needs FULFIL_WORKER_URN")
			return none
		}
		inv, err := fgasync.New(l.String("FULFIL_WORKER_ENDPOINT", ""), urn, aksk.Credentials{
			AK: l.String("HUAWEICLOUD_SDK_AK", ""), SK: l.String("HUAWEICLOUD_SDK_SK", ""),
		})
		if err != nil {
			l.Invalid("FULFIL_WORKER_URN", "is not a function URN")
			return none
		}
		kick := func(ctx context.Context, jobID int64) {
			// Best effort: the job is committed, and the timer trigger runs it if this
			// invocation is lost.
			ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
			defer cancel()
			if err := inv.Invoke(ctx, []byte(`{"jobId":`+strconv.FormatInt(jobID, 10)+`}`)); err != nil {
				logger.Warn("starting the worker failed; the timer will run the job", "job", jobID, "err", err)
			}
		}
		return func(*store.Store) func(context.Context, int64) { return kick }
	default:
		l.Invalid("FULFIL_MODE", "must be async, inline or timer")
		return none
	}
}

// SaaSProduce builds the saas-produce function, which answers POST at its
// production addresses (/saas/produce, /): the seven SaaS basic activities,
// verified with the basic key, and orderNotify as order-notify answers it
// (addressNotify). A configuration error still yields a handler, which answers
// every call with 000005 in the documented shape and logs which settings are wrong.
func SaaSProduce(src config.Source) fgruntime.Handler {
	logger := Logger(src)
	l := config.New(src)
	cfg, dsn, pool := loadEndpoint(l, config.KeyBasic, "basic")
	notify := addressNotify(l, cfg, "basic")
	svc := &produce.Service{Provisioner: provisioner(l), Box: optionalDataKey(l), EncryptType: encryptType(l)}
	fulfilWith := handoff(l, logger, instanceJobFamily, orderJobFamily)
	if err := l.Err(); err != nil {
		return endpoint.Misconfigured(cfg.Verifier.Keys, err, logger)
	}
	st, err := store.Open(dsn, pool)
	if err != nil {
		return endpoint.Misconfigured(cfg.Verifier.Keys, err, logger)
	}
	svc.Store, svc.Fulfil = st, fulfilWith(st)
	cfg.Nonces, cfg.Decode, cfg.Logger = st, svc.Decode, logger
	notify.Nonces, notify.Logger = st, logger
	return withOrderNotify(cfg, notify, &ordernotify.Service{Store: st, Fulfil: svc.Fulfil})
}

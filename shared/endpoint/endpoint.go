// Package endpoint is the request pipeline every marketplace-facing function shares:
// read the raw body once (bounded), verify the signature over those bytes (or their
// canonical JSON form, which Huawei's sample signs), decode and validate, remember
// the nonce (scoped by the key that verified), run the operation, and answer with a
// signed JSON envelope. Whatever happens (a forged request, a bad body, a database
// outage, a panic) the answer is HTTP 200, application/json, a 6-character
// resultCode and a Body-Sign header over the exact bytes sent.
package endpoint

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/url"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/kgseller/kgseller/shared/fgruntime"
	"github.com/kgseller/kgseller/shared/kgsign"
	"github.com/kgseller/kgseller/shared/marketplace"
)

// Operation is a decoded, validated request, ready to run.
type Operation interface {
	// Name is the activity name for logs.
	Name() string
	// Run performs the operation. A *marketplace.Error keeps its code; any other error
	// becomes 000005 with the detail kept in the logs.
	Run(ctx context.Context) (marketplace.Reply, error)
}

// Decoder validates a verified body and returns its operation. Errors should be
// *marketplace.Error with code 000002.
type Decoder func(body []byte) (Operation, error)

// NonceStore remembers nonces of verified requests.
type NonceStore interface {
	// RememberNonce stores a nonce (marketplace.ErrReplay when it is stored
	// already); with purge > 0 it also deletes up to purge expired nonces, in the
	// same round trip.
	RememberNonce(ctx context.Context, scope, nonce string, expires time.Time, purge int) error
	// ForgetNonce releases the nonce of a request whose operation failed.
	ForgetNonce(ctx context.Context, scope, nonce string) error
}

// purgeBatch is how many expired nonces a purging request deletes.
const purgeBatch = 500

// Scheme selects where a request carries its signature.
type Scheme int

const (
	// QuerySignature: V2 signature/timestamp/nonce query parameters (basic, License,
	// license-code and order-notify interfaces).
	QuerySignature Scheme = iota
	// KitHeaders: x-sign/x-timestamp/x-nonce headers (joint-operation Kit).
	KitHeaders
)

// Defaults.
const (
	DefaultMaxBody = 1 << 20
	DefaultTimeout = 4 * time.Second
	// MaxHeaderBytes bounds the request's headers and query parameters together;
	// marketplace calls carry a few hundred bytes.
	MaxHeaderBytes = 32 << 10
)

// nonceRelease is the part of a request's budget an operation does not get: the
// time left to release the request's nonce when the operation fails.
const nonceRelease = 300 * time.Millisecond

// Config assembles one endpoint.
type Config struct {
	Scope    string // interface type for logs: "basic", "kit", … (nonces are scoped by key, see NonceScope)
	Scheme   Scheme
	Verifier *kgsign.Verifier
	Nonces   NonceStore
	Decode   Decoder
	MaxBody  int           // raw body limit; DefaultMaxBody when zero
	Timeout  time.Duration // budget for the whole request; DefaultTimeout when zero
	Logger   *slog.Logger
	// PurgeEvery makes roughly one verified request in PurgeEvery also delete expired
	// nonces, in the round trip that stores its own; 0 disables it (the worker's
	// timer purges too).
	PurgeEvery int
}

// Handler builds the APIG handler of an endpoint.
func Handler(cfg Config) fgruntime.Handler {
	if cfg.MaxBody <= 0 {
		cfg.MaxBody = DefaultMaxBody
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultTimeout
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	return func(ctx context.Context, req events.APIGatewayProxyRequest) (resp events.APIGatewayProxyResponse, err error) {
		start := time.Now()
		ctx, cancel := context.WithTimeout(ctx, cfg.Timeout)
		defer cancel()
		t := trace{activity: "-", key: cfg.Verifier.Keys.Primary()}
		defer func() {
			if p := recover(); p != nil {
				t.reason = fmt.Sprintf("panic: %v", p)
				resp = Respond(t.key, marketplace.NewResult(marketplace.InternalError, ""))
				t.code = marketplace.InternalError
			}
			cfg.log(req, t, time.Since(start))
		}()
		reply := cfg.serve(ctx, req, &t)
		t.code = reply.Code()
		return Respond(t.key, reply), nil
	}
}

// trace collects what the request log line reports.
type trace struct {
	activity string
	code     marketplace.Code
	key      kgsign.Key
	verified bool
	signed   string // what the signature matched: raw or canonical body, inner digest
	reason   string
	busy     bool // the database refused a connection (marketplace.ErrBusy)
}

func (cfg *Config) serve(ctx context.Context, req events.APIGatewayProxyRequest, t *trace) marketplace.Reply {
	if n := headerBytes(req); n > MaxHeaderBytes {
		t.reason = fmt.Sprintf("headers and query of %d bytes", n)
		return marketplace.NewResult(marketplace.BadRequest, fmt.Sprintf("request headers exceed %d bytes", MaxHeaderBytes))
	}
	body, err := fgruntime.ReadBody(req, cfg.MaxBody)
	switch {
	case errors.Is(err, fgruntime.ErrBodyTooLarge):
		t.reason = "body: " + err.Error()
		return marketplace.NewResult(marketplace.BadRequest, fmt.Sprintf("request body exceeds %d bytes", cfg.MaxBody))
	case err != nil:
		t.reason = "body: " + err.Error()
		return marketplace.NewResult(marketplace.BadRequest, "request body is not valid base64")
	}
	v, err := cfg.verify(req, body)
	if err != nil {
		t.reason = err.Error()
		return authFailure(err)
	}
	t.key, t.verified, t.signed = v.Key, true, v.Match()
	op, err := cfg.Decode(body)
	if err != nil {
		t.reason = err.Error()
		return marketplace.ResultFor(err)
	}
	t.activity = op.Name()
	scope := NonceScope(v.Key)
	purge := 0
	if cfg.PurgeEvery > 0 && rand.IntN(cfg.PurgeEvery) == 0 {
		purge = purgeBatch
	}
	if err := cfg.Nonces.RememberNonce(ctx, scope, v.Nonce, nonceExpiry(v, cfg.Verifier), purge); err != nil {
		t.reason, t.busy = err.Error(), errors.Is(err, marketplace.ErrBusy)
		if errors.Is(err, marketplace.ErrReplay) {
			return marketplace.NewResult(marketplace.AuthFailed, "authentication failed: nonce already used")
		}
		return marketplace.NewResult(marketplace.InternalError, "")
	}
	// The nonce is taken before the operation runs, so that concurrent copies of a
	// request cannot both run it. An operation that then fails with 000005 (a
	// database outage, the budget running out, a panic) gives it back: every
	// operation is idempotent, so running the same request again is harmless, and
	// the marketplace's retry of the same signed request must not be refused as a
	// replay. Giving it back here, rather than writing it inside each operation's
	// transaction, is one rule for every endpoint family. A replay of a request that
	// succeeded, or that was answered with any other code, is still refused.
	defer func() {
		if p := recover(); p != nil {
			cfg.forgetNonce(ctx, scope, v.Nonce, t)
			panic(p)
		}
	}()
	opCtx, cancel := operationContext(ctx)
	reply, err := op.Run(context.WithValue(opCtx, verifiedKey{}, v))
	cancel()
	if err != nil {
		t.reason, t.busy = err.Error(), errors.Is(err, marketplace.ErrBusy)
		res := marketplace.ResultFor(err)
		if res.Code() == marketplace.InternalError {
			cfg.forgetNonce(ctx, scope, v.Nonce, t)
		}
		return res
	}
	return reply
}

// operationContext is the request's context with nonceRelease held back from its
// deadline, so that releasing the nonce still fits in the request's budget.
func operationContext(ctx context.Context) (context.Context, context.CancelFunc) {
	if d, ok := ctx.Deadline(); ok && time.Until(d) > 2*nonceRelease {
		return context.WithDeadline(ctx, d.Add(-nonceRelease))
	}
	return context.WithCancel(ctx)
}

// forgetNonce releases the nonce of a failed request. If that fails too (the
// database is unreachable), the nonce stays used until it expires.
func (cfg *Config) forgetNonce(ctx context.Context, scope, nonce string, t *trace) {
	if err := cfg.Nonces.ForgetNonce(ctx, scope, nonce); err != nil {
		t.reason += "; nonce not released: " + err.Error()
	}
}

type verifiedKey struct{}

// VerifiedFrom returns the verification of the request an operation runs for:
// operations that encrypt fields for the marketplace use its key.
func VerifiedFrom(ctx context.Context) (kgsign.Verified, bool) {
	v, ok := ctx.Value(verifiedKey{}).(kgsign.Verified)
	return v, ok
}

// headerBytes sizes the headers and query parameters of a request.
func headerBytes(req events.APIGatewayProxyRequest) int {
	n := 0
	for k, v := range req.Headers {
		n += len(k) + len(v)
	}
	for k, vs := range req.MultiValueHeaders {
		for _, v := range vs {
			n += len(k) + len(v)
		}
	}
	for k, v := range req.QueryStringParameters {
		n += len(k) + len(v)
	}
	return n
}

// errV1 marks a correctly signed call of the retired V1 interface.
var errV1 = errors.New("V1 authToken interface")

func (cfg *Config) verify(req events.APIGatewayProxyRequest, body []byte) (kgsign.Verified, error) {
	if cfg.Scheme == KitHeaders {
		return cfg.Verifier.VerifyKit(fgruntime.Header(req, "x-sign"), fgruntime.Header(req, "x-timestamp"),
			fgruntime.Header(req, "x-nonce"), body)
	}
	sig := fgruntime.Query(req, "signature")
	if sig == "" && fgruntime.Query(req, "authToken") != "" {
		params := url.Values{}
		for k, vs := range req.MultiValueQueryStringParameters {
			params[k] = append([]string(nil), vs...)
		}
		for k, v := range req.QueryStringParameters {
			if _, ok := params[k]; !ok {
				params.Set(k, v)
			}
		}
		if _, err := cfg.Verifier.VerifyV1(params); err != nil {
			return kgsign.Verified{}, err
		}
		return kgsign.Verified{}, errV1
	}
	return cfg.Verifier.VerifyV2(sig, fgruntime.Query(req, "timestamp"), fgruntime.Query(req, "nonce"), body)
}

func authFailure(err error) marketplace.Result {
	switch {
	case errors.Is(err, errV1):
		return marketplace.NewResult(marketplace.BadRequest,
			"the V1 authToken interface is retired; bind this address to the V2 interface in the Seller Console")
	case errors.Is(err, kgsign.ErrTooOld):
		return marketplace.NewResult(marketplace.AuthFailed, "authentication failed: timestamp outside the allowed window")
	case errors.Is(err, kgsign.ErrNotSigned):
		return marketplace.NewResult(marketplace.AuthFailed, "authentication failed: signature, timestamp or nonce missing")
	}
	return marketplace.NewResult(marketplace.AuthFailed, "")
}

// nonceExpiry keeps a nonce at least as long as its timestamp can pass the window,
// plus a margin, and never less than two minutes. A timestamp ahead of the clock
// (up to the future skew) is kept correspondingly longer, since the expiry counts
// from the timestamp.
func nonceExpiry(v kgsign.Verified, ver *kgsign.Verifier) time.Time {
	past, _ := ver.Window()
	exp := v.Timestamp.Add(past + time.Minute)
	if min := time.Now().Add(2 * time.Minute); exp.Before(min) {
		exp = min
	}
	return exp
}

func (cfg *Config) log(req events.APIGatewayProxyRequest, t trace, d time.Duration) {
	attrs := []any{
		"scope", cfg.Scope,
		"activity", t.activity,
		"resultCode", string(t.code),
		"ms", float64(d.Microseconds()) / 1000,
		"requestId", req.RequestContext.RequestID,
		"sourceIp", req.RequestContext.Identity.SourceIP,
	}
	if t.verified {
		attrs = append(attrs, "key", t.key.Label(), "signed", t.signed)
	}
	if t.reason != "" {
		attrs = append(attrs, "reason", t.reason)
	}
	if t.code == marketplace.AuthFailed {
		// What a seller needs to compare with the marketplace's side, never the key.
		body, _ := fgruntime.RawBody(req)
		sum := sha256.Sum256(body)
		attrs = append(attrs, "timestamp", fgruntime.Query(req, "timestamp")+fgruntime.Header(req, "x-timestamp"),
			"nonce", fgruntime.Query(req, "nonce")+fgruntime.Header(req, "x-nonce"),
			"bodyBytes", len(body), "bodySha256", hex.EncodeToString(sum[:]))
	}
	level := slog.LevelInfo
	switch {
	case t.code == marketplace.InternalError && t.busy:
		// The store logs a burst of refused connections once; a line per refused
		// request at error level would bury it.
		level = slog.LevelWarn
	case t.code == marketplace.InternalError:
		level = slog.LevelError
	}
	cfg.Logger.Log(context.Background(), level, "request", attrs...)
}

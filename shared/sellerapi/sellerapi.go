// Package sellerapi serves the calls the seller's own application makes to this
// project: the provisioning callback (completing an instance it accepted to
// provision asynchronously) and pay-per-use usage reports. Both are authenticated
// with the webhook secret (shared/sellerhook), not with marketplace keys.
package sellerapi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"regexp"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/kgseller/kgseller/shared/fgruntime"
	"github.com/kgseller/kgseller/shared/marketplace"
	"github.com/kgseller/kgseller/shared/provision"
	"github.com/kgseller/kgseller/shared/reqbody"
	"github.com/kgseller/kgseller/shared/secretbox"
	"github.com/kgseller/kgseller/shared/sellerhook"
	"github.com/kgseller/kgseller/shared/store"
)

// MaxBody bounds a callback or report.
const MaxBody = 64 << 10

// NonceScope is the scope under which the signatures of accepted calls are kept
// in the nonces table: a signature seen again within its tolerance is a replay.
const NonceScope = "seller"

// Service holds what the handlers need.
type Service struct {
	Store   *store.Store
	Secrets sellerhook.Secrets
	// Box seals a password the callback delivers.
	Box *secretbox.Box
	// EncryptedCredentials applies the encrypted-field length limit (see
	// provision.CheckAppInfo).
	EncryptedCredentials bool
	// AllowHTTP accepts http URLs from the application (the local run); otherwise
	// frontEndUrl, adminUrl and dashboardUrl must be https.
	AllowHTTP bool
	Logger    *slog.Logger
	Now       func() time.Time
}

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

// answer writes a JSON answer.
func answer(status int, v any) events.APIGatewayProxyResponse {
	b, _ := json.Marshal(v)
	return events.APIGatewayProxyResponse{
		StatusCode: status,
		Headers:    map[string]string{"Content-Type": "application/json", "Cache-Control": "no-store"},
		Body:       string(b),
	}
}

func problem(status int, msg string) events.APIGatewayProxyResponse {
	return answer(status, map[string]string{"error": msg})
}

// handler wraps an operation with the body limit, authentication, panic recovery
// and a log line.
func (s *Service) handler(name string, run func(ctx context.Context, o reqbody.Object, signed sellerhook.Signed) events.APIGatewayProxyResponse) fgruntime.Handler {
	logger := s.Logger
	if logger == nil {
		logger = slog.Default()
	}
	return func(ctx context.Context, req events.APIGatewayProxyRequest) (resp events.APIGatewayProxyResponse, err error) {
		start := time.Now()
		defer func() {
			if p := recover(); p != nil {
				logger.Error("seller API panic", "op", name, "panic", fmt.Sprint(p))
				resp = problem(http.StatusInternalServerError, "internal error")
			}
			logger.Info("seller API", "op", name, "status", resp.StatusCode, "ms", float64(time.Since(start).Microseconds())/1000, "requestId", req.RequestContext.RequestID)
		}()
		if req.HTTPMethod != "" && req.HTTPMethod != http.MethodPost {
			return problem(http.StatusMethodNotAllowed, "use POST"), nil
		}
		body, err := fgruntime.ReadBody(req, MaxBody)
		switch {
		case errors.Is(err, fgruntime.ErrBodyTooLarge):
			logger.Warn("seller API body too large", "op", name, "err", err.Error(), "requestId", req.RequestContext.RequestID)
			return problem(http.StatusRequestEntityTooLarge, "body is larger than 64 KiB"), nil
		case err != nil:
			return problem(http.StatusBadRequest, "body is not readable"), nil
		}
		signed, err := s.Secrets.VerifySigned(fgruntime.Header(req, sellerhook.Header), body, s.now(), sellerhook.DefaultTolerance)
		if err != nil {
			return problem(http.StatusUnauthorized, "signature: "+strings.TrimPrefix(err.Error(), "sellerhook: ")), nil
		}
		o, err := reqbody.Parse(body)
		if err != nil {
			return problem(http.StatusBadRequest, marketplace.ResultFor(err).ResultMsg), nil
		}
		ctx, cancel := context.WithTimeout(ctx, 4*time.Second)
		defer cancel()
		// The signature is kept until its timestamp leaves the tolerance window (and a
		// minute more), so a captured call sent again is refused. A call that fails
		// on the server side (500) gives it back, as the marketplace endpoints do with
		// their nonce: every operation is idempotent, and the application's retry of
		// the same signed bytes must not be refused as a replay.
		expires := signed.Time.Add(sellerhook.DefaultTolerance + time.Minute)
		if err := s.Store.RememberNonce(ctx, NonceScope, signed.Signature, expires, 0); err != nil {
			if errors.Is(err, marketplace.ErrReplay) {
				return problem(http.StatusUnauthorized, "signature: already used; sign every request anew"), nil
			}
			level := slog.LevelError
			if errors.Is(err, marketplace.ErrBusy) {
				level = slog.LevelWarn // the store logs a burst of refused connections once
			}
			logger.Log(ctx, level, "remembering the signature", "op", name, "err", err.Error(), "requestId", req.RequestContext.RequestID)
			return problem(http.StatusInternalServerError, "internal error"), nil
		}
		defer func() {
			if p := recover(); p != nil {
				s.forgetSignature(signed.Signature, logger, name)
				panic(p)
			}
			if resp.StatusCode >= http.StatusInternalServerError {
				s.forgetSignature(signed.Signature, logger, name)
			}
		}()
		return run(ctx, o, signed), nil
	}
}

// forgetSignature releases the signature of a call that failed on the server
// side. It has its own short budget: the request's may be what ran out.
func (s *Service) forgetSignature(signature string, logger *slog.Logger, op string) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	if err := s.Store.ForgetNonce(ctx, NonceScope, signature); err != nil {
		logger.Warn("signature not released; the retry must be signed anew", "op", op, "err", err.Error())
	}
}

// CallbackHandler serves POST /seller/provision-callback:
//
//	{"instanceId":"…","appInfo":{"frontEndUrl":"…","adminUrl":"…","userName":"…","password":"…","memo":"…"}}
//	{"instanceId":"…","failed":{"resultCode":"000100","reason":"…"}}
//
// Only an instance still provisioning changes; a repeated callback answers 200
// with "changed": false.
func (s *Service) CallbackHandler() fgruntime.Handler {
	return s.handler("provision-callback", func(ctx context.Context, o reqbody.Object, _ sellerhook.Signed) events.APIGatewayProxyResponse {
		id, err := o.ID("instanceId", 64, true)
		if err != nil {
			return problem(http.StatusBadRequest, marketplace.ResultFor(err).ResultMsg)
		}
		var app *marketplace.AppInfo
		var fail *marketplace.Error
		sealed := ""
		switch {
		case o.Has("appInfo") && o.Has("failed"):
			return problem(http.StatusBadRequest, "send either appInfo or failed")
		case o.Has("appInfo"):
			a, err := o.Object("appInfo", true)
			if err != nil {
				return problem(http.StatusBadRequest, marketplace.ResultFor(err).ResultMsg)
			}
			info, err := appInfoFrom(a)
			if err != nil {
				return problem(http.StatusBadRequest, marketplace.ResultFor(err).ResultMsg)
			}
			if err := provision.CheckAppURLs(info, s.AllowHTTP); err != nil {
				return problem(http.StatusBadRequest, err.Error())
			}
			if sealed, err = provision.SealAppInfo(s.Box, id, info, s.EncryptedCredentials); err != nil {
				if p, ok := provision.IsPermanent(err); ok {
					return problem(http.StatusBadRequest, p.Reason)
				}
				return problem(http.StatusInternalServerError, "internal error")
			}
			app = &info
		case o.Has("failed"):
			f, err := o.Object("failed", true)
			if err != nil {
				return problem(http.StatusBadRequest, marketplace.ResultFor(err).ResultMsg)
			}
			code, _ := f.String("resultCode", 6, false)
			reason, err := f.String("reason", 255, false)
			if err != nil {
				return problem(http.StatusBadRequest, marketplace.ResultFor(err).ResultMsg)
			}
			c := marketplace.Code(code)
			if !c.Valid() || c == marketplace.Success || c == marketplace.Processing {
				c = marketplace.InternalError
			}
			// The reason reaches operators' terminals and the marketplace's resultMsg.
			reason = marketplace.SafeText(reason, marketplace.MaxMessageLen)
			if reason == "" {
				reason = "provisioning failed"
			}
			fail = &marketplace.Error{Code: c, Msg: reason}
		default:
			return problem(http.StatusBadRequest, "appInfo or failed is required")
		}
		changed, err := s.Store.CompleteByCallback(ctx, id, app, sealed, fail)
		switch {
		case errors.Is(err, store.ErrNotFound):
			return problem(http.StatusNotFound, "unknown instance")
		case err != nil:
			return problem(http.StatusInternalServerError, "internal error")
		}
		return answer(http.StatusOK, map[string]any{"ok": true, "changed": changed})
	})
}

func appInfoFrom(a reqbody.Object) (marketplace.AppInfo, error) {
	var info marketplace.AppInfo
	var err error
	fields := []struct {
		dst      *string
		name     string
		max      int
		required bool
	}{
		{&info.FrontEndURL, "frontEndUrl", 512, true}, {&info.AdminURL, "adminUrl", 512, false},
		{&info.UserName, "userName", 128, false}, {&info.Password, "password", 128, false}, {&info.Memo, "memo", 1024, false},
	}
	for _, f := range fields {
		if *f.dst, err = a.String(f.name, f.max, f.required); err != nil {
			return marketplace.AppInfo{}, err
		}
	}
	return info, nil
}

// usageValue is a non-negative decimal of at most 8 integer and 4 fraction digits
// (the documented Double(12,4)).
var usageValue = regexp.MustCompile(`^[0-9]{1,8}(\.[0-9]{1,4})?$`)

// UsageHandler serves POST /seller/usage:
//
//	{"instanceId":"…","usageValue":12.5,"statisticalTime":"20241121090846123",
//	 "relatedInstanceId":"…","dashboardUrl":"https://…"}
//
// statisticalTime (UTC yyyyMMddHHmmssSSS) defaults to the signature's timestamp. A
// report older than the stored one is accepted and ignored.
func (s *Service) UsageHandler() fgruntime.Handler {
	return s.handler("usage-report", func(ctx context.Context, o reqbody.Object, signed sellerhook.Signed) events.APIGatewayProxyResponse {
		u, err := s.usageFrom(o, signed.Time)
		if err != nil {
			return problem(http.StatusBadRequest, marketplace.ResultFor(err).ResultMsg)
		}
		err = s.Store.RecordUsage(ctx, u)
		switch {
		case errors.Is(err, store.ErrNotFound):
			return problem(http.StatusNotFound, "unknown instance")
		case err != nil:
			return problem(http.StatusInternalServerError, "internal error")
		}
		return answer(http.StatusOK, map[string]any{"ok": true})
	})
}

// usageFrom reads a report; signedAt, the signature's timestamp, is its
// statistical time when it names none.
func (s *Service) usageFrom(o reqbody.Object, signedAt time.Time) (marketplace.Usage, error) {
	bad := func(format string, args ...any) error {
		return marketplace.Errorf(marketplace.BadRequest, format, args...)
	}
	var u marketplace.Usage
	var err error
	if u.InstanceID, err = o.ID("instanceId", 64, true); err != nil {
		return u, err
	}
	if u.RelatedInstanceID, err = o.ID("relatedInstanceId", 64, false); err != nil {
		return u, err
	}
	if u.DashboardURL, err = o.String("dashboardUrl", 512, false); err != nil {
		return u, err
	}
	if u.DashboardURL != "" {
		if err := provision.CheckURL("dashboardUrl", u.DashboardURL, s.AllowHTTP); err != nil {
			return u, bad("%s", err.Error())
		}
	}
	raw, ok := o["usageValue"]
	if !ok {
		return u, bad("usageValue is required")
	}
	text := strings.Trim(string(raw), `"`)
	if !usageValue.MatchString(text) {
		return u, bad("usageValue must be a non-negative number with at most 8 integer and 4 fraction digits")
	}
	u.Value = text
	// Without statisticalTime a report counts at the time it was signed, never at
	// its arrival: a late delivery then cannot pass a newer report.
	u.StatisticalTime = signedAt.UTC()
	if ts, err := o.String("statisticalTime", 17, false); err != nil {
		return u, err
	} else if ts != "" {
		t, err := time.ParseInLocation("20060102150405.000", ts[:min(14, len(ts))]+"."+ts[min(14, len(ts)):], time.UTC)
		if len(ts) != 17 || err != nil {
			return u, bad("statisticalTime must be UTC yyyyMMddHHmmssSSS")
		}
		u.StatisticalTime = t
	}
	return u, nil
}

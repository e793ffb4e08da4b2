// Package ssofn assembles the three unified-login functions (sso-login,
// sso-callback, sso-logout) from their settings.
package ssofn

import (
	"context"
	"log/slog"
	"net/url"
	"strings"

	"github.com/aws/aws-lambda-go/events"

	"github.com/kgseller/kgseller/shared/config"
	"github.com/kgseller/kgseller/shared/fgruntime"
	"github.com/kgseller/kgseller/shared/secretbox"
	"github.com/kgseller/kgseller/shared/sso"
	"github.com/kgseller/kgseller/shared/store"
)

// ssoRole is which of the three functions is being assembled.
type ssoRole int

const (
	ssoLogin ssoRole = iota
	ssoCallback
	ssoLogout
)

// Login builds sso-login: GET /sso/login.
func Login(src config.Source) fgruntime.Handler {
	return ssoFunction(src, ssoLogin, (*sso.Service).LoginHandler)
}

// Callback builds sso-callback: GET /sso/callback.
func Callback(src config.Source) fgruntime.Handler {
	return ssoFunction(src, ssoCallback, (*sso.Service).CallbackHandler)
}

// Logout builds sso-logout: GET /sso/logout.
func Logout(src config.Source) fgruntime.Handler {
	return ssoFunction(src, ssoLogout, (*sso.Service).LogoutHandler)
}

func ssoFunction(src config.Source, role ssoRole, handler func(*sso.Service) fgruntime.Handler) fgruntime.Handler {
	logger := config.Logger(src)
	l := config.New(src)
	svc := loadSSO(l, role)
	// Sessions live in the database, so logout needs it too; only login and
	// callback open client secrets.
	dsn, pool := store.Load(l)
	if role != ssoLogout {
		svc.Box = secretbox.Load(l, true)
	}
	st, err := store.OpenConfigured(l, dsn, pool)
	if err != nil {
		return ssoMisconfigured(err, logger)
	}
	svc.Store = st
	svc.Logger = logger
	return handler(svc)
}

// loadSSO reads the settings the three functions share.
func loadSSO(l *config.Loader, role ssoRole) *sso.Service {
	allowHTTP := l.Bool(config.SSOAllowHTTP, false)
	svc := &sso.Service{}
	svc.AllowHTTP = allowHTTP
	svc.AppID = l.String(config.SSOAppID, "")
	if role != ssoLogout && svc.AppID == "" {
		l.Required(config.SSOAppID)
	}
	hosts := splitList(l.String(config.SSOAllowedHosts, ""))
	svc.AppURL = absoluteURL(l, config.SSOAppURL, l.Required(config.SSOAppURL), allowHTTP)
	if svc.AppURL != nil {
		hosts = append(hosts, svc.AppURL.Host)
	}
	if v := l.String(config.SSOLogoutURL, ""); v != "" {
		if u := absoluteURL(l, config.SSOLogoutURL, v, allowHTTP); u != nil {
			svc.LogoutURL = u.String()
			hosts = append(hosts, u.Host)
		}
	}
	svc.Redirects = sso.Redirects{Hosts: hosts, Base: svc.AppURL, AllowHTTP: allowHTTP}
	svc.LoginURL = l.String(config.SSOLoginURL, sso.DefaultLoginURL)
	if role == ssoLogin {
		absoluteURL(l, config.SSOLoginURL, strings.NewReplacer("{appId}", "x", "{state}", "x").Replace(svc.LoginURL), allowHTTP)
	}
	if v := l.String(config.SSORedirectURI, ""); v != "" {
		if u := absoluteURL(l, config.SSORedirectURI, v, allowHTTP); u != nil {
			svc.RedirectURI = u.String()
		}
	}
	svc.IdPHosts = splitList(l.String(config.SSOIdPHosts, ""))
	svc.RequireState = l.Bool(config.SSORequireState, false)
	svc.SessionTTL = l.Duration(config.SSOSessionTTL, sso.DefaultSessionTTL)
	if key := l.Required(config.SSOSessionKey); key != "" {
		c, err := sso.NewCookies(key, l.String(config.SSOCookieDomain, ""))
		if err != nil {
			l.Invalid(config.SSOSessionKey, "must be 32 bytes, base64-encoded")
		}
		svc.Cookies = c
	}
	svc.HTTP = sso.NewHTTPClient(l.Duration(config.SSOHTTPTimeout, sso.DefaultHTTPTimeout))
	return svc
}

// absoluteURL checks a URL setting: absolute, with a host, https unless allowHTTP.
func absoluteURL(l *config.Loader, name, v string, allowHTTP bool) *url.URL {
	if v == "" {
		return nil
	}
	u, err := url.Parse(v)
	if err != nil || u.Host == "" || u.User != nil || (u.Scheme != "https" && !(allowHTTP && u.Scheme == "http")) {
		l.Invalid(name, "must be an absolute https URL")
		return nil
	}
	return u
}

func splitList(v string) []string {
	var out []string
	for _, p := range strings.Split(v, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// ssoMisconfigured answers every browser request with a plain error page (with the
// security headers) and logs which settings are wrong, never their values.
func ssoMisconfigured(cause error, logger *slog.Logger) fgruntime.Handler {
	return func(ctx context.Context, req events.APIGatewayProxyRequest) (events.APIGatewayProxyResponse, error) {
		logger.Error("function is misconfigured", "err", cause.Error(), "requestId", req.RequestContext.RequestID)
		h := sso.SecurityHeaders()
		h["Content-Type"] = "text/html; charset=utf-8"
		return events.APIGatewayProxyResponse{StatusCode: 500, Headers: h,
			Body: "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Sign-in is unavailable</title></head><body><h1>Sign-in is unavailable</h1><p>The sign-in service is not configured. Please try again later.</p></body></html>\n"}, nil
	}
}

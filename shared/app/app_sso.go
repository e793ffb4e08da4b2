package app

import (
	"context"
	"log/slog"
	"net/url"
	"strings"

	"github.com/aws/aws-lambda-go/events"

	"github.com/kgseller/kgseller/shared/config"
	"github.com/kgseller/kgseller/shared/fgruntime"
	"github.com/kgseller/kgseller/shared/sso"
	"github.com/kgseller/kgseller/shared/store"
)

// SSO settings.
const (
	SettingSSOAppID        = "SSO_APP_ID"
	SettingSSOAppURL       = "SSO_APP_URL"
	SettingSSOLoginURL     = "SSO_LOGIN_URL"
	SettingSSORedirectURI  = "SSO_REDIRECT_URI"
	SettingSSOLogoutURL    = "SSO_LOGOUT_URL"
	SettingSSOAllowedHosts = "SSO_ALLOWED_REDIRECT_HOSTS"
	SettingSSOIdPHosts     = "SSO_IDP_HOSTS"
	SettingSSOAllowHTTP    = "SSO_ALLOW_HTTP"
	SettingSSORequireState = "SSO_REQUIRE_STATE"
	SettingSSOSessionKey   = "SSO_SESSION_KEY"
	SettingSSOSessionTTL   = "SSO_SESSION_TTL"
	SettingSSOCookieDomain = "SSO_COOKIE_DOMAIN"
	SettingSSOHTTPTimeout  = "SSO_HTTP_TIMEOUT"
)

// ssoRole is which of the three functions is being assembled.
type ssoRole int

const (
	ssoLogin ssoRole = iota
	ssoCallback
	ssoLogout
)

// SSOLogin builds sso-login: GET /sso/login.
func SSOLogin(src config.Source) fgruntime.Handler {
	return ssoFunction(src, ssoLogin, (*sso.Service).LoginHandler)
}

// SSOCallback builds sso-callback: GET /sso/callback.
func SSOCallback(src config.Source) fgruntime.Handler {
	return ssoFunction(src, ssoCallback, (*sso.Service).CallbackHandler)
}

// SSOLogout builds sso-logout: GET /sso/logout.
func SSOLogout(src config.Source) fgruntime.Handler {
	return ssoFunction(src, ssoLogout, (*sso.Service).LogoutHandler)
}

func ssoFunction(src config.Source, role ssoRole, handler func(*sso.Service) fgruntime.Handler) fgruntime.Handler {
	logger := Logger(src)
	l := config.New(src)
	svc := loadSSO(l, role)
	// Sessions live in the database, so logout needs it too; only login and
	// callback open client secrets.
	dsn := l.Required("DB_DSN")
	pool := store.Options{MaxOpen: l.Int("DB_MAX_OPEN", 4), MaxIdle: l.Int("DB_MAX_IDLE", 2)}
	if role != ssoLogout {
		svc.Box = loadDataKey(l)
	}
	if err := l.Err(); err != nil {
		return ssoMisconfigured(err, logger)
	}
	st, err := store.Open(dsn, pool)
	if err != nil {
		return ssoMisconfigured(err, logger)
	}
	svc.Store = st
	svc.Logger = logger
	return handler(svc)
}

// loadSSO reads the settings the three functions share.
func loadSSO(l *config.Loader, role ssoRole) *sso.Service {
	allowHTTP := l.Bool(SettingSSOAllowHTTP, false)
	svc := &sso.Service{}
	svc.AllowHTTP = allowHTTP
	svc.AppID = l.String(SettingSSOAppID, "")
	if role != ssoLogout && svc.AppID == "" {
		l.Required(SettingSSOAppID)
	}
	hosts := splitList(l.String(SettingSSOAllowedHosts, ""))
	svc.AppURL = absoluteURL(l, SettingSSOAppURL, l.Required(SettingSSOAppURL), allowHTTP)
	if svc.AppURL != nil {
		hosts = append(hosts, svc.AppURL.Host)
	}
	if v := l.String(SettingSSOLogoutURL, ""); v != "" {
		if u := absoluteURL(l, SettingSSOLogoutURL, v, allowHTTP); u != nil {
			svc.LogoutURL = u.String()
			hosts = append(hosts, u.Host)
		}
	}
	svc.Redirects = sso.Redirects{Hosts: hosts, Base: svc.AppURL, AllowHTTP: allowHTTP}
	svc.LoginURL = l.String(SettingSSOLoginURL, sso.DefaultLoginURL)
	if role == ssoLogin {
		absoluteURL(l, SettingSSOLoginURL, strings.NewReplacer("{appId}", "x", "{state}", "x").Replace(svc.LoginURL), allowHTTP)
	}
	if v := l.String(SettingSSORedirectURI, ""); v != "" {
		if u := absoluteURL(l, SettingSSORedirectURI, v, allowHTTP); u != nil {
			svc.RedirectURI = u.String()
		}
	}
	svc.IdPHosts = splitList(l.String(SettingSSOIdPHosts, ""))
	svc.RequireState = l.Bool(SettingSSORequireState, false)
	svc.SessionTTL = l.Duration(SettingSSOSessionTTL, sso.DefaultSessionTTL)
	if key := l.Required(SettingSSOSessionKey); key != "" {
		c, err := sso.NewCookies(key, l.String(SettingSSOCookieDomain, ""))
		if err != nil {
			l.Invalid(SettingSSOSessionKey, "must be 32 bytes, base64-encoded")
		}
		svc.Cookies = c
	}
	svc.HTTP = sso.NewHTTPClient(l.Duration(SettingSSOHTTPTimeout, sso.DefaultHTTPTimeout))
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

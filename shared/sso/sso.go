// Package sso implements the unified login (联营账号基于WEB登录,
// docs/protocol.md#unified-login) as three browser-facing functions:
//
//	GET /sso/login     start a sign-in: a CSRF state in the cookie, then the unified
//	                   login URL with the seller's appId; an existing stale session
//	                   is revalidated with its refresh token instead
//	GET /sso/callback  ?code&tenant[&state]: tenant ⇒ domainName (tenantSync), tenant
//	                   + app ⇒ clientId/secret (applicationSync), code ⇒ token ⇒
//	                   userinfo, matched to the user synced by authSync; then a
//	                   session (a database row, its ID in the sealed cookie) and a
//	                   redirect to the application. Sign-ins the seller started and
//	                   ones that arrive unsolicited (marketplace workbench, the
//	                   unified login portal) are both accepted unless RequireState.
//	GET /sso/logout    end the session and leave through
//	                   {domainName}/api/v1/logout?redirect_url=…; a cross-site
//	                   request without the session's logout token gets a
//	                   confirmation page instead
//
// Every answer carries the security headers, at most one Set-Cookie, and either a
// redirect to an allow-listed URL or an HTML page whose content is escaped. Errors
// get a page that says what happened, never internals; details go to the log,
// never secrets, codes or tokens.
package sso

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	mrand "math/rand/v2"
	"net/http"
	"net/url"
	"path"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/kgseller/kgseller/shared/fgruntime"
	"github.com/kgseller/kgseller/shared/marketplace"
	"github.com/kgseller/kgseller/shared/reqbody"
	"github.com/kgseller/kgseller/shared/secretbox"
	"github.com/kgseller/kgseller/shared/store"
)

// DefaultLoginURL is the unified login entry; {appId} and {state} are replaced (a
// template without {state} gets &state=… appended).
const DefaultLoginURL = "https://macroverse.huaweicloud.com/unified-login/#/portal-login?ind=UNOP&appId={appId}"

// Defaults.
const (
	DefaultSessionTTL  = 8 * time.Hour
	DefaultHTTPTimeout = 4 * time.Second
	// loginTTL is how long a started sign-in may take.
	loginTTL = 10 * time.Minute
	// purgeEvery: about one sign-in in purgeEvery also deletes expired sessions,
	// purgeBatch of them at most.
	purgeEvery = 32
	purgeBatch = 500
	// defaultAccessTTL is assumed when the token answer has no expires_in.
	defaultAccessTTL = 2 * time.Hour
)

// Config is the seller's SSO setup.
type Config struct {
	AppID       string   // the seller's appId (application credential)
	AppURL      *url.URL // where a signed-in user goes by default
	LoginURL    string   // unified login template (DefaultLoginURL)
	RedirectURI string   // sent as redirect_uri with the code, when set
	// Redirects is the allow-list for return and redirect_url values.
	Redirects Redirects
	// LogoutURL is where a signed-out user ends up by default (AppURL when empty).
	LogoutURL string
	// IdPHosts, when set, limits the tenants' domainName hosts (exact host, or a
	// suffix starting with a dot).
	IdPHosts []string
	// AllowHTTP permits http auth-centre endpoints and redirects (local run only).
	AllowHTTP bool
	// RequireState refuses callbacks without the pending sign-in cookie and a
	// matching state. When false (the default), a callback without either is an
	// unsolicited sign-in, which the documented unified login produces; when both
	// are present they must match.
	RequireState bool
	SessionTTL   time.Duration
}

// Service runs the three handlers. Store is needed by all three (sessions live in
// the database), Box by login (refresh) and callback.
type Service struct {
	Config
	Store   *store.Store
	Box     *secretbox.Box
	Cookies *Cookies
	HTTP    *http.Client
	Logger  *slog.Logger
	Now     func() time.Time
}

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

// Sessions is the session reader of this service's cookies and database.
func (s *Service) Sessions() *Sessions {
	return &Sessions{Cookies: s.Cookies, Store: s.Store, Now: s.Now}
}

func (s *Service) logger() *slog.Logger {
	if s.Logger != nil {
		return s.Logger
	}
	return slog.Default()
}

// loginPath is the sign-in route next to the current one (/sso/callback → /sso/login).
func loginPath(req events.APIGatewayProxyRequest, returnTo string) string {
	p := path.Join(path.Dir(req.Path), "login")
	if !strings.HasPrefix(p, "/") {
		p = "/sso/login"
	}
	if returnTo != "" {
		p += "?return=" + url.QueryEscape(returnTo)
	}
	return p
}

// maxBody bounds the body of an SSO request. The routes are GET links a browser
// follows and read no body; a larger one is refused rather than carried along.
const maxBody = 64 << 10

// guard refuses an oversized body and recovers a panic into an error page; the
// detail goes to the log only.
func (s *Service) guard(name string, h func(context.Context, events.APIGatewayProxyRequest) events.APIGatewayProxyResponse) fgruntime.Handler {
	return func(ctx context.Context, req events.APIGatewayProxyRequest) (resp events.APIGatewayProxyResponse, err error) {
		defer func() {
			if p := recover(); p != nil {
				s.logger().Error("sso handler panicked", "handler", name, "panic", fmt.Sprint(p), "requestId", req.RequestContext.RequestID)
				resp = render(page{Status: 500, Title: "Sign-in is unavailable", Message: "Something went wrong on our side. Please try again later.",
					RequestID: req.RequestContext.RequestID}, "")
			}
		}()
		if _, err := fgruntime.ReadBody(req, maxBody); errors.Is(err, fgruntime.ErrBodyTooLarge) {
			s.logger().Warn("sso request body too large", "handler", name, "err", err.Error(), "requestId", req.RequestContext.RequestID)
			return render(page{Status: 413, Title: "Request too large", Message: "This address takes no request body.",
				RequestID: req.RequestContext.RequestID}, ""), nil
		}
		return h(ctx, req), nil
	}
}

// LoginHandler is GET /sso/login.
func (s *Service) LoginHandler() fgruntime.Handler { return s.guard("login", s.login) }

// CallbackHandler is GET /sso/callback.
func (s *Service) CallbackHandler() fgruntime.Handler { return s.guard("callback", s.callback) }

// LogoutHandler is GET /sso/logout.
func (s *Service) LogoutHandler() fgruntime.Handler { return s.guard("logout", s.logout) }

func (s *Service) returnTarget(req events.APIGatewayProxyRequest, params ...string) (string, bool) {
	for _, p := range params {
		if v := fgruntime.Query(req, p); v != "" {
			return s.Redirects.Check(v)
		}
	}
	return s.AppURL.String(), true
}

func forbiddenRedirect(req events.APIGatewayProxyRequest) events.APIGatewayProxyResponse {
	return render(page{Status: 400, Title: "Address not allowed",
		Message:   "The address to continue to after signing in or out is not one this service may send you to.",
		RequestID: req.RequestContext.RequestID}, "")
}

func (s *Service) login(ctx context.Context, req events.APIGatewayProxyRequest) events.APIGatewayProxyResponse {
	returnTo, ok := s.returnTarget(req, "return")
	if !ok {
		s.logger().Warn("sso login: return address refused", "requestId", req.RequestContext.RequestID)
		return forbiddenRedirect(req)
	}
	if d, ok := s.Cookies.read(fgruntime.Header(req, "cookie")); ok && d.Kind == kindSession {
		sess, err := s.Sessions().check(ctx, d)
		switch {
		case err == nil && !sess.Stale(s.now()):
			return redirect(returnTo, "")
		case err == nil:
			if resp, ok := s.revalidate(ctx, req, sess, returnTo); ok {
				return resp
			}
		case !errors.Is(err, ErrNoSession):
			s.logger().Error("sso login: checking the session", "err", err.Error(), "requestId", req.RequestContext.RequestID)
			return render(page{Status: 503, Title: "Sign-in is unavailable", Message: "Please try again later.", RequestID: req.RequestContext.RequestID}, "")
		}
	}
	return s.startLogin(req, returnTo)
}

// startLogin puts a fresh state in the cookie and sends the browser to the
// unified login.
func (s *Service) startLogin(req events.APIGatewayProxyRequest, returnTo string) events.APIGatewayProxyResponse {
	now := s.now()
	state := randomToken()
	cookie, err := s.Cookies.setCookie(cookieData{Kind: kindLogin, State: state, Return: returnTo, Expires: now.Add(loginTTL).Unix()}, now)
	if err != nil {
		s.logger().Error("sso login: cookie", "err", err.Error())
		return render(page{Status: 500, Title: "Sign-in is unavailable", Message: "Please try again later.", RequestID: req.RequestContext.RequestID}, "")
	}
	return redirect(s.loginURL(state), cookie)
}

// loginURL fills the unified login template.
func (s *Service) loginURL(state string) string {
	tmpl := s.LoginURL
	if tmpl == "" {
		tmpl = DefaultLoginURL
	}
	u := strings.ReplaceAll(tmpl, "{appId}", url.QueryEscape(s.AppID))
	if strings.Contains(u, "{state}") {
		return strings.ReplaceAll(u, "{state}", url.QueryEscape(state))
	}
	sep := "&"
	if !strings.Contains(u, "?") {
		sep = "?"
	}
	return u + sep + "state=" + url.QueryEscape(state)
}

func randomToken() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// failure is a callback outcome shown to the user; log carries the detail.
type failure struct {
	status  int
	title   string
	message string
	log     string
	err     error
	started string // how the sign-in started, when known
}

// fail answers a failed sign-in. clear deletes the cookie: a pending sign-in must be
// started again from the top, and a session whose user was refused at renewal is
// over; a session the browser already had survives a failed callback, which
// anyone can make a browser open.
func (s *Service) fail(req events.APIGatewayProxyRequest, f failure, clear bool) events.APIGatewayProxyResponse {
	attrs := []any{"requestId", req.RequestContext.RequestID, "status", f.status}
	if f.err != nil {
		attrs = append(attrs, "err", f.err.Error())
	}
	if f.started != "" {
		attrs = append(attrs, "initiated", f.started)
	}
	level := slog.LevelWarn
	if f.status >= 500 && !errors.Is(f.err, marketplace.ErrBusy) { // the store logs a burst of refused connections once
		level = slog.LevelError
	}
	s.logger().Log(context.Background(), level, "sso: "+f.log, attrs...)
	setCookie := ""
	if clear {
		setCookie = s.Cookies.clearCookie()
	}
	return render(page{Status: f.status, Title: f.title, Message: f.message, Link: loginPath(req, ""), LinkText: "Sign in again",
		RequestID: req.RequestContext.RequestID}, setCookie)
}

var (
	failState = failure{status: 400, title: "Sign-in could not be verified",
		message: "This sign-in was not started from this browser, or it took too long (state mismatch). Please sign in again.",
		log:     "state mismatch"}
	failBadRequest = failure{status: 400, title: "Incomplete sign-in",
		message: "The sign-in service did not return a valid code and organisation. Please sign in again.", log: "callback without a valid code or tenant"}
	failUnknownTenant = failure{status: 403, title: "Organisation not set up",
		message: "Your organisation (tenant) has not been set up for this application. Ask your administrator to bind the application to your organisation in KooGallery.",
		log:     "unknown tenant"}
	failInvalidGrant = failure{status: 400, title: "Sign-in link expired",
		message: "The sign-in code is invalid, expired or was already used (invalid_grant). Please sign in again.", log: "invalid_grant"}
	failIdP = failure{status: 502, title: "Sign-in service unavailable",
		message: "Your organisation's sign-in service could not complete the sign-in. Please try again later.", log: "auth centre call failed"}
	failNotAuthorised = failure{status: 403, title: "Not authorised",
		message: "Your account is not authorised to use this application. Ask your administrator to grant you access in KooGallery.",
		log:     "user not authorised"}
	failInternal = failure{status: 500, title: "Sign-in is unavailable", message: "Something went wrong on our side. Please try again later.",
		log: "internal error"}
)

func with(f failure, log string, err error) failure {
	if log != "" {
		f.log = f.log + ": " + log
	}
	f.err = err
	return f
}

// How a callback's sign-in started, as the log records it.
const (
	startedVerified    = "seller, state verified"
	startedNoState     = "seller, no state returned"
	startedUnsolicited = "unsolicited (marketplace workbench or unified login portal)"
)

func (s *Service) callback(ctx context.Context, req events.APIGatewayProxyRequest) events.APIGatewayProxyResponse {
	now := s.now()
	d, hasCookie := s.Cookies.read(fgruntime.Header(req, "cookie"))
	// Only a pending sign-in is cleared on failure, never a session.
	clear := hasCookie && d.Kind == kindLogin
	var started string
	fail := func(f failure) events.APIGatewayProxyResponse {
		f.started = started
		return s.fail(req, f, clear)
	}
	pending := clear && now.Unix() < d.Expires && d.State != ""
	state := fgruntime.Query(req, "state")
	switch {
	case pending && state != "":
		if subtle.ConstantTimeCompare([]byte(state), []byte(d.State)) != 1 {
			return fail(with(failState, "state differs from the cookie", nil))
		}
		started = startedVerified
	case s.RequireState && !pending:
		return fail(with(failState, "no pending sign-in in the cookie (SSO_REQUIRE_STATE=true)", nil))
	case s.RequireState:
		return fail(with(failState, "callback without state (SSO_REQUIRE_STATE=true)", nil))
	case pending:
		started = startedNoState
	default:
		// The single-use code, exchanged below with the tenant's client secret, is
		// the proof; a state without a pending sign-in in this browser proves nothing
		// either way.
		started = startedUnsolicited
	}
	if e := fgruntime.Query(req, "error"); e != "" {
		f := failIdP
		f.status, f.title, f.message = 400, "Sign-in cancelled", "The sign-in was cancelled or refused by your organisation's sign-in service."
		return fail(with(f, "auth centre returned an error to the callback", nil))
	}
	code := fgruntime.Query(req, "code")
	tenant, ok := tenantParam(req)
	if !ok || code == "" || len(code) > 1024 || !reqbody.ValidID(code) || tenant == "" || len(tenant) > 64 || !reqbody.ValidID(tenant) {
		return fail(failBadRequest)
	}
	target, err := s.Store.KitLoginTarget(ctx, tenant, s.AppID)
	if errors.Is(err, store.ErrNotFound) {
		return fail(with(failUnknownTenant, "no tenantSync/applicationSync data for this tenant and SSO_APP_ID", nil))
	}
	if err != nil {
		return fail(with(failInternal, "reading kit data", err))
	}
	domain, err := s.idpBase(target.DomainName)
	if err != nil {
		return fail(with(failInternal, "tenant domainName refused", err))
	}
	secret, err := s.Box.Open(target.SealedSecret, marketplace.KitSecretContext(target.InstanceID, target.TenantID, target.AppID))
	if err != nil {
		return fail(with(failInternal, "client secret does not open: check KG_DATA_KEY", nil))
	}
	form := url.Values{"grant_type": {"authorization_code"}, "code": {code}, "client_id": {target.ClientID}, "client_secret": {secret}}
	if s.RedirectURI != "" {
		form.Set("redirect_uri", s.RedirectURI)
	}
	tok, err := s.token(ctx, domain, form)
	switch {
	case isOAuth(err, "invalid_grant"):
		return fail(with(failInvalidGrant, "", err))
	case isOAuth(err, "invalid_client"):
		return fail(with(failIdP, "invalid_client: the synced clientId/clientSecret do not match the auth centre", err))
	case err != nil:
		return fail(with(failIdP, "token exchange", err))
	}
	sess, f := s.matchUser(ctx, domain, target, tok)
	if f != nil {
		return fail(*f)
	}
	returnTo := s.AppURL.String()
	if pending {
		if r, ok := s.Redirects.Check(d.Return); ok {
			returnTo = r
		}
	}
	sess.id = randomToken()
	ttl := s.sessionTTL()
	err = s.Store.CreateSSOSession(ctx, sessionKey(sess.id),
		store.SSOSession{InstanceID: sess.InstanceID, TenantID: sess.TenantID, AppID: sess.AppID, UserName: sess.UserName}, ttl)
	if err != nil {
		return fail(with(failInternal, "storing the session", err))
	}
	cookie, err := s.Cookies.setCookie(cookieData{Kind: kindSession, Session: sess, SID: sess.id, Expires: now.Add(ttl).Unix()}, now)
	if err != nil {
		return fail(with(failInternal, "session cookie", err))
	}
	if hasCookie && d.Kind == kindSession && d.SID != "" {
		// The browser's previous session is replaced by this one.
		if err := s.Store.EndSSOSession(ctx, sessionKey(d.SID), store.SSOEndReplaced); err != nil {
			s.logger().Warn("sso: ending the replaced session", "err", err.Error(), "requestId", req.RequestContext.RequestID)
		}
	}
	s.purge(ctx, req)
	s.logger().Info("sso: signed in", "initiated", started, "tenant", target.TenantID, "instance", target.InstanceID,
		"requestId", req.RequestContext.RequestID)
	return redirect(returnTo, cookie)
}

// tenantParam reads the tenant of a callback: the guides' redirect names it
// tenant, their prose tenant_id, and tenantId is the Kit's own spelling. Names
// that disagree are refused rather than guessed between.
func tenantParam(req events.APIGatewayProxyRequest) (string, bool) {
	var tenant string
	for _, name := range []string{"tenant", "tenant_id", "tenantId"} {
		v := fgruntime.Query(req, name)
		if v == "" {
			continue
		}
		if tenant != "" && v != tenant {
			return "", false
		}
		tenant = v
	}
	return tenant, true
}

// purge deletes expired sessions now and then, so the table stays the size of the
// live sessions without a scheduled job.
func (s *Service) purge(ctx context.Context, req events.APIGatewayProxyRequest) {
	if mrand.IntN(purgeEvery) != 0 {
		return
	}
	if _, err := s.Store.PurgeSSOSessions(ctx, purgeBatch); err != nil {
		s.logger().Warn("sso: purging expired sessions", "err", err.Error(), "requestId", req.RequestContext.RequestID)
	}
}

func (s *Service) sessionTTL() time.Duration {
	if s.SessionTTL > 0 {
		return s.SessionTTL
	}
	return DefaultSessionTTL
}

// matchUser fetches userinfo and accepts only a user synced by authSync for this
// instance, tenant and app, authorised and enabled.
func (s *Service) matchUser(ctx context.Context, domain string, target store.KitLogin, tok tokenReply) (*Session, *failure) {
	info, err := s.userInfo(ctx, domain, tok.AccessToken)
	if err != nil {
		f := with(failIdP, "userinfo", err)
		return nil, &f
	}
	if info.Tenant != "" && info.Tenant != target.TenantID && info.Tenant != target.TenantCode {
		f := with(failNotAuthorised, "userinfo names another tenant", nil)
		return nil, &f
	}
	if info.UserName == "" {
		f := with(failIdP, "userinfo without userName", nil)
		return nil, &f
	}
	u, err := s.Store.KitUser(ctx, target.InstanceID, target.TenantID, target.AppID, info.UserName)
	if errors.Is(err, store.ErrNotFound) {
		f := with(failNotAuthorised, "user not synced by authSync", nil)
		return nil, &f
	}
	if err != nil {
		f := with(failInternal, "reading kit user", err)
		return nil, &f
	}
	if !u.Authorized || !u.Enabled {
		f := with(failNotAuthorised, "user revoked (flag 3) or disabled", nil)
		return nil, &f
	}
	ttl := time.Duration(tok.expiresIn()) * time.Second
	if ttl <= 0 {
		ttl = defaultAccessTTL
	}
	name := u.Name
	if name == "" {
		name = info.Name
	}
	return &Session{
		UserName: u.UserName, Name: name, Role: u.Role, OrgCode: u.OrgCode,
		TenantID: target.TenantID, TenantName: target.TenantName, InstanceID: target.InstanceID, AppID: target.AppID,
		DomainName: domain, CheckAt: s.now().Add(ttl).Unix(), RefreshToken: tok.RefreshToken,
	}, nil
}

// revalidate renews a stale session with its refresh token: new access token,
// userinfo, the synced user checked again. ok is false when a fresh sign-in is
// the way forward (no refresh token, or the auth centre refused it).
func (s *Service) revalidate(ctx context.Context, req events.APIGatewayProxyRequest, old *Session, returnTo string) (events.APIGatewayProxyResponse, bool) {
	if old.RefreshToken == "" || s.Store == nil || s.Box == nil {
		return events.APIGatewayProxyResponse{}, false
	}
	target, err := s.Store.KitLoginTarget(ctx, old.TenantID, old.AppID)
	if err != nil || target.InstanceID != old.InstanceID {
		return events.APIGatewayProxyResponse{}, false
	}
	domain, err := s.idpBase(target.DomainName)
	if err != nil {
		return events.APIGatewayProxyResponse{}, false
	}
	secret, err := s.Box.Open(target.SealedSecret, marketplace.KitSecretContext(target.InstanceID, target.TenantID, target.AppID))
	if err != nil {
		return events.APIGatewayProxyResponse{}, false
	}
	tok, err := s.token(ctx, domain, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {old.RefreshToken},
		"client_id": {target.ClientID}, "client_secret": {secret}})
	if err != nil {
		s.logger().Info("sso: refresh refused, signing in again", "err", err.Error(), "requestId", req.RequestContext.RequestID)
		return events.APIGatewayProxyResponse{}, false
	}
	if tok.RefreshToken == "" {
		tok.RefreshToken = old.RefreshToken
	}
	key := sessionKey(old.id)
	sess, f := s.matchUser(ctx, domain, target, tok)
	if f != nil {
		if err := s.Store.EndSSOSession(ctx, key, store.SSOEndRefused); err != nil {
			s.logger().Error("sso: ending a refused session", "err", err.Error(), "requestId", req.RequestContext.RequestID)
		}
		return s.fail(req, *f, true), true
	}
	sess.id = old.id
	now := s.now()
	ttl := s.sessionTTL()
	if err := s.Store.ExtendSSOSession(ctx, key, ttl); err != nil {
		s.logger().Error("sso: extending the session", "err", err.Error(), "requestId", req.RequestContext.RequestID)
		return events.APIGatewayProxyResponse{}, false
	}
	cookie, err := s.Cookies.setCookie(cookieData{Kind: kindSession, Session: sess, SID: sess.id, Expires: now.Add(ttl).Unix()}, now)
	if err != nil {
		return events.APIGatewayProxyResponse{}, false
	}
	return redirect(returnTo, cookie), true
}

// idpBase checks a tenant's domainName before anything is sent to it: https
// (http only when allowed), no credentials, and an allow-listed host when a list
// is configured.
func (s *Service) idpBase(domain string) (string, error) {
	u, err := url.Parse(domain)
	if err != nil || u.Host == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		return "", errors.New("domainName is not an absolute URL")
	}
	if u.Scheme != "https" && !(s.AllowHTTP && u.Scheme == "http") {
		return "", errors.New("domainName is not https")
	}
	if len(s.IdPHosts) > 0 {
		host := strings.ToLower(u.Hostname())
		allowed := false
		for _, h := range s.IdPHosts {
			h = strings.ToLower(strings.TrimSpace(h))
			if h != "" && (host == h || (strings.HasPrefix(h, ".") && strings.HasSuffix(host, h))) {
				allowed = true
			}
		}
		if !allowed {
			return "", errors.New("domainName host is not in SSO_IDP_HOSTS")
		}
	}
	return strings.TrimRight(u.String(), "/"), nil
}

func (s *Service) logout(ctx context.Context, req events.APIGatewayProxyRequest) events.APIGatewayProxyResponse {
	def := s.LogoutURL
	if def == "" {
		def = s.AppURL.String()
	}
	target, asked := def, ""
	for _, p := range []string{"redirect_url", "return"} {
		if v := fgruntime.Query(req, p); v != "" {
			checked, ok := s.Redirects.Check(v)
			if !ok {
				s.logger().Warn("sso logout: redirect_url refused", "requestId", req.RequestContext.RequestID)
				return forbiddenRedirect(req)
			}
			target, asked = checked, checked
			break
		}
	}
	clear := s.Cookies.clearCookie()
	d, ok := s.Cookies.read(fgruntime.Header(req, "cookie"))
	if !ok || d.Kind != kindSession || d.Session == nil || d.SID == "" {
		return redirect(target, clear)
	}
	if !ownRequest(req) && !validLogoutToken(fgruntime.Query(req, "token"), d.SID) {
		// A link on another site must not sign the user out; the user may still do
		// it from here.
		s.logger().Info("sso logout: cross-site request without the logout token, asking the user", "requestId", req.RequestContext.RequestID)
		return render(page{Status: 200, Title: "Sign out?", Message: "Another page asked to sign you out. Sign out only if you meant to.",
			Link: logoutLink(req, d.SID, asked), LinkID: "confirm", LinkText: "Sign out", Back: s.AppURL.String(), BackText: "Stay signed in"}, "")
	}
	if err := s.Store.EndSSOSession(ctx, sessionKey(d.SID), store.SSOEndLogout); err != nil {
		s.logger().Error("sso logout: ending the session", "err", err.Error(), "requestId", req.RequestContext.RequestID)
		return render(page{Status: 503, Title: "Sign-out is unavailable", Message: "You are still signed in. Please try again later.",
			Link: logoutLink(req, d.SID, asked), LinkText: "Try again", RequestID: req.RequestContext.RequestID}, "")
	}
	if domain, err := s.idpBase(d.Session.DomainName); err == nil {
		return redirect(endpointURL(domain, "/api/v1/logout")+"?redirect_url="+url.QueryEscape(target), clear)
	}
	return redirect(target, clear)
}

// ownRequest reports whether the browser says the request comes from this origin
// or from the user (an address typed or bookmarked). A sibling host of the same
// site is not enough: hosts under a shared domain are not the seller's alone.
func ownRequest(req events.APIGatewayProxyRequest) bool {
	switch strings.ToLower(strings.TrimSpace(fgruntime.Header(req, "sec-fetch-site"))) {
	case "same-origin", "none":
		return true
	}
	return false
}

// logoutLink is this logout's address with the session's token.
func logoutLink(req events.APIGatewayProxyRequest, sid, redirectURL string) string {
	p := req.Path
	if !strings.HasPrefix(p, "/") || strings.HasPrefix(p, "//") {
		p = "/sso/logout"
	}
	q := url.Values{"token": {logoutToken(sid)}}
	if redirectURL != "" {
		q.Set("redirect_url", redirectURL)
	}
	return p + "?" + q.Encode()
}

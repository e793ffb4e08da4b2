package sso

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/kgseller/kgseller/shared/secretbox"
	"github.com/kgseller/kgseller/shared/store"
)

// Session is a signed-in user: who it is as the sign-in found them, with the name,
// role, department and tenant name as the Kit data has them now.
type Session struct {
	UserName   string `json:"u"`
	Name       string `json:"n,omitempty"`
	Role       string `json:"ro,omitempty"`
	OrgCode    string `json:"o,omitempty"`
	TenantID   string `json:"t"`
	TenantName string `json:"tn,omitempty"`
	InstanceID string `json:"i"`
	AppID      string `json:"a"`
	// DomainName is the tenant's auth centre, where logout goes.
	DomainName string `json:"d"`
	// CheckAt is when the access token obtained at sign-in expires; after it the
	// session is stale and /sso/login revalidates it with the refresh token.
	CheckAt int64 `json:"c"`
	// RefreshToken is omitted when it would make the cookie too large.
	RefreshToken string `json:"rt,omitempty"`

	// id is the session's secret ID; the cookie carries it beside the session.
	id string
}

// LogoutToken is the value of the token parameter that lets a link sign this
// session out from any page (see Service.logout): a hash of the session ID, so it
// names this session only and reveals nothing that opens it.
func (s *Session) LogoutToken() string {
	if s.id == "" {
		return ""
	}
	return logoutToken(s.id)
}

func logoutToken(id string) string {
	sum := sha256.Sum256([]byte("kgsso-logout\x00" + id))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

func validLogoutToken(token, id string) bool {
	return token != "" && id != "" && subtle.ConstantTimeCompare([]byte(token), []byte(logoutToken(id))) == 1
}

// sessionKey is what the database stores of a session ID: a copy of the table
// opens no session.
func sessionKey(id string) string {
	sum := sha256.Sum256([]byte("kgsso-session\x00" + id))
	return hex.EncodeToString(sum[:])
}

// Stale reports whether the session should be revalidated (see CheckAt).
func (s *Session) Stale(now time.Time) bool { return now.Unix() >= s.CheckAt }

// cookie kinds: one cookie carries either a pending sign-in or a session, so every
// response sets at most one cookie (FunctionGraph answers carry one value per header).
const (
	kindLogin   = "login"
	kindSession = "session"
)

type cookieData struct {
	Kind    string   `json:"k"`
	State   string   `json:"st,omitempty"` // kindLogin: the CSRF state
	Return  string   `json:"r,omitempty"`  // kindLogin: where to go after sign-in
	Session *Session `json:"s,omitempty"`  // kindSession
	SID     string   `json:"id,omitempty"` // kindSession: the session ID
	Expires int64    `json:"x"`            // unix seconds
}

// maxCookieBytes keeps the whole Set-Cookie value under the 4096 bytes browsers
// guarantee.
const maxCookieBytes = 3800

// ErrNoSession: the request has no session, or its session expired, was signed out,
// or its user or tenant may no longer sign in.
var ErrNoSession = errors.New("sso: no valid session")

// Cookies seals and opens the SSO cookie with the seller's session key
// (AES-256-GCM: the content is encrypted and authenticated, so it cannot be read
// or forged without the key). The cookie is HttpOnly, Secure and SameSite=Lax (Lax,
// not Strict, because the unified login returns to the callback by a cross-site
// navigation that must carry the state).
type Cookies struct {
	box    *secretbox.Box
	domain string
}

// NewCookies builds the codec from the base64 session key (32 bytes). domain is the
// optional Domain attribute (to share the session with an app on a sibling host).
func NewCookies(b64Key, domain string) (*Cookies, error) {
	box, err := secretbox.New(b64Key)
	if err != nil {
		return nil, err
	}
	return &Cookies{box: box, domain: strings.TrimPrefix(strings.TrimSpace(domain), ".")}, nil
}

// String keeps the key out of logs.
func (c *Cookies) String() string { return "sso.Cookies{[redacted]}" }

// Name is the cookie name: with no Domain the __Host- prefix makes browsers refuse
// the cookie unless it is Secure, host-only and Path=/.
func (c *Cookies) Name() string {
	if c.domain == "" {
		return "__Host-kgsso"
	}
	return "kgsso"
}

// aad binds sealed values to this use, so no other sealed value of the same key
// passes as a cookie.
const aad = "kgseller-sso-cookie-v1"

func (c *Cookies) encode(d cookieData) (string, error) {
	raw, err := json.Marshal(d)
	if err != nil {
		return "", fmt.Errorf("sso: encoding cookie: %w", err)
	}
	return c.box.Seal(string(raw), aad)
}

// setCookie returns the Set-Cookie value for d, valid until its expiry.
func (c *Cookies) setCookie(d cookieData, now time.Time) (string, error) {
	v, err := c.encode(d)
	if err != nil {
		return "", err
	}
	if len(v) > maxCookieBytes && d.Session != nil && d.Session.RefreshToken != "" {
		s := *d.Session
		s.RefreshToken = ""
		d.Session = &s
		if v, err = c.encode(d); err != nil {
			return "", err
		}
	}
	if len(v) > maxCookieBytes {
		return "", errors.New("sso: session cookie too large")
	}
	maxAge := int(d.Expires - now.Unix())
	if maxAge < 1 {
		maxAge = 1
	}
	return c.cookie(v, maxAge).String(), nil
}

// clearCookie returns the Set-Cookie value that deletes the cookie.
func (c *Cookies) clearCookie() string { return c.cookie("", -1).String() }

func (c *Cookies) cookie(value string, maxAge int) *http.Cookie {
	return &http.Cookie{
		Name: c.Name(), Value: value, Path: "/", Domain: c.domain, MaxAge: maxAge,
		HttpOnly: true, Secure: true, SameSite: http.SameSiteLaxMode,
	}
}

// read opens the cookie from a Cookie request header. It checks authenticity, not
// expiry.
func (c *Cookies) read(header string) (cookieData, bool) {
	if header == "" {
		return cookieData{}, false
	}
	cookies, err := http.ParseCookie(header)
	if err != nil {
		// One malformed pair (from another application) must not hide ours.
		for _, part := range strings.Split(header, ";") {
			if cs, err := http.ParseCookie(strings.TrimSpace(part)); err == nil {
				cookies = append(cookies, cs...)
			}
		}
	}
	for _, ck := range cookies {
		if ck.Name != c.Name() || ck.Value == "" {
			continue
		}
		plain, err := c.box.Open(ck.Value, aad)
		if err != nil {
			continue
		}
		var d cookieData
		if json.Unmarshal([]byte(plain), &d) == nil {
			return d, true
		}
	}
	return cookieData{}, false
}

// Sessions reads the signed-in session of a request, for the SSO functions and the
// seller's application alike. The sealed cookie names a session; the database says
// whether it still holds, so a logout, an authSync revocation, disabling or
// deletion, or a tenantSync deletion takes effect at the next request.
type Sessions struct {
	Cookies *Cookies
	Store   *store.Store
	// Now is the clock of the cookie's expiry (default time.Now).
	Now func() time.Time
}

// NewSessions builds the reader from the SSO_SESSION_KEY and SSO_COOKIE_DOMAIN
// settings and the database the SSO functions use.
func NewSessions(sessionKey, cookieDomain string, st *store.Store) (*Sessions, error) {
	c, err := NewCookies(sessionKey, cookieDomain)
	if err != nil {
		return nil, err
	}
	return &Sessions{Cookies: c, Store: st}, nil
}

// Session returns the session of a request's Cookie header with one database
// query. ErrNoSession when there is none or it no longer holds; another error when
// the database could not say. A stale session (see Session.Stale) should be sent
// through /sso/login to be renewed.
func (s *Sessions) Session(ctx context.Context, cookieHeader string) (*Session, error) {
	d, ok := s.Cookies.read(cookieHeader)
	if !ok {
		return nil, ErrNoSession
	}
	return s.check(ctx, d)
}

func (s *Sessions) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

// check validates a session cookie against its row.
func (s *Sessions) check(ctx context.Context, d cookieData) (*Session, error) {
	if d.Kind != kindSession || d.Session == nil || d.SID == "" || s.now().Unix() >= d.Expires {
		return nil, ErrNoSession
	}
	key := sessionKey(d.SID)
	u, err := s.Store.ValidSSOSession(ctx, key)
	if errors.Is(err, store.ErrNotFound) {
		// Ended here for good, so that authorising the user again does not bring a
		// session back that was refused once.
		if err := s.Store.EndSSOSession(ctx, key, store.SSOEndRefused); err != nil {
			return nil, fmt.Errorf("sso: ending a refused session: %w", err)
		}
		return nil, ErrNoSession
	}
	if err != nil {
		return nil, fmt.Errorf("sso: checking the session: %w", err)
	}
	sess := *d.Session
	if u.InstanceID != sess.InstanceID || u.TenantID != sess.TenantID || u.AppID != sess.AppID || u.UserName != sess.UserName {
		return nil, ErrNoSession
	}
	sess.id = d.SID
	if u.Name != "" {
		sess.Name = u.Name
	}
	sess.Role, sess.OrgCode, sess.TenantName = u.Role, u.OrgCode, u.TenantName
	return &sess, nil
}

package sso

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/kgseller/kgseller/shared/secretbox"
)

// Session is a signed-in user as the session cookie carries it.
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
	Expires int64    `json:"x"`            // unix seconds
}

// maxCookieBytes keeps the whole Set-Cookie value under the 4096 bytes browsers
// guarantee.
const maxCookieBytes = 3800

// ErrNoSession: the request has no valid, unexpired session cookie.
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

// Session returns the signed-in session carried by a Cookie request header, for the
// seller's application pages. ErrNoSession when there is none or it expired; a stale
// session (see Session.Stale) should be sent through /sso/login to revalidate.
func (c *Cookies) Session(cookieHeader string, now time.Time) (*Session, error) {
	d, ok := c.read(cookieHeader)
	if !ok || d.Kind != kindSession || d.Session == nil || now.Unix() >= d.Expires {
		return nil, ErrNoSession
	}
	return d.Session, nil
}

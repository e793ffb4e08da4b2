package sso

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"html/template"
	"net/url"
	"strings"

	"github.com/aws/aws-lambda-go/events"
)

// pageStyle is the only style of the pages; the CSP allows exactly it by hash.
const pageStyle = `body{font-family:system-ui,sans-serif;max-width:40rem;margin:4rem auto;padding:0 1rem;color:#222}h1{font-size:1.4rem}a{color:#0a58ca}`

var styleHash = func() string {
	sum := sha256.Sum256([]byte(pageStyle))
	return "'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'"
}()

// SecurityHeaders are sent with every SSO answer, pages and redirects alike.
func SecurityHeaders() map[string]string {
	return map[string]string{
		"Content-Security-Policy":      "default-src 'none'; style-src " + styleHash + "; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
		"Strict-Transport-Security":    "max-age=31536000",
		"X-Content-Type-Options":       "nosniff",
		"X-Frame-Options":              "DENY",
		"Referrer-Policy":              "no-referrer",
		"Cache-Control":                "no-store",
		"Cross-Origin-Opener-Policy":   "same-origin",
		"Cross-Origin-Resource-Policy": "same-origin",
	}
}

var pageTmpl = template.Must(template.New("page").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Title}}</title><style>` + pageStyle + `</style></head>
<body><h1>{{.Title}}</h1>
<p>{{.Message}}</p>
{{if .Link}}<p><a {{if .LinkID}}id="{{.LinkID}}" {{end}}href="{{.Link}}">{{.LinkText}}</a></p>{{end}}
{{if .Back}}<p><a href="{{.Back}}">{{.BackText}}</a></p>{{end}}
{{if .RequestID}}<p><small>Reference: {{.RequestID}}</small></p>{{end}}
</body></html>
`))

type page struct {
	Status    int
	Title     string
	Message   string
	Link      string
	LinkID    string
	LinkText  string
	Back      string // a second link, e.g. back to the application
	BackText  string
	RequestID string
}

// respond builds an answer with the security headers and at most one cookie.
func respond(status int, body, location, setCookie string) events.APIGatewayProxyResponse {
	h := SecurityHeaders()
	h["Content-Type"] = "text/html; charset=utf-8"
	if location != "" {
		h["Location"] = location
	}
	if setCookie != "" {
		h["Set-Cookie"] = setCookie
	}
	return events.APIGatewayProxyResponse{StatusCode: status, Headers: h, Body: body}
}

// render answers with an HTML page; every value is escaped by html/template.
func render(p page, setCookie string) events.APIGatewayProxyResponse {
	var b bytes.Buffer
	if err := pageTmpl.Execute(&b, p); err != nil {
		b.Reset()
		b.WriteString("<!doctype html><title>Error</title><p>Something went wrong.</p>")
	}
	return respond(p.Status, b.String(), "", setCookie)
}

// redirect answers 302 to location.
func redirect(location, setCookie string) events.APIGatewayProxyResponse {
	var b bytes.Buffer
	_ = redirectTmpl.Execute(&b, location)
	return respond(302, b.String(), location, setCookie)
}

var redirectTmpl = template.Must(template.New("r").Parse(`<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Redirecting</title></head><body><p><a href="{{.}}">Continue</a></p></body></html>
`))

// Redirects decides which URLs the SSO functions may send a browser to: absolute
// http(s) URLs whose host is allow-listed (https only unless AllowHTTP), and paths
// on the application's own host. Everything else — other hosts, scheme-relative
// //host, backslashes, credentials in the URL, javascript: — is refused.
type Redirects struct {
	Hosts     []string // "host" (any port) or "host:port", compared case-insensitively
	Base      *url.URL // where a bare path is resolved (the application URL)
	AllowHTTP bool
}

// Check returns the normalised URL and whether it may be used.
func (r Redirects) Check(raw string) (string, bool) {
	raw = strings.TrimSpace(raw)
	if raw == "" || len(raw) > 2048 || strings.ContainsAny(raw, "\\") {
		return "", false
	}
	for _, c := range raw {
		if c < 0x20 || c == 0x7f {
			return "", false
		}
	}
	u, err := url.Parse(raw)
	if err != nil {
		return "", false
	}
	if !u.IsAbs() {
		if !strings.HasPrefix(raw, "/") || strings.HasPrefix(raw, "//") || r.Base == nil || u.Host != "" {
			return "", false
		}
		u = r.Base.ResolveReference(u)
	}
	if u.Scheme != "https" && !(r.AllowHTTP && u.Scheme == "http") {
		return "", false
	}
	if u.Host == "" || u.User != nil || u.Opaque != "" || !r.hostAllowed(u) {
		return "", false
	}
	return u.String(), true
}

func (r Redirects) hostAllowed(u *url.URL) bool {
	for _, h := range r.Hosts {
		h = strings.TrimSpace(h)
		if h == "" {
			continue
		}
		if strings.EqualFold(h, u.Host) || (!strings.Contains(h, ":") && strings.EqualFold(h, u.Hostname())) {
			return true
		}
	}
	return false
}

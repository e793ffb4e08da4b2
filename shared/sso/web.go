package sso

import (
	"crypto/sha256"
	"encoding/base64"
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

// The pages are written by hand rather than with html/template, which would add
// 2 MB to each SSO function: every value goes through escapeHTML, and every link
// through safeHref, which keeps only http(s) URLs and paths (as html/template
// replaces other schemes, such as javascript:, with a harmless value).

// htmlEscaper escapes text and double-quoted attribute values.
var htmlEscaper = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&#34;", "'", "&#39;")

func escapeHTML(s string) string { return htmlEscaper.Replace(s) }

// safeHref returns an escaped link target: an absolute http(s) URL or a path;
// anything else becomes "#".
func safeHref(raw string) string {
	u, err := url.Parse(strings.TrimSpace(raw))
	switch {
	case err != nil:
		return "#"
	case u.Scheme == "http" || u.Scheme == "https":
	case u.Scheme == "" && u.Opaque == "" && strings.HasPrefix(raw, "/") && !strings.HasPrefix(raw, "//"):
	default:
		return "#"
	}
	return escapeHTML(raw)
}

// render answers with an HTML page.
func render(p page, setCookie string) events.APIGatewayProxyResponse {
	var b strings.Builder
	b.WriteString("<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>")
	b.WriteString(escapeHTML(p.Title))
	b.WriteString("</title><style>" + pageStyle + "</style></head>\n<body><h1>")
	b.WriteString(escapeHTML(p.Title))
	b.WriteString("</h1>\n<p>")
	b.WriteString(escapeHTML(p.Message))
	b.WriteString("</p>\n")
	if p.Link != "" {
		b.WriteString("<p><a ")
		if p.LinkID != "" {
			b.WriteString(`id="` + escapeHTML(p.LinkID) + `" `)
		}
		b.WriteString(`href="` + safeHref(p.Link) + `">` + escapeHTML(p.LinkText) + "</a></p>\n")
	}
	if p.Back != "" {
		b.WriteString(`<p><a href="` + safeHref(p.Back) + `">` + escapeHTML(p.BackText) + "</a></p>\n")
	}
	if p.RequestID != "" {
		b.WriteString("<p><small>Reference: " + escapeHTML(p.RequestID) + "</small></p>\n")
	}
	b.WriteString("</body></html>\n")
	return respond(p.Status, b.String(), "", setCookie)
}

// redirect answers 302 to location.
func redirect(location, setCookie string) events.APIGatewayProxyResponse {
	body := `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Redirecting</title></head><body><p><a href="` +
		safeHref(location) + `">Continue</a></p></body></html>` + "\n"
	return respond(302, body, location, setCookie)
}

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

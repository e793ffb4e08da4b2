package sso

import (
	"strings"
	"testing"
)

// TestPagesEscapeEverything: text from outside (a message, a request id, a link)
// cannot add markup to a page, and a link is only ever http(s) or a path.
func TestPagesEscapeEverything(t *testing.T) {
	hostile := `"><script>alert(1)</script><a href='x'>&`
	resp := render(page{Status: 400, Title: hostile, Message: hostile, Link: "javascript:alert(1)", LinkID: hostile, LinkText: hostile,
		Back: `https://app.example.com/?a="b"&c=<d>`, BackText: "back", RequestID: hostile}, "")
	body := resp.Body
	for _, bad := range []string{"<script", `"><script`, "<a href='x'", "javascript:"} {
		if strings.Contains(body, bad) {
			t.Errorf("page carries %q: %s", bad, body)
		}
	}
	if !strings.Contains(body, `href="#"`) || !strings.Contains(body, `href="https://app.example.com/?a=&#34;b&#34;&amp;c=&lt;d&gt;"`) {
		t.Errorf("links not made safe: %s", body)
	}
	for _, raw := range []string{"javascript:x", "//evil.example.com/", "data:text/html,x", " JAVASCRIPT:x", "vbscript:x"} {
		if got := safeHref(raw); got != "#" {
			t.Errorf("safeHref(%q) = %q", raw, got)
		}
	}
	for _, raw := range []string{"https://a.example.com/x?y=1", "http://127.0.0.1:8080/sso/login", "/sso/logout?token=abc"} {
		if got := safeHref(raw); got == "#" {
			t.Errorf("safeHref(%q) refused", raw)
		}
	}
	if r := redirect(`https://a.example.com/"><script>`, ""); strings.Contains(r.Body, "<script") || r.Headers["Location"] != `https://a.example.com/"><script>` {
		t.Errorf("redirect: %+v", r)
	}
}

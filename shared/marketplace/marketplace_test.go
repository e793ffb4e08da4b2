package marketplace

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestSafeText(t *testing.T) {
	cases := []struct {
		in   string
		max  int
		want string
	}{
		{"sold out", 0, "sold out"},
		{"a\x1b[2Jb", 0, "a[2Jb"},
		{"\x1b]0;title\x07x", 0, "]0;titlex"},
		{"c1\u009b31m", 0, "c131m"},
		{"del\x7f", 0, "del"},
		{"line\r\nnext\tcol", 0, "line  next col"},
		{"\u202Eevil\u202C \u2066iso\u2069 \u200Fm\u061C", 0, "evil iso m"},
		{"ok \xff bytes", 0, "ok \uFFFD bytes"},
		{"中文原因", 2, "中文"},
		{strings.Repeat("é", 300), MaxMessageLen, strings.Repeat("é", MaxMessageLen)},
	}
	for _, c := range cases {
		if got := SafeText(c.in, c.max); got != c.want {
			t.Errorf("SafeText(%q, %d) = %q, want %q", c.in, c.max, got, c.want)
		}
	}
}

// TestResultMessageIsSafe: resultMsg is cut by characters, never inside one, and
// carries no control character whatever the message was.
func TestResultMessageIsSafe(t *testing.T) {
	r := NewResult(InternalError, strings.Repeat("原", 200)+"\x1b[2J"+strings.Repeat("因", 200))
	if !utf8.ValidString(r.ResultMsg) || utf8.RuneCountInString(r.ResultMsg) != MaxMessageLen || strings.ContainsRune(r.ResultMsg, 0x1b) {
		t.Fatalf("resultMsg %q (%d characters)", r.ResultMsg, utf8.RuneCountInString(r.ResultMsg))
	}
	if got := NewResult(Success, "").ResultMsg; got != "success." {
		t.Fatalf("default message %q", got)
	}
}

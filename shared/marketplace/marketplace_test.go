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

// TestResultMsgCutAtCharacters: resultMsg is at most 255 characters, cut between
// characters, never inside a UTF-8 sequence; shorter messages are kept whole.
func TestResultMsgCutAtCharacters(t *testing.T) {
	for _, c := range []struct {
		msg  string
		want string
	}{
		{strings.Repeat("a", 300), strings.Repeat("a", 255)},
		{strings.Repeat("测", 300), strings.Repeat("测", 255)},
		{strings.Repeat("测", 255), strings.Repeat("测", 255)},
		{"x" + strings.Repeat("😀", 260), "x" + strings.Repeat("😀", 254)},
		{"短い", "短い"},
	} {
		got := NewResult(BadRequest, c.msg).ResultMsg
		if got != c.want || !utf8.ValidString(got) {
			t.Errorf("%d characters cut to %d (%d bytes, valid %v), want %d", utf8.RuneCountInString(c.msg),
				utf8.RuneCountInString(got), len(got), utf8.ValidString(got), utf8.RuneCountInString(c.want))
		}
	}
	if got := ResultFor(Errorf(BadRequest, "%s", strings.Repeat("é", 400))).ResultMsg; utf8.RuneCountInString(got) != MaxMessageLen || !utf8.ValidString(got) {
		t.Errorf("ResultFor: %d characters, valid %v", utf8.RuneCountInString(got), utf8.ValidString(got))
	}
}

func TestClip(t *testing.T) {
	for _, c := range []struct {
		in   string
		n    int
		want string
	}{
		{"short", 10, "short"}, {"exactly", 7, "exactly"}, {"abcdef", 3, "abc…"},
		{"中文原因很长", 2, "中文…"}, {"😀😀😀", 1, "😀…"}, {"", 0, ""}, {"x", 0, "…"},
	} {
		if got := Clip(c.in, c.n); got != c.want || !utf8.ValidString(got) {
			t.Errorf("Clip(%q, %d) = %q, want %q", c.in, c.n, got, c.want)
		}
	}
}

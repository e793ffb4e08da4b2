package marketplace

import (
	"strings"
	"testing"
	"unicode/utf8"
)

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

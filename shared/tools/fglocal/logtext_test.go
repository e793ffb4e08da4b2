package fglocal

import (
	"bytes"
	"strings"
	"testing"
)

func TestRenderLogLine(t *testing.T) {
	t.Parallel()
	for _, c := range []struct{ in, want string }{
		{`[saas-produce#1] {"time":"2026-01-02T15:04:05.123456+08:00","level":"INFO","msg":"request done","activity":"newInstance","resultCode":"000000","ms":12}`,
			`15:04:05.123 INFO  saas-produce#1 request done activity=newInstance resultCode=000000 ms=12`},
		{`[fulfil-worker#2] {"time":"2026-01-02T07:04:05Z","level":"WARN","msg":"job failed","err":"dial tcp: refused","job":{"id":4,"kind":"provision"}}`,
			`07:04:05.000 WARN  fulfil-worker#2 job failed err="dial tcp: refused" job="{\"id\":4,\"kind\":\"provision\"}"`},
		{`[sso-login#1] {"level":"ERROR","msg":"bad\u001b[31m","k":"a\u0007b","empty":""}`,
			`ERROR sso-login#1 bad\x1b[31m k="a\ab" empty=""`},
		// Not JSON: unchanged.
		{`[saas-produce#1] panic: runtime error`, `[saas-produce#1] panic: runtime error`},
		{`[saas-produce#1] {"msg":"cut`, `[saas-produce#1] {"msg":"cut`},
		{`[saas-produce#1] {"msg":"a"} {"msg":"b"}`, `[saas-produce#1] {"msg":"a"} {"msg":"b"}`},
		{`{"time":"x","level":"DEBUG","msg":"no prefix"}`, `x DEBUG no prefix`},
	} {
		if got := RenderLogLine([]byte(c.in)); got != c.want {
			t.Errorf("RenderLogLine(%s)\n got %s\nwant %s", c.in, got, c.want)
		}
	}
}

// TestTextLogs: the writer renders complete lines, whatever the writes' sizes.
func TestTextLogs(t *testing.T) {
	t.Parallel()
	var out bytes.Buffer
	w := TextLogs(&out)
	in := "[f#1] {\"level\":\"INFO\",\"msg\":\"one\"}\nplain line\n[f#1] {\"level\":\"INFO\",\"msg\":\"two\"}\n"
	for i := 0; i < len(in); i += 7 {
		end := min(i+7, len(in))
		if n, err := w.Write([]byte(in[i:end])); err != nil || n != end-i {
			t.Fatalf("write: %d %v", n, err)
		}
	}
	want := "INFO  f#1 one\nplain line\nINFO  f#1 two\n"
	if out.String() != want {
		t.Fatalf("got %q\nwant %q", out.String(), want)
	}
	if strings.Contains(out.String(), "{") {
		t.Fatal("JSON left in the text")
	}
}

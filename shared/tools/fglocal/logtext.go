package fglocal

import (
	"bytes"
	"encoding/json"
	"io"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode"
)

// TextLogs returns a writer for Options.FunctionOutput that renders the
// functions' JSON log lines as text for a person at a terminal:
//
//	15:04:05.000 INFO  saas-produce#1 request done activity=newInstance resultCode=000000
//
// A line that is not a JSON object (a panic, a runtime message) passes through as
// it is. The functions log JSON because FunctionGraph ships it to LTS; the local
// run shows the same lines readably.
func TextLogs(w io.Writer) io.Writer { return &textLogs{w: w} }

type textLogs struct {
	mu  sync.Mutex
	w   io.Writer
	buf []byte
}

func (t *textLogs) Write(b []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.buf = append(t.buf, b...)
	for {
		i := bytes.IndexByte(t.buf, '\n')
		if i < 0 {
			return len(b), nil
		}
		line := RenderLogLine(t.buf[:i])
		t.buf = t.buf[i+1:]
		if _, err := io.WriteString(t.w, line+"\n"); err != nil {
			return len(b), err
		}
	}
}

// RenderLogLine renders one line the emulator passes on ("[function#n] " and
// what the function wrote) as "time level function#n msg key=value…". Lines it
// cannot read as a JSON object come back unchanged.
func RenderLogLine(line []byte) string {
	prefix, rest := "", line
	if bytes.HasPrefix(rest, []byte("[")) {
		if i := bytes.Index(rest, []byte("] ")); i > 0 {
			prefix, rest = string(rest[1:i]), rest[i+2:]
		}
	}
	fields, ok := objectFields(bytes.TrimSpace(rest))
	if !ok {
		return string(line)
	}
	var when, level, msg string
	var attrs []string
	for _, f := range fields {
		switch f.key {
		case "time":
			when = f.text()
			if t, err := time.Parse(time.RFC3339Nano, when); err == nil {
				when = t.Format("15:04:05.000")
			}
		case "level":
			level = f.text()
		case "msg":
			msg = f.text()
		default:
			attrs = append(attrs, safe(f.key)+"="+quoteIfNeeded(f.text()))
		}
	}
	var b strings.Builder
	for _, part := range []string{when, padLevel(level), prefix, safe(msg)} {
		if part != "" {
			b.WriteString(part)
			b.WriteByte(' ')
		}
	}
	b.WriteString(strings.Join(attrs, " "))
	return strings.TrimRight(b.String(), " ")
}

type field struct {
	key string
	raw json.RawMessage
}

// text is a string value unquoted, any other value as compact JSON.
func (f field) text() string {
	var s string
	if json.Unmarshal(f.raw, &s) == nil {
		return s
	}
	var c bytes.Buffer
	if json.Compact(&c, f.raw) == nil {
		return c.String()
	}
	return string(f.raw)
}

// objectFields reads a JSON object keeping the order of its keys.
func objectFields(b []byte) ([]field, bool) {
	if len(b) == 0 || b[0] != '{' {
		return nil, false
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return nil, false
	}
	var out []field
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, false
		}
		key, ok := tok.(string)
		if !ok {
			return nil, false
		}
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return nil, false
		}
		out = append(out, field{key, raw})
	}
	if tok, err := dec.Token(); err != nil || tok != json.Delim('}') || dec.More() {
		return nil, false
	}
	return out, true
}

func padLevel(l string) string {
	if l == "" {
		return ""
	}
	return (safe(l) + "     ")[:5]
}

// safe keeps a terminal's control sequences out of the rendering.
func safe(s string) string {
	if strings.IndexFunc(s, unsafeRune) < 0 {
		return s
	}
	q := strconv.QuoteToGraphic(s)
	return q[1 : len(q)-1]
}

func quoteIfNeeded(s string) string {
	if s == "" || strings.IndexFunc(s, func(r rune) bool { return unicode.IsSpace(r) || r == '"' || r == '=' || unsafeRune(r) }) >= 0 {
		return strconv.QuoteToGraphic(s)
	}
	return s
}

func unsafeRune(r rune) bool { return !unicode.IsGraphic(r) && r != ' ' }

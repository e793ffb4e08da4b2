package kit

import (
	"encoding/json"
	"strings"
	"unicode/utf8"

	"github.com/kgseller/kgseller/shared/reqbody"
)

// objectList reads a field that holds a list of objects in any of the forms the
// Kit pages show: a JSON array; a string holding a JSON array (V1 userList and
// orgInfo, V2 orgInfoList in the example); or a string in JavaScript object notation
// with unquoted keys (orgInfoList in the V2 example:
// "[{orgCode:\"00000001\", orgName:\"产品部\"}]"). An empty string is an empty list.
// Lists longer than max are refused.
func objectList(o reqbody.Object, name string, max int) ([]reqbody.Object, bool, error) {
	raw := o[name]
	if len(raw) == 0 || string(raw) == "null" {
		return nil, false, nil
	}
	var arr json.RawMessage
	switch raw[0] {
	case '[':
		arr = raw
	case '"':
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return nil, true, bad("%s must be a list", name)
		}
		s = strings.TrimSpace(s)
		if s == "" {
			return nil, true, nil
		}
		if !strings.HasPrefix(s, "[") {
			return nil, true, bad("%s must be a list", name)
		}
		var err error
		if arr, err = wrapList(s); err != nil {
			converted, ok := lenientJSON(s)
			if !ok {
				return nil, true, bad("%s is neither a JSON list nor a list with unquoted keys", name)
			}
			if arr, err = wrapList(converted); err != nil {
				return nil, true, bad("%s is neither a JSON list nor a list with unquoted keys", name)
			}
		}
	default:
		return nil, true, bad("%s must be a list", name)
	}
	var items []json.RawMessage
	if err := json.Unmarshal(arr, &items); err != nil {
		return nil, true, bad("%s must be a list", name)
	}
	if len(items) > max {
		return nil, true, bad("%s has %d entries; at most %d are allowed", name, len(items), max)
	}
	out := make([]reqbody.Object, 0, len(items))
	for i, it := range items {
		if len(it) == 0 || it[0] != '{' {
			return nil, true, bad("%s[%d] must be an object", name, i)
		}
		var obj reqbody.Object
		if err := json.Unmarshal(it, &obj); err != nil {
			return nil, true, bad("%s[%d] must be an object", name, i)
		}
		out = append(out, obj)
	}
	return out, true, nil
}

// wrapList parses s as JSON through reqbody.Parse, so a list carried inside a string
// gets the same UTF-8 and nesting limits as the body itself.
func wrapList(s string) (json.RawMessage, error) {
	o, err := reqbody.Parse([]byte(`{"l":` + s + `}`))
	if err != nil {
		return nil, err
	}
	r := o["l"]
	if len(r) == 0 || r[0] != '[' {
		return nil, bad("not a list")
	}
	return r, nil
}

// lenientJSON rewrites JavaScript-style object notation as JSON: bare tokens
// become strings (keys and values alike, except true, false and null), and
// single-quoted strings become double-quoted ones. Bare values are quoted rather
// than read as numbers because every list field is an identifier ("00000001" is
// not a JSON number). It reports false for input it cannot make sense of.
func lenientJSON(s string) (string, bool) {
	if !utf8.ValidString(s) {
		return "", false
	}
	var b strings.Builder
	b.Grow(len(s) + len(s)/4)
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == '"' || c == '\'':
			end, text, ok := readQuoted(s, i)
			if !ok {
				return "", false
			}
			writeJSONString(&b, text)
			i = end
		case strings.IndexByte("{}[],: \t\r\n", c) >= 0:
			b.WriteByte(c)
			i++
		default:
			j := i
			for j < len(s) && strings.IndexByte("{}[],:\"' \t\r\n", s[j]) < 0 {
				j++
			}
			tok := s[i:j]
			switch tok {
			case "true", "false", "null":
				b.WriteString(tok)
			default:
				writeJSONString(&b, tok)
			}
			i = j
		}
	}
	return b.String(), true
}

// readQuoted reads a string literal starting at s[i] (a ' or "), handling
// backslash escapes, and returns the index after it and its text.
func readQuoted(s string, i int) (int, string, bool) {
	q := s[i]
	var text strings.Builder
	for j := i + 1; j < len(s); j++ {
		c := s[j]
		switch {
		case c == '\\':
			if j+1 >= len(s) {
				return 0, "", false
			}
			if q == '"' {
				// A double-quoted literal is already JSON: let encoding/json read it.
				end := j + 1
				for end < len(s) && !(s[end] == '"' && !escaped(s, end)) {
					end++
				}
				if end >= len(s) {
					return 0, "", false
				}
				var v string
				if err := json.Unmarshal([]byte(s[i:end+1]), &v); err != nil {
					return 0, "", false
				}
				return end + 1, v, true
			}
			j++
			switch s[j] {
			case 'n':
				text.WriteByte('\n')
			case 't':
				text.WriteByte('\t')
			default:
				text.WriteByte(s[j])
			}
		case c == q:
			return j + 1, text.String(), true
		default:
			text.WriteByte(c)
		}
	}
	return 0, "", false
}

// escaped reports whether s[i] is preceded by an odd number of backslashes.
func escaped(s string, i int) bool {
	n := 0
	for k := i - 1; k >= 0 && s[k] == '\\'; k-- {
		n++
	}
	return n%2 == 1
}

func writeJSONString(b *strings.Builder, s string) {
	enc, _ := json.Marshal(s)
	b.Write(enc)
}

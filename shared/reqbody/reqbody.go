// Package reqbody decodes marketplace request bodies: strict where the protocol is
// strict (identifiers are JSON strings within their documented lengths, the body is
// valid UTF-8, nesting is bounded) and tolerant where Huawei's pages disagree (flags as
// strings or numbers, unknown fields ignored, a repeated key keeps its last value).
// Every failure is a *marketplace.Error with code 000002 and a message that names the
// field, safe to send back.
package reqbody

import (
	"bytes"
	"encoding/json"
	"math"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/kgseller/kgseller/shared/marketplace"
)

// MaxDepth bounds object/array nesting; no documented body goes beyond 4.
const MaxDepth = 32

// Object is a decoded JSON object whose fields are read on demand with their rules.
type Object map[string]json.RawMessage

// Bad returns a 000002 error whose message names the problem.
func Bad(format string, args ...any) error {
	return marketplace.Errorf(marketplace.BadRequest, "invalid request parameter: "+format, args...)
}

func bad(format string, args ...any) error { return Bad(format, args...) }

// Activity is the head every marketplace body shares.
type Activity struct {
	Name string // the activity field
	Test bool   // testFlag "1": a debug call from the Seller Console
}

// ParseActivity parses a body (see Parse) and reads its activity (at most
// maxActivity characters, required) and testFlag (string or number).
func ParseActivity(body []byte, maxActivity int) (Object, Activity, error) {
	o, err := Parse(body)
	if err != nil {
		return nil, Activity{}, err
	}
	name, err := o.String("activity", maxActivity, true)
	if err != nil {
		return nil, Activity{}, err
	}
	flag, err := o.Flag("testFlag", 2)
	if err != nil {
		return nil, Activity{}, err
	}
	return o, Activity{Name: name, Test: flag == "1"}, nil
}

// Parse checks the body is valid UTF-8 (encoding/json would silently replace bad
// bytes) and bounded in depth, and decodes its top-level object.
func Parse(body []byte) (Object, error) {
	if !utf8.Valid(body) {
		return nil, bad("body is not valid UTF-8")
	}
	if err := checkDepth(body, MaxDepth); err != nil {
		return nil, err
	}
	trimmed := bytes.TrimSpace(body)
	if len(trimmed) == 0 || trimmed[0] != '{' {
		return nil, bad("body must be a JSON object")
	}
	var o Object
	if err := json.Unmarshal(trimmed, &o); err != nil {
		return nil, bad("body is not valid JSON")
	}
	return o, nil
}

// checkDepth scans the bytes once, outside strings, counting open brackets.
func checkDepth(b []byte, max int) error {
	depth, inString, escaped := 0, false, false
	for _, c := range b {
		switch {
		case inString:
			switch {
			case escaped:
				escaped = false
			case c == '\\':
				escaped = true
			case c == '"':
				inString = false
			}
		case c == '"':
			inString = true
		case c == '{' || c == '[':
			depth++
			if depth > max {
				return bad("body nests deeper than %d levels", max)
			}
		case c == '}' || c == ']':
			depth--
		}
	}
	return nil
}

func present(r json.RawMessage) bool {
	return len(r) > 0 && string(r) != "null"
}

// Has reports whether a field is present and not null.
func (o Object) Has(name string) bool { return present(o[name]) }

// String reads a string field of at most max characters. A missing, null or empty
// required field is an error; so is any non-string JSON value.
func (o Object) String(name string, max int, required bool) (string, error) {
	r := o[name]
	if !present(r) {
		if required {
			return "", bad("%s is required", name)
		}
		return "", nil
	}
	if r[0] != '"' {
		return "", bad("%s must be a string", name)
	}
	var s string
	if err := json.Unmarshal(r, &s); err != nil {
		return "", bad("%s must be a string", name)
	}
	if required && s == "" {
		return "", bad("%s is required", name)
	}
	if utf8.RuneCountInString(s) > max {
		return "", bad("%s is longer than %d characters", name, max)
	}
	return s, nil
}

// ID reads an identifier: a String without control characters. Quotes, backslashes,
// semicolons and other SQL meta-characters are ordinary data.
func (o Object) ID(name string, max int, required bool) (string, error) {
	s, err := o.String(name, max, required)
	if err != nil {
		return "", err
	}
	if !ValidID(s) {
		return "", bad("%s contains control characters", name)
	}
	return s, nil
}

// ValidID reports whether s has no control characters.
func ValidID(s string) bool {
	for _, r := range s {
		if r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) {
			return false
		}
	}
	return true
}

// Flag reads a flag such as testFlag that arrives as "1", 1, "0", 0 or is absent.
// It returns the value's text ("" when absent).
func (o Object) Flag(name string, max int) (string, error) {
	r := o[name]
	if !present(r) {
		return "", nil
	}
	switch r[0] {
	case '"':
		return o.String(name, max, false)
	case 't', 'f':
		return "", bad("%s must be a string or a number", name)
	}
	var n json.Number
	if err := json.Unmarshal(r, &n); err != nil {
		return "", bad("%s must be a string or a number", name)
	}
	if len(n.String()) > max {
		return "", bad("%s is longer than %d characters", name, max)
	}
	return n.String(), nil
}

// Int reads an integer that arrives as a JSON number or a numeric string.
func (o Object) Int(name string, required bool) (int64, bool, error) {
	r := o[name]
	if !present(r) {
		if required {
			return 0, false, bad("%s is required", name)
		}
		return 0, false, nil
	}
	text := string(r)
	if r[0] == '"' {
		if err := json.Unmarshal(r, &text); err != nil {
			return 0, false, bad("%s must be an integer", name)
		}
	}
	n, err := strconv.ParseInt(text, 10, 64)
	if err != nil {
		return 0, false, bad("%s must be an integer", name)
	}
	return n, true, nil
}

// Number reads a decimal number that arrives as a JSON number or a numeric string,
// such as a quantity documented as an integer that may come as 2.5 or "2.50". It
// returns the number's text as sent (at most max characters); "" when absent.
func (o Object) Number(name string, max int, required bool) (json.Number, error) {
	r := o[name]
	if !present(r) {
		if required {
			return "", bad("%s is required", name)
		}
		return "", nil
	}
	text := string(r)
	if r[0] == '"' {
		if err := json.Unmarshal(r, &text); err != nil {
			return "", bad("%s must be a number", name)
		}
	}
	var n json.Number
	if text == "" || (text[0] != '-' && (text[0] < '0' || text[0] > '9')) || json.Unmarshal([]byte(text), &n) != nil {
		return "", bad("%s must be a number", name)
	}
	if f, err := strconv.ParseFloat(text, 64); err != nil || math.IsInf(f, 0) {
		return "", bad("%s must be a number", name)
	}
	if len(text) > max {
		return "", bad("%s is longer than %d characters", name, max)
	}
	return n, nil
}

// Object reads a nested object.
func (o Object) Object(name string, required bool) (Object, error) {
	r := o[name]
	if !present(r) {
		if required {
			return nil, bad("%s is required", name)
		}
		return nil, nil
	}
	if r[0] != '{' {
		return nil, bad("%s must be an object", name)
	}
	var sub Object
	if err := json.Unmarshal(r, &sub); err != nil {
		return nil, bad("%s must be an object", name)
	}
	return sub, nil
}

// ParseExpireTime reads a UTC expiry of 14 (yyyyMMddHHmmss) or 17 (…SSS) digits.
func ParseExpireTime(s string) (time.Time, error) {
	layout := ""
	switch len(s) {
	case 14:
		layout = "20060102150405"
	case 17:
		layout = "20060102150405.000"
		s = s[:14] + "." + s[14:]
	default:
		return time.Time{}, Bad("expireTime must have 14 or 17 digits")
	}
	for i := 0; i < len(s); i++ {
		if (s[i] < '0' || s[i] > '9') && s[i] != '.' {
			return time.Time{}, Bad("expireTime must have 14 or 17 digits")
		}
	}
	t, err := time.ParseInLocation(layout, s, time.UTC)
	if err != nil {
		return time.Time{}, Bad("expireTime is not a valid time")
	}
	return t, nil
}

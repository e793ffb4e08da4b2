package kgsim

import (
	"bytes"
	"crypto/hmac"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"github.com/kgseller/kgseller/shared/marketplace"
	"mime"
	"net/http"
	"strings"
	"unicode/utf8"

	"github.com/kgseller/kgseller/shared/kgsign"
)

// maxResultMsg is the documented length of resultMsg (docs/protocol.md#answers).
const maxResultMsg = 255

// decodeObject decodes a JSON object keeping numbers as json.Number; nil when the
// body is not one JSON object.
func decodeObject(body []byte) map[string]any {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var obj map[string]any
	if err := dec.Decode(&obj); err != nil {
		return nil
	}
	if _, err := dec.Token(); err == nil {
		return nil // trailing data after the object
	}
	return obj
}

// checkShape lists how an answer departs from what the marketplace accepts: HTTP
// 200, application/json, a JSON object with a 6-digit resultCode string and a
// resultMsg string of at most 255 characters, and a Body-Sign header whose HMAC
// matches the exact bytes with the access key.
func checkShape(a *Answer, key kgsign.Key) []string {
	var p []string
	if a.Status != http.StatusOK {
		msg := fmt.Sprintf("HTTP %d, want 200", a.Status)
		if a.Status == http.StatusNotFound {
			msg += " (route not found: is the function deployed at this path?)"
		}
		p = append(p, msg)
	}
	if mt, _, err := mime.ParseMediaType(a.ContentType); err != nil || mt != "application/json" {
		p = append(p, fmt.Sprintf("Content-Type %q, want application/json", a.ContentType))
	}
	if a.Obj == nil {
		p = append(p, fmt.Sprintf("body is not a JSON object: %q", marketplace.Clip(string(a.Body), 80)))
	} else {
		switch code, ok := a.Obj["resultCode"].(string); {
		case !ok:
			p = append(p, "resultCode missing or not a string")
		case !sixDigits(code):
			p = append(p, fmt.Sprintf("resultCode %q is not 6 digits", marketplace.Clip(code, 20)))
		}
		switch msg, ok := a.Obj["resultMsg"].(string); {
		case !ok:
			p = append(p, "resultMsg missing or not a string")
		case utf8.RuneCountInString(msg) > maxResultMsg:
			p = append(p, fmt.Sprintf("resultMsg has %d characters, at most %d allowed", utf8.RuneCountInString(msg), maxResultMsg))
		}
	}
	if err := checkBodySign(a.Header.Get("Body-Sign"), a.Body, key); err != "" {
		p = append(p, err)
	}
	return p
}

func sixDigits(s string) bool {
	if len(s) != 6 {
		return false
	}
	for i := 0; i < 6; i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// bodySignMismatch is checkBodySign's complaint about a well-formed header that
// does not verify.
const bodySignMismatch = "Body-Sign does not match the body (signed with another key, or over other bytes than those sent)"

// checkBodySign verifies a Body-Sign header, accepting the spacing variants of
// Huawei's own samples (`signature= "…"`), and returns what is wrong or "".
func checkBodySign(header string, body []byte, key kgsign.Key) string {
	if header == "" {
		return "Body-Sign header missing"
	}
	params := map[string]string{}
	for _, part := range strings.Split(header, ",") {
		name, value, ok := strings.Cut(part, "=")
		if !ok {
			continue
		}
		value = strings.TrimSpace(value)
		if len(value) < 2 || value[0] != '"' || value[len(value)-1] != '"' {
			return fmt.Sprintf("Body-Sign %q is malformed: values must be double-quoted", marketplace.Clip(header, 60))
		}
		params[strings.TrimSpace(name)] = value[1 : len(value)-1]
	}
	if params["sign_type"] != "HMAC-SHA256" {
		return fmt.Sprintf("Body-Sign %q is malformed: want sign_type=\"HMAC-SHA256\"", marketplace.Clip(header, 60))
	}
	got, err := base64.StdEncoding.DecodeString(params["signature"])
	if err != nil || len(got) == 0 {
		return fmt.Sprintf("Body-Sign %q is malformed: signature is not Base64", marketplace.Clip(header, 60))
	}
	want, _ := base64.StdEncoding.DecodeString(kgsign.BodySign(key, body))
	if !hmac.Equal(got, want) {
		return bodySignMismatch
	}
	return ""
}

// kind is the JSON type of a documented field.
type kind int

const (
	kString kind = iota
	kNumber
	kObject
	kArray // of objects described by field.of
)

func (k kind) String() string {
	return [...]string{"a string", "a number", "an object", "an array"}[k]
}

// field is one row of a documented response table.
type field struct {
	name  string
	kind  kind
	max   int  // strings: characters
	req   bool // mandatory (M)
	of    []field
	check func(v any) string // extra rule on a present value; "" when fine
}

// checkFields checks obj against the documented table fs and lists every problem,
// naming each field by its path (info[0].appInfo.frontEndUrl).
func checkFields(path string, obj map[string]any, fs []field) []string {
	var p []string
	for _, f := range fs {
		name := f.name
		if path != "" {
			name = path + "." + f.name
		}
		v, present := obj[f.name]
		if !present || v == nil {
			if f.req {
				p = append(p, fmt.Sprintf("%s missing (mandatory)", name))
			}
			continue
		}
		switch f.kind {
		case kString:
			s, ok := v.(string)
			if !ok {
				p = append(p, fmt.Sprintf("%s is not a string", name))
				continue
			}
			if f.req && s == "" {
				p = append(p, fmt.Sprintf("%s is empty (mandatory)", name))
			}
			if n := utf8.RuneCountInString(s); f.max > 0 && n > f.max {
				p = append(p, fmt.Sprintf("%s has %d characters, at most %d allowed", name, n, f.max))
			}
		case kNumber:
			if _, ok := v.(json.Number); !ok {
				p = append(p, fmt.Sprintf("%s is not a number", name))
				continue
			}
		case kObject:
			o, ok := v.(map[string]any)
			if !ok {
				p = append(p, fmt.Sprintf("%s is not an object", name))
				continue
			}
			p = append(p, checkFields(name, o, f.of)...)
		case kArray:
			arr, ok := v.([]any)
			if !ok {
				p = append(p, fmt.Sprintf("%s is not an array", name))
				continue
			}
			for i, el := range arr {
				elName := fmt.Sprintf("%s[%d]", name, i)
				o, ok := el.(map[string]any)
				if !ok {
					p = append(p, fmt.Sprintf("%s is not an object", elName))
					continue
				}
				p = append(p, checkFields(elName, o, f.of)...)
			}
		}
		if f.check != nil {
			if msg := f.check(v); msg != "" {
				p = append(p, name+" "+msg)
			}
		}
	}
	return p
}

// maxDecimals returns a check that a number has at most n decimals.
func maxDecimals(n int) func(v any) string {
	return func(v any) string {
		num, ok := v.(json.Number)
		if !ok {
			return ""
		}
		s := strings.ToLower(num.String())
		if strings.ContainsAny(s, "e") {
			return fmt.Sprintf("%s is in exponent form; at most %d decimals are allowed", s, n)
		}
		if _, frac, ok := strings.Cut(s, "."); ok && len(frac) > n {
			return fmt.Sprintf("%s has %d decimals, at most %d allowed", s, len(frac), n)
		}
		return ""
	}
}

// digitsTime returns a check that a string is a UTC time of exactly n digits
// (17: yyyyMMddHHmmssSSS).
func digitsTime(n int) func(v any) string {
	return func(v any) string {
		s, ok := v.(string)
		if !ok {
			return ""
		}
		if len(s) != n || strings.Trim(s, "0123456789") != "" {
			return fmt.Sprintf("%q is not a %d-digit UTC time", marketplace.Clip(s, 30), n)
		}
		return ""
	}
}

package probe

import (
	"bytes"
	"crypto/hmac"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/kgseller/kgseller/shared/marketplace"
	"mime"
	"net/http"
	"strings"
	"unicode/utf8"

	"github.com/kgseller/kgseller/shared/kgsign"
)

// This file is the one answer checker of the project: the marketplace simulator
// (kgsim), the signing command, the interface monitor and the tests of every
// endpoint family judge answers with it.

// MaxResultMsg is the documented length of resultMsg (docs/protocol.md#answers).
const MaxResultMsg = 255

// BodySignMismatch is the problem reported for a well-formed Body-Sign header that
// does not verify.
const BodySignMismatch = "Body-Sign does not match the body (signed with another key, or over other bytes than those sent)"

// DecodeObject decodes a JSON object keeping numbers as json.Number (so decimals
// can be counted); nil when the body is not exactly one JSON object.
func DecodeObject(body []byte) map[string]any {
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

// Problems lists how the answer departs from what the marketplace accepts
// (docs/protocol.md#transport, docs/protocol.md#answers): HTTP 200,
// application/json, a JSON object with a 6-digit resultCode string and a
// resultMsg string of at most 255 characters, and a Body-Sign header whose HMAC
// matches the exact bytes under a.Key. Nil means none.
func (a Answer) Problems() []string {
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
	if a.Fields == nil {
		p = append(p, fmt.Sprintf("body is not a JSON object: %q", marketplace.Clip(string(a.Body), 80)))
	} else {
		switch code, ok := a.Fields["resultCode"].(string); {
		case !ok:
			p = append(p, "resultCode missing or not a string")
		case !sixDigits(code):
			p = append(p, fmt.Sprintf("resultCode %q is not 6 digits", marketplace.Clip(code, 20)))
		}
		switch msg, ok := a.Fields["resultMsg"].(string); {
		case !ok:
			p = append(p, "resultMsg missing or not a string")
		case utf8.RuneCountInString(msg) > MaxResultMsg:
			p = append(p, fmt.Sprintf("resultMsg has %d characters, at most %d allowed", utf8.RuneCountInString(msg), MaxResultMsg))
		}
	}
	if err := BodySignProblem(a.Header.Get("Body-Sign"), a.Body, a.Key); err != "" {
		p = append(p, err)
	}
	return p
}

// ShapeError joins Problems into one error, or returns nil.
func (a Answer) ShapeError() error {
	if p := a.Problems(); len(p) > 0 {
		return errors.New(strings.Join(p, "; "))
	}
	return nil
}

// BodySignOK reports whether the answer's Body-Sign verifies under a.Key.
func (a Answer) BodySignOK() bool {
	return BodySignProblem(a.Header.Get("Body-Sign"), a.Body, a.Key) == ""
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

// BodySignProblem verifies a Body-Sign header (docs/protocol.md#body-sign),
// accepting the spacing variants of Huawei's own samples (`signature= "…"`), and
// returns what is wrong or "".
func BodySignProblem(header string, body []byte, key kgsign.Key) string {
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
		return BodySignMismatch
	}
	return ""
}

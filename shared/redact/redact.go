// Package redact keeps secrets out of logs. Every function logs through a slog
// handler wrapped by Handler, which replaces any configured secret value found in a
// message or attribute (strings, errors, anything printed) with "[redacted]", and
// blanks attributes whose names say they hold a secret.
package redact

import (
	"context"
	"fmt"
	"log/slog"
	"sort"
	"strings"
)

// Mask replaces redacted text.
const Mask = "[redacted]"

// minSecret is the shortest value treated as a secret; shorter values ("1",
// "true") would mask ordinary text.
const minSecret = 6

// sensitiveKeys are attribute names whose values are never logged.
var sensitiveKeys = []string{"password", "passwd", "secret", "token", "authorization", "accesskey", "access_key", "privatekey", "private_key", "signature", "cookie"}

// Secrets is a set of values to mask.
type Secrets struct {
	values []string // longest first, so a secret containing another is masked whole
}

// New builds a set from values; short and empty values are ignored.
func New(values ...string) *Secrets {
	s := &Secrets{}
	seen := map[string]bool{}
	for _, v := range values {
		if len(v) >= minSecret && !seen[v] {
			seen[v] = true
			s.values = append(s.values, v)
		}
	}
	sort.Slice(s.values, func(i, j int) bool { return len(s.values[i]) > len(s.values[j]) })
	return s
}

// String masks every secret in text.
func (s *Secrets) String(text string) string {
	if s == nil {
		return text
	}
	for _, v := range s.values {
		if strings.Contains(text, v) {
			text = strings.ReplaceAll(text, v, Mask)
		}
	}
	return text
}

// Len is the number of secrets held.
func (s *Secrets) Len() int {
	if s == nil {
		return 0
	}
	return len(s.values)
}

// SensitiveKey reports whether an attribute name says it holds a secret.
func SensitiveKey(key string) bool {
	k := strings.ToLower(key)
	for _, s := range sensitiveKeys {
		if strings.Contains(k, s) {
			return true
		}
	}
	return false
}

// Handler wraps a slog.Handler with redaction.
func Handler(h slog.Handler, secrets *Secrets) slog.Handler {
	return &handler{next: h, secrets: secrets}
}

type handler struct {
	next    slog.Handler
	secrets *Secrets
}

func (h *handler) Enabled(ctx context.Context, l slog.Level) bool { return h.next.Enabled(ctx, l) }

func (h *handler) Handle(ctx context.Context, r slog.Record) error {
	out := slog.NewRecord(r.Time, r.Level, h.secrets.String(r.Message), r.PC)
	r.Attrs(func(a slog.Attr) bool {
		out.AddAttrs(h.attr(a))
		return true
	})
	return h.next.Handle(ctx, out)
}

func (h *handler) WithAttrs(attrs []slog.Attr) slog.Handler {
	clean := make([]slog.Attr, len(attrs))
	for i, a := range attrs {
		clean[i] = h.attr(a)
	}
	return &handler{next: h.next.WithAttrs(clean), secrets: h.secrets}
}

func (h *handler) WithGroup(name string) slog.Handler {
	return &handler{next: h.next.WithGroup(name), secrets: h.secrets}
}

// attr masks one attribute: by name, then by value.
func (h *handler) attr(a slog.Attr) slog.Attr {
	v := a.Value.Resolve()
	if v.Kind() == slog.KindGroup {
		group := v.Group()
		clean := make([]any, len(group))
		for i, g := range group {
			clean[i] = h.attr(g)
		}
		return slog.Group(a.Key, clean...)
	}
	if SensitiveKey(a.Key) {
		return slog.String(a.Key, Mask)
	}
	switch v.Kind() {
	case slog.KindString:
		return slog.String(a.Key, h.secrets.String(v.String()))
	case slog.KindAny:
		var text string
		switch x := v.Any().(type) {
		case error:
			text = x.Error()
		case fmt.Stringer:
			text = x.String()
		default:
			text = fmt.Sprint(x)
		}
		return slog.String(a.Key, h.secrets.String(text))
	}
	return slog.Attr{Key: a.Key, Value: v}
}

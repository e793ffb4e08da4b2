package redact

import (
	"bytes"
	"errors"
	"log/slog"
	"strings"
	"testing"
)

func TestHandlerMasksSecrets(t *testing.T) {
	var buf bytes.Buffer
	s := New("TestAccessKey-0123456789", "db-password-xyz", "ab", "")
	if s.Len() != 2 {
		t.Fatalf("%d secrets kept, want 2 (short values are ignored)", s.Len())
	}
	log := slog.New(Handler(slog.NewJSONHandler(&buf, nil), s)).With("dsn", "u:db-password-xyz@tcp(h)/d")
	log.Info("key TestAccessKey-0123456789 in message",
		"err", errors.New("dial: u:db-password-xyz@tcp"),
		"nested", slog.GroupValue(slog.String("k", "TestAccessKey-0123456789")),
		"password", "plain", "clientSecret", "whatever", "count", 3,
		"any", struct{ V string }{"db-password-xyz"},
	)
	out := buf.String()
	for _, leak := range []string{"TestAccessKey-0123456789", "db-password-xyz", "plain", "whatever"} {
		if strings.Contains(out, leak) {
			t.Fatalf("%q leaked: %s", leak, out)
		}
	}
	if !strings.Contains(out, `"count":3`) || strings.Count(out, Mask) < 6 {
		t.Fatalf("unexpected output: %s", out)
	}
}

func TestOverlappingSecrets(t *testing.T) {
	s := New("secret", "secret-longer")
	if got := s.String("x secret-longer y secret z"); got != "x [redacted] y [redacted] z" {
		t.Fatalf("got %q", got)
	}
}

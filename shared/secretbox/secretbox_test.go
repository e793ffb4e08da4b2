package secretbox

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

func TestSealOpen(t *testing.T) {
	k, err := NewKey()
	if err != nil {
		t.Fatal(err)
	}
	b, err := New(k)
	if err != nil {
		t.Fatal(err)
	}
	sealed, err := b.Seal("client-secret-value", "row-1")
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(sealed, "client-secret") {
		t.Fatalf("sealed value shows the plaintext")
	}
	if got, err := b.Open(sealed, "row-1"); err != nil || got != "client-secret-value" {
		t.Fatalf("Open = %q, %v", got, err)
	}
	if _, err := b.Open(sealed, "row-2"); !errors.Is(err, ErrOpen) {
		t.Fatalf("opened under another context: %v", err)
	}
	other, _ := NewKey()
	b2, _ := New(other)
	if _, err := b2.Open(sealed, "row-1"); !errors.Is(err, ErrOpen) {
		t.Fatalf("opened under another key: %v", err)
	}
	for _, bad := range []string{"", "v1:", "v1:!!!", "v2:" + sealed[3:], sealed[:len(sealed)-4]} {
		if _, err := b.Open(bad, "row-1"); !errors.Is(err, ErrOpen) {
			t.Errorf("Open(%q) = %v", bad, err)
		}
	}
	if s := fmt.Sprintf("%v %+v %s", b, b, b); strings.Contains(s, k) {
		t.Fatalf("box printed its key")
	}
}

func TestBadKeys(t *testing.T) {
	for _, k := range []string{"", "short", "AAAA", strings.Repeat("A", 44)[:40]} {
		if _, err := New(k); !errors.Is(err, ErrKey) {
			t.Errorf("New(%q) = %v", k, err)
		}
	}
}

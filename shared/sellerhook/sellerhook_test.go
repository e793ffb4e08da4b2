package sellerhook

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
)

func TestSignVerify(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	s, err := NewSecrets("new-secret", "old-secret")
	if err != nil {
		t.Fatal(err)
	}
	body := []byte(`{"instanceId":"i-1"}`)
	h := s.Sign(body, now)
	if err := s.Verify(h, body, now.Add(time.Minute), 0); err != nil {
		t.Fatalf("own signature: %v", err)
	}
	old := Sign([]byte("old-secret"), body, now)
	if err := s.Verify(old, body, now, 0); err != nil {
		t.Fatalf("previous secret: %v", err)
	}
	cases := map[string]struct {
		header string
		body   []byte
		at     time.Time
		want   error
	}{
		"tampered":  {h, []byte(`{"instanceId":"i-2"}`), now, ErrMismatch},
		"stale":     {h, body, now.Add(10 * time.Minute), ErrTooOld},
		"future":    {h, body, now.Add(-10 * time.Minute), ErrTooOld},
		"empty":     {"", body, now, ErrNoSignature},
		"no v1":     {"t=1800000000", body, now, ErrNoSignature},
		"other key": {Sign([]byte("x"), body, now), body, now, ErrMismatch},
	}
	for name, c := range cases {
		if err := s.Verify(c.header, c.body, c.at, 0); !errors.Is(err, c.want) {
			t.Errorf("%s: %v, want %v", name, err, c.want)
		}
	}
	if _, err := NewSecrets("", " "); !errors.Is(err, ErrNoSecret) {
		t.Errorf("empty secrets accepted")
	}
	if p := fmt.Sprintf("%v %+v %s %#v %x", s, s, s, s, s); strings.Contains(p, "new-secret") || strings.Contains(p, "6e65772d736563726574") || strings.Contains(p, "0x6e") {
		t.Errorf("secrets printed: %s", p)
	}
}

// TestVerifySignedIdentifiesTheMessage: the returned signature is the matched HMAC,
// whatever else the header carries, so extra v1 values cannot disguise a replay.
func TestVerifySignedIdentifiesTheMessage(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	s, _ := NewSecrets("new-secret", "old-secret")
	body := []byte(`{"usageValue":1}`)
	h := Sign([]byte("old-secret"), body, now)
	got, err := s.VerifySigned(h, body, now, 0)
	if err != nil || !got.Time.Equal(now) || len(got.Signature) != 64 {
		t.Fatalf("VerifySigned = %+v, %v", got, err)
	}
	padded := "v1=" + strings.Repeat("0", 64) + "," + h + ",v1=" + strings.Repeat("f", 64)
	if again, err := s.VerifySigned(padded, body, now, 0); err != nil || again.Signature != got.Signature {
		t.Fatalf("padded header: %+v, %v; want signature %s", again, err, got.Signature)
	}
}

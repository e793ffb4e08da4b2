package kgsign

import (
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"
)

// benchBody builds a marketplace-like body of about n bytes: sorted keys, compact.
func benchBody(n int) []byte {
	pad := n - 120
	if pad < 1 {
		pad = 1
	}
	return []byte(`{"activity":"newInstance","businessId":"87b94795-0603-4e24-8ae5-69420d60e3c8","orderId":"CS1","pad":"` +
		strings.Repeat("x", pad) + `","testFlag":"1"}`)
}

// BenchmarkVerify measures what a request costs the verifier: a genuine one, and a
// forged one (a well-formed, fresh request whose signature matches nothing), which
// is what a flood of forged traffic costs per request once it passes the cheap
// checks (presence, nonce shape, timestamp window, hex).
func BenchmarkVerify(b *testing.B) {
	now := time.UnixMilli(1_700_000_000_000)
	ts := strconv.FormatInt(now.UnixMilli(), 10)
	forged := strings.Repeat("AB", 32)
	for _, size := range []int{200, 64 << 10, 1 << 20} {
		body := benchBody(size)
		for _, nkeys := range []int{1, 2} {
			keys := []string{"bench-key-primary"}
			if nkeys == 2 {
				keys = append(keys, "bench-key-previous")
			}
			ver := Verifier{Keys: MustKeySet(keys...), Now: func() time.Time { return now }}
			good := V2Signature(key(keys[0]), "n1", ts, body)
			kitGood := KitSignature(key(keys[0]), "n1", ts, body, false)
			name := fmt.Sprintf("%dB/%dkeys", size, nkeys)
			b.Run("v2/genuine/"+name, func(b *testing.B) {
				b.SetBytes(int64(len(body)))
				for b.Loop() {
					if _, err := ver.VerifyV2(good, ts, "n1", body); err != nil {
						b.Fatal(err)
					}
				}
			})
			b.Run("v2/forged/"+name, func(b *testing.B) {
				b.SetBytes(int64(len(body)))
				for b.Loop() {
					if _, err := ver.VerifyV2(forged, ts, "n1", body); err == nil {
						b.Fatal("forged request accepted")
					}
				}
			})
			b.Run("kit/genuine/"+name, func(b *testing.B) {
				b.SetBytes(int64(len(body)))
				for b.Loop() {
					if _, err := ver.VerifyKit(kitGood, ts, "n1", body); err != nil {
						b.Fatal(err)
					}
				}
			})
			b.Run("kit/forged/"+name, func(b *testing.B) {
				b.SetBytes(int64(len(body)))
				for b.Loop() {
					if _, err := ver.VerifyKit(forged, ts, "n1", body); err == nil {
						b.Fatal("forged request accepted")
					}
				}
			})
		}
	}
}

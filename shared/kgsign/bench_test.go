//go:build unix

package kgsign

import (
	"fmt"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// benchBody builds a marketplace-like body of about n bytes: sorted keys, compact
// (its canonical form is itself), or with a space after each colon (its canonical
// form differs, so a forged one is compared twice).
func benchBody(n int, spaced bool) []byte {
	pad := n - 120
	if pad < 1 {
		pad = 1
	}
	b := `{"activity":"newInstance","businessId":"87b94795-0603-4e24-8ae5-69420d60e3c8","orderId":"CS1","pad":"` +
		strings.Repeat("x", pad) + `","testFlag":"1"}`
	if spaced {
		b = strings.ReplaceAll(b, `":`, `": `)
	}
	return []byte(b)
}

// cpuTime is the process's user and system CPU time so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkVerify measures what a request costs the verifier: a genuine one (signed
// over the bytes sent, or over their canonical form), and a forged one (a
// well-formed, fresh request whose signature matches nothing), which is what a flood
// of forged traffic costs per request once it passes the cheap checks (presence,
// nonce shape, timestamp window, hex).
func BenchmarkVerify(b *testing.B) {
	now := time.UnixMilli(1_700_000_000_000)
	ts := strconv.FormatInt(now.UnixMilli(), 10)
	forged := strings.Repeat("AB", 32)
	for _, shape := range []string{"compact", "spaced"} {
		for _, size := range []int{200, 64 << 10, 1 << 20} {
			body := benchBody(size, shape == "spaced")
			for _, nkeys := range []int{1, 2} {
				keys := []string{"bench-key-primary"}
				if nkeys == 2 {
					keys = append(keys, "bench-key-previous")
				}
				ver := Verifier{Keys: MustKeySet(keys...), Now: func() time.Time { return now }}
				k := key(keys[nkeys-1])
				run := func(name, sig string, verify func(sig, ts, nonce string, body []byte) (Verified, error), accept bool) {
					b.Run(fmt.Sprintf("%s/%s/%dB/%dkeys", name, shape, size, nkeys), func(b *testing.B) {
						b.SetBytes(int64(len(body)))
						start := cpuTime()
						for b.Loop() {
							if _, err := verify(sig, ts, "n1", body); (err == nil) != accept {
								b.Fatalf("accepted %v, want %v: %v", err == nil, accept, err)
							}
						}
						// CPU time, unlike ns/op, hardly moves when other processes
						// share the machine.
						b.ReportMetric(float64((cpuTime()-start).Nanoseconds())/float64(b.N), "cpu-ns/op")
					})
				}
				run("v2/genuine", V2Signature(k, "n1", ts, body), ver.VerifyV2, true)
				run("v2/forged", forged, ver.VerifyV2, false)
				run("kit/genuine", KitSignature(k, "n1", ts, body, false), ver.VerifyKit, true)
				run("kit/forged", forged, ver.VerifyKit, false)
			}
		}
	}
}

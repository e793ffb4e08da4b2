//go:build load

package loadtest

import (
	"context"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/kgseller/kgseller/shared/kgsign"
	"github.com/kgseller/kgseller/shared/tools/kgsim"
)

// TestLoadDebugReplays replays the SaaS debug cases (testFlag "1", the documented
// mock orders) in random orders, over and over, from several simulated consoles at
// once, the way the Seller Console's dial tests replay them twice a day for as long
// as a product is listed: 10,000 calls (1,000 with -short), 0 failures.
func TestLoadDebugReplays(t *testing.T) {
	total := scale(1000, 10000)
	const consoles = 4
	w := start(t, stackOptions{})
	product, err := kgsim.ProductFor("saas", kgsim.Options{})
	if err != nil {
		t.Fatal(err)
	}
	// Only the debug cases: no duplicate bursts, probes or malformed bodies, which
	// other tests cover.
	cases := product.Cases
	product.Duplicate, product.Probe, product.Malformed = kgsim.Case{}, kgsim.Case{}, nil
	rounds := (total + consoles*len(cases) - 1) / (consoles * len(cases))

	reports := make([]*kgsim.Report, consoles)
	errs := make([]error, consoles)
	var wg sync.WaitGroup
	for i := range reports {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			p := *product
			reports[i], errs[i] = kgsim.RunProduct(context.Background(), &p, kgsim.Options{
				Type: "saas", URL: w.base + "/saas/produce", Key: kgsign.NewKey([]byte(loadAccessKey), "t"),
				Rounds: rounds, Seed: uint64(time.Now().UnixNano()) + uint64(i),
				HTTP: &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 16}},
			})
		}(i)
	}
	wg.Wait()
	replays, failed := 0, 0
	for i, rep := range reports {
		if errs[i] != nil {
			t.Fatalf("console %d: %v", i, errs[i])
		}
		for _, res := range rep.Results {
			if res.Phase == kgsim.PhaseCase {
				replays += res.Calls
			}
		}
		for _, f := range rep.Failures() {
			failed++
			if failed <= 10 {
				t.Errorf("console %d (seed %d), %s round %d, %s: %s (answered %s, want %s)", i, rep.Seed, f.Phase, f.Round, f.Case, f.Reason, f.Code, f.Want)
			}
		}
		t.Logf("console %d: seed %d, %d rounds of %d cases, slowest %.1f ms (%s)", i, rep.Seed, rounds, len(cases), rep.SlowestMS, rep.SlowestOf)
	}
	if replays < total {
		t.Fatalf("%d debug replays ran, want at least %d", replays, total)
	}
	if failed > 0 {
		t.Fatalf("%d of the results failed", failed)
	}
	t.Logf("%d random-order debug replays from %d consoles, 0 failures", replays, consoles)
}

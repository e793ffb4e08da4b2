package store_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/kgseller/kgseller/shared/marketplace"
	"github.com/kgseller/kgseller/shared/tools/dbtest"
)

// TestUsageNeverMovesBackwardsUnderConcurrency: reports for one (instance, related
// instance) arrive concurrently and in random order, some for a row that does not
// exist yet; whatever the interleaving, the stored usage is the newest report's.
func TestUsageNeverMovesBackwardsUnderConcurrency(t *testing.T) {
	s, _ := dbtest.Open(t)
	ctx := context.Background()
	if _, err := s.CreateInstance(ctx, newInstance("ppu-conc", "CS-USAGE")); err != nil {
		t.Fatal(err)
	}
	base := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	const n = 30
	for _, related := range []string{"", "pkg-a", "pkg-b"} {
		order := rand.Perm(n)
		var wg sync.WaitGroup
		errs := make([]error, n)
		start := make(chan struct{})
		for k, i := range order {
			wg.Add(1)
			go func(k, i int) {
				defer wg.Done()
				<-start
				errs[k] = s.RecordUsage(ctx, marketplace.Usage{InstanceID: "ppu-conc", RelatedInstanceID: related,
					Value: fmt.Sprintf("%d.5", i), StatisticalTime: base.Add(time.Duration(i) * time.Second),
					DashboardURL: fmt.Sprintf("https://dash/%d", i)})
			}(k, i)
		}
		close(start)
		wg.Wait()
		for k, err := range errs {
			if err != nil {
				t.Fatalf("related %q, report %d: %v", related, order[k], err)
			}
		}
		// An older report after all of them changes nothing either.
		if err := s.RecordUsage(ctx, marketplace.Usage{InstanceID: "ppu-conc", RelatedInstanceID: related, Value: "1",
			StatisticalTime: base, DashboardURL: "https://dash/old"}); err != nil {
			t.Fatal(err)
		}
		_, usage, err := s.InstancesWithUsage(ctx, []string{"ppu-conc"})
		if err != nil {
			t.Fatal(err)
		}
		var got *marketplace.Usage
		for i := range usage["ppu-conc"] {
			if u := usage["ppu-conc"][i]; u.RelatedInstanceID == related {
				got = &u
			}
		}
		want := fmt.Sprintf("%d.5", n-1)
		if got == nil || got.Value != want+"000" && got.Value != want || !got.StatisticalTime.Equal(base.Add((n-1)*time.Second)) ||
			got.DashboardURL != fmt.Sprintf("https://dash/%d", n-1) {
			t.Fatalf("related %q: stored %+v, want value %s of the newest report (engine %s)", related, got, want, dbtest.Engine())
		}
	}
}

package rtbench

import (
	"context"
	"testing"
	"time"
)

// maxFloors bounds the floors of one benchmark run; beyond it every few calls has
// one.
const maxFloors = 500

// Bench runs a as a Go benchmark: b.N calls, each checked (its answer, its round
// trips and statements), and after each of them (outside the timer, for up to
// maxFloors calls, then every few) its floor. Besides ns/op it reports rt/op and
// stmt/op, and x-floor, the median over the calls of each call's time against its
// floor's (Result.Ratio): a floor runs right after its call so that both meet the
// same server, whose commit time drifts during a run.
func Bench(b *testing.B, e *Env, a Activity) {
	ctx := context.Background()
	calls := make([]Call, b.N)
	for i := range calls {
		c, err := a.Prepare(ctx, i)
		if err != nil {
			b.Fatalf("%s %s: preparing call %d: %v", a.Family, a.Name, i, err)
		}
		calls[i] = c
	}
	every := b.N/maxFloors + 1
	var took, floors []time.Duration
	var trips, stmts int64
	b.ReportAllocs()
	b.ResetTimer()
	for i, c := range calls {
		s, err := e.Run(ctx, a, c, false)
		if err == nil {
			err = a.check(s)
		}
		if err != nil {
			b.Fatalf("call %d: %v", i, err)
		}
		trips, stmts = trips+s.Trips, stmts+s.Statements
		if i%every == 0 {
			b.StopTimer()
			if err := e.Floor(ctx, a, &s); err != nil {
				b.Fatal(err)
			}
			took, floors = append(took, s.Took), append(floors, s.Floor)
			b.StartTimer()
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(trips)/float64(b.N), "rt/op")
	b.ReportMetric(float64(stmts)/float64(b.N), "stmt/op")
	b.ReportMetric(ratio(took, floors), "x-floor")
}

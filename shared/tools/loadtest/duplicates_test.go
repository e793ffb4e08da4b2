//go:build load

package loadtest

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"
)

// TestLoadConcurrentDuplicates sends every order as 50 concurrent newInstance
// calls, one order after another: each order must get exactly one instance, one
// provisioning job and one provisioning call, and all 50 answers must name it.
// (With several orders in flight the embedded engine, which runs one statement at
// a time and slows as its tables grow, leaves calls queued past the gateway's 5 s.)
func TestLoadConcurrentDuplicates(t *testing.T) {
	orders := scale(10, 100)
	const copies, ordersInFlight = 50, 1
	rec, hook := newReceiver(t)
	w := start(t, stackOptions{
		env: []string{"PROVISIONER=webhook", "PROVISION_WEBHOOK_URL=" + hook, "PROVISION_WEBHOOK_ALLOW_HTTP=true",
			"FULFIL_BASE_DELAY=100ms", "FULFIL_MAX_DELAY=500ms", "FULFIL_MAX_ATTEMPTS=50"},
		timer: 500 * time.Millisecond,
	})
	ctx := context.Background()
	prefix := fmt.Sprintf("LD%d-", time.Now().UnixNano()%1e9)
	ids := make([]string, orders)
	var mu sync.Mutex
	var problems []string
	problem := func(format string, args ...any) {
		mu.Lock()
		defer mu.Unlock()
		problems = append(problems, fmt.Sprintf(format, args...))
	}
	sem := make(chan struct{}, ordersInFlight)
	var wg sync.WaitGroup
	for o := 0; o < orders; o++ {
		wg.Add(1)
		sem <- struct{}{}
		go func(o int) {
			defer wg.Done()
			defer func() { <-sem }()
			order := fmt.Sprintf("%s%03d", prefix, o)
			answers := make([]string, copies)
			var copiesWG sync.WaitGroup
			for c := 0; c < copies; c++ {
				copiesWG.Add(1)
				go func(c int) {
					defer copiesWG.Done()
					a, err := w.call(ctx, newInstanceBody(order, fmt.Sprintf("%s-b%02d", order, c)))
					switch {
					case err != nil:
						problem("%s copy %d: %v", order, c, err)
					case a.ShapeError() != nil:
						problem("%s copy %d: %v (%s)", order, c, a.ShapeError(), a.Body)
					case a.Code() != "000000" && a.Code() != "000004":
						problem("%s copy %d answered %s", order, c, a.Body)
					default:
						answers[c] = a.String("instanceId")
					}
				}(c)
			}
			copiesWG.Wait()
			for _, id := range answers {
				if id == "" || id != answers[0] {
					problem("%s: the copies named different instances: %v", order, answers)
					return
				}
			}
			ids[o] = answers[0]
		}(o)
	}
	wg.Wait()
	if len(problems) > 0 {
		t.Fatalf("%d problems, the first: %v", len(problems), problems[:min(len(problems), 10)])
	}
	distinct := map[string]bool{}
	for _, id := range ids {
		distinct[id] = true
	}
	if len(distinct) != orders {
		t.Fatalf("%d orders got %d distinct instances", orders, len(distinct))
	}
	like := prefix + "%"
	if n := w.count("SELECT COUNT(*) FROM instances WHERE order_id LIKE ?", like); n != orders {
		t.Fatalf("%d instances for %d orders", n, orders)
	}
	if n := w.count("SELECT COUNT(*) FROM jobs j JOIN instances i ON i.instance_id = j.instance_id WHERE j.kind = 'provision' AND i.order_id LIKE ?", like); n != orders {
		t.Fatalf("%d provisioning jobs for %d orders", n, orders)
	}
	// The worker provisions every instance once.
	w.waitFor("every instance provisioned", 3*time.Minute, func() bool {
		return w.count("SELECT COUNT(*) FROM instances WHERE order_id LIKE ? AND state = 'ACTIVE'", like) == orders
	})
	delivered, types, badSig := rec.snapshot()
	for _, id := range ids {
		if n := delivered["provision:"+id]; n != 1 {
			t.Errorf("instance %s: provisioning delivered %d times, want 1", id, n)
		}
	}
	provisions := 0
	for id, typ := range types {
		if typ == "instance.provision" {
			provisions++
		} else {
			t.Errorf("unexpected event %s (%s)", id, typ)
		}
	}
	if provisions != orders || badSig != 0 {
		t.Fatalf("%d provisioning events for %d orders, %d bad signatures", provisions, orders, badSig)
	}
	t.Logf("%d orders × %d concurrent copies: %d calls, %d instances, 0 duplicates", orders, copies, orders*copies, len(distinct))
}

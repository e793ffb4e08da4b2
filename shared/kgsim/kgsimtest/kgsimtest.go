// Package kgsimtest serves the real saas-produce handler in-process for the tests
// of the simulator and its command, optionally broken on purpose by a wrapper.
package kgsimtest

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/kgseller/kgseller/shared/app"
	"github.com/kgseller/kgseller/shared/config"
	"github.com/kgseller/kgseller/shared/dbtest"
	"github.com/kgseller/kgseller/shared/fgruntime"
)

// Key is the access key of the servers this package starts.
const Key = "kgsim-test-key"

// SaaSServer serves saas-produce on a fresh database of the test engine and returns
// its /saas/produce URL. Jobs run in the request (FULFIL_MODE=inline, no Query
// Order) and, as the worker's timer does in production, a background loop runs
// any job still due every 50 ms. wrap, when set, wraps the handler.
func SaaSServer(t testing.TB, wrap func(http.Handler) http.Handler) string {
	t.Helper()
	src := config.Map(map[string]string{
		"DB_DSN": dbtest.NewDatabase(t), "KG_ACCESS_KEY": Key, "LOG_LEVEL": "error",
		"PROVISION_FRONTEND_URL": "https://app.example.com/i/{instanceId}",
		"FULFIL_MODE":            "inline", "KG_QUERY_ORDERS": "false",
	})
	var handler http.Handler = fgruntime.HTTPHandler(app.SaaSProduce(src))
	if wrap != nil {
		handler = wrap(handler)
	}
	srv := httptest.NewServer(handler)

	worker := app.FulfilWorker(src)
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		tick := time.NewTicker(50 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
				wctx, done := context.WithTimeout(ctx, 10*time.Second)
				_, _ = worker(wctx, nil)
				done()
			}
		}
	}()
	t.Cleanup(func() {
		cancel()
		wg.Wait()
		srv.Close()
	})
	return srv.URL + "/saas/produce"
}

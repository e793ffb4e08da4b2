// Package kgsimtest serves the real handlers in-process for the tests of the
// simulator and its command, optionally broken on purpose by a wrapper.
package kgsimtest

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/kgseller/kgseller/shared/config"
	"github.com/kgseller/kgseller/shared/fgruntime"
	"github.com/kgseller/kgseller/shared/fgruntime/httpfn"
	"github.com/kgseller/kgseller/shared/kgsign"
	"github.com/kgseller/kgseller/shared/kit/clientsecret"
	"github.com/kgseller/kgseller/shared/tools/dbtest"
	"github.com/kgseller/kgseller/shared/tools/manifest"
	"github.com/kgseller/kgseller/shared/wire/kitfn"
	"github.com/kgseller/kgseller/shared/wire/licensefn"
	"github.com/kgseller/kgseller/shared/wire/notifyfn"
	"github.com/kgseller/kgseller/shared/wire/saasfn"
	"github.com/kgseller/kgseller/shared/wire/workerfn"
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
	var handler http.Handler = httpfn.HTTPHandler(saasfn.SaaSProduce(src))
	if wrap != nil {
		handler = wrap(handler)
	}
	srv := httptest.NewServer(handler)

	worker := workerfn.FulfilWorker(src)
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

// Keys of AddressHandler, one per interface type, as the Seller Console binds them.
const (
	BasicKey   = "kgsim-test-basic-key"
	LicenseKey = "kgsim-test-license-key"
	KitKey     = "kgsim-test-kit-key"
	NotifyKey  = "kgsim-test-notify-key"
)

// AddressHandler serves the marketplace-facing functions of serverless.yml
// (saas-produce, license-produce, order-notify and the Kit) at the routes the
// manifest gives them, every production address included, on a fresh database of
// the test engine, each interface type with its own key. Jobs are left to a worker
// that does not run here.
func AddressHandler(t testing.TB) http.Handler {
	t.Helper()
	h, _ := AddressHandlerKit(t)
	return h
}

// AddressHandlerKit is AddressHandler with the public key of its Kit app, for
// applicationSync bodies.
func AddressHandlerKit(t testing.TB) (http.Handler, *rsa.PublicKey) {
	t.Helper()
	m, err := manifest.Load(serverlessYML(t), nil)
	if err != nil {
		t.Fatal(err)
	}
	kitKey, rsaKey := KitRSAKey(t)
	dataKey := make([]byte, 32)
	_, _ = rand.Read(dataKey)
	src := config.Map(map[string]string{
		"DB_DSN": dbtest.NewDatabase(t), "LOG_LEVEL": "error", "FULFIL_MODE": "timer",
		"KG_ACCESS_KEY_BASIC": BasicKey, "KG_ACCESS_KEY_LICENSE": LicenseKey, "KG_ACCESS_KEY_KIT": KitKey, "KG_ACCESS_KEY_NOTIFY": NotifyKey,
		"PROVISION_FRONTEND_URL": "https://app.example.com/i/{instanceId}",
		"KG_KIT_RSA_PRIVATE_KEY": rsaKey,
		"KG_DATA_KEY":            base64.StdEncoding.EncodeToString(dataKey),
	})
	build := map[string]func(config.Source) fgruntime.Handler{
		"saas-produce": saasfn.SaaSProduce, "license-produce": licensefn.LicenseProduce, "order-notify": notifyfn.OrderNotify,
		"kit-tenant-sync": kitfn.TenantSync, "kit-application-sync": kitfn.ApplicationSync, "kit-auth-sync": kitfn.AuthSync,
		"kit-single-org-sync": kitfn.SingleOrgSync, "kit-all-org-sync": kitfn.AllOrgSync,
	}
	handlers := map[string]http.Handler{}
	mux := http.NewServeMux()
	for _, r := range m.Routes() {
		b, ok := build[r.Function]
		if !ok || r.Prefix {
			continue
		}
		if handlers[r.Function] == nil {
			handlers[r.Function] = httpfn.HTTPHandler(b(src))
		}
		pattern := r.Method + " " + r.Path
		if r.Path == "/" {
			pattern += "{$}" // the root address only, not every path
		}
		mux.Handle(pattern, handlers[r.Function])
	}
	return mux, &kitKey.PublicKey
}

// KitRSAKey makes a fresh Kit RSA key and returns it with its KG_KIT_RSA_PRIVATE_KEY
// value: base64 of the PEM, one line, as the local run writes its own key
// (serverless.yml substitutes the value into YAML, where a multi-line PEM would not
// fit).
func KitRSAKey(t testing.TB) (*rsa.PrivateKey, string) {
	t.Helper()
	key, err := clientsecret.Generate(clientsecret.MinBits)
	if err != nil {
		t.Fatal(err)
	}
	p, err := clientsecret.PrivatePEM(key)
	if err != nil {
		t.Fatal(err)
	}
	return key, base64.StdEncoding.EncodeToString(p)
}

// serverlessYML finds the project's serverless.yml above the working directory.
func serverlessYML(t testing.TB) string {
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		p := filepath.Join(dir, "serverless.yml")
		if _, err := os.Stat(p); err == nil {
			return p
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("kgsimtest: no serverless.yml above the working directory")
		}
		dir = parent
	}
}

// SignedWith wraps a handler so that its answers carry a Body-Sign made with
// another key: the answer a client holding the right key must refuse.
func SignedWith(key string) func(http.Handler) http.Handler {
	k := kgsign.NewKey([]byte(key), "other")
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			rec := httptest.NewRecorder()
			next.ServeHTTP(rec, r)
			for name, v := range rec.Header() {
				w.Header()[name] = v
			}
			w.Header().Set("Body-Sign", kgsign.BodySignHeader(k, rec.Body.Bytes()))
			w.WriteHeader(rec.Code)
			_, _ = w.Write(rec.Body.Bytes())
		})
	}
}

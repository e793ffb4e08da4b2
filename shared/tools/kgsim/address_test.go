package kgsim_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/kgseller/kgseller/shared/kgsign"
	"github.com/kgseller/kgseller/shared/tools/kgsim"
	"github.com/kgseller/kgseller/shared/tools/kgsim/kgsimtest"
)

// runAddress runs the address suite against base+address, with the other
// addresses as replay routes.
func runAddress(t *testing.T, base, address, addressKey string, others ...string) *kgsim.Report {
	t.Helper()
	o := kgsim.Options{
		Type: "address", URL: base + address, Rounds: 1, Seed: 3, Timeout: 30 * time.Second,
		Key:       kgsign.NewKey([]byte(addressKey), "address"),
		KitKey:    kgsign.NewKey([]byte(kgsimtest.KitKey), "kit"),
		NotifyKey: kgsign.NewKey([]byte(kgsimtest.NotifyKey), "notify"),
	}
	for _, a := range others {
		o.OtherAddresses = append(o.OtherAddresses, base+a)
	}
	rep, err := kgsim.Run(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

// TestAddressLayoutPasses: the project's routes pass the address suite at every
// production address, each interface type with its own key, every case run and
// every captured call refused on the other routes.
func TestAddressLayoutPasses(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(kgsimtest.AddressHandler(t))
	defer srv.Close()
	for _, c := range []struct{ address, key string }{
		{"/saas/produce", kgsimtest.BasicKey}, {"/license/produce", kgsimtest.LicenseKey}, {"", kgsimtest.BasicKey},
	} {
		var others []string
		for _, a := range []string{"/saas/produce", "/license/produce", ""} {
			if a != c.address {
				others = append(others, a)
			}
		}
		rep := runAddress(t, srv.URL, c.address, c.key, others...)
		if !rep.OK() || rep.Skipped != 0 {
			dump(t, rep)
			t.Fatalf("address %q: %d failed, %d skipped", c.address, rep.Failed, rep.Skipped)
		}
		var unversioned, replays int
		for _, r := range rep.Results {
			if strings.HasPrefix(r.Path, "/produceAPI/") && !strings.HasPrefix(r.Path, "/produceAPI/v2/") {
				unversioned++
			}
			if strings.Contains(r.Want, "then 000001 on") {
				replays += r.Calls - 1
			}
		}
		// 5 unversioned Kit cases; replays: the basic call and orderNotify at 2 other
		// addresses, each v2 Kit call at the unversioned path and 2 other addresses.
		if unversioned != 5 || replays != 2+2+5*3 {
			dump(t, rep)
			t.Fatalf("address %q: %d unversioned Kit cases, %d replays", c.address, unversioned, replays)
		}
	}
}

// TestCatchesKitOnlyAtTheDomainRoot: the layout this project had before, the Kit
// served only from the domain root, fails every Kit case below /saas/produce with
// a 404, and nothing else.
func TestCatchesKitOnlyAtTheDomainRoot(t *testing.T) {
	t.Parallel()
	h := kgsimtest.AddressHandler(t)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.Contains(r.URL.Path, "/produceAPI/") && !strings.HasPrefix(r.URL.Path, "/produceAPI/v2/") {
			http.NotFound(w, r)
			return
		}
		if strings.HasPrefix(r.URL.Path, "/saas/produce/") {
			http.NotFound(w, r)
			return
		}
		h.ServeHTTP(w, r)
	}))
	defer srv.Close()
	rep := runAddress(t, srv.URL, "/saas/produce", kgsimtest.BasicKey)
	if rep.Failed != 10 {
		dump(t, rep)
		t.Fatalf("%d failures, want the 10 Kit cases", rep.Failed)
	}
	for _, r := range rep.Failures() {
		if !strings.HasPrefix(r.Case, "Kit ") || !strings.Contains(r.Reason, "HTTP 404") {
			dump(t, rep)
			t.Fatalf("%s: %s", r.Case, r.Reason)
		}
	}
}

// TestCatchesReplayAcrossRoutes: a server that remembers nonces per route (here:
// each route family on its own database) accepts a captured call again on another
// route; the suite names each such replay, and only those.
func TestCatchesReplayAcrossRoutes(t *testing.T) {
	t.Parallel()
	a, b := kgsimtest.AddressHandler(t), kgsimtest.AddressHandler(t)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/saas/produce" || strings.HasPrefix(r.URL.Path, "/saas/produce/produceAPI/v2/") {
			a.ServeHTTP(w, r)
			return
		}
		b.ServeHTTP(w, r)
	}))
	defer srv.Close()
	rep := runAddress(t, srv.URL, "/saas/produce", kgsimtest.BasicKey, "")
	if rep.OK() {
		dump(t, rep)
		t.Fatal("replays across routes passed")
	}
	failed := map[string]bool{}
	for _, r := range rep.Failures() {
		failed[r.Case] = true
		if !strings.Contains(r.Reason, "the same signed request was answered again") || !strings.Contains(r.Reason, "per key, not per route") {
			dump(t, rep)
			t.Fatalf("%s: %s", r.Case, r.Reason)
		}
	}
	// The basic call replayed at the root (the same key), each v2 Kit call replayed
	// at the unversioned path and at the root, orderNotify at the root.
	if len(failed) != 7 || !failed["basic interface at POST {address}: queryInstance of an unknown instance"] ||
		!failed["Kit authSync at {address}/produceAPI/v2/authSync"] || !failed["orderNotify at POST {address}"] {
		dump(t, rep)
		t.Fatalf("failed cases %v", failed)
	}
}

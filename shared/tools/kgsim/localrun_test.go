package kgsim_test

import (
	"context"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/kgseller/kgseller/shared/kgsign"
	"github.com/kgseller/kgseller/shared/tools/dbtest"
	"github.com/kgseller/kgseller/shared/tools/kgsim"
	"github.com/kgseller/kgseller/shared/tools/kgsim/kgsimtest"
	"github.com/kgseller/kgseller/shared/tools/localrun"
	"github.com/kgseller/kgseller/shared/tools/manifest"
)

const localKey = "kgsim-local-key"

// startLocalRun starts the whole local stack (the real function binaries under the
// emulator) on a fresh database of the test engine and returns its base URL.
func startLocalRun(t *testing.T, env ...string) (*localrun.Stack, string) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	stack, err := localrun.Start(ctx, localrun.Options{
		Addr: ln.Addr().String(), ModuleDir: "../../..", DSN: dbtest.NewDatabase(t),
		AccessKey: localKey, FunctionOutput: io.Discard, BuildOutput: io.Discard,
		Env: append(os.Environ(), env...), TimerEvery: 200 * time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: stack.Handler()}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { srv.Close(); stack.Close() })
	return stack, "http://" + ln.Addr().String()
}

// requireRoutes fails the test at once, with a clear message, when serverless.yml
// routes none of paths to a function yet: owner names who is adding it.
func requireRoutes(t *testing.T, owner string, paths ...string) {
	t.Helper()
	m, err := manifest.Load("../../../serverless.yml", os.Getenv)
	if err != nil {
		t.Fatal(err)
	}
	have := map[string]bool{}
	for _, r := range m.Routes() {
		have[r.Path] = true
	}
	for _, p := range paths {
		if !have[p] {
			t.Fatalf("POST %s is not routed in serverless.yml: %s has not been added yet; this test passes once it is", p, owner)
		}
	}
}

// runLocal runs one product type against the local run and fails the test with a
// clear message when the route answers 404 (its function is not served), and with
// the report when anything else fails.
func runLocal(t *testing.T, url, owner string, o kgsim.Options) *kgsim.Report {
	t.Helper()
	o.URL, o.Key, o.PollEvery = url, kgsign.NewKey([]byte(localKey), "local"), 100*time.Millisecond
	// Correctness is checked here, not speed (a loaded machine may exceed the
	// marketplace's 5 s); TestCatchesSlowAnswers covers the time limit.
	o.Timeout = 30 * time.Second
	if o.Seed == 0 {
		o.Seed = 20260101
	}
	rep, err := kgsim.Run(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	notFound := 0
	for _, r := range rep.Results {
		if r.HTTP == http.StatusNotFound {
			notFound++
		}
	}
	if notFound > 0 {
		dump(t, rep)
		t.Fatalf("%d results answered HTTP 404 under %s: %s is not served by the local run yet", notFound, url, owner)
	}
	if !rep.OK() {
		dump(t, rep)
		t.Fatalf("%s suite: %d of %d results failed against the local run (engine %s)", o.Type, rep.Failed, len(rep.Results), dbtest.Engine())
	}
	return rep
}

// TestLocalRunSaaS: every SaaS case passes against the real saas-produce binary.
func TestLocalRunSaaS(t *testing.T) {
	t.Parallel()
	requireRoutes(t, "saas-produce", "/saas/produce")
	_, base := startLocalRun(t)
	rep := runLocal(t, base+"/saas/produce", "saas-produce", kgsim.Options{Type: "saas", Rounds: 2})
	if rep.Skipped != 0 || rep.Passed != len(rep.Results) {
		t.Fatalf("saas: %d passed, %d skipped of %d", rep.Passed, rep.Skipped, len(rep.Results))
	}
}

// TestLocalRunNotify needs the order-notify function (issue 4, POST /order/notify).
func TestLocalRunNotify(t *testing.T) {
	t.Parallel()
	const owner = "the order-notify function (issue 4)"
	requireRoutes(t, owner, "/order/notify")
	_, base := startLocalRun(t)
	runLocal(t, base+"/order/notify", owner, kgsim.Options{Type: "notify", Rounds: 2})
}

// TestLocalRunLicense needs the license-produce function (issue 4, POST /license/produce).
func TestLocalRunLicense(t *testing.T) {
	t.Parallel()
	const owner = "the license-produce function (issue 4)"
	requireRoutes(t, owner, "/license/produce")
	_, base := startLocalRun(t)
	runLocal(t, base+"/license/produce", owner, kgsim.Options{Type: "license", Rounds: 2})
}

// TestLocalRunKit needs the five Kit functions (issue 5, POST /produceAPI/v2/*). The
// local run is given a fresh Kit RSA key so that applicationSync, whose
// clientSecret is encrypted with the public half, runs too. The suite runs below
// the production address /saas/produce, and once more on the unversioned
// sub-paths below /license/produce.
func TestLocalRunKit(t *testing.T) {
	t.Parallel()
	const owner = "the Kit functions (issue 5)"
	var paths []string
	for _, addr := range []string{"/saas/produce", "/license/produce"} {
		for _, name := range []string{"tenantSync", "applicationSync", "authSync", "singleOrgSync", "allOrgSync"} {
			paths = append(paths, addr+"/produceAPI/v2/"+name, addr+"/produceAPI/"+name)
		}
	}
	requireRoutes(t, owner, paths...)
	priv, privValue := kgsimtest.KitRSAKey(t)
	_, base := startLocalRun(t, "KG_KIT_RSA_PRIVATE_KEY="+privValue)
	for _, c := range []struct {
		address     string
		unversioned bool
		rounds      int
	}{{"/saas/produce", false, 2}, {"/license/produce", true, 1}} {
		rep := runLocal(t, base+c.address, owner, kgsim.Options{Type: "kit", Rounds: c.rounds, KitPublicKey: &priv.PublicKey, KitUnversioned: c.unversioned})
		if rep.Skipped != 0 {
			t.Fatalf("%d kit results skipped although a public key was given", rep.Skipped)
		}
		ran := 0
		for _, r := range rep.Results {
			if strings.HasPrefix(r.Case, "applicationSync") {
				ran++
			}
			if v2 := strings.HasPrefix(r.Path, "/produceAPI/v2/"); r.Path != "" && v2 == c.unversioned {
				t.Fatalf("%s: path %s, unversioned %v", r.Case, r.Path, c.unversioned)
			}
		}
		if ran == 0 {
			t.Fatal("applicationSync never ran")
		}
	}
}

// TestLocalRunAddressLayout checks every production address of serverless.yml on
// the local run as the marketplace uses it: the basic interface and orderNotify at
// POST {address}, the Kit at {address}/produceAPI/v2/<name> and
// {address}/produceAPI/<name>, and every call that passed replayed, unchanged, on
// the other routes trusting the same key (the local run has one key for every
// interface type), which must answer 000001.
func TestLocalRunAddressLayout(t *testing.T) {
	t.Parallel()
	m, err := manifest.Load("../../../serverless.yml", os.Getenv)
	if err != nil {
		t.Fatal(err)
	}
	_, base := startLocalRun(t)
	url := func(path string) string {
		if path == "/" {
			return base
		}
		return base + path
	}
	addrs := m.Addresses()
	if len(addrs) < 2 {
		t.Fatalf("serverless.yml offers %d production addresses", len(addrs))
	}
	k := kgsign.NewKey([]byte(localKey), "local")
	for _, a := range addrs {
		var others []string
		for _, o := range addrs {
			if o.Path != a.Path {
				others = append(others, url(o.Path))
			}
		}
		rep := runLocal(t, url(a.Path), a.Function, kgsim.Options{Type: "address", Rounds: 1, KitKey: k, NotifyKey: k, OtherAddresses: others})
		replays := 0
		for _, r := range rep.Results {
			if strings.Contains(r.Want, "then 000001 on") {
				replays += r.Calls - 1
			}
		}
		if rep.Skipped != 0 || replays != (2+5)*len(others)+5 {
			dump(t, rep)
			t.Fatalf("address %s: %d skipped, %d replays", a.Path, rep.Skipped, replays)
		}
	}
}

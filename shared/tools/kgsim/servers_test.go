package kgsim_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kgseller/kgseller/shared/kgsign"
	"github.com/kgseller/kgseller/shared/probe"
	"github.com/kgseller/kgseller/shared/tools/kgsim"
	"github.com/kgseller/kgseller/shared/tools/kgsim/kgsimtest"
)

var key = kgsign.NewKey([]byte(kgsimtest.Key), "test")

// saasServer serves the real saas-produce handler in-process; wrap may break it.
func saasServer(t *testing.T, wrap func(http.Handler) http.Handler) string {
	return kgsimtest.SaaSServer(t, wrap)
}

func run(t *testing.T, url string, o kgsim.Options) *kgsim.Report {
	t.Helper()
	o.Type, o.URL, o.Key = "saas", url, key
	o.PollEvery = 50 * time.Millisecond
	if o.Timeout == 0 {
		// Speed is not what these tests check; a loaded machine must not fail them.
		o.Timeout = 30 * time.Second
	}
	if o.Seed == 0 {
		o.Seed = 8
	}
	rep, err := kgsim.Run(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

// dump logs the table when a test fails, so the reason is visible.
func dump(t *testing.T, rep *kgsim.Report) {
	t.Helper()
	var b bytes.Buffer
	_ = rep.WriteTable(&b, true)
	t.Log("\n" + b.String())
}

func byCase(rep *kgsim.Report, name string) []kgsim.Result {
	var out []kgsim.Result
	for _, r := range rep.Results {
		if r.Case == name {
			out = append(out, r)
		}
	}
	return out
}

// activityOf reads the activity of a request body, restoring the body.
func activityOf(r *http.Request) string {
	body, _ := io.ReadAll(r.Body)
	r.Body = io.NopCloser(bytes.NewReader(body))
	var v struct {
		Activity string `json:"activity"`
	}
	_ = json.Unmarshal(body, &v)
	return v.Activity
}

// TestHealthyServerPasses is the baseline of the broken-server tests: the same
// handler unbroken passes every case, and the suite covers all seven activities and
// every probe kind.
func TestHealthyServerPasses(t *testing.T) {
	t.Parallel()
	rep := run(t, saasServer(t, nil), kgsim.Options{Rounds: 2})
	if !rep.OK() || rep.Passed == 0 {
		dump(t, rep)
		t.Fatalf("%d failed", rep.Failed)
	}
	covered := map[string]bool{}
	for _, r := range rep.Results {
		covered[r.Phase] = true
		covered[strings.Fields(r.Case)[0]] = true
	}
	for _, want := range []string{"newInstance", "queryInstance", "refreshInstance", "updateInstanceStatus", "releaseInstance",
		"upgradeInstance", "changeInstanceCheck", kgsim.PhaseSetup, kgsim.PhaseCase, kgsim.PhaseDuplicate, kgsim.PhaseReplay,
		kgsim.PhaseStale, kgsim.PhaseForged, kgsim.PhaseSignature, kgsim.PhaseMalformed} {
		if !covered[want] {
			t.Errorf("the run never exercised %s", want)
		}
	}
}

// TestCatchesWrongBodySign: a server that signs its answers with another key fails
// every call, each for that reason.
func TestCatchesWrongBodySign(t *testing.T) {
	t.Parallel()
	url := saasServer(t, kgsimtest.SignedWith("not-the-access-key"))
	rep := run(t, url, kgsim.Options{Rounds: 1})
	if rep.OK() || rep.Passed != 0 {
		dump(t, rep)
		t.Fatalf("passed %d results against a server with a wrong Body-Sign", rep.Passed)
	}
	for _, r := range rep.Results {
		if r.Status != kgsim.StatusFail || !strings.Contains(r.Reason, "Body-Sign does not match the body") {
			dump(t, rep)
			t.Fatalf("%s: %s %q, want a Body-Sign failure", r.Case, r.Status, r.Reason)
		}
	}
	setup := byCase(rep, "newInstance MOCKPERIODYEARNEW ×10 concurrent")
	if len(setup) != 1 || setup[0].Phase != kgsim.PhaseSetup || setup[0].Code == "" {
		t.Fatalf("setup burst: %+v", setup)
	}
}

// TestCatchesNonIdempotentNewInstance: a server that creates a new instance on
// every newInstance call (here: the real one, fed a different order line each time)
// fails the concurrent burst and every repeat, and nothing else.
func TestCatchesNonIdempotentNewInstance(t *testing.T) {
	t.Parallel()
	var n atomic.Int64
	url := saasServer(t, func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if activityOf(r) == "newInstance" {
				body, _ := io.ReadAll(r.Body)
				var fields map[string]any
				if err := json.Unmarshal(body, &fields); err == nil && fields["orderLineId"] != nil {
					fields["orderLineId"] = fmt.Sprintf("%v-%d", fields["orderLineId"], n.Add(1))
					body, _ = json.Marshal(fields)
					signer := &probe.Client{URL: "http://" + r.Host + r.URL.Path, Key: key}
					s, _ := signer.Sign(body)
					r.URL.RawQuery = s.URL[strings.IndexByte(s.URL, '?')+1:]
				}
				r.Body = io.NopCloser(bytes.NewReader(body))
				r.ContentLength = int64(len(body))
			}
			next.ServeHTTP(w, r)
		})
	})
	rep := run(t, url, kgsim.Options{Rounds: 1, Duplicates: 6})
	if rep.OK() {
		dump(t, rep)
		t.Fatal("a non-idempotent newInstance passed")
	}
	for _, name := range []string{"newInstance MOCKPERIODYEARNEW ×6 concurrent", "newInstance MOCKPERIODYEARNEW (duplicates) ×6 concurrent"} {
		rs := byCase(rep, name)
		if len(rs) != 1 || rs[0].Status != kgsim.StatusFail ||
			!strings.Contains(rs[0].Reason, "6 concurrent calls for one order answered") || !strings.Contains(rs[0].Reason, "different instanceIds") {
			dump(t, rep)
			t.Fatalf("%s: %+v, want a failure naming different instanceIds", name, rs)
		}
	}
	again := byCase(rep, "newInstance MOCKONETIMENEW again")
	if len(again) != 1 || again[0].Status != kgsim.StatusFail || !strings.Contains(again[0].Reason, "answered earlier for the same order: not idempotent") {
		t.Fatalf("repeat of a created order: %+v", again)
	}
	for _, r := range rep.Failures() {
		if !strings.HasPrefix(r.Case, "newInstance ") {
			dump(t, rep)
			t.Fatalf("%s failed (%s): only newInstance is broken", r.Case, r.Reason)
		}
	}
}

// TestCatchesSlowAnswers: a server that does not answer one kind of call within
// the limit (here: queryInstance for several instances at once) fails exactly that
// case, for that reason, and nothing else. The assertions are on reasons, not on
// time; a blocked call ends when the client gives up.
func TestCatchesSlowAnswers(t *testing.T) {
	t.Parallel()
	url := saasServer(t, func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if activityOf(r) == "queryInstance" && strings.Contains(fieldOf(r, "instanceId"), ",") {
				select {
				case <-r.Context().Done(): // the client gave up
				case <-time.After(time.Minute):
				}
				return
			}
			next.ServeHTTP(w, r)
		})
	})
	timeout := 2 * time.Second
	rep := run(t, url, kgsim.Options{Rounds: 1, Timeout: timeout})
	wantReason := "no answer within " + timeout.String()
	slow := byCase(rep, "queryInstance three instances at once")
	if len(slow) != 1 {
		t.Fatalf("the slow case ran %d times, want 1", len(slow))
	}
	for _, r := range slow {
		if r.Status != kgsim.StatusFail || !strings.Contains(r.Reason, wantReason) {
			dump(t, rep)
			t.Fatalf("%s: %s %q, want a failure %q", r.Case, r.Status, r.Reason, wantReason)
		}
	}
	if rep.Failed != 1 {
		dump(t, rep)
		t.Fatalf("%d failures, want only the slow call", rep.Failed)
	}
}

// fieldOf reads a string field of a request body, restoring the body.
func fieldOf(r *http.Request, name string) string {
	body, _ := io.ReadAll(r.Body)
	r.Body = io.NopCloser(bytes.NewReader(body))
	var fields map[string]any
	_ = json.Unmarshal(body, &fields)
	s, _ := fields[name].(string)
	return s
}

// TestJSONReport checks the machine-readable report: it parses, counts agree with
// the results, the seed reproduces the order, and the key never appears.
func TestJSONReport(t *testing.T) {
	t.Parallel()
	url := saasServer(t, nil)
	rep := run(t, url, kgsim.Options{Rounds: 2, Seed: 12345})
	var b bytes.Buffer
	if err := rep.WriteJSON(&b); err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(b.Bytes(), []byte(kgsimtest.Key)) {
		t.Fatal("the JSON report contains the access key")
	}
	var back kgsim.Report
	if err := json.Unmarshal(b.Bytes(), &back); err != nil {
		t.Fatal(err)
	}
	if back.Seed != 12345 || back.Passed+back.Failed+back.Skipped != len(back.Results) || back.Failed != 0 || back.Calls < len(back.Results) {
		dump(t, rep)
		t.Fatalf("report: seed %d passed %d failed %d skipped %d results %d calls %d", back.Seed, back.Passed, back.Failed, back.Skipped, len(back.Results), back.Calls)
	}
	// The same seed gives the same order; the setup always comes first.
	again := run(t, url, kgsim.Options{Rounds: 2, Seed: 12345})
	other := run(t, url, kgsim.Options{Rounds: 2, Seed: 54321})
	order := func(r *kgsim.Report) string {
		var names []string
		for _, res := range r.Results {
			names = append(names, strconv.Itoa(res.Round)+":"+res.Case)
		}
		return strings.Join(names, "\n")
	}
	if order(again) != order(rep) {
		t.Fatal("the same seed produced another order")
	}
	if order(other) == order(rep) {
		t.Fatal("another seed produced the same order")
	}
	if rep.Results[0].Phase != kgsim.PhaseSetup {
		t.Fatal("setup does not come first")
	}
}

// TestCatchesStrictSignatureReading: a server that verifies only the documented
// formula over the raw bytes fails the plain-SHA-256 and canonical-form probes, and
// nothing else.
func TestCatchesStrictSignatureReading(t *testing.T) {
	t.Parallel()
	url := saasServer(t, func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			body, _ := io.ReadAll(r.Body)
			r.Body = io.NopCloser(bytes.NewReader(body))
			q := r.URL.Query()
			if sig := q.Get("signature"); sig != "" && !strings.EqualFold(sig, kgsign.V2Signature(key, q.Get("nonce"), q.Get("timestamp"), body)) {
				q.Set("signature", strings.Repeat("0", 64))
				r.URL.RawQuery = q.Encode()
			}
			next.ServeHTTP(w, r)
		})
	})
	rep := run(t, url, kgsim.Options{Rounds: 1})
	strict := map[string]bool{
		"signature: plain SHA-256 inner digest accepted":                                        true,
		"signature: over the canonical form of a reordered, spaced body (Huawei's Java sample)": true,
	}
	seen := 0
	for _, r := range rep.Results {
		switch {
		case strict[r.Case]:
			seen++
			if r.Status != kgsim.StatusFail {
				dump(t, rep)
				t.Fatalf("%s passed against a strict server", r.Case)
			}
		case r.Status != kgsim.StatusPass:
			dump(t, rep)
			t.Fatalf("%s: %s %q", r.Case, r.Status, r.Reason)
		}
	}
	if seen != len(strict) {
		t.Fatalf("%d of the %d strictness probes ran", seen, len(strict))
	}
}

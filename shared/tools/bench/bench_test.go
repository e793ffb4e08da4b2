package bench

import (
	"bytes"
	"context"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/kgseller/kgseller/shared/tools/dbtest"
	"github.com/kgseller/kgseller/shared/tools/rtbench"
)

func TestMedian(t *testing.T) {
	ms := func(v ...int) []time.Duration {
		var out []time.Duration
		for _, x := range v {
			out = append(out, time.Duration(x)*time.Millisecond)
		}
		return out
	}
	for _, tc := range []struct {
		in   []time.Duration
		want time.Duration
	}{
		{nil, 0},
		{ms(5), 5 * time.Millisecond},
		{ms(9, 1, 5), 5 * time.Millisecond},
		{ms(4, 1, 3, 2), 2500 * time.Microsecond},
	} {
		if got := Median(tc.in); got != tc.want {
			t.Errorf("Median(%v) = %v, want %v", tc.in, got, tc.want)
		}
	}
}

// TestBilling checks the billing arithmetic against the documented example:
// duration rounded up to the millisecond, 128 MB = 0.125 GB, $0.00001667 per GB-s
// and $0.2 per million requests.
func TestBilling(t *testing.T) {
	for _, tc := range []struct {
		d      time.Duration
		billed int64
	}{{time.Microsecond, 1}, {time.Millisecond, 1}, {1200 * time.Microsecond, 2}, {100 * time.Millisecond, 100}} {
		if got := BilledMS(tc.d); got != tc.billed {
			t.Errorf("BilledMS(%v) = %d, want %d", tc.d, got, tc.billed)
		}
	}
	gbs := GBs(100 * time.Millisecond) // 0.125 GB × 0.1 s
	if math.Abs(gbs-0.0125) > 1e-12 {
		t.Fatalf("GBs(100ms) = %v, want 0.0125", gbs)
	}
	dur, total := CostPerMillion(100 * time.Millisecond)
	if math.Abs(dur-1e6*0.0125*0.00001667) > 1e-9 || math.Abs(total-dur-0.2) > 1e-9 {
		t.Fatalf("CostPerMillion(100ms) = %v, %v", dur, total)
	}
}

func sampleResults() *Results {
	d := func(v ...float64) []time.Duration {
		var out []time.Duration
		for _, x := range v {
			out = append(out, time.Duration(x*float64(time.Millisecond)))
		}
		return out
	}
	return &Results{
		Started: time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC), GoVersion: "go1.26.8", BuildGoVersion: "go1.27.3",
		OS: "linux", Arch: "amd64", CPUs: 2, CPUModel: "Test CPU", Database: "embedded engine", Reps: 3, Duration: time.Minute,
		Hello: Function{Name: "hello", Trigger: "POST /hello", Sizes: Sizes{5 << 20, 2 << 20}, Cold: d(4, 4, 4), Warm: d(0.3)},
		Functions: []Function{
			{Name: "fast", Trigger: "POST /a", Sizes: Sizes{7 << 20, 3 << 20}, Cold: d(5, 5, 5), Warm: d(0.3)},
			{Name: "slow", Trigger: "timer", Sizes: Sizes{16 << 20, 7 << 20}, Cold: d(7, 8, 9), Warm: d(1)},
		},
		Billing:    &Billing{Warm: d(1.5, 1.5, 1.6), Cold: d(6, 6.2, 7), PeakRSS: 15 << 20},
		Throughput: &Throughput{Concurrency: 8, Query: Rate{Calls: 100, Elapsed: time.Second}, Hello: Rate{Calls: 400, Elapsed: time.Second}},
		Activities: []rtbench.Result{
			{Family: "saas-produce", Name: "newInstance", Calls: 50, Trips: 3, Statements: 6, Median: d(2)[0], Floor: d(1.8)[0], Ratio: 1.11},
			{Family: "license-produce", Name: "getLicenseAsync", Calls: 50, Trips: 3, Statements: 8, Median: d(3)[0], Floor: d(2)[0], Ratio: 1.5},
			{Family: "kit-application-sync", Name: "applicationSync add", Calls: 50, Trips: 2, Statements: 2, Median: d(6)[0], Floor: d(1)[0], Ratio: 6},
			{Family: "fulfil-worker", Name: "license job", Calls: 50, Trips: 5, Statements: 11, Median: d(4)[0], Floor: d(3.5)[0], Ratio: 1.14},
		},
	}
}

func TestReport(t *testing.T) {
	r := sampleResults()
	if got := r.Ratio(r.Functions[1]); got != 2 {
		t.Fatalf("ratio %v, want 2", got)
	}
	if got := r.Throughput.Ratio(); got != 0.25 {
		t.Fatalf("throughput ratio %v, want 0.25", got)
	}
	var md bytes.Buffer
	if err := r.WriteMarkdown(&md); err != nil {
		t.Fatal(err)
	}
	page := md.String()
	for _, want := range []string{
		"2026-11-27 10:00 UTC", "go1.26.8", "go1.27.3", "2 × Test CPU", "embedded engine",
		"| Cold start, slowest function against hello-world (medians) | 2.00× (slow: 8.00 ms against 4.00 ms) | ≤ 1.50× | **missed** |",
		"| Largest binary against hello-world | 3.20× (slow: 16.0 MB against 5.0 MB) | ≤ 1.50× | **missed** |",
		"| Largest zip | 7.0 MB (slow) | ≤ 4.0 MB | **missed** |",
		"| `fast` | POST /a | 7.0 MB | 3.0 MB | 5.00 ms | 5.00 ms – 5.00 ms | 1.25× | 0.30 ms | - | met |",
		"missed: cold start, binary, zip",
		"| warm (3 calls) | 1.50 ms | 1.50 ms – 1.60 ms | 2 ms | 0.000250 | $0.0042 | $0.2042 |",
		"| ratio | | | | 0.25× |",
		"| Database round trips, most of any marketplace call (nonce included) | 3 (saas-produce newInstance) | ≤ 3 | met |",
		"| Lifecycle and License activities against their floor, the slowest | 1.50× (license-produce getLicenseAsync: 3.00 ms against 2.00 ms) | ≤ 1.30× | **missed** |",
		"| `saas-produce` | newInstance | 3 | 6 | 2.00 ms | 1.80 ms | 1.11× | met |",
		"| `kit-application-sync` | applicationSync add | 2 | 2 | 6.00 ms | 1.00 ms | 6.00× |  |",
		"| `fulfil-worker` | license job | 5 | 11 | 4.00 ms | 3.50 ms | 1.14× |  |",
		"over 50 calls",
	} {
		if !strings.Contains(page, want) {
			t.Errorf("the page lacks %q:\n%s", want, page)
		}
	}
	var table bytes.Buffer
	if err := r.WriteTable(&table); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(table.String(), "MISSED") || !strings.Contains(table.String(), "slow") || !strings.Contains(table.String(), "applicationSync add") {
		t.Fatalf("table:\n%s", table.String())
	}
}

func TestProgress(t *testing.T) {
	var b bytes.Buffer
	p := newProgress(&b, 4)
	p.set("first")
	p.step()
	p.step()
	if !strings.Contains(b.String(), "[###############...............]  50% first") {
		t.Fatalf("bar: %q", b.String())
	}
	newProgress(nil, 3).step() // draws nothing, must not fail
}

// TestRunSmoke runs the whole bench on one function, briefly, against the test
// database: the build, the cold starts of saas-produce and hello, the billed
// durations and both throughput runs must all produce figures, with no problem.
func TestRunSmoke(t *testing.T) {
	res, err := Run(context.Background(), Options{
		ModuleDir: "../../..", DSN: dbtest.NewDatabase(t), Only: []string{"saas-produce"},
		Reps: 2, Warm: 5, Load: 300 * time.Millisecond, Concurrency: 2, Calls: 3,
	})
	if err != nil {
		t.Fatal(err)
	}
	if ps := res.Problems(); len(ps) > 0 {
		t.Fatalf("problems: %v", ps)
	}
	if len(res.Functions) != 1 || res.Functions[0].Name != "saas-produce" {
		t.Fatalf("functions %+v", res.Functions)
	}
	for _, f := range []Function{res.Hello, res.Functions[0]} {
		if len(f.Cold) != 2 || len(f.Warm) != 2 || f.Binary <= 0 || f.Zip <= 0 || f.Zip >= f.Binary {
			t.Fatalf("%s: %+v", f.Name, f)
		}
	}
	if res.Billing == nil || len(res.Billing.Warm) != 5 || len(res.Billing.Cold) != 2 {
		t.Fatalf("billing %+v", res.Billing)
	}
	if tp := res.Throughput; tp == nil || tp.Query.Calls == 0 || tp.Hello.Calls == 0 || tp.Query.Errors+tp.Hello.Errors != 0 {
		t.Fatalf("throughput %+v", res.Throughput)
	}
	// saas-produce's activities, each with its floor.
	if len(res.Activities) != 8 {
		t.Fatalf("%d activities measured, want saas-produce's 8: %+v", len(res.Activities), res.Activities)
	}
	for _, a := range res.Activities {
		if a.Family != "saas-produce" || a.Calls != 3 || a.Trips < 2 || a.Trips > 3 || a.Floor <= 0 || a.Ratio <= 0 {
			t.Fatalf("activity %+v", a)
		}
	}
	if res.BuildGoVersion == "" || res.CPUs <= 0 || res.Database == "" {
		t.Fatalf("run context %+v", res)
	}
	var md bytes.Buffer
	if err := res.WriteMarkdown(&md); err != nil || !strings.Contains(md.String(), "`saas-produce`") {
		t.Fatalf("markdown: %v\n%s", err, md.String())
	}
}

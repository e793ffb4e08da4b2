// Package bench is scripts/bench: in one run it builds every function as it is
// deployed and measures, against goals, the cold start of each binary under the
// local FunctionGraph emulator compared with a hello-world custom runtime, the
// binary and zip sizes, the billed duration of queryInstance at 128 MB, the
// local throughput of signed queryInstance compared with the hello-world function,
// and the database round trips and time against the floor of every activity of
// every measured function (shared/tools/rtbench). Every ratio compares figures
// measured in the same run on the same machine.
package bench

import (
	"context"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/kgseller/kgseller/shared/tools/manifest"
	"github.com/kgseller/kgseller/shared/tools/rtbench"
)

// Goals and prices the results are judged by.
const (
	// GoalColdRatio bounds a function's cold start against the hello-world one.
	GoalColdRatio = 1.5
	// GoalBinaryRatio bounds each function's bootstrap against the hello-world
	// custom runtime built with the same flags; GoalZipBytes bounds its zip.
	GoalBinaryRatio = 1.5
	GoalZipBytes    = 4 << 20
	// MemoryMB is the memory every function is deployed with (serverless.yml).
	MemoryMB = 128
	// PricePerGBs and PricePerMillionRequests are FunctionGraph's unit prices of
	// the international site's billing example; duration is billed per started
	// millisecond.
	PricePerGBs             = 0.00001667
	PricePerMillionRequests = 0.2
)

// Options configure a run. The zero value measures every function of
// serverless.yml in the current folder on the embedded database.
type Options struct {
	// ModuleDir is the repository root; default ".".
	ModuleDir string
	// DSN selects a MySQL/MariaDB database (migrations are applied); empty starts
	// the embedded engine.
	DSN string
	// Only limits the measured functions; default every function.
	Only []string
	// Reps is how many cold starts are measured per binary; default 15.
	Reps int
	// Warm is how many warm invocations the billed duration is the median of;
	// default 200.
	Warm int
	// Load is the length of each throughput run, after a warm-up; default 5s.
	Load time.Duration
	// Concurrency is the number of concurrent clients and function instances in
	// the throughput runs; default 8.
	Concurrency int
	// Calls is how many calls of each activity the round trips and the ratio to
	// the floor are measured over; default 50, negative for none.
	Calls int
	// Progress receives a progress bar; nil draws none.
	Progress io.Writer
	// Log receives go build's output; default discarded.
	Log io.Writer
}

func (o Options) withDefaults() Options {
	if o.ModuleDir == "" {
		o.ModuleDir = "."
	}
	if o.Reps <= 0 {
		o.Reps = 15
	}
	if o.Warm <= 0 {
		o.Warm = 200
	}
	if o.Load <= 0 {
		o.Load = 5 * time.Second
	}
	if o.Concurrency <= 0 {
		o.Concurrency = 8
	}
	if o.Calls == 0 {
		o.Calls = 50
	}
	if o.Log == nil {
		o.Log = io.Discard
	}
	return o
}

// Sizes are a function's deployed sizes in bytes.
type Sizes struct {
	Binary int64
	Zip    int64
}

// Function is what was measured of one binary.
type Function struct {
	Name string
	Sizes
	// Trigger is the invocation measured: an APIG route or the timer.
	Trigger string
	// Cold holds every cold start: a fresh process's first invocation, from the
	// event's delivery to its answer. Warm holds the invocation right after each.
	Cold, Warm []time.Duration
	// PeakRSS is the largest resident memory of the process, in bytes (0 when the
	// platform does not report it).
	PeakRSS int64
	// Problems make the measurement of this function invalid (a failed
	// invocation, a configuration error in its log).
	Problems []string
}

// ColdMedian is the median cold start.
func (f Function) ColdMedian() time.Duration { return Median(f.Cold) }

// WarmMedian is the median warm invocation.
func (f Function) WarmMedian() time.Duration { return Median(f.Warm) }

// Billing is the billed duration of a signed queryInstance.
type Billing struct {
	// Warm and Cold are the invocation durations of queryInstance on a warm
	// instance and as a fresh instance's first request.
	Warm, Cold []time.Duration
	// PeakRSS is saas-produce's largest resident memory after the warm calls.
	PeakRSS int64
}

// BilledMS is d rounded up to the millisecond, as FunctionGraph bills it.
func BilledMS(d time.Duration) int64 {
	return int64(math.Ceil(float64(d) / float64(time.Millisecond)))
}

// GBs is the GB-seconds of one invocation of duration d at MemoryMB.
func GBs(d time.Duration) float64 {
	return float64(MemoryMB) / 1024 * float64(BilledMS(d)) / 1000
}

// CostPerMillion is the price of a million invocations of duration d: the
// duration part and the total with the request fee.
func CostPerMillion(d time.Duration) (duration, total float64) {
	duration = 1e6 * GBs(d) * PricePerGBs
	return duration, duration + PricePerMillionRequests
}

// Rate is one throughput run.
type Rate struct {
	Calls   int
	Errors  int
	Elapsed time.Duration
}

// PerSecond is the rate of successful calls.
func (r Rate) PerSecond() float64 {
	if r.Elapsed <= 0 {
		return 0
	}
	return float64(r.Calls) / r.Elapsed.Seconds()
}

// Throughput compares signed queryInstance with the unsigned hello function.
type Throughput struct {
	Concurrency  int
	Query, Hello Rate
	// FirstError describes the first failed call, if any.
	FirstError string
}

// Ratio is queryInstance's rate as a fraction of hello's.
func (t Throughput) Ratio() float64 {
	if t.Hello.PerSecond() == 0 {
		return 0
	}
	return t.Query.PerSecond() / t.Hello.PerSecond()
}

// Results are one run's measurements.
type Results struct {
	Started        time.Time
	Duration       time.Duration
	GoVersion      string // of the bench
	BuildGoVersion string // that built the measured binaries
	OS, Arch       string
	CPUs           int
	CPUModel       string
	Database       string
	Reps           int
	Hello          Function
	Functions      []Function
	Billing        *Billing    // nil when saas-produce was not measured
	Throughput     *Throughput // nil when saas-produce was not measured
	// Activities are the round trips and ratios to the floor of every activity of
	// the measured functions; ActivityProblems the activities that failed.
	Activities       []rtbench.Result
	ActivityProblems []string
}

// Ratio is f's median cold start over hello's.
func (r *Results) Ratio(f Function) float64 {
	h := r.Hello.ColdMedian()
	if h <= 0 {
		return 0
	}
	return float64(f.ColdMedian()) / float64(h)
}

// BinaryRatio is f's bootstrap size against the hello-world one's.
func (r *Results) BinaryRatio(f Function) float64 {
	if r.Hello.Binary <= 0 {
		return 0
	}
	return float64(f.Binary) / float64(r.Hello.Binary)
}

// Problems lists every measurement that is invalid.
func (r *Results) Problems() []string {
	var out []string
	for _, f := range append([]Function{r.Hello}, r.Functions...) {
		for _, p := range f.Problems {
			out = append(out, f.Name+": "+p)
		}
	}
	if r.Throughput != nil && r.Throughput.FirstError != "" {
		out = append(out, "throughput: "+r.Throughput.FirstError)
	}
	for _, p := range r.ActivityProblems {
		out = append(out, "round trips: "+p)
	}
	return out
}

// Run builds and measures. A failure to build or to start the database is an
// error; a function that misbehaves is reported in its Problems.
func Run(ctx context.Context, o Options) (*Results, error) {
	o = o.withDefaults()
	res := &Results{
		Started: time.Now().UTC(), GoVersion: runtime.Version(), OS: runtime.GOOS, Arch: runtime.GOARCH,
		CPUs: runtime.NumCPU(), CPUModel: cpuModel(), Reps: o.Reps,
	}
	m, err := manifest.Load(filepath.Join(o.ModuleDir, "serverless.yml"), func(string) string { return "" })
	if err != nil {
		return nil, err
	}
	names := m.Names()
	if len(o.Only) > 0 {
		for _, n := range o.Only {
			if _, ok := m.Functions[n]; !ok {
				return nil, fmt.Errorf("bench: no function %q in serverless.yml", n)
			}
		}
		names = slices.Clone(o.Only)
		sort.Strings(names)
	}
	withSaaS := slices.Contains(names, "saas-produce")
	steps := 2 + o.Reps*(len(names)+1)
	if withSaaS {
		steps += o.Reps + 1 + 2
	}
	if o.Calls > 0 {
		// Listing the activities opens nothing; their calls need the database.
		steps += len(catalogue(&rtbench.Env{}, names))
	}
	bar := newProgress(o.Progress, steps)
	defer bar.finish()

	bar.set("building " + fmt.Sprint(len(names)) + " functions and hello")
	b, err := buildAll(ctx, o, names)
	if err != nil {
		return nil, err
	}
	res.BuildGoVersion = b.goVersion
	bar.step()
	bar.set("starting the database")
	be, err := startBackend(ctx, o.ModuleDir, o.DSN)
	if err != nil {
		return nil, err
	}
	defer be.close()
	res.Database = be.label
	bar.step()

	m.Functions = subset(m.Functions, names)
	targets := []*target{helloTarget(b)}
	for _, a := range b.artifacts {
		targets = append(targets, functionTarget(m, b.binDir, a.Name))
	}
	measured := make([]Function, len(targets))
	for i, t := range targets {
		measured[i] = Function{Name: t.name, Trigger: t.trigger()}
	}
	measured[0].Sizes = b.hello
	for i, a := range b.artifacts {
		measured[i+1].Sizes = Sizes{Binary: a.BinarySize, Zip: a.ZipSize}
	}
	// Interleaved, so that a slow moment of the machine spreads over every binary
	// instead of landing on one.
	for rep := 0; rep < o.Reps; rep++ {
		for i, t := range targets {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
			bar.set(fmt.Sprintf("cold start %d/%d: %s", rep+1, o.Reps, t.name))
			c, err := t.coldStart(ctx, be.env)
			f := &measured[i]
			if err != nil {
				f.Problems = appendOnce(f.Problems, err.Error())
			} else {
				f.Cold, f.Warm = append(f.Cold, c.cold), append(f.Warm, c.warm)
				f.PeakRSS = max(f.PeakRSS, c.rss)
			}
			bar.step()
		}
	}
	res.Hello, res.Functions = measured[0], measured[1:]

	if withSaaS {
		saas := functionTarget(m, b.binDir, "saas-produce")
		if res.Billing, err = measureBilling(ctx, o, saas, be, bar); err != nil {
			return nil, err
		}
		if res.Throughput, err = measureThroughput(ctx, o, saas, targets[0], be, bar); err != nil {
			return nil, err
		}
	}
	if o.Calls > 0 {
		bar.set("round trips: preparing the activities")
		env, err := openCounted(be.dsn)
		if err != nil {
			return nil, err
		}
		defer env.Store.Close()
		acts := catalogue(env, names)
		res.Activities, res.ActivityProblems = measureActivities(ctx, o, env, acts, bar)
	}
	res.Duration = time.Since(res.Started).Round(time.Second)
	return res, nil
}

func subset(fns map[string]manifest.Function, names []string) map[string]manifest.Function {
	out := make(map[string]manifest.Function, len(names))
	for _, n := range names {
		out[n] = fns[n]
	}
	return out
}

func appendOnce(list []string, s string) []string {
	if slices.Contains(list, s) {
		return list
	}
	return append(list, s)
}

// Median returns the median of ds (the mean of the middle two for an even count),
// or 0 for none.
func Median(ds []time.Duration) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

// cpuModel names the processor, where the platform says.
func cpuModel() string {
	raw, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		return ""
	}
	for _, line := range strings.Split(string(raw), "\n") {
		if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

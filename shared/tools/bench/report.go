package bench

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"
)

// row is one line of the summary: a measure, its figure and its goal.
type row struct {
	measure, value, goal string
	met                  *bool // nil: no goal
}

func boolp(b bool) *bool { return &b }

// worst returns the function with the highest cold-start ratio, the largest
// binary and the largest zip.
func (r *Results) worst() (cold, bin, zip Function) {
	for i, f := range r.Functions {
		if i == 0 || r.Ratio(f) > r.Ratio(cold) {
			cold = f
		}
		if i == 0 || f.Binary > bin.Binary {
			bin = f
		}
		if i == 0 || f.Zip > zip.Zip {
			zip = f
		}
	}
	return cold, bin, zip
}

func (r *Results) summary() []row {
	var rows []row
	if len(r.Functions) > 0 {
		cold, bin, zip := r.worst()
		rows = append(rows,
			row{"Cold start, slowest function against hello-world (medians)",
				fmt.Sprintf("%s (%s: %s against %s)", ratio(r.Ratio(cold)), cold.Name, ms(cold.ColdMedian()), ms(r.Hello.ColdMedian())),
				fmt.Sprintf("≤ %s", ratio(GoalColdRatio)), boolp(r.Ratio(cold) <= GoalColdRatio)},
			row{"Largest binary against hello-world", fmt.Sprintf("%s (%s: %s against %s)", ratio(r.BinaryRatio(bin)), bin.Name, mb(bin.Binary), mb(r.Hello.Binary)),
				"≤ " + ratio(GoalBinaryRatio), boolp(r.BinaryRatio(bin) <= GoalBinaryRatio)},
			row{"Largest zip", fmt.Sprintf("%s (%s)", mb(zip.Zip), zip.Name), "≤ " + mb(GoalZipBytes), boolp(zip.Zip <= GoalZipBytes)},
		)
	}
	if b := r.Billing; b != nil {
		rows = append(rows,
			row{"Billed duration, warm signed queryInstance at 128 MB", billing(Median(b.Warm)), "", nil},
			row{"Billed duration, cold signed queryInstance at 128 MB", billing(Median(b.Cold)), "", nil},
		)
		if b.PeakRSS > 0 {
			rows = append(rows, row{"Peak memory of saas-produce after the warm calls", mb(b.PeakRSS), fmt.Sprintf("< %d MB", MemoryMB), boolp(b.PeakRSS < MemoryMB<<20)})
		}
	}
	if t := r.Throughput; t != nil {
		rows = append(rows, row{"Local throughput, signed queryInstance against unsigned hello",
			fmt.Sprintf("%s (%.0f against %.0f calls/s, %d clients)", ratio(t.Ratio()), t.Query.PerSecond(), t.Hello.PerSecond(), t.Concurrency), "", nil})
	}
	if w, ok := r.mostTrips(); ok {
		rows = append(rows, row{"Database round trips, most of any marketplace call (nonce included)",
			fmt.Sprintf("%d (%s %s)", w.Trips, w.Family, w.Name), fmt.Sprintf("≤ %d", GoalTrips), boolp(w.Trips <= GoalTrips)})
	}
	if w, ok := r.worstFloor(); ok {
		rows = append(rows, row{"Lifecycle and License activities against their floor, the slowest",
			fmt.Sprintf("%s (%s %s: %s against %s)", ratio(w.Ratio), w.Family, w.Name, ms(w.Median), ms(w.Floor)),
			"≤ " + ratio(GoalFloorRatio), boolp(w.Ratio <= GoalFloorRatio)})
	}
	return rows
}

func billing(d time.Duration) string {
	dur, total := CostPerMillion(d)
	return fmt.Sprintf("%s, billed %d ms = %.6f GB-s; $%.4f per million calls (+ $%.2f requests = $%.4f)",
		ms(d), BilledMS(d), GBs(d), dur, PricePerMillionRequests, total)
}

func ratio(x float64) string { return fmt.Sprintf("%.2f×", x) }

func mb(n int64) string { return fmt.Sprintf("%.1f MB", float64(n)/(1<<20)) }

func ms(d time.Duration) string {
	v := float64(d) / float64(time.Millisecond)
	if v < 10 {
		return fmt.Sprintf("%.2f ms", v)
	}
	return fmt.Sprintf("%.1f ms", v)
}

func spread(ds []time.Duration) string {
	if len(ds) == 0 {
		return "-"
	}
	lo, hi := ds[0], ds[0]
	for _, d := range ds {
		lo, hi = min(lo, d), max(hi, d)
	}
	return ms(lo) + " – " + ms(hi)
}

func rss(n int64) string {
	if n <= 0 {
		return "-"
	}
	return mb(n)
}

// goals names the goals a function misses, or "met".
func (r *Results) goals(f Function) string {
	var missed []string
	if r.Ratio(f) > GoalColdRatio {
		missed = append(missed, "cold start")
	}
	if r.BinaryRatio(f) > GoalBinaryRatio {
		missed = append(missed, "binary")
	}
	if f.Zip > GoalZipBytes {
		missed = append(missed, "zip")
	}
	if len(f.Problems) > 0 {
		missed = append(missed, "invalid: "+strings.Join(f.Problems, "; "))
	}
	if len(missed) == 0 {
		return "met"
	}
	return "missed: " + strings.Join(missed, ", ")
}

func (r *Results) context() string {
	cpu := fmt.Sprintf("%d CPUs", r.CPUs)
	if r.CPUModel != "" {
		cpu += " (" + r.CPUModel + ")"
	}
	return fmt.Sprintf("%s; bench built with %s, functions with %s; %s/%s, %s; database: %s; %d cold starts per binary; run took %s",
		r.Started.Format("2006-01-02 15:04 UTC"), r.GoVersion, r.BuildGoVersion, r.OS, r.Arch, cpu, r.Database, r.Reps, r.Duration)
}

// WriteTable prints the results for a terminal.
func (r *Results) WriteTable(w io.Writer) error {
	fmt.Fprintln(w, r.context())
	fmt.Fprintln(w)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "MEASURE\tRESULT\tGOAL\t")
	for _, s := range r.summary() {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", s.measure, s.value, s.goal, verdict(s.met, false))
	}
	tw.Flush()
	fmt.Fprintln(w)
	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "FUNCTION\tTRIGGER\tBINARY\tZIP\tCOLD (MEDIAN)\tCOLD (RANGE)\tVS HELLO\tWARM\tPEAK RSS\tGOALS")
	for _, f := range append([]Function{r.Hello}, r.Functions...) {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", f.Name, f.Trigger, mb(f.Binary), mb(f.Zip),
			ms(f.ColdMedian()), spread(f.Cold), ratio(r.Ratio(f)), ms(f.WarmMedian()), rss(f.PeakRSS), r.goals(f))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if len(r.Activities) == 0 {
		return nil
	}
	fmt.Fprintln(w)
	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "FUNCTION\tACTIVITY\tROUND TRIPS\tSTATEMENTS\tMEDIAN\tFLOOR\tX FLOOR\t")
	for _, a := range r.Activities {
		fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%s\t%s\t%s\t%s\n", a.Family, a.Name, a.Trips, a.Statements,
			ms(a.Median), ms(a.Floor), ratio(a.Ratio), verdict(floorVerdict(a), false))
	}
	return tw.Flush()
}

func verdict(met *bool, md bool) string {
	switch {
	case met == nil:
		return ""
	case *met:
		return "met"
	case md:
		return "**missed**"
	}
	return "MISSED"
}

// WriteMarkdown writes the results page (docs/bench-results.md).
func (r *Results) WriteMarkdown(w io.Writer) error {
	var b strings.Builder
	b.WriteString("# Benchmark results\n\n")
	b.WriteString("Written by `go run ./scripts/bench -o docs/bench-results.md`; [docs/performance.md](performance.md) explains how each figure is measured and what it means.\n\n")
	fmt.Fprintf(&b, "| Run | |\n|---|---|\n")
	fmt.Fprintf(&b, "| Date | %s |\n", r.Started.Format("2006-01-02 15:04 UTC"))
	fmt.Fprintf(&b, "| Go | bench %s; functions built with %s (`scripts/build` flags: linux/amd64, static, stripped) |\n", r.GoVersion, r.BuildGoVersion)
	cpu := fmt.Sprint(r.CPUs)
	if r.CPUModel != "" {
		cpu += " × " + r.CPUModel
	}
	fmt.Fprintf(&b, "| Machine | %s/%s, %s CPUs |\n", r.OS, r.Arch, cpu)
	fmt.Fprintf(&b, "| Database | %s |\n", r.Database)
	fmt.Fprintf(&b, "| Repetitions | %d cold starts per binary (medians reported), run took %s |\n\n", r.Reps, r.Duration)

	b.WriteString("## Against the goals\n\n| Measure | Result | Goal | |\n|---|---|---|---|\n")
	for _, s := range r.summary() {
		fmt.Fprintf(&b, "| %s | %s | %s | %s |\n", s.measure, s.value, s.goal, verdict(s.met, true))
	}
	fmt.Fprintf(&b, "\n## Per function\n\nCold start: a fresh process's first invocation under the local emulator, from the event's delivery to the answer (median of %d, and the range); warm: the invocation right after it. APIG functions get an unsigned request on their route, which they answer without the database; `fulfil-worker` gets its timer event, for which it opens its database connection and reads its (empty) job queue, so its figure includes that connection.\n\n", r.Reps)
	b.WriteString("| Function | Trigger | Binary | Zip | Cold start | Range | Against hello | Warm | Peak RSS | Goals |\n|---|---|---:|---:|---:|---:|---:|---:|---:|---|\n")
	for _, f := range append([]Function{r.Hello}, r.Functions...) {
		name := "`" + f.Name + "`"
		if f.Name == helloName {
			name += " (baseline)"
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", name, f.Trigger, mb(f.Binary), mb(f.Zip),
			ms(f.ColdMedian()), spread(f.Cold), ratio(r.Ratio(f)), ms(f.WarmMedian()), rss(f.PeakRSS), r.goals(f))
	}
	if bl := r.Billing; bl != nil {
		b.WriteString("\n## Billed duration at 128 MB\n\n")
		fmt.Fprintf(&b, "FunctionGraph bills each invocation's duration rounded up to the millisecond, times the memory: GB-s = 0.125 GB × billed ms / 1000, at $%.8f per GB-s, plus $%.2f per million requests (international site's billing example). Durations are those of a signed `queryInstance` through the emulator, from the event's delivery to the answer.\n\n", PricePerGBs, PricePerMillionRequests)
		b.WriteString("| Invocation | Median | Range | Billed | GB-s per call | Duration cost per million | With the request fee |\n|---|---:|---:|---:|---:|---:|---:|\n")
		for _, c := range []struct {
			name string
			ds   []time.Duration
		}{{fmt.Sprintf("warm (%d calls)", len(bl.Warm)), bl.Warm}, {fmt.Sprintf("cold (%d fresh instances)", len(bl.Cold)), bl.Cold}} {
			d := Median(c.ds)
			dur, total := CostPerMillion(d)
			fmt.Fprintf(&b, "| %s | %s | %s | %d ms | %.6f | $%.4f | $%.4f |\n", c.name, ms(d), spread(c.ds), BilledMS(d), GBs(d), dur, total)
		}
	}
	if t := r.Throughput; t != nil {
		b.WriteString("\n## Local throughput\n\n")
		fmt.Fprintf(&b, "Calls completed per second over HTTP through the emulator, %d concurrent clients and up to %d instances per function, after a warm-up, on this machine (the clients, the emulator, the functions and the database share its CPUs).\n\n", t.Concurrency, t.Concurrency)
		b.WriteString("| Function | Calls | Failed | Seconds | Calls/s |\n|---|---:|---:|---:|---:|\n")
		fmt.Fprintf(&b, "| `hello`, unsigned | %d | %d | %.1f | %.0f |\n", t.Hello.Calls, t.Hello.Errors, t.Hello.Elapsed.Seconds(), t.Hello.PerSecond())
		fmt.Fprintf(&b, "| `saas-produce`, signed `queryInstance` | %d | %d | %.1f | %.0f |\n", t.Query.Calls, t.Query.Errors, t.Query.Elapsed.Seconds(), t.Query.PerSecond())
		fmt.Fprintf(&b, "| ratio | | | | %s |\n", ratio(t.Ratio()))
	}
	if len(r.Activities) > 0 {
		b.WriteString("\n## Database round trips and time against the floor\n\n")
		fmt.Fprintf(&b, "Each activity's calls go through the handler its function assembles, in the bench's process, on one connection to the bench's database, as a function instance holds it (`shared/tools/rtbench`). Round trips and statements are counted by a counting driver connector; every call must cost the figures shown, and answer as expected, or the run reports a problem. The floor of a call is the very SQL it sent, sent again raw on the same connection right after it (on twin rows in the same state); × floor is the median, over %d calls, of each call's time against its floor's. The lifecycle and License activities must stay within %s.\n\n", r.activityCalls(), ratio(GoalFloorRatio))
		b.WriteString("| Function | Activity | Round trips | Statements | Median | Floor | × floor | |\n|---|---|---:|---:|---:|---:|---:|---|\n")
		for _, a := range r.Activities {
			fmt.Fprintf(&b, "| `%s` | %s | %d | %d | %s | %s | %s | %s |\n", a.Family, a.Name, a.Trips, a.Statements,
				ms(a.Median), ms(a.Floor), ratio(a.Ratio), verdict(floorVerdict(a), true))
		}
	}
	if ps := r.Problems(); len(ps) > 0 {
		b.WriteString("\n## Problems\n\nThese measurements are invalid:\n\n")
		for _, p := range ps {
			fmt.Fprintf(&b, "- %s\n", p)
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

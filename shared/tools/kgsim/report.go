package kgsim

import (
	"encoding/json"
	"fmt"
	"github.com/kgseller/kgseller/shared/marketplace"
	"io"
	"net/http"
	"sort"
	"strings"
	"text/tabwriter"
	"time"
)

// Result statuses.
const (
	StatusPass = "pass"
	StatusFail = "fail"
	StatusSkip = "skip"
)

// Result is the outcome of one case, burst or probe in one round.
type Result struct {
	Seq   int    `json:"seq"`
	Phase string `json:"phase"`
	Round int    `json:"round"` // 0 for setup
	Case  string `json:"case"`
	Path  string `json:"path,omitempty"`
	Calls int    `json:"calls"`
	// HTTP is the status of the last answer (0 when none came).
	HTTP int `json:"http,omitempty"`
	// Code lists the distinct result codes answered, comma-separated.
	Code   string  `json:"code,omitempty"`
	Want   string  `json:"want"`
	Status string  `json:"status"`
	Reason string  `json:"reason,omitempty"`
	MaxMS  float64 `json:"maxMs"`
}

// Report is a whole run. It never holds the access key.
type Report struct {
	Type       string    `json:"type"`
	URL        string    `json:"url"`
	Seed       uint64    `json:"seed"`
	Rounds     int       `json:"rounds"`
	Duplicates int       `json:"duplicates"`
	Timeout    string    `json:"timeout"`
	Started    time.Time `json:"started"`
	DurationMS float64   `json:"durationMs"`
	Calls      int       `json:"calls"`
	Passed     int       `json:"passed"`
	Failed     int       `json:"failed"`
	Skipped    int       `json:"skipped"`
	SlowestMS  float64   `json:"slowestMs"`
	SlowestOf  string    `json:"slowestCase,omitempty"`
	// KeyFrom names the source of the key tried, never the key.
	KeyFrom string `json:"keyFrom,omitempty"`
	// Warnings name what the marketplace would refuse about the address itself.
	Warnings []string `json:"warnings,omitempty"`
	Results  []Result `json:"results"`
}

func (r *Report) finish(end time.Time) {
	r.DurationMS = float64(end.Sub(r.Started).Microseconds()) / 1000
	for _, res := range r.Results {
		r.Calls += res.Calls
		switch res.Status {
		case StatusPass:
			r.Passed++
		case StatusFail:
			r.Failed++
		case StatusSkip:
			r.Skipped++
		}
		if res.MaxMS > r.SlowestMS {
			r.SlowestMS, r.SlowestOf = res.MaxMS, res.Case
		}
	}
}

// OK reports whether nothing failed.
func (r *Report) OK() bool { return r.Failed == 0 }

// Failures returns the failed results in run order.
func (r *Report) Failures() []Result {
	var out []Result
	for _, res := range r.Results {
		if res.Status == StatusFail {
			out = append(out, res)
		}
	}
	return out
}

// WriteJSON writes the report for CI.
func (r *Report) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

// row aggregates the results of one case name over the rounds.
type row struct {
	phase, name, want string
	runs, pass, fail  int
	skip              int
	codes             []string
	maxMS             float64
	reason            string
	firstSeq          int
}

// WriteTable writes an aligned pass/fail table, one row per case over all rounds
// (every call in run order when verbose), then the failures and a summary.
func (r *Report) WriteTable(w io.Writer, verbose bool) error {
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	if verbose {
		fmt.Fprintln(tw, "#\tROUND\tPHASE\tCASE\tCALLS\tCODE\tWANT\tMS\tRESULT\tREASON")
		for _, res := range r.Results {
			fmt.Fprintf(tw, "%d\t%d\t%s\t%s\t%d\t%s\t%s\t%.1f\t%s\t%s\n", res.Seq, res.Round, res.Phase, res.Case,
				res.Calls, dash(res.Code), res.Want, res.MaxMS, strings.ToUpper(res.Status), marketplace.Clip(res.Reason, 120))
		}
	} else {
		fmt.Fprintln(tw, "PHASE\tCASE\tRUNS\tPASS\tFAIL\tCODES\tWANT\tMAX MS\tRESULT")
		for _, rw := range r.rows() {
			result := "PASS"
			switch {
			case rw.fail > 0:
				result = "FAIL"
			case rw.skip == rw.runs:
				result = "SKIP"
			}
			fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%d\t%s\t%s\t%.1f\t%s\n", rw.phase, rw.name, rw.runs, rw.pass, rw.fail,
				dash(strings.Join(rw.codes, ",")), rw.want, rw.maxMS, result)
		}
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if fails := r.Failures(); len(fails) > 0 {
		fmt.Fprintf(w, "\nFailures:\n")
		seen := map[string]bool{}
		for _, f := range fails {
			key := f.Case + "\x00" + f.Reason
			if seen[key] {
				continue
			}
			seen[key] = true
			where := fmt.Sprintf("round %d", f.Round)
			if f.Round == 0 {
				where = "setup"
			}
			fmt.Fprintf(w, "  FAIL  %s (%s, #%d): %s\n", f.Case, where, f.Seq, f.Reason)
		}
	}
	for _, s := range r.skips() {
		fmt.Fprintf(w, "  SKIP  %s\n", s)
	}
	for _, warn := range r.Warnings {
		fmt.Fprintf(w, "\nWARNING: %s\n", warn)
	}
	if r.allNotFound() {
		fmt.Fprintf(w, "\nEvery answer was HTTP 404: nothing is served at %s (wrong URL, or the function is not deployed).\n", r.URL)
	}
	verdict := "PASS"
	if !r.OK() {
		verdict = "FAIL"
	}
	fmt.Fprintf(w, "\n%s  type=%s  %d passed, %d failed, %d skipped  (%d calls in %.1fs, slowest %.1f ms: %s)\n",
		verdict, r.Type, r.Passed, r.Failed, r.Skipped, r.Calls, r.DurationMS/1000, r.SlowestMS, dash(r.SlowestOf))
	fmt.Fprintf(w, "seed %d  (rerun this order with -seed %d)\n", r.Seed, r.Seed)
	return nil
}

// allNotFound reports whether the server answered, and every answer was a 404.
func (r *Report) allNotFound() bool {
	answered := 0
	for _, res := range r.Results {
		if res.HTTP == 0 {
			continue
		}
		if res.HTTP != http.StatusNotFound {
			return false
		}
		answered++
	}
	return answered > 0
}

func (r *Report) skips() []string {
	seen := map[string]bool{}
	var out []string
	for _, res := range r.Results {
		if res.Status == StatusSkip && !seen[res.Case] {
			seen[res.Case] = true
			out = append(out, res.Case+": "+res.Reason)
		}
	}
	return out
}

func (r *Report) rows() []*row {
	byName := map[string]*row{}
	for _, res := range r.Results {
		rw := byName[res.Phase+"\x00"+res.Case]
		if rw == nil {
			rw = &row{phase: res.Phase, name: res.Case, want: res.Want, firstSeq: res.Seq}
			byName[res.Phase+"\x00"+res.Case] = rw
		}
		rw.runs++
		switch res.Status {
		case StatusPass:
			rw.pass++
		case StatusFail:
			rw.fail++
			if rw.reason == "" {
				rw.reason = res.Reason
			}
		case StatusSkip:
			rw.skip++
		}
		for _, c := range strings.Split(res.Code, ",") {
			if c != "" && !contains(rw.codes, c) {
				rw.codes = append(rw.codes, c)
			}
		}
		if res.MaxMS > rw.maxMS {
			rw.maxMS = res.MaxMS
		}
	}
	rows := make([]*row, 0, len(byName))
	for _, rw := range byName {
		rows = append(rows, rw)
	}
	order := map[string]int{}
	for i, p := range []string{PhaseSetup, PhaseCase, PhaseDuplicate, PhaseReplay, PhaseStale, PhaseForged, PhaseSignature, PhaseMalformed} {
		order[p] = i
	}
	sort.Slice(rows, func(i, j int) bool {
		if order[rows[i].phase] != order[rows[j].phase] {
			return order[rows[i].phase] < order[rows[j].phase]
		}
		if rows[i].phase == PhaseSetup {
			return rows[i].firstSeq < rows[j].firstSeq
		}
		return rows[i].name < rows[j].name
	})
	return rows
}

func contains(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

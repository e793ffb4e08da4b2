package kgsim

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strings"
	"time"
	"unicode/utf8"
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
	// BlockedBy names the setup step whose failure kept this case from running.
	BlockedBy string `json:"blockedBy,omitempty"`
	// Unreachable: every call was refused (nothing listens at the URL).
	Unreachable bool `json:"unreachable,omitempty"`
	// Body is the request sent (the first copy of a burst), for -v.
	Body []byte `json:"-"`
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
	// ExplicitURL: URL was typed, so sign commands must name it.
	ExplicitURL bool `json:"-"`
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
	skip, blocked     int
	codes             []string
	maxMS             float64
	reason            string
	firstSeq          int
}

// TableWidth is the widest line of the table; long case names are cut with "…".
const TableWidth = 100

// WriteTable writes an aligned pass/fail table, one row per case over all rounds
// (every call in run order when verbose), then the failures, their common cause
// first when they share one, and a summary.
func (r *Report) WriteTable(w io.Writer, verbose bool) error {
	// A cause every failure shares comes first, and replaces the table, whose
	// rows would all say the same.
	headline := r.Headline()
	if headline != "" && !verbose {
		fmt.Fprint(w, wrap("FAILED: "+headline, TableWidth, "  "))
		fmt.Fprintf(w, "  (the table of %d cases is left out: the cause above explains every failure; -v lists every call)\n", len(r.rows()))
		r.writeFailures(w, "")
		return r.writeSummary(w)
	}
	var rows [][]string
	caseCol := 1
	if verbose {
		caseCol = 3
		rows = append(rows, []string{"#", "ROUND", "PHASE", "CASE", "CALLS", "CODE", "MS", "RESULT"})
		for _, res := range r.Results {
			rows = append(rows, []string{fmt.Sprint(res.Seq), fmt.Sprint(res.Round), res.Phase, res.Case, fmt.Sprint(res.Calls),
				dash(res.Code), fmt.Sprintf("%.1f", res.MaxMS), strings.ToUpper(res.Status)})
		}
	} else {
		rows = append(rows, []string{"PHASE", "CASE", "RUNS", "PASS", "FAIL", "CODES", "MAX MS", "RESULT"})
		for _, rw := range r.rows() {
			result := "PASS"
			switch {
			case rw.fail > 0 && rw.blocked == rw.runs:
				result = "NOT RUN"
			case rw.fail > 0:
				result = "FAIL"
			case rw.skip == rw.runs:
				result = "SKIP"
			}
			rows = append(rows, []string{rw.phase, rw.name, fmt.Sprint(rw.runs), fmt.Sprint(rw.pass), fmt.Sprint(rw.fail),
				dash(strings.Join(rw.codes, ",")), fmt.Sprintf("%.1f", rw.maxMS), result})
		}
	}
	if err := writeColumns(w, rows, caseCol, TableWidth); err != nil {
		return err
	}
	if verbose {
		r.writeRequests(w)
	}
	r.writeFailures(w, headline)
	return r.writeSummary(w)
}

// writeSummary writes the skips, warnings, the verdict and the seed.
func (r *Report) writeSummary(w io.Writer) error {
	for _, s := range r.skips() {
		fmt.Fprintf(w, "  SKIP  %s\n", s)
	}
	for _, warn := range r.Warnings {
		fmt.Fprintf(w, "\nWARNING: %s\n", warn)
	}
	verdict := "PASS"
	if !r.OK() {
		verdict = "FAIL"
	}
	fmt.Fprintf(w, "\n%s  type=%s  %d passed, %d failed, %d skipped  (%d calls in %.1fs)\n",
		verdict, r.Type, r.Passed, r.Failed, r.Skipped, r.Calls, r.DurationMS/1000)
	fmt.Fprint(w, wrap(fmt.Sprintf("slowest %.1f ms: %s", r.SlowestMS, dash(r.SlowestOf)), TableWidth, "  "))
	fmt.Fprintf(w, "seed %d  (rerun this order with -seed %d)\n", r.Seed, r.Seed)
	return nil
}

// wrap breaks s at spaces into lines of at most width runes (a longer word
// stays whole), the lines after the first indented.
func wrap(s string, width int, indent string) string {
	var b strings.Builder
	line := 0
	for i, word := range strings.Fields(s) {
		n := utf8.RuneCountInString(word)
		switch {
		case i == 0:
		case line+1+n > width:
			b.WriteString("\n" + indent)
			line = utf8.RuneCountInString(indent)
		default:
			b.WriteByte(' ')
			line++
		}
		b.WriteString(word)
		line += n
	}
	b.WriteByte('\n')
	return b.String()
}

// writeColumns aligns rows in columns two spaces apart, cutting the cells of
// column cut so that no line is wider than width.
func writeColumns(w io.Writer, rows [][]string, cut, width int) error {
	if len(rows) == 0 {
		return nil
	}
	widths := make([]int, len(rows[0]))
	for _, row := range rows {
		for i, cell := range row {
			widths[i] = max(widths[i], utf8.RuneCountInString(cell))
		}
	}
	others := 2 * (len(widths) - 1)
	for i, wd := range widths {
		if i != cut {
			others += wd
		}
	}
	widths[cut] = max(min(widths[cut], width-others), 8)
	var b strings.Builder
	for _, row := range rows {
		b.Reset()
		for i, cell := range row {
			if i == cut {
				cell = clipRunes(cell, widths[i])
			}
			b.WriteString(cell)
			if i < len(row)-1 {
				b.WriteString(strings.Repeat(" ", widths[i]-utf8.RuneCountInString(cell)+2))
			}
		}
		if _, err := fmt.Fprintln(w, b.String()); err != nil {
			return err
		}
	}
	return nil
}

// clipRunes cuts s to n runes, the last one "…" when cut.
func clipRunes(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	rs := []rune(s)
	return string(rs[:n-1]) + "…"
}

// Headline names the one cause every failure shares, or is "": nothing listens
// at the URL, every answer was HTTP 404, or every call answered 000001.
func (r *Report) Headline() string {
	if r.OK() {
		return ""
	}
	answered, unreachable, auth, notFound := 0, 0, 0, 0
	for _, res := range r.Results {
		if res.Unreachable {
			unreachable++
		}
		if res.HTTP == 0 {
			continue
		}
		answered++
		if res.Code == codeAuth {
			auth++
		}
		if res.HTTP == http.StatusNotFound {
			notFound++
		}
	}
	keyFrom := r.KeyFrom
	if keyFrom == "" {
		keyFrom = "the key given"
	}
	switch {
	case answered == 0 && unreachable > 0:
		return NothingListens(r.URL)
	case answered > 0 && notFound == answered:
		return NotFound(r.URL, true)
	case answered > 0 && auth == answered:
		return AuthFailed(keyFrom, true)
	}
	return ""
}

// explained reports whether the headline accounts for a failure.
func explained(headline string, res Result) bool {
	switch {
	case headline == "":
		return false
	case res.Unreachable, res.HTTP == http.StatusNotFound:
		return true
	}
	return res.Code == codeAuth
}

// writeFailures lists the failures: the common cause first, then one line per
// setup step for the cases that did not run because it failed, then the rest.
// headline is printed first unless empty (WriteTable has printed it already).
func (r *Report) writeFailures(w io.Writer, headline string) {
	fails := r.Failures()
	if len(fails) == 0 {
		return
	}
	cause := r.Headline()
	fmt.Fprintln(w)
	if headline != "" {
		fmt.Fprint(w, wrap("FAILED: "+headline, TableWidth, "  "))
	}
	headline = cause
	fmt.Fprintf(w, "Failures:\n")
	seen := map[string]bool{}
	blocked := map[string]map[string]bool{}
	var steps []string
	because := map[string]bool{}
	var listed []Result
	for _, f := range fails {
		switch {
		case f.BlockedBy != "":
			if blocked[f.BlockedBy] == nil {
				blocked[f.BlockedBy] = map[string]bool{}
				steps = append(steps, f.BlockedBy)
			}
			blocked[f.BlockedBy][f.Case] = true
		case explained(headline, f):
			because[f.Case] = true
		default:
			key := f.Case + "\x00" + f.Reason
			if !seen[key] {
				seen[key] = true
				listed = append(listed, f)
			}
		}
	}
	if len(because) > 0 {
		fmt.Fprintf(w, "  %d %s failed for that reason\n", len(because), plural(len(because), "case"))
	}
	for _, step := range steps {
		n := len(blocked[step])
		fmt.Fprintf(w, "  %d %s not run: setup step %q failed\n", n, plural(n, "case"), step)
	}
	for _, f := range listed {
		where := fmt.Sprintf("round %d", f.Round)
		if f.Round == 0 {
			where = "setup"
		}
		fmt.Fprintf(w, "  FAIL  %s (%s, #%d): %s\n", f.Case, where, f.Seq, f.Reason)
	}
}

func plural(n int, word string) string {
	if n == 1 {
		return word
	}
	return word + "s"
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
			if res.BlockedBy != "" {
				rw.blocked++
			}
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
		sort.Strings(rw.codes) // concurrent copies answer in any order
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

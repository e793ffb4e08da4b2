// Package fuzzrun finds every fuzz target of the module and runs each in turn for
// a fixed time (scripts/fuzz). Go's fuzzer runs one target per invocation, so a
// list kept by hand drifts as targets are added; this one is read from the code.
package fuzzrun

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os/exec"
	"regexp"
	"strings"
	"time"
)

// Target is one fuzz test.
type Target struct {
	Package string // import path
	Name    string // FuzzXxx
}

func (t Target) String() string { return t.Package + "." + t.Name }

// Options configure a run.
type Options struct {
	// Dir is the module root; default ".".
	Dir string
	// Packages are go package patterns; default ./...
	Packages []string
	// Match selects targets by name (a regular expression); nil selects all.
	Match *regexp.Regexp
	// FuzzTime is each target's -fuzztime; default 1m.
	FuzzTime time.Duration
	// GoCmd is the go command; default "go".
	GoCmd string
	// Out receives the go command's output.
	Out io.Writer
}

func (o Options) withDefaults() Options {
	if o.Dir == "" {
		o.Dir = "."
	}
	if len(o.Packages) == 0 {
		o.Packages = []string{"./..."}
	}
	if o.FuzzTime <= 0 {
		o.FuzzTime = time.Minute
	}
	if o.GoCmd == "" {
		o.GoCmd = "go"
	}
	if o.Out == nil {
		o.Out = io.Discard
	}
	return o
}

// List returns the fuzz targets of the packages, selected by Match.
func List(ctx context.Context, o Options) ([]Target, error) {
	o = o.withDefaults()
	cmd := exec.CommandContext(ctx, o.GoCmd, append([]string{"test", "-list", "^Fuzz"}, o.Packages...)...)
	cmd.Dir = o.Dir
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("fuzzrun: go test -list: %w\n%s", err, stderr.String())
	}
	var targets []Target
	for _, t := range ParseList(string(out)) {
		if o.Match == nil || o.Match.MatchString(t.Name) {
			targets = append(targets, t)
		}
	}
	return targets, nil
}

// ParseList reads the output of go test -list over several packages: each
// package's names, then its "ok <package> <time>" line.
func ParseList(out string) []Target {
	var targets []Target
	var pending []string
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		switch {
		case len(f) >= 2 && (f[0] == "ok" || f[0] == "?"):
			for _, n := range pending {
				targets = append(targets, Target{Package: f[1], Name: n})
			}
			pending = nil
		case len(f) == 1 && strings.HasPrefix(f[0], "Fuzz"):
			pending = append(pending, f[0])
		}
	}
	return targets
}

// Result is the outcome of one target.
type Result struct {
	Target
	Err     error
	Elapsed time.Duration
}

// Run fuzzes each target for FuzzTime, one after another, and reports each
// outcome. A failing target leaves its crasher under the package's
// testdata/fuzz/<Name>, where go test replays it from then on.
func Run(ctx context.Context, o Options, targets []Target) []Result {
	o = o.withDefaults()
	var results []Result
	for _, t := range targets {
		if ctx.Err() != nil {
			break
		}
		fmt.Fprintf(o.Out, "== %s for %s\n", t, o.FuzzTime)
		cmd := exec.CommandContext(ctx, o.GoCmd, "test", "-run", "^$", "-fuzz", "^"+t.Name+"$",
			"-fuzztime", o.FuzzTime.String(), t.Package)
		cmd.Dir = o.Dir
		cmd.Stdout, cmd.Stderr = o.Out, o.Out
		start := time.Now()
		err := cmd.Run()
		results = append(results, Result{Target: t, Err: err, Elapsed: time.Since(start)})
	}
	return results
}

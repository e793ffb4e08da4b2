// Command fuzz runs every fuzz target of the module (or those matching -run) for
// -fuzztime each, one after another, and exits non-zero if any fails. A failing
// input is kept under the package's testdata/fuzz/<Target>, where go test replays
// it as a regression test from then on.
//
//	go run ./scripts/fuzz                      # every target, 1 minute each
//	go run ./scripts/fuzz -fuzztime 10m -run 'Verify|Decode'
//	go run ./scripts/fuzz -list
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"regexp"
	"syscall"
	"time"

	"github.com/kgseller/kgseller/shared/tools/fuzzrun"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("fuzz", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fuzzTime := fs.Duration("fuzztime", time.Minute, "how long to fuzz each target")
	match := fs.String("run", "", "only targets whose name matches this regular expression")
	list := fs.Bool("list", false, "list the targets and exit")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	o := fuzzrun.Options{Packages: fs.Args(), FuzzTime: *fuzzTime, Out: stdout}
	if *match != "" {
		re, err := regexp.Compile(*match)
		if err != nil {
			fmt.Fprintln(stderr, "fuzz: -run:", err)
			return 2
		}
		o.Match = re
	}
	targets, err := fuzzrun.List(ctx, o)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	if len(targets) == 0 {
		fmt.Fprintln(stderr, "fuzz: no fuzz targets match")
		return 1
	}
	if *list {
		for _, t := range targets {
			fmt.Fprintln(stdout, t)
		}
		return 0
	}
	failed := 0
	results := fuzzrun.Run(ctx, o, targets)
	fmt.Fprintln(stdout)
	for _, r := range results {
		status := "ok"
		if r.Err != nil {
			status, failed = "FAIL", failed+1
		}
		fmt.Fprintf(stdout, "%-4s %s (%s)\n", status, r.Target, r.Elapsed.Round(time.Second))
	}
	if failed > 0 || len(results) < len(targets) {
		fmt.Fprintf(stderr, "fuzz: %d of %d targets failed or did not run\n", failed+len(targets)-len(results), len(targets))
		return 1
	}
	return 0
}

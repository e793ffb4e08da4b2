// Command bench builds every function as it is deployed and measures, in one run,
// against the project's goals: each binary's cold start under the local
// FunctionGraph emulator compared with a hello-world custom runtime, binary and zip
// sizes, the billed duration of a signed queryInstance at 128 MB, the local
// throughput of signed queryInstance compared with the hello-world function, and
// the database round trips and time against the floor of every activity. It
// prints a table; -o writes the results page (docs/performance.md explains the
// figures), which the committed docs/bench-results.md is only when asked for.
//
//	go run ./scripts/bench                     # embedded database, the table only
//	DB_DSN='user:pw@tcp(127.0.0.1:3306)/kgbench' go run ./scripts/bench
//	go run ./scripts/bench -reps 3 -load 2s    # quicker
//	go run ./scripts/bench -o docs/bench-results.md   # regenerate the committed page
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/kgseller/kgseller/shared/tools/bench"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	out := fs.String("o", "", `write the results page (Markdown) to this file, "-" for stdout (default: none, the table only); the committed page is docs/bench-results.md`)
	reps := fs.Int("reps", 15, "cold starts per binary")
	warm := fs.Int("warm", 200, "warm queryInstance calls for the billed duration")
	load := fs.Duration("load", 5*time.Second, "length of each throughput run")
	conc := fs.Int("concurrency", 8, "concurrent clients and instances in the throughput runs")
	calls := fs.Int("calls", 50, "calls of each activity for its round trips and ratio to the floor (negative: none)")
	only := fs.String("only", "", "comma-separated functions to measure (default: every function)")
	progress := fs.Bool("progress", false, "draw the progress bar even when stderr is not a terminal")
	verbose := fs.Bool("v", false, "show go build's output")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	o := bench.Options{DSN: os.Getenv("DB_DSN"), Reps: *reps, Warm: *warm, Load: *load, Concurrency: *conc, Calls: *calls}
	if *only != "" {
		o.Only = strings.Split(*only, ",")
	}
	if *progress || isTerminal(stderr) {
		o.Progress = stderr
	}
	if *verbose {
		o.Log = stderr
	}
	res, err := bench.Run(ctx, o)
	if err != nil {
		fmt.Fprintln(stderr, "bench:", err)
		return 1
	}
	if err := res.WriteTable(stdout); err != nil {
		fmt.Fprintln(stderr, "bench:", err)
		return 1
	}
	if *out == "-" {
		fmt.Fprintln(stdout)
		if err := res.WriteMarkdown(stdout); err != nil {
			fmt.Fprintln(stderr, "bench:", err)
			return 1
		}
	} else if *out != "" {
		f, err := os.Create(*out)
		if err == nil {
			err = res.WriteMarkdown(f)
			if cerr := f.Close(); err == nil {
				err = cerr
			}
		}
		if err != nil {
			fmt.Fprintln(stderr, "bench:", err)
			return 1
		}
		fmt.Fprintln(stdout, "\nwrote", *out)
	}
	if ps := res.Problems(); len(ps) > 0 {
		fmt.Fprintln(stderr, "bench: some measurements are invalid:")
		for _, p := range ps {
			fmt.Fprintln(stderr, "  -", p)
		}
		return 1
	}
	return 0
}

// isTerminal reports whether w is a character device (a terminal).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// Command build compiles every function named in serverless.yml for FunctionGraph
// (linux/amd64, static, stripped, go1.27.3 unless GOTOOLCHAIN is set) and writes
// build/<name>.zip (one executable named bootstrap, reproducible bytes) and
// build/<name>/bootstrap (the folder the plugin's code.codeUri points at).
//
//	go run ./scripts/build                  # all functions
//	go run ./scripts/build -only saas-produce,fulfil-worker
//	go run ./scripts/build -verify          # build twice and require identical zips
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
	"text/tabwriter"

	"github.com/kgseller/kgseller/shared/tools/buildzip"
	"github.com/kgseller/kgseller/shared/tools/manifest"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("build", flag.ContinueOnError)
	fs.SetOutput(stderr)
	manifestPath := fs.String("manifest", "serverless.yml", "serverless.yml to read the functions from")
	out := fs.String("out", "build", "output folder")
	only := fs.String("only", "", "comma-separated function names (default: every function)")
	verify := fs.Bool("verify", false, "build a second time into a temporary folder and fail unless every zip is byte-identical")
	freshCache := fs.Bool("fresh-cache", false, "with -verify: the second build uses an empty GOCACHE, so compilation is repeated too")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	// Only the names are needed: no ${env:…} value is resolved (or can leak).
	m, err := manifest.Load(*manifestPath, nil)
	if err != nil {
		fmt.Fprintln(stderr, "build:", err)
		return 1
	}
	names, err := selectNames(m, *only)
	if err != nil {
		fmt.Fprintln(stderr, "build:", err)
		return 2
	}
	arts, err := buildzip.Build(ctx, buildzip.Options{OutDir: *out, Names: names, Log: stderr})
	if err != nil {
		fmt.Fprintln(stderr, "build:", err)
		return 1
	}
	printTable(stdout, arts)
	if !*verify {
		return 0
	}

	tmp, err := os.MkdirTemp("", "kgseller-build-verify-")
	if err != nil {
		fmt.Fprintln(stderr, "build:", err)
		return 1
	}
	defer os.RemoveAll(tmp)
	env := os.Environ()
	if *freshCache {
		env = append(env, "GOCACHE="+tmp+"/gocache")
	}
	again, err := buildzip.Build(ctx, buildzip.Options{OutDir: tmp + "/out", Names: names, Log: stderr, Env: env})
	if err != nil {
		fmt.Fprintln(stderr, "build: second build:", err)
		return 1
	}
	differ, err := buildzip.Compare(arts, again)
	if err != nil {
		fmt.Fprintln(stderr, "build:", err)
		return 1
	}
	if len(differ) > 0 {
		fmt.Fprintf(stderr, "build: NOT reproducible: %s\n", strings.Join(differ, ", "))
		return 1
	}
	fmt.Fprintf(stdout, "reproducible: %d zip(s) byte-identical across two builds\n", len(arts))
	return 0
}

func selectNames(m *manifest.Manifest, only string) ([]string, error) {
	if only == "" {
		return m.Names(), nil
	}
	var names []string
	for _, n := range strings.Split(only, ",") {
		n = strings.TrimSpace(n)
		if n == "" {
			continue
		}
		if _, ok := m.Functions[n]; !ok {
			return nil, fmt.Errorf("-only: %q is not a function in serverless.yml", n)
		}
		names = append(names, n)
	}
	if len(names) == 0 {
		return nil, fmt.Errorf("-only names no function")
	}
	return names, nil
}

func printTable(w io.Writer, arts []buildzip.Artifact) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "function\tbinary\tzip\tsha256 (zip)\tgo\t")
	var bin, zip int64
	for _, a := range arts {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t\n", a.Name, size(a.BinarySize), size(a.ZipSize), a.SHA256[:16], a.GoVersion)
		bin += a.BinarySize
		zip += a.ZipSize
	}
	fmt.Fprintf(tw, "total\t%s\t%s\t\t\t\n", size(bin), size(zip))
	tw.Flush()
}

func size(n int64) string {
	return fmt.Sprintf("%.2f MiB", float64(n)/(1<<20))
}

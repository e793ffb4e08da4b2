// Command local runs every function of serverless.yml on this machine: the real
// function binaries under a FunctionGraph custom-runtime emulator behind a local API
// Gateway, on an embedded database unless DB_DSN names a MySQL or MariaDB server.
//
//	go run ./scripts/local [-addr 127.0.0.1:8080] [-max-instances N] [-json-logs] [-v]
//
// Once it listens it prints what to open and what to run next, and records itself
// in a state file (shared/tools/localstate) so that scripts/sign, scripts/kgsim
// and scripts/ops find it with no flag. KG_ACCESS_KEY sets the access key of every
// interface type (unset: local-dev-access-key; set but empty is refused);
// KG_ACCESS_KEY_BASIC and the other per-type variables override it. Ctrl-C or
// SIGTERM stops the functions and the database and removes the state file.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"

	"github.com/kgseller/kgseller/shared/tools/fglocal"
	"github.com/kgseller/kgseller/shared/tools/localrun"
	"github.com/kgseller/kgseller/shared/tools/localstate"
)

type options struct {
	addr      string
	instances int
	jsonLogs  bool
	verbose   bool
}

func main() {
	o, code := parseFlags(os.Args[1:], os.Stderr)
	if code >= 0 {
		os.Exit(code)
	}
	if err := run(o, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "local:", err)
		os.Exit(1)
	}
}

// parseFlags reads the command line on a flag set of its own, so the flags that
// libraries register on the global one (the embedded database's) neither show
// in -h nor are accepted. code is the exit status when the command must stop
// (0 after -h), else -1.
func parseFlags(args []string, stderr io.Writer) (options, int) {
	var o options
	fs := flag.NewFlagSet("local", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&o.addr, "addr", "127.0.0.1:8080", "host:port to listen on")
	fs.IntVar(&o.instances, "max-instances", 0, "maximum concurrent instances of every function (default: each function's maxInstances in serverless.yml)")
	fs.BoolVar(&o.jsonLogs, "json-logs", false, "print the functions' log lines as the JSON they write (default: as text)")
	fs.BoolVar(&o.verbose, "v", false, "log emulator events (cold starts, discarded instances)")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: go run ./scripts/local [flags]\n\nRuns every function of serverless.yml locally; see README.md, \"Run it locally\".\n\nflags:")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return o, 0
		}
		return o, 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "local: unexpected arguments %q\n", fs.Args())
		return o, 2
	}
	return o, -1
}

func run(o options, stdout, stderr io.Writer) error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	level := slog.LevelInfo
	if o.verbose {
		level = slog.LevelDebug
	}
	logger := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))
	functionOutput := stderr
	if !o.jsonLogs {
		functionOutput = fglocal.TextLogs(stderr)
	}
	if err := localrun.CheckEnv(os.Environ()); err != nil {
		return err
	}
	statePath, err := localstate.Path(os.Getenv)
	if err != nil {
		return err
	}

	// Listen first, so a busy port fails before anything is built.
	ln, err := net.Listen("tcp", o.addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", o.addr, err)
	}
	defer ln.Close()
	url := "http://" + ln.Addr().String()

	fmt.Fprintln(stderr, "local: preparing the database and building the functions of serverless.yml")
	fmt.Fprintln(stderr, "       (the first build takes minutes; unchanged functions come from the build cache)")
	var mu sync.Mutex
	stack, err := localrun.Start(ctx, localrun.Options{
		Addr:         ln.Addr().String(),
		DSN:          os.Getenv("DB_DSN"),
		AccessKey:    os.Getenv("KG_ACCESS_KEY"),
		MaxInstances: o.instances,
		Logger:       logger,
		BuildProgress: func(name string, took time.Duration) {
			mu.Lock()
			defer mu.Unlock()
			fmt.Fprintln(stderr, progressLine(name, took))
		},
		FunctionOutput: functionOutput,
	})
	if err != nil {
		return err
	}
	defer stack.Close()

	srv := localrun.NewServer(stack.Handler())
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()

	remove, err := localstate.Write(statePath, stack.State(url))
	if err != nil {
		fmt.Fprintf(stderr, "local: %v (sign, kgsim and ops will need flags)\n", err)
		statePath = ""
	} else {
		defer remove()
	}
	b := stack.Banner(url)
	b.AccessKeyDefault = os.Getenv("KG_ACCESS_KEY") == ""
	b.StateFile = statePath
	fmt.Fprintln(stdout)
	localrun.WriteBanner(stdout, b)

	select {
	case err := <-errc:
		if !errors.Is(err, http.ErrServerClosed) {
			return err
		}
	case <-ctx.Done():
	}
	fmt.Fprintln(stderr, "local: stopping…")
	shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = srv.Shutdown(shutdown)
	return nil
}

// progressLine reports one function binary: built, with the time it took, or
// taken from the build cache.
func progressLine(name string, took time.Duration) string {
	if took == 0 {
		return fmt.Sprintf("  cached %s", name)
	}
	return fmt.Sprintf("  built  %-22s %5.1fs", name, took.Seconds())
}

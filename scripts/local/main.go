// Command local runs every function of serverless.yml on this machine: the real
// function binaries under a FunctionGraph custom-runtime emulator behind a local API
// Gateway, on an embedded database unless DB_DSN names a MySQL or MariaDB server.
//
//	go run ./scripts/local [-addr 127.0.0.1:8080]
//
// KG_ACCESS_KEY sets the access key of every interface type (default
// local-dev-access-key); KG_ACCESS_KEY_BASIC and the other per-type variables
// override it. Ctrl-C or SIGTERM stops the functions and the database.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/kgseller/kgseller/shared/tools/localrun"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:8080", "host:port to listen on")
	instances := flag.Int("max-instances", 0, "maximum concurrent instances of every function (default: each function's maxInstances in serverless.yml)")
	verbose := flag.Bool("v", false, "log emulator events (cold starts, discarded instances)")
	flag.Parse()
	if err := run(*addr, *instances, *verbose); err != nil {
		fmt.Fprintln(os.Stderr, "local:", err)
		os.Exit(1)
	}
}

func run(addr string, instances int, verbose bool) error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	level := slog.LevelInfo
	if verbose {
		level = slog.LevelDebug
	}
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))

	// Listen first, so a busy port fails before anything is built.
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", addr, err)
	}
	defer ln.Close()

	fmt.Fprintln(os.Stderr, "local: building functions and preparing the database…")
	stack, err := localrun.Start(ctx, localrun.Options{
		Addr:         ln.Addr().String(),
		DSN:          os.Getenv("DB_DSN"),
		AccessKey:    os.Getenv("KG_ACCESS_KEY"),
		MaxInstances: instances,
		Logger:       logger,
	})
	if err != nil {
		return err
	}
	defer stack.Close()

	fmt.Printf("KooGallery seller interface (local run)\n")
	fmt.Printf("  listening   http://%s\n", ln.Addr())
	for _, r := range stack.Emulator.Routes() {
		fmt.Printf("  route       %-6s %-46s -> %s\n", r.Method, r.Path, r.Function)
	}
	localrun.WriteSellerConsole(os.Stdout, stack.Manifest, "http://"+ln.Addr().String())
	keyNote := ""
	if os.Getenv("KG_ACCESS_KEY") == "" {
		keyNote = " (default; set KG_ACCESS_KEY to change)"
	}
	fmt.Printf("  access key  %s%s\n", stack.AccessKey, keyNote)
	fmt.Printf("  database    %s\n", stack.DatabaseLabel())
	if stack.Market != nil {
		fmt.Printf("  open API    %s (fake KooGallery open API: Query Order, mock orders)\n", stack.MarketURL)
	}
	for _, l := range stack.AlertsLabel() {
		fmt.Printf("  alerts      %s\n", l)
	}
	fmt.Printf("              interface-monitor runs every 5 minutes; its alerts and recoveries print here\n")
	fmt.Printf("Press Ctrl-C to stop.\n")

	srv := localrun.NewServer(stack.Handler())
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		if !errors.Is(err, http.ErrServerClosed) {
			return err
		}
	case <-ctx.Done():
	}
	fmt.Fprintln(os.Stderr, "local: stopping…")
	shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = srv.Shutdown(shutdown)
	return nil
}

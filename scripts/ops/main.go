// Command ops is the operator's tool over the production interface's database
// (DB_DSN or -dsn, else the running local run's, found through its state file):
// list instances, applied orders and jobs, show one order's
// history, requeue dead jobs and purge expired nonces. It only reads unless a write
// is asked for with -yes.
//
//	DB_DSN='user:pass@tcp(host:3306)/kgseller' go run ./scripts/ops summary
//	go run ./scripts/ops summary        # the database of go run ./scripts/local
//	go run ./scripts/ops jobs -state DEAD
//	go run ./scripts/ops history -order CS2211181819B4LVS
//	go run ./scripts/ops retry -yes 42
//
// The commands live in shared/tools/ops, so tests drive the same code in-process.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/kgseller/kgseller/shared/tools/ops"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := ops.Main(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

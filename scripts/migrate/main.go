// Command migrate applies the embedded database migrations to the database named by
// DB_DSN (or -dsn). Run it once per deployment, before the functions take traffic;
// the local run applies them itself.
//
//	DB_DSN='kgseller:…@tcp(rds-host:3306)/kgseller' go run ./scripts/migrate
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/kgseller/kgseller/shared/store"
	"github.com/kgseller/kgseller/shared/tools/migrate"
)

func main() {
	dsn := flag.String("dsn", "", "MySQL DSN (default $DB_DSN)")
	flag.Parse()
	if *dsn == "" {
		*dsn = os.Getenv("DB_DSN")
	}
	if *dsn == "" {
		fmt.Fprintln(os.Stderr, "migrate: set DB_DSN or pass -dsn")
		os.Exit(2)
	}
	st, err := store.Open(*dsn, store.Options{})
	if err != nil {
		fmt.Fprintln(os.Stderr, "migrate:", err)
		os.Exit(1)
	}
	defer st.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	n, err := migrate.Up(ctx, st.DB().DB)
	if err != nil {
		fmt.Fprintln(os.Stderr, "migrate:", err)
		os.Exit(1)
	}
	fmt.Printf("migrate: %d migration(s) applied; the schema is current\n", n)
}

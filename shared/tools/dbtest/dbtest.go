// Package dbtest gives each test a fresh, migrated database: on the MySQL or MariaDB
// server named by TEST_MYSQL_DSN when it is set (CI sets it, and a server that cannot
// be reached fails the test rather than skipping it), and on the embedded engine
// otherwise (shared/tools/dbproc runs it as a child process).
package dbtest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"

	"github.com/kgseller/kgseller/shared/store"
	"github.com/kgseller/kgseller/shared/tools/dbproc"
	"github.com/kgseller/kgseller/shared/tools/migrate"
)

// EnvDSN names the variable that selects a real server.
const EnvDSN = "TEST_MYSQL_DSN"

var (
	embeddedOnce sync.Once
	embedded     *dbproc.Server
	embeddedErr  error
)

// Engine names the engine tests run on, for log lines.
func Engine() string {
	if !Embedded() {
		return "mysql (" + EnvDSN + ")"
	}
	return "embedded"
}

// Embedded reports whether the tests run on the embedded engine (no EnvDSN).
func Embedded() bool { return os.Getenv(EnvDSN) == "" }

// serverDSN returns a DSN for the test server without a database selected.
func serverDSN(t testing.TB) *mysql.Config {
	t.Helper()
	if dsn := os.Getenv(EnvDSN); dsn != "" {
		cfg, err := mysql.ParseDSN(dsn)
		if err != nil {
			t.Fatalf("%s is not a valid DSN", EnvDSN)
		}
		return cfg
	}
	// One engine per test binary, a child process that ends with it.
	embeddedOnce.Do(func() {
		root, err := dbproc.ModuleRoot()
		if err != nil {
			embeddedErr = err
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
		defer cancel()
		embedded, embeddedErr = dbproc.Start(ctx, root)
	})
	if embeddedErr != nil {
		t.Fatalf("starting embedded database: %v", embeddedErr)
	}
	cfg, _ := mysql.ParseDSN(embedded.DSN(""))
	return cfg
}

// NewDatabase creates an empty, migrated database and returns its DSN. The database
// is dropped when the test ends.
func NewDatabase(t testing.TB) string {
	t.Helper()
	cfg := serverDSN(t)
	name := "kgt_" + randomHex(6)
	admin := *cfg
	admin.DBName = ""
	db, err := sql.Open("mysql", admin.FormatDSN())
	if err != nil {
		t.Fatalf("opening test server: %v", err)
	}
	defer db.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if _, err := db.ExecContext(ctx, "CREATE DATABASE "+name+" CHARACTER SET utf8mb4 COLLATE utf8mb4_bin"); err != nil {
		t.Fatalf("creating test database on %s: %v", Engine(), err)
	}
	t.Cleanup(func() {
		db, err := sql.Open("mysql", admin.FormatDSN())
		if err != nil {
			return
		}
		defer db.Close()
		_, _ = db.Exec("DROP DATABASE IF EXISTS " + name)
	})
	withDB := *cfg
	withDB.DBName = name
	dsn := withDB.FormatDSN()
	s, err := store.Open(dsn, store.Options{})
	if err != nil {
		t.Fatalf("opening test database: %v", err)
	}
	defer s.Close()
	if _, err := migrate.Up(ctx, s.DB().DB); err != nil {
		t.Fatalf("migrating test database: %v", err)
	}
	return dsn
}

// Open returns a store on a fresh database, closed when the test ends.
func Open(t testing.TB) (*store.Store, string) {
	t.Helper()
	return OpenWith(t, store.Options{MaxOpen: 64, MaxIdle: 64})
}

// OpenCounted returns a store whose round trips c counts, on one connection as a
// function instance uses it.
func OpenCounted(t testing.TB, c *Counter) *store.Store {
	t.Helper()
	s, _ := OpenWith(t, store.Options{MaxOpen: 1, MaxIdle: 1, Wrap: c.Wrap})
	return s
}

// OpenWith is Open with pool options.
func OpenWith(t testing.TB, o store.Options) (*store.Store, string) {
	t.Helper()
	dsn := NewDatabase(t)
	s, err := store.Open(dsn, o)
	if err != nil {
		t.Fatalf("opening store: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s, dsn
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

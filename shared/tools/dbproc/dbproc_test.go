package dbproc

import (
	"context"
	"database/sql"
	"testing"
	"time"

	_ "github.com/go-sql-driver/mysql"
)

// TestEngineServesUntilClosed: the child engine answers SQL on the address it
// reports, and Close ends it.
func TestEngineServesUntilClosed(t *testing.T) {
	srv := startEngine(t)
	db, err := sql.Open("mysql", srv.DSN(""))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec("CREATE DATABASE dbproc_t"); err != nil {
		t.Fatalf("create database: %v", err)
	}
	var one int
	if err := db.QueryRow("SELECT 1").Scan(&one); err != nil || one != 1 {
		t.Fatalf("SELECT 1: %d %v", one, err)
	}
	if err := srv.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if ps := srv.cmd.ProcessState; ps == nil || !ps.Exited() {
		t.Fatalf("the engine did not exit by itself when Close closed its input: %v", ps)
	}
	db2, _ := sql.Open("mysql", srv.DSN("")+"?timeout=2s")
	defer db2.Close()
	if err := db2.Ping(); err == nil {
		t.Fatal("the engine still answers after Close")
	}
}

// TestRunReportsAFailedStart: a binary that exits without listening is an error
// that says so, not a hang.
func TestRunReportsAFailedStart(t *testing.T) {
	if _, err := Run("/bin/false"); err == nil {
		t.Fatal("Run of a binary that exits at once succeeded")
	}
}

// startEngine builds (or takes from the build cache) and starts the engine.
func startEngine(t *testing.T) *Server {
	t.Helper()
	root, err := ModuleRoot()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	srv, err := Start(ctx, root)
	if err != nil {
		t.Fatal(err)
	}
	return srv
}

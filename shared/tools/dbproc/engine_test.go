package dbproc

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	_ "github.com/go-sql-driver/mysql"

	"github.com/kgseller/kgseller/shared/marketplace"
	"github.com/kgseller/kgseller/shared/store"
	"github.com/kgseller/kgseller/shared/tools/migrate"
)

// TestUniqueKeyUnderConcurrentTransactions runs on the embedded engine whatever
// TEST_MYSQL_DSN says, so CI checks the local run's guarantee too: 50 concurrent
// transactions creating one order's instance leave one instance, and every caller
// sees that one.
func TestUniqueKeyUnderConcurrentTransactions(t *testing.T) {
	srv := start(t)
	st, err := store.Open(srv.DSN("kg"), store.Options{MaxOpen: 50, MaxIdle: 50})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	ctx := context.Background()
	if _, err := migrate.Up(ctx, st.DB().DB); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	ids := make([]string, 50)
	for i := range ids {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			res, err := st.CreateInstance(ctx, marketplace.Instance{
				InstanceID: fmt.Sprintf("b-%02d", i), OrderID: "CS-EMB", OrderLineID: "CS-EMB-1", BusinessID: fmt.Sprintf("b-%02d", i),
			})
			if err != nil {
				t.Error(err)
				return
			}
			ids[i] = res.Instance.InstanceID
		}(i)
	}
	wg.Wait()
	for _, id := range ids {
		if id != ids[0] {
			t.Fatalf("callers saw different instances: %v", ids)
		}
	}
	var n int
	if err := st.DB().Get(&n, "SELECT COUNT(*) FROM instances"); err != nil || n != 1 {
		t.Fatalf("%d instances (%v), want 1", n, err)
	}
}

// TestFailedStatementLeavesNoStaleSnapshot: after a statement fails outside an
// explicit transaction (a duplicate key), the connection still sees what others
// commit, as in MySQL: a nonce another connection stores later is a duplicate
// for it too. (The engine kept the failed statement's transaction open, so the
// connection read an old snapshot and accepted the duplicate.)
func TestFailedStatementLeavesNoStaleSnapshot(t *testing.T) {
	srv := start(t)
	open := func() *store.Store {
		st, err := store.Open(srv.DSN("kg"), store.Options{MaxOpen: 1, MaxIdle: 1})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		return st
	}
	a, b := open(), open()
	ctx := context.Background()
	if _, err := migrate.Up(ctx, a.DB().DB); err != nil {
		t.Fatal(err)
	}
	exp := time.Now().Add(time.Minute)
	if err := a.RememberNonce(ctx, "s", "n1", exp, 0); err != nil {
		t.Fatal(err)
	}
	if err := b.RememberNonce(ctx, "s", "n1", exp, 0); !errors.Is(err, marketplace.ErrReplay) {
		t.Fatalf("b, n1: %v, want a replay", err)
	}
	if err := a.RememberNonce(ctx, "s", "n2", exp, 0); err != nil {
		t.Fatal(err)
	}
	if err := b.RememberNonce(ctx, "s", "n2", exp, 0); !errors.Is(err, marketplace.ErrReplay) {
		t.Fatalf("b, n2 after its failed statement: %v, want a replay", err)
	}
}

// start runs an embedded server with an empty database kg until the test ends.
func start(t *testing.T) *Server {
	t.Helper()
	srv := startEngine(t)
	t.Cleanup(func() { srv.Close() })
	admin, err := sql.Open("mysql", srv.DSN(""))
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	if _, err := admin.Exec("CREATE DATABASE kg"); err != nil {
		t.Fatal(err)
	}
	return srv
}

package embeddeddb_test

import (
	"context"
	"database/sql"
	"fmt"
	"sync"
	"testing"

	_ "github.com/go-sql-driver/mysql"

	"github.com/kgseller/kgseller/shared/embeddeddb"
	"github.com/kgseller/kgseller/shared/marketplace"
	"github.com/kgseller/kgseller/shared/store"
)

// TestUniqueKeyUnderConcurrentTransactions runs on the embedded engine whatever
// TEST_MYSQL_DSN says, so CI checks the local run's guarantee too: 50 concurrent
// transactions creating one order's instance leave one instance, and every caller
// sees that one.
func TestUniqueKeyUnderConcurrentTransactions(t *testing.T) {
	srv, err := embeddeddb.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	admin, err := sql.Open("mysql", srv.DSN(""))
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	if _, err := admin.Exec("CREATE DATABASE kg"); err != nil {
		t.Fatal(err)
	}
	st, err := store.Open(srv.DSN("kg"), store.Options{MaxOpen: 50, MaxIdle: 50})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	ctx := context.Background()
	if _, err := st.Migrate(ctx); err != nil {
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

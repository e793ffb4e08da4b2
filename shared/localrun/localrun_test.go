package localrun_test

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"net"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/kgseller/kgseller/shared/dbtest"
	"github.com/kgseller/kgseller/shared/kgclient"
	"github.com/kgseller/kgseller/shared/kgsign"
	"github.com/kgseller/kgseller/shared/localrun"
)

// startStack runs the real function binaries under the emulator on a fresh
// database of the test engine.
func startStack(t *testing.T) (*localrun.Stack, string, *sql.DB) {
	return startStackOn(t, dbtest.NewDatabase(t))
}

// startStackOn starts the stack on dsn; an empty dsn starts the embedded engine,
// as the README's first command does.
func startStackOn(t *testing.T, dsn string) (*localrun.Stack, string, *sql.DB) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	stack, err := localrun.Start(ctx, localrun.Options{
		Addr: ln.Addr().String(), ModuleDir: "../..", BinDir: t.TempDir(), DSN: dsn,
		AccessKey: "it-key", FunctionOutput: io.Discard, BuildOutput: io.Discard,
	})
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: stack.Handler()}
	go func() { _ = srv.Serve(ln) }()
	db, err := sql.Open("mysql", stack.DSN)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close(); stack.Close(); db.Close() })
	return stack, "http://" + ln.Addr().String(), db
}

func count(t *testing.T, db *sql.DB, table string) int {
	t.Helper()
	var n int
	if err := db.QueryRow("SELECT COUNT(*) FROM " + table).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// TestLocalRunWalkthrough sends a signed walkthrough of all seven activities to the
// real saas-produce binary, then 50 concurrent duplicates of one order.
func TestLocalRunWalkthrough(t *testing.T) {
	stack, base, db := startStack(t)
	c := &kgclient.Client{URL: base + "/saas/produce", Key: kgsign.NewKey([]byte("it-key"), "t")}
	ctx := context.Background()
	call := func(body, want string) kgclient.Answer {
		t.Helper()
		a, err := c.Post(ctx, []byte(body))
		if err != nil {
			t.Fatal(err)
		}
		if err := a.ShapeError(); err != nil {
			t.Fatalf("%s: %v (%s)", body, err, a.Body)
		}
		if a.Code() != want {
			t.Fatalf("%s => %s, want %s", body, a.Body, want)
		}
		return a
	}
	a := call(`{"activity":"newInstance","businessId":"b-walk","orderId":"MOCKPERIODYEARNEW","orderLineId":"MOCKPERIODYEARNEW-000001","testFlag":"1"}`, "000000")
	id := a.String("instanceId")
	q := call(fmt.Sprintf(`{"activity":"queryInstance","instanceId":%q}`, id), "000000")
	info := q.Fields["info"].([]any)[0].(map[string]any)["appInfo"].(map[string]any)
	if info["frontEndUrl"] != base+"/app/"+id {
		t.Fatalf("frontEndUrl %v, want the local app page", info["frontEndUrl"])
	}
	call(fmt.Sprintf(`{"activity":"refreshInstance","expireTime":"20301124023618","instanceId":%q,"orderId":"MOCKMONTYRENEW","orderLineId":"MOCKMONTYRENEW-000001","scene":"RENEWAL","testFlag":"1"}`, id), "000000")
	call(fmt.Sprintf(`{"activity":"updateInstanceStatus","instanceId":%q,"status":"FREEZE","testFlag":"1"}`, id), "000000")
	call(fmt.Sprintf(`{"activity":"updateInstanceStatus","instanceId":%q,"status":"UNFREEZE","testFlag":"1"}`, id), "000000")
	call(fmt.Sprintf(`{"activity":"upgradeInstance","instanceId":%q,"orderId":"MOCKMONTYCHANGE","orderLineId":"MOCKMONTYCHANGE-000001","testFlag":"1"}`, id), "000000")
	call(fmt.Sprintf(`{"activity":"changeInstanceCheck","instanceId":%q,"productInfo":{"productId":"p","skuCode":"s","productName":"n","linearValue":2},"testFlag":"1"}`, id), "000000")
	call(fmt.Sprintf(`{"activity":"releaseInstance","instanceId":%q,"testFlag":"1"}`, id), "000000")
	call(fmt.Sprintf(`{"activity":"releaseInstance","instanceId":%q,"testFlag":"1"}`, id), "000000")
	call(`{"activity":"newInstance","businessId":"b-again","orderId":"MOCKPERIODYEARNEW","orderLineId":"MOCKPERIODYEARNEW-000001","testFlag":"1"}`, "000000")

	// The app page the static provisioner points at is served.
	resp, err := http.Get(base + "/app/" + id)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("app page: %v %v", resp, err)
	}
	resp.Body.Close()

	concurrentDuplicates(t, c)
	if n := count(t, db, "instances"); n != 2 {
		t.Fatalf("%d instances, want 2", n)
	}
	if starts := stack.Emulator.Stats()["saas-produce"]; starts < 1 || starts > 8 {
		t.Fatalf("%d cold starts", starts)
	}
}

// TestLocalRunEmbeddedDefault starts the stack exactly as the README's first
// command does (no DB_DSN: the embedded engine) and checks that concurrent
// duplicates still make one instance.
func TestLocalRunEmbeddedDefault(t *testing.T) {
	stack, base, db := startStackOn(t, "")
	if !stack.Embedded {
		t.Fatal("stack did not start the embedded engine")
	}
	concurrentDuplicates(t, &kgclient.Client{URL: base + "/saas/produce", Key: kgsign.NewKey([]byte("it-key"), "t")})
	if n := count(t, db, "instances"); n != 1 {
		t.Fatalf("%d instances, want 1", n)
	}
}

// concurrentDuplicates sends 50 concurrent newInstance calls for one order line and
// checks they all name the same instance.
func concurrentDuplicates(t *testing.T, c *kgclient.Client) {
	t.Helper()
	ctx := context.Background()
	var wg sync.WaitGroup
	ids := make([]string, 50)
	for i := range ids {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			a, err := c.Post(ctx, []byte(fmt.Sprintf(`{"activity":"newInstance","businessId":"dup-%02d","orderId":"CS-DUP","orderLineId":"CS-DUP-000001"}`, i)))
			if err != nil {
				t.Error(err)
				return
			}
			if err := a.ShapeError(); err != nil {
				t.Error(err)
				return
			}
			ids[i] = a.String("instanceId")
		}(i)
	}
	wg.Wait()
	for _, got := range ids {
		if got != ids[0] || got == "" {
			t.Fatalf("concurrent duplicates answered different instances: %v", ids)
		}
	}
}

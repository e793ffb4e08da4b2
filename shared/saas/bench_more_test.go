package saas_test

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/kgseller/kgseller/shared/marketplace"
	"github.com/kgseller/kgseller/shared/store"
)

// Round trips of the lifecycle activities, held as ceilings so that a change that
// adds a statement is noticed. Each change is the nonce plus one transaction around
// a locked read of the instance (BEGIN, SELECT … FOR UPDATE, the writes, COMMIT);
// changeInstanceCheck only reads.
const (
	targetRefresh     = 7 // nonce, BEGIN, lock, order, UPDATE, job, COMMIT
	targetStatus      = 6 // nonce, BEGIN, lock, UPDATE, job, COMMIT
	targetRelease     = 6 // nonce, BEGIN, lock, UPDATE, job, COMMIT
	targetUpgrade     = 6 // nonce, BEGIN, lock, order, job, COMMIT
	targetChangeCheck = 2 // nonce, SELECT
)

// lifecycleInstance creates an active instance through the handler and returns
// its ID.
func lifecycleInstance(tb testing.TB, h *harness, order string) string {
	tb.Helper()
	id := "b-" + order
	out := h.invoke(tb, h.request(newInstanceBody(order, id)))
	activate(tb, h.st, id)
	if _, err := h.st.Instance(context.Background(), id); err != nil {
		tb.Fatalf("instance %s after %s: %v", id, out, err)
	}
	return id
}

func refreshBody(id, order string) string {
	return fmt.Sprintf(`{"activity":"refreshInstance","expireTime":"20351124023618","instanceId":%q,"orderId":%q,"orderLineId":"%s-000001","scene":"RENEWAL","testFlag":"1"}`, id, order, order)
}

func statusBody(id string, i int) string {
	s := "FREEZE"
	if i%2 == 1 {
		s = "UNFREEZE"
	}
	return fmt.Sprintf(`{"activity":"updateInstanceStatus","instanceId":%q,"status":%q,"testFlag":"1"}`, id, s)
}

func releaseBody(id string) string {
	return fmt.Sprintf(`{"activity":"releaseInstance","instanceId":%q,"testFlag":"1"}`, id)
}

func upgradeBody(id, order string) string {
	return fmt.Sprintf(`{"activity":"upgradeInstance","instanceId":%q,"orderId":%q,"orderLineId":"%s-000001","testFlag":"1"}`, id, order, order)
}

func changeCheckBody(id string) string {
	return fmt.Sprintf(`{"activity":"changeInstanceCheck","instanceId":%q,"productInfo":{"productId":"OFFI1","skuCode":"sku-1","productName":"pro","linearValue":5},"testFlag":"1"}`, id)
}

// TestLifecycleRoundTrips holds the round trips of the lifecycle activities (counts,
// not timings) and checks that each call did what it answered.
func TestLifecycleRoundTrips(t *testing.T) {
	h, c := countedHarness(t)
	measure := func(body string) (int64, string) {
		before := c.RoundTrips()
		out := h.invoke(t, h.request(body))
		return c.RoundTrips() - before, out
	}
	measure(`{"activity":"queryInstance","instanceId":"none"}`) // dial outside the counts
	id := lifecycleInstance(t, h, "CS-LRT")
	other := lifecycleInstance(t, h, "CS-LRT2")
	for _, tc := range []struct {
		name   string
		body   string
		target int64
	}{
		{"refreshInstance", refreshBody(id, "RN-LRT"), targetRefresh},
		{"updateInstanceStatus", statusBody(id, 0), targetStatus},
		{"upgradeInstance", upgradeBody(id, "UP-LRT"), targetUpgrade},
		{"changeInstanceCheck", changeCheckBody(id), targetChangeCheck},
		{"releaseInstance", releaseBody(other), targetRelease},
	} {
		n, out := measure(tc.body)
		if code := answerCode(t, out); code != "000000" {
			t.Fatalf("%s answered %s", tc.name, out)
		}
		t.Logf("%s: %d round trips (target %d)", tc.name, n, tc.target)
		if n > tc.target {
			t.Errorf("%s: %d round trips, target %d", tc.name, n, tc.target)
		}
	}
	// Each change wrote its job in the same transaction.
	for _, key := range []string{
		marketplace.JobRefresh + ":RENEWAL:RN-LRT:RN-LRT-000001",
		marketplace.JobFreeze + ":" + id + ":2",
		marketplace.JobUpgrade + ":UP-LRT:UP-LRT-000001",
		marketplace.JobRelease + ":" + other,
	} {
		if _, err := h.st.JobByKey(context.Background(), key); err != nil {
			t.Errorf("job %s: %v", key, err)
		}
	}
}

func answerCode(tb testing.TB, body string) string {
	tb.Helper()
	var m struct {
		ResultCode string `json:"resultCode"`
	}
	if err := json.Unmarshal([]byte(body), &m); err != nil {
		tb.Fatalf("answer %q: %v", body, err)
	}
	return m.ResultCode
}

// lockStmt is the locked read every lifecycle change starts with.
func lockStmt(id string) []any {
	return []any{"SELECT status, version FROM instances WHERE instance_id = ? FOR UPDATE", id}
}

func orderStmt(kind, order, id string, now time.Time) []any {
	return []any{"INSERT INTO instance_orders (kind, order_id, order_line_id, instance_id, detail, created_at) VALUES (?, ?, ?, ?, ?, ?)",
		kind, order, order + "-000001", id, nil, now}
}

func jobStmt(key, kind, id string, now time.Time) []any {
	return []any{"INSERT INTO jobs (job_key, kind, instance_id, payload, state, attempts, next_run_at, created_at, updated_at) VALUES (?, ?, ?, ?, ?, 0, ?, ?, ?)",
		key, kind, id, nil, store.JobPending, now, now, now}
}

var (
	beginStmt  = []any{"START TRANSACTION"}
	commitStmt = []any{"COMMIT"}
)

func floorID(r int) string { return fmt.Sprintf("floor-%d-%d", floorRun, r) }

func BenchmarkRefreshInstance(b *testing.B) {
	h, c := countedHarness(b)
	id := lifecycleInstance(b, h, "CS-RF")
	run := time.Now().UnixNano()
	benchActivity(b, h, c, func(i int) events.APIGatewayProxyRequest {
		return h.request(refreshBody(id, fmt.Sprintf("RN-%d-%d", run, i)))
	}, func(r int) [][]any {
		now, f := time.Now().UTC().Truncate(time.Millisecond), floorID(r)
		return [][]any{nonceStmt(r), beginStmt, lockStmt(id), orderStmt("refresh/RENEWAL", f, id, now),
			{"UPDATE instances SET expire_time = ?, product_id = COALESCE(?, product_id), version = version + 1, updated_at = ? WHERE instance_id = ?",
				time.Date(2035, 11, 24, 2, 36, 18, 0, time.UTC), nil, now, id},
			jobStmt(marketplace.JobRefresh+":"+f, marketplace.JobRefresh, id, now), commitStmt}
	})
}

func BenchmarkUpdateInstanceStatus(b *testing.B) {
	h, c := countedHarness(b)
	id := lifecycleInstance(b, h, "CS-ST")
	// The floor changes an instance of its own, so that it never undoes a
	// request's transition.
	other := lifecycleInstance(b, h, "CS-ST-FLOOR")
	// Requests alternate FREEZE and UNFREEZE, so that every call is a transition
	// that writes its notification job.
	benchActivity(b, h, c, func(i int) events.APIGatewayProxyRequest {
		return h.request(statusBody(id, i))
	}, func(r int) [][]any {
		now := time.Now().UTC().Truncate(time.Millisecond)
		return [][]any{nonceStmt(r), beginStmt, lockStmt(other),
			{"UPDATE instances SET status = ?, version = version + 1, updated_at = ? WHERE instance_id = ?", marketplace.Frozen, now, other},
			jobStmt(marketplace.JobFreeze+":"+floorID(r), marketplace.JobFreeze, other, now), commitStmt}
	})
}

func BenchmarkReleaseInstance(b *testing.B) {
	h, c := countedHarness(b)
	run := time.Now().UnixNano()
	ctx := context.Background()
	var ids []string
	// Every request releases an instance of its own, created before the timer
	// starts; the floor repeats the statements on instances already released.
	benchActivity(b, h, c, func(i int) events.APIGatewayProxyRequest {
		id := fmt.Sprintf("rl-%d-%d", run, i)
		if _, err := h.st.CreateInstance(ctx, marketplace.Instance{InstanceID: id, OrderID: id, OrderLineID: id + "-000001", BusinessID: id}); err != nil {
			b.Fatal(err)
		}
		ids = append(ids, id)
		return h.request(releaseBody(id))
	}, func(r int) [][]any {
		now, id := time.Now().UTC().Truncate(time.Millisecond), ids[r%len(ids)]
		return [][]any{nonceStmt(r), beginStmt, lockStmt(id),
			{"UPDATE instances SET status = ?, version = version + 1, released_at = ?, updated_at = ? WHERE instance_id = ?", marketplace.Released, now, now, id},
			jobStmt(marketplace.JobRelease+":"+floorID(r), marketplace.JobRelease, id, now), commitStmt}
	})
}

func BenchmarkUpgradeInstance(b *testing.B) {
	h, c := countedHarness(b)
	id := lifecycleInstance(b, h, "CS-UP")
	run := time.Now().UnixNano()
	benchActivity(b, h, c, func(i int) events.APIGatewayProxyRequest {
		return h.request(upgradeBody(id, fmt.Sprintf("UP-%d-%d", run, i)))
	}, func(r int) [][]any {
		now, f := time.Now().UTC().Truncate(time.Millisecond), floorID(r)
		return [][]any{nonceStmt(r), beginStmt, lockStmt(id), orderStmt(marketplace.JobUpgrade, f, id, now),
			jobStmt(marketplace.JobUpgrade+":"+f, marketplace.JobUpgrade, id, now), commitStmt}
	})
}

func BenchmarkChangeInstanceCheck(b *testing.B) {
	h, c := countedHarness(b)
	id := lifecycleInstance(b, h, "CS-CC")
	benchActivity(b, h, c, func(i int) events.APIGatewayProxyRequest {
		return h.request(changeCheckBody(id))
	}, func(r int) [][]any {
		return [][]any{nonceStmt(r), {`SELECT instance_id, order_id, order_line_id, ondemand_product_id, business_id, product_id, test_flag,
			state, status, fail_code, fail_reason, app_info, app_secret, expire_time, version, created_at, updated_at, released_at
			FROM instances WHERE instance_id = ?`, id}}
	})
}

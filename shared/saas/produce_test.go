package saas_test

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/kgseller/kgseller/shared/endpoint"
	"github.com/kgseller/kgseller/shared/fgruntime"
	"github.com/kgseller/kgseller/shared/fulfil"
	"github.com/kgseller/kgseller/shared/kgsign"
	"github.com/kgseller/kgseller/shared/marketplace"
	"github.com/kgseller/kgseller/shared/probe"
	"github.com/kgseller/kgseller/shared/provision"
	"github.com/kgseller/kgseller/shared/saas"
	"github.com/kgseller/kgseller/shared/store"
	"github.com/kgseller/kgseller/shared/tools/dbtest"
)

const testKey = "TestAccessKey-0123456789"

// testBudget is the request budget of the test handlers: a guard against a hang.
const testBudget = time.Minute

type harness struct {
	t   *testing.T
	h   fgruntime.Handler
	st  *store.Store
	key string
}

// newHarness builds the saas-produce handler over a fresh database with inline
// fulfilment through the static provisioner.
func newHarness(t *testing.T, inline bool) *harness {
	t.Helper()
	st, _ := dbtest.Open(t)
	return newHarnessOn(t, st, inline, kgsign.MustKeySet(testKey))
}

func newHarnessOn(t *testing.T, st *store.Store, inline bool, keys kgsign.KeySet) *harness {
	prov := provision.Static{FrontEndURL: "https://app.example.com/i/{instanceId}", AdminURL: "https://admin.example.com/{orderId}"}
	svc := &saas.Service{Store: st, Provisioner: prov}
	if inline {
		r := &fulfil.Runner{Store: st, Handlers: fulfil.Instances{Store: st, Provisioner: prov}.Handlers()}
		svc.Fulfil = r.RunInline
	}
	// The budget is a guard against a hang, not a bound a busy machine could
	// miss: concurrent calls queue on the embedded engine.
	h := endpoint.Handler(endpoint.Config{
		Scope: "basic", Verifier: &kgsign.Verifier{Keys: keys}, Nonces: st, Decode: svc.Decode, Timeout: testBudget,
	})
	return &harness{t: t, h: h, st: st, key: testKey}
}

// request builds a correctly signed APIG request for body.
func (h *harness) request(body string) events.APIGatewayProxyRequest {
	c := probe.Client{URL: "https://seller.example.com/saas/produce", Key: kgsign.NewKey([]byte(h.key), "t")}
	s, err := c.Sign([]byte(body))
	if err != nil {
		h.t.Fatal(err)
	}
	return s.Event()
}

// do invokes the handler and checks the answer shape that every reply must have.
func (h *harness) do(req events.APIGatewayProxyRequest) map[string]any {
	h.t.Helper()
	resp, err := h.h(context.Background(), req)
	if err != nil {
		h.t.Fatalf("handler returned error %v", err)
	}
	return checkShape(h.t, resp, h.key)
}

func (h *harness) call(body string) map[string]any {
	h.t.Helper()
	return h.do(h.request(body))
}

func checkShape(t *testing.T, resp events.APIGatewayProxyResponse, key string) map[string]any {
	t.Helper()
	m, err := probe.CheckEvent(resp, kgsign.NewKey([]byte(key), "t"))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func code(m map[string]any) string { s, _ := m["resultCode"].(string); return s }

func (h *harness) count(table string) int {
	h.t.Helper()
	var n int
	if err := h.st.DB().Get(&n, "SELECT COUNT(*) FROM "+table); err != nil {
		h.t.Fatal(err)
	}
	return n
}

func newInstanceBody(order, business string) string {
	return fmt.Sprintf(`{"activity":"newInstance","businessId":%q,"orderId":%q,"orderLineId":%q,"testFlag":"1"}`, business, order, order+"-000001")
}

func TestConcurrentNewInstance(t *testing.T) {
	h := newHarness(t, true)
	const n = 50
	var wg sync.WaitGroup
	answers := make([]map[string]any, n)
	reqs := make([]events.APIGatewayProxyRequest, n)
	for i := range reqs {
		reqs[i] = h.request(newInstanceBody("CS2211181819B4LVS", fmt.Sprintf("87b94795-%04d", i)))
	}
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(i int) { defer wg.Done(); answers[i] = h.do(reqs[i]) }(i)
	}
	wg.Wait()
	ids := map[string]bool{}
	for _, a := range answers {
		if c := code(a); c != "000000" && c != "000004" {
			t.Fatalf("answer %v", a)
		}
		ids[a["instanceId"].(string)] = true
	}
	if len(ids) != 1 {
		t.Fatalf("%d distinct instance IDs: %v", len(ids), ids)
	}
	if got := h.count("instances"); got != 1 {
		t.Fatalf("%d instances stored", got)
	}
	if got := h.count("jobs"); got != 1 {
		t.Fatalf("%d jobs stored", got)
	}
}

func TestAuthFailuresStoreNothing(t *testing.T) {
	h := newHarness(t, true)
	body := newInstanceBody("CS-AUTH", "b-1")
	forged := h.request(body)
	forged.QueryStringParameters["signature"] = kgsign.V2Signature(kgsign.NewKey([]byte("wrong-key"), "x"),
		forged.QueryStringParameters["nonce"], forged.QueryStringParameters["timestamp"], []byte(body))
	stale := h.request(body)
	old := strconv.FormatInt(time.Now().Add(-2*time.Minute).UnixMilli(), 10)
	stale.QueryStringParameters["timestamp"] = old
	stale.QueryStringParameters["signature"] = kgsign.V2Signature(kgsign.NewKey([]byte(testKey), "x"),
		stale.QueryStringParameters["nonce"], old, []byte(body))
	unsigned := h.request(body)
	unsigned.QueryStringParameters = nil
	tampered := h.request(body)
	tampered.Body = strings.Replace(body, "CS-AUTH", "CS-AUTX", 1)
	for name, req := range map[string]events.APIGatewayProxyRequest{"forged": forged, "stale": stale, "unsigned": unsigned, "tampered": tampered} {
		if c := code(h.do(req)); c != "000001" {
			t.Errorf("%s: resultCode %s, want 000001", name, c)
		}
	}
	if n := h.count("instances") + h.count("nonces") + h.count("jobs"); n != 0 {
		t.Fatalf("auth failures stored %d rows", n)
	}
	// An exact replay of a good request is refused the second time.
	good := h.request(newInstanceBody("CS-REPLAY", "b-2"))
	if c := code(h.do(good)); c != "000000" {
		t.Fatalf("first call %s", c)
	}
	before := h.count("instances")
	if c := code(h.do(good)); c != "000001" {
		t.Fatalf("replay: resultCode %s, want 000001", c)
	}
	if h.count("instances") != before {
		t.Fatalf("replay stored a row")
	}
}

func TestBadInputStoresNothing(t *testing.T) {
	h := newHarness(t, true)
	big := `{"activity":"newInstance","orderId":"CS1","orderLineId":"CS1-1","businessId":"b","pad":"` + strings.Repeat("x", 1<<20) + `"}`
	cases := map[string]string{
		"not json":            `{"activity":"newInstance",`,
		"array body":          `[1,2]`,
		"empty":               ``,
		"oversized":           big,
		"orderId number":      `{"activity":"newInstance","orderId":123,"orderLineId":"a","businessId":"b"}`,
		"orderId object":      `{"activity":"newInstance","orderId":{"a":1},"orderLineId":"a","businessId":"b"}`,
		"orderId too long":    fmt.Sprintf(`{"activity":"newInstance","orderId":%q,"orderLineId":"a","businessId":"b"}`, strings.Repeat("o", 65)),
		"missing businessId":  `{"activity":"newInstance","orderId":"CS1","orderLineId":"a"}`,
		"null orderLineId":    `{"activity":"newInstance","orderId":"CS1","orderLineId":null,"businessId":"b"}`,
		"invalid utf-8":       "{\"activity\":\"newInstance\",\"orderId\":\"CS\xff\xfe\",\"orderLineId\":\"a\",\"businessId\":\"b\"}",
		"control char":        `{"activity":"newInstance","orderId":"CS\u0001","orderLineId":"a","businessId":"b"}`,
		"unknown activity":    `{"activity":"deleteEverything"}`,
		"activity number":     `{"activity":7}`,
		"testFlag bool":       `{"activity":"newInstance","orderId":"CS1","orderLineId":"a","businessId":"b","testFlag":true}`,
		"bad status":          `{"activity":"updateInstanceStatus","instanceId":"i","status":"PAUSE"}`,
		"expire 12 digits":    `{"activity":"refreshInstance","scene":"RENEWAL","orderId":"o","orderLineId":"l","instanceId":"i","expireTime":"202211240236"}`,
		"expire month 13":     `{"activity":"refreshInstance","scene":"RENEWAL","orderId":"o","orderLineId":"l","instanceId":"i","expireTime":"20221324023618"}`,
		"101 instance ids":    `{"activity":"queryInstance","instanceId":"` + strings.TrimSuffix(strings.Repeat("i,", 0), ",") + manyIDs(101) + `"}`,
		"empty id list":       `{"activity":"queryInstance","instanceId":" , ,"}`,
		"productInfo missing": `{"activity":"changeInstanceCheck","instanceId":"i"}`,
		"linearValue text":    `{"activity":"changeInstanceCheck","instanceId":"i","productInfo":{"productId":"p","skuCode":"s","productName":"n","linearValue":"ten"}}`,
		"deep nesting":        `{"activity":"newInstance","x":` + strings.Repeat("[", 40) + strings.Repeat("]", 40) + `}`,
	}
	for name, body := range cases {
		m := h.call(body)
		if c := code(m); c != "000002" {
			t.Errorf("%s: resultCode %s (%v), want 000002", name, c, m["resultMsg"])
		}
	}
	if n := h.count("instances") + h.count("nonces") + h.count("jobs") + h.count("instance_orders"); n != 0 {
		t.Fatalf("bad input stored %d rows", n)
	}
}

func manyIDs(n int) string {
	ids := make([]string, n)
	for i := range ids {
		ids[i] = fmt.Sprintf("id-%d", i)
	}
	return strings.Join(ids, ",")
}

func TestSQLMetaCharactersArePlainData(t *testing.T) {
	h := newHarness(t, true)
	evil := []string{`x'; DROP TABLE instances; --`, `a"b\c`, `%_%`, "50%_off' OR '1'='1", "`id`", `\'`}
	for i, order := range evil {
		biz := fmt.Sprintf(`biz'%d"; --`, i)
		m := h.call(fmt.Sprintf(`{"activity":"newInstance","businessId":%q,"orderId":%q,"orderLineId":%q}`, biz, order, order+"-1"))
		if code(m) != "000000" || m["instanceId"] != biz {
			t.Fatalf("order %q: %v", order, m)
		}
		q := h.call(fmt.Sprintf(`{"activity":"queryInstance","instanceId":%q}`, biz))
		info := q["info"].([]any)[0].(map[string]any)
		if info["instanceId"] != biz {
			t.Fatalf("query %q: %v", biz, q)
		}
		// LIKE wildcards must not match other rows.
		if inst, err := h.st.InstanceByOrder(context.Background(), order, order+"-1"); err != nil || inst.OrderID != order {
			t.Fatalf("stored order %q as %q: %v", order, inst.OrderID, err)
		}
	}
	if got := h.count("instances"); got != len(evil) {
		t.Fatalf("%d instances, want %d", got, len(evil))
	}
}

func TestWalkthroughAndDebugReplays(t *testing.T) {
	h := newHarness(t, true)
	mustCode := func(body, want string) map[string]any {
		t.Helper()
		m := h.call(body)
		if code(m) != want {
			t.Fatalf("%s => %v, want %s", body, m, want)
		}
		return m
	}
	newBody := `{"activity":"newInstance","businessId":"87b94795-0603-4e24-8ae5-69420d60e3c8","orderId":"MOCKPERIODYEARNEW","orderLineId":"MOCKPERIODYEARNEW-000001","testFlag":"1"}`
	m := mustCode(newBody, "000000")
	id := m["instanceId"].(string)
	if id != "87b94795-0603-4e24-8ae5-69420d60e3c8" {
		t.Fatalf("instanceId %s, want the first businessId", id)
	}
	q := mustCode(fmt.Sprintf(`{"activity":"queryInstance","instanceId":%q,"testFlag":"1"}`, id), "000000")
	app := q["info"].([]any)[0].(map[string]any)["appInfo"].(map[string]any)
	if app["frontEndUrl"] != "https://app.example.com/i/"+id {
		t.Fatalf("appInfo %v", app)
	}
	cases := []struct{ body, want string }{
		{fmt.Sprintf(`{"activity":"refreshInstance","expireTime":"20221124023618256","instanceId":%q,"orderId":"MOCKMONTYRENEW","orderLineId":"MOCKMONTYRENEW-000001","productId":"OFFI461867333479178240","scene":"RENEWAL","testFlag":"1"}`, id), "000000"},
		{fmt.Sprintf(`{"activity":"updateInstanceStatus","instanceId":%q,"status":"FREEZE","testFlag":"1"}`, id), "000000"},
		{fmt.Sprintf(`{"activity":"updateInstanceStatus","instanceId":%q,"status":"UNFREEZE","testFlag":1}`, id), "000000"},
		{fmt.Sprintf(`{"activity":"upgradeInstance","instanceId":%q,"orderId":"MOCKMONTYCHANGE","orderLineId":"MOCKMONTYCHANGE-000001","testFlag":"1"}`, id), "000000"},
		{fmt.Sprintf(`{"activity":"changeInstanceCheck","instanceId":%q,"productInfo":{"productId":"OFFI1","skuCode":"sku-1","linearValue":5,"productName":"基础版"},"testFlag":"1"}`, id), "000000"},
		{fmt.Sprintf(`{"activity":"releaseInstance","instanceId":%q,"orderId":"MOCKMONTYUNSUBSCRIBE","orderLineId":"MOCKMONTYUNSUBSCRIBE-000001","testFlag":"1"}`, id), "000000"},
	}
	for _, c := range cases {
		mustCode(c.body, c.want)
	}
	inst, err := h.st.Instance(context.Background(), id)
	if err != nil || inst.ExpireTime == nil || inst.ExpireTime.Format("20060102150405.000") != "20221124023618.256" {
		t.Fatalf("expiry not set from the 17-digit expireTime: %+v %v", inst.ExpireTime, err)
	}
	// The marketplace replays the saved debug cases twice a day in any order.
	all := append([]string{newBody, fmt.Sprintf(`{"activity":"queryInstance","instanceId":%q,"testFlag":"1"}`, id)}, func() []string {
		var b []string
		for _, c := range cases {
			b = append(b, c.body)
		}
		return b
	}()...)
	for round := 0; round < 5; round++ {
		rand.Shuffle(len(all), func(i, j int) { all[i], all[j] = all[j], all[i] })
		for _, body := range all {
			m := mustCode(body, "000000")
			if strings.Contains(body, "newInstance") && m["instanceId"] != id {
				t.Fatalf("replayed newInstance answered %v", m)
			}
		}
	}
	if got := h.count("instances"); got != 1 {
		t.Fatalf("%d instances after replays", got)
	}
	// Unknown instances.
	mustCode(`{"activity":"queryInstance","instanceId":"never-existed"}`, "000003")
	mustCode(`{"activity":"refreshInstance","expireTime":"20301124023618","instanceId":"never-existed","orderId":"o","orderLineId":"l","scene":"RENEWAL"}`, "000003")
	mustCode(`{"activity":"updateInstanceStatus","instanceId":"never-existed","status":"FREEZE"}`, "000003")
	mustCode(`{"activity":"upgradeInstance","instanceId":"never-existed","orderId":"o","orderLineId":"l"}`, "000003")
	mustCode(`{"activity":"changeInstanceCheck","instanceId":"never-existed","productInfo":{"productId":"p","skuCode":"s","productName":"n"}}`, "000003")
	mustCode(`{"activity":"releaseInstance","instanceId":"never-existed"}`, "000000")
	// A multi-ID query returns the known ones only.
	q = mustCode(fmt.Sprintf(`{"activity":"queryInstance","instanceId":"never-existed, %s"}`, id), "000000")
	if len(q["info"].([]any)) != 1 {
		t.Fatalf("multi query %v", q)
	}
}

func TestProvisioningPendingAnswers000004(t *testing.T) {
	h := newHarness(t, false) // no inline fulfilment: the job stays pending
	m := h.call(newInstanceBody("CS-PENDING", "biz-pending"))
	if code(m) != "000004" || m["instanceId"] != "biz-pending" {
		t.Fatalf("newInstance %v", m)
	}
	if c := code(h.call(`{"activity":"queryInstance","instanceId":"biz-pending"}`)); c != "000004" {
		t.Fatalf("query while provisioning: %s", c)
	}
	// A retry during provisioning answers the same instance, still 000004.
	m = h.call(newInstanceBody("CS-PENDING", "biz-other"))
	if code(m) != "000004" || m["instanceId"] != "biz-pending" {
		t.Fatalf("retry %v", m)
	}
	// Once the job runs, the instance is ready.
	r := &fulfil.Runner{Store: h.st, Handlers: fulfil.Instances{Store: h.st, Provisioner: provision.Static{FrontEndURL: "https://x/{instanceId}"}}.Handlers()}
	if counts, err := r.RunDue(context.Background(), 10); err != nil || counts[fulfil.Done] != 1 {
		t.Fatalf("RunDue %v %v", counts, err)
	}
	if c := code(h.call(`{"activity":"queryInstance","instanceId":"biz-pending"}`)); c != "000000" {
		t.Fatalf("query after provisioning: %s", c)
	}
}

func TestBusinessIDReusedAcrossOrders(t *testing.T) {
	h := newHarness(t, true)
	a := h.call(newInstanceBody("CS-ONE", "123456789"))
	b := h.call(newInstanceBody("CS-TWO", "123456789"))
	if code(a) != "000000" || code(b) != "000000" || a["instanceId"] == b["instanceId"] {
		t.Fatalf("a=%v b=%v", a, b)
	}
	if b2 := h.call(newInstanceBody("CS-TWO", "other")); b2["instanceId"] != b["instanceId"] {
		t.Fatalf("second order's instance changed: %v vs %v", b2, b)
	}
}

// TestDatabaseOutageAnswers000005: a database that refuses connections fails the
// request fast, and one that accepts them and never answers fails it when the
// request's budget runs out, whatever the driver's own timeouts: both answers are
// 000005 in the documented shape.
func TestDatabaseOutageAnswers000005(t *testing.T) {
	// A port with nothing listening: the store fails fast, the answer keeps its shape.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	st, err := store.Open("root@tcp("+addr+")/none", store.Options{DialTimeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	h := newHarnessOn(t, st, true, kgsign.MustKeySet(testKey))
	if c := code(h.call(newInstanceBody("CS-DOWN", "b"))); c != "000005" {
		t.Fatalf("resultCode %s, want 000005", c)
	}

	// A server that accepts connections and says nothing. The driver would wait
	// ten minutes; only the request's budget (a second here) can end the call, so
	// an answer at all, within the two-minute guard, shows the budget held.
	mute, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer mute.Close()
	var held sync.WaitGroup
	defer held.Wait()
	go func() {
		for {
			c, err := mute.Accept()
			if err != nil {
				return
			}
			held.Add(1)
			go func() { defer held.Done(); _, _ = io.Copy(io.Discard, c); c.Close() }()
		}
	}()
	hung, err := store.Open("root@tcp("+mute.Addr().String()+")/none", store.Options{DialTimeout: 10 * time.Minute, IOTimeout: 10 * time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	defer hung.Close()
	svc := &saas.Service{Store: hung, Provisioner: provision.Static{FrontEndURL: "https://app/{instanceId}"}}
	hh := &harness{t: t, st: hung, key: testKey, h: endpoint.Handler(endpoint.Config{Scope: "basic", Timeout: time.Second,
		Verifier: &kgsign.Verifier{Keys: kgsign.MustKeySet(testKey)}, Nonces: hung, Decode: svc.Decode})}
	answer := make(chan map[string]any, 1)
	go func() {
		resp, err := hh.h(context.Background(), hh.request(newInstanceBody("CS-HUNG", "b")))
		if err != nil {
			answer <- map[string]any{"error": err.Error()}
			return
		}
		m, err := probe.CheckEvent(resp, kgsign.NewKey([]byte(testKey), "t"))
		if err != nil {
			m = map[string]any{"error": err.Error()}
		}
		answer <- m
	}()
	select {
	case m := <-answer:
		if code(m) != "000005" {
			t.Fatalf("a database that never answers: %v, want 000005", m)
		}
	case <-time.After(2 * time.Minute):
		t.Fatal("no answer two minutes into a one-second budget: the request waited for the database")
	}
	mute.Close()
}

func TestPreviousKeyDuringRotation(t *testing.T) {
	st, _ := dbtest.Open(t)
	h := newHarnessOn(t, st, true, kgsign.MustKeySet("new-key", testKey))
	// h signs with testKey, the previous key; the answer must be signed with it too
	// (checkShape verifies Body-Sign with h.key).
	if c := code(h.call(newInstanceBody("CS-ROT", "b-rot"))); c != "000000" {
		t.Fatalf("previous key: %s", c)
	}
	h.key = "new-key"
	if c := code(h.call(newInstanceBody("CS-ROT", "b-rot"))); c != "000000" {
		t.Fatalf("new key: %s", c)
	}
}

// TestForgedFloodTouchesNoDatabase sends a flood of forged, stale and unsigned
// requests to a handler whose database is unreachable: every one is refused with
// 000001, not 000005, which shows that none of them reached the database (no nonce
// written, nothing read). The same flood against a real database stores nothing.
func TestForgedFloodTouchesNoDatabase(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	dead, err := store.Open("root@tcp("+addr+")/none", store.Options{DialTimeout: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer dead.Close()
	live, _ := dbtest.Open(t)
	for name, st := range map[string]*store.Store{"unreachable": dead, "live": live} {
		h := newHarnessOn(t, st, true, kgsign.MustKeySet(testKey))
		for i := 0; i < 300; i++ {
			body := newInstanceBody(fmt.Sprintf("CS-FLOOD-%d", i), "b")
			req := h.request(body)
			switch i % 3 {
			case 0: // forged with another key
				req.QueryStringParameters["signature"] = kgsign.V2Signature(kgsign.NewKey([]byte("attacker"), ""),
					req.QueryStringParameters["nonce"], req.QueryStringParameters["timestamp"], []byte(body))
			case 1: // stale
				req.QueryStringParameters["timestamp"] = "1600000000000"
			case 2: // unsigned
				req.QueryStringParameters = map[string]string{"nonce": "n"}
			}
			if c := code(h.do(req)); c != "000001" {
				t.Fatalf("%s: request %d answered %s, want 000001", name, i, c)
			}
		}
	}
	var rows int
	for _, table := range []string{"nonces", "instances", "jobs"} {
		var n int
		if err := live.DB().Get(&n, "SELECT COUNT(*) FROM "+table); err != nil {
			t.Fatal(err)
		}
		rows += n
	}
	if rows != 0 {
		t.Fatalf("the flood stored %d rows", rows)
	}
}

// changeRecorder records the target of each changeInstanceCheck.
type changeRecorder struct {
	provision.Static
	mu      sync.Mutex
	targets []provision.Product
}

func (c *changeRecorder) CheckChange(_ context.Context, _ marketplace.Instance, target provision.Product) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.targets = append(c.targets, target)
	return nil
}

// TestChangeCheckDecimalLinearValue: linearValue is documented as an integer, but a
// quantity such as 2.5 (as a number or a string) is accepted and handed to the
// provisioner as sent.
func TestChangeCheckDecimalLinearValue(t *testing.T) {
	st, _ := dbtest.Open(t)
	rec := &changeRecorder{Static: provision.Static{FrontEndURL: "https://app.example.com/i/{instanceId}"}}
	r := &fulfil.Runner{Store: st, Handlers: fulfil.Instances{Store: st, Provisioner: rec}.Handlers()}
	svc := &saas.Service{Store: st, Provisioner: rec, Fulfil: r.RunInline}
	h := &harness{t: t, st: st, key: testKey, h: endpoint.Handler(endpoint.Config{Scope: "basic", Timeout: testBudget,
		Verifier: &kgsign.Verifier{Keys: kgsign.MustKeySet(testKey)}, Nonces: st, Decode: svc.Decode})}
	m := h.call(`{"activity":"newInstance","businessId":"b-lin","orderId":"CS-LIN","orderLineId":"CS-LIN-000001","testFlag":"1"}`)
	id, _ := m["instanceId"].(string)
	for _, c := range []struct{ sent, want string }{{`2.5`, "2.5"}, {`"7.50"`, "7.50"}, {`5`, "5"}, {`"12"`, "12"}, {`null`, ""}} {
		body := fmt.Sprintf(`{"activity":"changeInstanceCheck","instanceId":%q,"productInfo":{"productId":"p","skuCode":"s","productName":"n","linearValue":%s},"testFlag":"1"}`, id, c.sent)
		if m := h.call(body); code(m) != "000000" {
			t.Fatalf("linearValue %s: %v", c.sent, m)
		}
		rec.mu.Lock()
		got := rec.targets[len(rec.targets)-1].LinearValue
		rec.mu.Unlock()
		if string(got) != c.want {
			t.Errorf("linearValue %s reached the provisioner as %q, want %q", c.sent, got, c.want)
		}
	}
	for _, bad := range []string{`"ten"`, `"2.5.1"`, `true`, `[1]`, `"1e400"`, `""`} {
		body := fmt.Sprintf(`{"activity":"changeInstanceCheck","instanceId":%q,"productInfo":{"productId":"p","skuCode":"s","productName":"n","linearValue":%s}}`, id, bad)
		if m := h.call(body); code(m) != "000002" {
			t.Errorf("linearValue %s: %v, want 000002", bad, m)
		}
	}
}

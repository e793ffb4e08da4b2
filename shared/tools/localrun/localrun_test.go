package localrun_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"github.com/kgseller/kgseller/shared/tools/logbuf"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/kgseller/kgseller/shared/kgsign"
	"github.com/kgseller/kgseller/shared/kit/clientsecret"
	"github.com/kgseller/kgseller/shared/probe"
	"github.com/kgseller/kgseller/shared/provision"
	"github.com/kgseller/kgseller/shared/secretbox"
	"github.com/kgseller/kgseller/shared/sellerhook"
	"github.com/kgseller/kgseller/shared/tools/dbtest"
	"github.com/kgseller/kgseller/shared/tools/localrun"
	"github.com/kgseller/kgseller/shared/tools/manifest"
)

// startStack runs the real function binaries under the emulator on a fresh
// database of the test engine.
func startStack(t *testing.T) (*localrun.Stack, string, *sql.DB) {
	return startStackOn(t, dbtest.NewDatabase(t))
}

// startStackOn starts the stack on dsn; an empty dsn starts the embedded engine,
// as the README's first command does.
func startStackOn(t *testing.T, dsn string) (*localrun.Stack, string, *sql.DB) {
	return startStackWith(t, dsn, nil)
}

// startStackWith starts the stack with options adjusted by tune.
func startStackWith(t *testing.T, dsn string, tune func(*localrun.Options)) (*localrun.Stack, string, *sql.DB) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	opts := localrun.Options{
		Addr: ln.Addr().String(), ModuleDir: "../../..", DSN: dsn,
		AccessKey: "it-key", FunctionOutput: io.Discard, BuildOutput: io.Discard,
	}
	if tune != nil {
		tune(&opts)
	}
	stack, err := localrun.Start(ctx, opts)
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
	t.Parallel()
	stack, base, db := startStack(t)
	c := &probe.Client{URL: base + "/saas/produce", Key: kgsign.NewKey([]byte("it-key"), "t")}
	ctx := context.Background()
	call := func(body, want string) probe.Answer {
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
	// newInstance answers at once; the worker, started asynchronously through the
	// emulated FunctionGraph API, queries the order from the fake marketplace and
	// provisions the instance, while the marketplace polls queryInstance.
	a := call(`{"activity":"newInstance","businessId":"b-walk","orderId":"MOCKPERIODYEARNEW","orderLineId":"MOCKPERIODYEARNEW-000001","testFlag":"1"}`, "000004")
	id := a.String("instanceId")
	q := pollQuery(t, c, id)
	info := q.Fields["info"].([]any)[0].(map[string]any)["appInfo"].(map[string]any)
	if info["frontEndUrl"] != base+"/app/"+id {
		t.Fatalf("frontEndUrl %v, want the local app page", info["frontEndUrl"])
	}
	call(fmt.Sprintf(`{"activity":"refreshInstance","expireTime":"20301124023618","instanceId":%q,"orderId":"MOCKMONTYRENEW","orderLineId":"MOCKMONTYRENEW-000001","scene":"RENEWAL","testFlag":"1"}`, id), "000000")
	call(fmt.Sprintf(`{"activity":"updateInstanceStatus","instanceId":%q,"status":"FREEZE","testFlag":"1"}`, id), "000000")
	// The instance page shows the freeze, and says the static provisioner told
	// the application nothing.
	page := appPageOf(t, base, id)
	for _, want := range []string{`<td id="status">FROZEN</td>`, `<td id="state">ACTIVE</td>`, "PROVISIONER=static: the application is told nothing",
		"<td>freeze</td>", "nothing sent: the static provisioner only changes the instance&#39;s row"} {
		if !strings.Contains(page, want) {
			t.Fatalf("app page after the freeze lacks %q:\n%s", want, page)
		}
	}
	call(fmt.Sprintf(`{"activity":"updateInstanceStatus","instanceId":%q,"status":"UNFREEZE","testFlag":"1"}`, id), "000000")
	call(fmt.Sprintf(`{"activity":"upgradeInstance","instanceId":%q,"orderId":"MOCKMONTYCHANGE","orderLineId":"MOCKMONTYCHANGE-000001","testFlag":"1"}`, id), "000000")
	call(fmt.Sprintf(`{"activity":"changeInstanceCheck","instanceId":%q,"productInfo":{"productId":"p","skuCode":"s","productName":"n","linearValue":2},"testFlag":"1"}`, id), "000000")
	call(fmt.Sprintf(`{"activity":"releaseInstance","instanceId":%q,"testFlag":"1"}`, id), "000000")
	call(fmt.Sprintf(`{"activity":"releaseInstance","instanceId":%q,"testFlag":"1"}`, id), "000000")
	call(`{"activity":"newInstance","businessId":"b-again","orderId":"MOCKPERIODYEARNEW","orderLineId":"MOCKPERIODYEARNEW-000001","testFlag":"1"}`, "000000")
	// The worker queried the purchase order, then the upgrade order, each once,
	// with verified AK/SK signatures.
	want := []string{"orderId=MOCKPERIODYEARNEW&orderLineId=MOCKPERIODYEARNEW-000001", "orderId=MOCKMONTYCHANGE&orderLineId=MOCKMONTYCHANGE-000001"}
	waitFor(t, "both Query Order calls", func() bool {
		return len(stack.Market.CallsTo("/api/mkp-openapi-public/global/v1/order/query")) >= len(want)
	})
	for i, q := range stack.Market.CallsTo("/api/mkp-openapi-public/global/v1/order/query") {
		if i >= len(want) || !q.Verified || q.Query != want[i] {
			t.Fatalf("Query Order call %d: %+v", i, q)
		}
	}

	// The app page shows the release and every lifecycle job.
	page = appPageOf(t, base, id)
	for _, want := range []string{`<td id="status">RELEASED</td>`, "<td>unfreeze</td>", "<td>upgrade</td>", "<td>release</td>", "<td>MOCKMONTYCHANGE</td>"} {
		if !strings.Contains(page, want) {
			t.Fatalf("app page after the release lacks %q:\n%s", want, page)
		}
	}
	if resp, err := http.Get(base + "/app/no-such-instance"); err != nil || resp.StatusCode != http.StatusNotFound {
		t.Fatalf("app page of an unknown instance: %v %v, want 404", resp, err)
	} else {
		resp.Body.Close()
	}

	concurrentDuplicates(t, c)
	if n := count(t, db, "instances"); n != 2 {
		t.Fatalf("%d instances, want 2", n)
	}
	// Instances are reused, and never more run than serverless.yml's maxInstances.
	if u := stack.Emulator.Usage()["saas-produce"]; u.Started < 1 || u.Started > u.Limit || u.Peak > u.Limit {
		t.Fatalf("saas-produce: %+v", u)
	}
}

// TestLocalRunEmbeddedDefault starts the stack exactly as the README's first
// command does (no DB_DSN: the embedded engine) and checks that concurrent
// duplicates still make one instance.
func TestLocalRunEmbeddedDefault(t *testing.T) {
	t.Parallel()
	stack, base, db := startStackOn(t, "")
	if !stack.Embedded {
		t.Fatal("stack did not start the embedded engine")
	}
	concurrentDuplicates(t, &probe.Client{URL: base + "/saas/produce", Key: kgsign.NewKey([]byte("it-key"), "t")})
	if n := count(t, db, "instances"); n != 1 {
		t.Fatalf("%d instances, want 1", n)
	}
}

// waitFor polls cond for up to 20 seconds.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// pollQuery polls queryInstance, as the marketplace does, until the instance is
// provisioned (000000) or 20 seconds pass.
func pollQuery(t *testing.T, c *probe.Client, id string) probe.Answer {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		a, err := c.Post(context.Background(), []byte(fmt.Sprintf(`{"activity":"queryInstance","instanceId":%q}`, id)))
		if err != nil {
			t.Fatal(err)
		}
		if err := a.ShapeError(); err != nil {
			t.Fatal(err)
		}
		switch {
		case a.Code() == "000000":
			return a
		case a.Code() != "000004":
			t.Fatalf("queryInstance while provisioning: %s", a.Body)
		case time.Now().After(deadline):
			t.Fatalf("instance %s still provisioning after 20 s", id)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// concurrentDuplicates sends 50 concurrent newInstance calls for one order line and
// checks they all name the same instance.
func concurrentDuplicates(t *testing.T, c *probe.Client) {
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

// hookReceiver is the seller's application: it checks each webhook's signature and
// counts the provisioning calls it answered successfully, per order.
type hookReceiver struct {
	mu       sync.Mutex
	secrets  sellerhook.Secrets
	provided map[string]int
	badSig   int
}

func (h *hookReceiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	h.mu.Lock()
	defer h.mu.Unlock()
	if err := h.secrets.Verify(r.Header.Get(sellerhook.Header), body, time.Now(), 0); err != nil {
		h.badSig++
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	var ev provision.Event
	_ = json.Unmarshal(body, &ev)
	if ev.Type == "instance.provision" {
		if ev.Order == nil || ev.Buyer == nil || ev.Period == nil {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		h.provided[ev.Instance.OrderID]++
	}
	w.Header().Set("Content-Type", "application/json")
	_, _ = fmt.Fprintf(w, `{"frontEndUrl":"https://app.example.com/%s","userName":"admin","password":"pw-%s"}`, ev.Instance.InstanceID, ev.Instance.InstanceID)
}

// TestWebhookDownThenUp provisions through the seller's webhook while it is down:
// the worker retries with backoff, and once the application is up every instance is
// provisioned with exactly one provisioning call per order.
func TestWebhookDownThenUp(t *testing.T) {
	t.Parallel()
	hookLn, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	hookAddr := hookLn.Addr().String()
	hookLn.Close() // the application is down: nothing listens here yet
	dataKey, _ := secretbox.NewKey()
	_, base, db := startStackWith(t, dbtest.NewDatabase(t), func(o *localrun.Options) {
		o.Env = append(os.Environ(),
			"PROVISIONER=webhook", "PROVISION_WEBHOOK_URL=http://"+hookAddr+"/hook", "PROVISION_WEBHOOK_ALLOW_HTTP=true",
			"PROVISION_WEBHOOK_SECRET=hook-secret", "KG_DATA_KEY="+dataKey,
			"FULFIL_BASE_DELAY=100ms", "FULFIL_MAX_DELAY=300ms", "FULFIL_MAX_ATTEMPTS=50")
		o.TimerEvery = 200 * time.Millisecond
	})
	c := &probe.Client{URL: base + "/saas/produce", Key: kgsign.NewKey([]byte("it-key"), "t")}
	orders := []string{"MOCKPERIODYEARNEW", "MOCKONETIMENEW", "MOCKONDEMAND", "CS-HOOK-1", "CS-HOOK-2"}
	ids := map[string]string{}
	for _, o := range orders {
		a, err := c.Post(context.Background(), []byte(fmt.Sprintf(`{"activity":"newInstance","businessId":"b-%s","orderId":%q,"orderLineId":"%s-000001"}`, o, o, o)))
		if err != nil || a.Code() != "000004" {
			t.Fatalf("newInstance %s: %v %s", o, err, a.Body)
		}
		ids[o] = a.String("instanceId")
	}
	// Every provisioning job fails at least twice while the application is down.
	waitFor(t, "failed attempts while the webhook is down", func() bool {
		var n int
		_ = db.QueryRow("SELECT COUNT(*) FROM jobs WHERE kind = 'provision' AND attempts >= 2 AND last_error IS NOT NULL").Scan(&n)
		return n == len(orders)
	})
	secrets, _ := sellerhook.NewSecrets("hook-secret")
	rec := &hookReceiver{secrets: secrets, provided: map[string]int{}}
	up, err := net.Listen("tcp", hookAddr)
	if err != nil {
		t.Fatalf("bringing the application up on %s: %v", hookAddr, err)
	}
	hookSrv := &http.Server{Handler: rec}
	go func() { _ = hookSrv.Serve(up) }()
	defer hookSrv.Close()
	for _, o := range orders {
		q := pollQuery(t, c, ids[o])
		app := q.Fields["info"].([]any)[0].(map[string]any)["appInfo"].(map[string]any)
		if app["password"] != "pw-"+ids[o] {
			t.Fatalf("%s: appInfo %v", o, app)
		}
	}
	// More timer ticks must not provision anything twice.
	time.Sleep(600 * time.Millisecond)
	rec.mu.Lock()
	defer rec.mu.Unlock()
	for _, o := range orders {
		if rec.provided[o] != 1 {
			t.Errorf("order %s provisioned %d times, want 1", o, rec.provided[o])
		}
	}
	if rec.badSig != 0 {
		t.Errorf("%d webhook calls failed signature verification", rec.badSig)
	}
}

// TestNoSecretInLogsOrAnswers runs the functions with known secret values, drives
// them through successful, forged, replayed and malformed calls and the seller API,
// and searches every log line and answer for the secrets.
func TestNoSecretInLogsOrAnswers(t *testing.T) {
	t.Parallel()
	const accessKey = "AccessKey-Secret-0001"
	const hookSecret = "Webhook-Secret-0002"
	dataKey, _ := secretbox.NewKey()
	var out logbuf.Buffer
	var answers []string
	_, base, _ := startStackWith(t, dbtest.NewDatabase(t), func(o *localrun.Options) {
		o.AccessKey = accessKey
		o.FunctionOutput = &out
		o.Logger = slog.New(slog.NewTextHandler(&out, &slog.HandlerOptions{Level: slog.LevelDebug}))
		o.Env = append(os.Environ(), "PROVISION_WEBHOOK_SECRET="+hookSecret, "KG_DATA_KEY="+dataKey, "LOG_LEVEL=debug")
	})
	ctx := context.Background()
	good := &probe.Client{URL: base + "/saas/produce", Key: kgsign.NewKey([]byte(accessKey), "t")}
	forged := &probe.Client{URL: base + "/saas/produce", Key: kgsign.NewKey([]byte("not-"+accessKey), "t")}
	record := func(a probe.Answer, err error) probe.Answer {
		if err != nil {
			t.Fatal(err)
		}
		answers = append(answers, string(a.Body), fmt.Sprint(a.Header))
		return a
	}
	a := record(good.Post(ctx, []byte(`{"activity":"newInstance","businessId":"b-sec","orderId":"CS-SEC","orderLineId":"CS-SEC-1"}`)))
	pollQuery(t, good, a.String("instanceId"))
	record(forged.Post(ctx, []byte(`{"activity":"queryInstance","instanceId":"b-sec"}`)))
	record(good.Post(ctx, []byte(`{"activity":"queryInstance","instanceId":`)))
	record(good.Post(ctx, []byte(`{"activity":"queryInstance","instanceId":"`+accessKey+`"}`)))
	s, _ := good.Sign([]byte(`{"activity":"queryInstance","instanceId":"b-sec"}`))
	record(good.Send(ctx, s))
	record(good.Send(ctx, s)) // replay
	stale, _ := good.SignWith([]byte(`{"activity":"queryInstance","instanceId":"b-sec"}`), "n-stale", "1000000000000")
	record(good.Send(ctx, stale))
	// The seller API with a wrong and a right signature.
	secrets, _ := sellerhook.NewSecrets(hookSecret)
	for _, sig := range []string{"t=1,v1=00", secrets.Sign([]byte(`{"instanceId":"b-sec","usageValue":1}`), time.Now())} {
		req, _ := http.NewRequest(http.MethodPost, base+"/seller/usage", strings.NewReader(`{"instanceId":"b-sec","usageValue":1}`))
		req.Header.Set(sellerhook.Header, sig)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		answers = append(answers, string(body), fmt.Sprint(resp.Header))
	}
	time.Sleep(300 * time.Millisecond) // let the last log lines arrive
	logs := out.String()
	if !strings.Contains(logs, `"resultCode":"000001"`) || !strings.Contains(logs, `"kind":"provision"`) {
		t.Fatalf("the logs do not show the calls that were made:\n%s", logs)
	}
	haystack := logs + strings.Join(answers, "\n")
	for _, secret := range []string{accessKey, hookSecret, dataKey, localrun.LocalSK} {
		if strings.Contains(haystack, secret) {
			t.Errorf("secret %q appears in logs or answers", secret[:4]+"…")
		}
	}
}

// TestOversizedBodyOnEveryRoute sends bodies over each function's limit (2 MB) and
// over the runtime's event limit (7 MB, which base64 makes a 9 MB event) to every
// route: each answers its documented error in its documented shape (000002 signed
// for marketplace routes, 413 for the others), no function instance is lost, and
// the answer's request id is in the function's log.
func TestOversizedBodyOnEveryRoute(t *testing.T) {
	t.Parallel()
	dataKey, _ := secretbox.NewKey()
	var out logbuf.Buffer
	stack, base, _ := startStackWith(t, dbtest.NewDatabase(t), func(o *localrun.Options) {
		o.FunctionOutput = &out
		o.Env = append(os.Environ(), "PROVISION_WEBHOOK_SECRET=hook-secret", "KG_DATA_KEY="+dataKey)
	})
	send := func(method, path string, size int) (*http.Response, []byte) {
		req, err := http.NewRequest(method, base+path, strings.NewReader(strings.Repeat("x", size)))
		if err != nil {
			t.Error(err)
			return nil, nil
		}
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Errorf("%s %s (%d bytes): %v", method, path, size, err)
			return nil, nil
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp, body
	}
	key := kgsign.NewKey([]byte("it-key"), "t")
	// The functions are tried side by side, two at a time, each function's
	// routes in turn, so that one instance of each serves them all.
	byFunction := map[string][]manifest.Route{}
	var order []string
	for _, r := range stack.Emulator.Routes() {
		if byFunction[r.Function] == nil {
			order = append(order, r.Function)
		}
		byFunction[r.Function] = append(byFunction[r.Function], r)
	}
	warm := map[string]bool{}
	for _, fn := range order {
		warm[fn] = true
	}
	check := func(r manifest.Route, method string, size int) {
		resp, body := send(method, r.Path, size)
		if resp == nil {
			return
		}
		what := fmt.Sprintf("%s %s (%s, %d MB)", method, r.Path, r.Function, size>>20)
		id := resp.Header.Get("X-Request-Id")
		var m map[string]any
		_ = json.Unmarshal(body, &m)
		switch {
		case strings.HasPrefix(r.Function, "sso-"):
			if resp.StatusCode != http.StatusRequestEntityTooLarge || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") ||
				resp.Header.Get("Content-Security-Policy") == "" {
				t.Errorf("%s: %d %s %.200s, want the 413 page", what, resp.StatusCode, resp.Header.Get("Content-Type"), body)
			}
		case r.Function == "provision-callback" || r.Function == "usage-report":
			if resp.StatusCode != http.StatusRequestEntityTooLarge || m["error"] == nil {
				t.Errorf("%s: %d %.200s, want 413 {\"error\":…}", what, resp.StatusCode, body)
			}
		case r.Function == "api-backend":
			if resp.StatusCode != http.StatusRequestEntityTooLarge || m["error_code"] != "BACKEND.0413" {
				t.Errorf("%s: %d %.200s, want 413 BACKEND.0413", what, resp.StatusCode, body)
			}
		default:
			got, err := probe.CheckEvent(events.APIGatewayProxyResponse{StatusCode: resp.StatusCode, Body: string(body),
				Headers: map[string]string{"Content-Type": resp.Header.Get("Content-Type"), "Body-Sign": resp.Header.Get("Body-Sign")}}, key)
			if err != nil || got["resultCode"] != "000002" {
				t.Errorf("%s: %v %v, want a signed 000002", what, got, err)
			}
		}
		if id == "" {
			t.Errorf("%s: no X-Request-Id", what)
			return
		}
		// The log line travels through the process's stderr, the answer through
		// the runtime API: allow the line a moment to arrive.
		for i := 0; i < 500 && !strings.Contains(out.String(), id); i++ {
			time.Sleep(10 * time.Millisecond)
		}
		if !strings.Contains(out.String(), id) {
			t.Errorf("%s: request id %s is not in the function's log", what, id)
		}
	}
	methodOf := func(r manifest.Route) string {
		if r.Method == "ANY" {
			return http.MethodPost
		}
		return r.Method
	}
	// Each function's one cold start, one at a time, before any large body.
	for _, fn := range order {
		r := byFunction[fn][0]
		send(methodOf(r), r.Path, 0)
	}
	var wg sync.WaitGroup
	slots := make(chan struct{}, 2)
	for _, fn := range order {
		wg.Add(1)
		go func(routes []manifest.Route) {
			defer wg.Done()
			slots <- struct{}{}
			defer func() { <-slots }()
			for _, r := range routes {
				for _, size := range []int{2 << 20, 7 << 20} {
					check(r, methodOf(r), size)
				}
			}
		}(byFunction[fn])
	}
	wg.Wait()
	for fn, n := range stack.Emulator.Stats() {
		if warm[fn] && n != 1 {
			t.Errorf("%s: %d cold starts, want 1: an oversized body cost an instance", fn, n)
		}
	}
}

func appPageOf(t *testing.T, base, id string) string {
	t.Helper()
	resp, err := http.Get(base + "/app/" + id)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("app page: %d %v", resp.StatusCode, err)
	}
	return string(b)
}

// TestStartChecksSettings: a setting a function refuses shows in the banner by
// its name and the functions concerned, never by its value; the Kit public key is
// a file of the run, gone after Close; the state names the production addresses.
func TestStartChecksSettings(t *testing.T) {
	t.Parallel()
	const value = "bogus-value-7f3"
	stack, base, _ := startStackWith(t, dbtest.NewDatabase(t), func(o *localrun.Options) {
		o.Env = append(os.Environ(), "FULFIL_MODE="+value)
	})
	var out strings.Builder
	localrun.WriteBanner(&out, stack.Banner(base))
	banner := out.String()
	if !strings.Contains(banner, "error  FULFIL_MODE must be one of") || !strings.Contains(banner, "saas-produce") {
		t.Errorf("the banner does not name the invalid setting:\n%s", banner)
	}
	if strings.Contains(banner, value) {
		t.Errorf("the banner shows the setting's value:\n%s", banner)
	}
	raw, err := os.ReadFile(stack.KitPublicKey)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := clientsecret.ParsePublicKey(string(raw)); err != nil {
		t.Fatalf("Kit public key file: %v", err)
	}
	st := stack.State(base)
	if st.URL != base || st.DSN != stack.DSN || st.AccessKey != "it-key" || st.KitPublicKey != stack.KitPublicKey ||
		st.Addresses["saas"] != "/saas/produce" || st.Addresses["license"] != "/license/produce" || st.Addresses["notify"] != "/order/notify" {
		t.Errorf("state: %+v", st)
	}
	stack.Close()
	if _, err := os.Stat(stack.KitPublicKey); !os.IsNotExist(err) {
		t.Errorf("the Kit public key file outlives the run: %v", err)
	}
}

// TestEmptyAccessKeyRefused: KG_ACCESS_KEY set to nothing is a mistake the local
// run reports, not a reason to fall back to the default key.
func TestEmptyAccessKeyRefused(t *testing.T) {
	t.Parallel()
	_, err := localrun.Start(context.Background(), localrun.Options{ModuleDir: "../../..", Env: []string{"KG_ACCESS_KEY="}})
	if err == nil || !strings.Contains(err.Error(), "KG_ACCESS_KEY is set but empty; unset it to use the local default key or set a key") {
		t.Fatalf("Start: %v", err)
	}
}

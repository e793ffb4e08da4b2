//go:build load

package loadtest

import (
	"context"
	"database/sql"
	"encoding/base64"
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

	"github.com/go-sql-driver/mysql"

	"github.com/kgseller/kgseller/shared/kgsign"
	"github.com/kgseller/kgseller/shared/kit/clientsecret"
	"github.com/kgseller/kgseller/shared/monitor"
	"github.com/kgseller/kgseller/shared/probe"
	"github.com/kgseller/kgseller/shared/secretbox"
	"github.com/kgseller/kgseller/shared/sellerhook"
	"github.com/kgseller/kgseller/shared/tools/dbtest"
	"github.com/kgseller/kgseller/shared/tools/localrun"
)

// The secrets every stack of the suite runs with; the logs and answers of every
// test are searched for them.
const (
	loadAccessKey  = "Load-AccessKey-Secret-7f3a9c"
	loadHookSecret = "Load-Webhook-Secret-91c2e4"
)

// suite holds what the tests share: one RSA key for the Kit functions, which takes
// seconds to generate. (The function binaries are built once per content state by
// the local run's build cache.)
var suite struct {
	rsaKey string // KG_KIT_RSA_PRIVATE_KEY (base64 PEM)
}

func TestMain(m *testing.M) {
	key, err := clientsecret.Generate(clientsecret.MinBits)
	if err == nil {
		var pemBytes []byte
		if pemBytes, err = clientsecret.PrivatePEM(key); err == nil {
			suite.rsaKey = base64.StdEncoding.EncodeToString(pemBytes)
		}
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "generating the Kit RSA key:", err)
		os.Exit(1)
	}
	os.Exit(m.Run())
}

// scale returns short under -short (the CI form) and long otherwise.
func scale(short, long int) int {
	if testing.Short() {
		return short
	}
	return long
}

// stackOptions adjust a test's stack.
type stackOptions struct {
	// dsn is the database the functions use; empty means a fresh test database.
	dsn string
	// direct is the test's own connection to that database (around the proxy);
	// empty means dsn.
	direct string
	env    []string
	timer  time.Duration
	// manifestLimits runs each function at its maxInstances of serverless.yml
	// instead of 8 instances of every function.
	manifestLimits bool
	// engine names the database in the log when it is not the test server's.
	engine string
}

// world is a running stack with what a test needs around it.
type world struct {
	t      *testing.T
	stack  *localrun.Stack
	base   string
	db     *sql.DB // the test's own connection, never through the proxy
	logs   *logbuf.Buffer
	client *probe.Client

	mu      sync.Mutex
	answers strings.Builder
	secrets []string
}

// start runs every function of serverless.yml under the emulator, with the
// suite's secrets, and searches the logs and recorded answers for those secrets
// when the test ends.
func start(t *testing.T, o stackOptions) *world {
	t.Helper()
	if o.dsn == "" {
		o.dsn = dbtest.NewDatabase(t)
	}
	if o.direct == "" {
		o.direct = o.dsn
	}
	dataKey, err := secretbox.NewKey()
	if err != nil {
		t.Fatal(err)
	}
	w := &world{t: t, logs: &logbuf.Buffer{}}
	w.secrets = []string{loadAccessKey, loadHookSecret, dataKey, suite.rsaKey, localrun.LocalSK}
	if cfg, err := mysql.ParseDSN(o.direct); err == nil && len(cfg.Passwd) >= 8 && cfg.Passwd != cfg.User {
		w.secrets = append(w.secrets, cfg.Passwd)
	}
	// Registered first, so it runs last: after the stack has stopped and every
	// log line has arrived.
	t.Cleanup(w.scanSecrets)

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	env := append(os.Environ(),
		"KG_DATA_KEY="+dataKey, "KG_KIT_RSA_PRIVATE_KEY="+suite.rsaKey,
		"PROVISION_WEBHOOK_SECRET="+loadHookSecret, "LOG_LEVEL=debug")
	env = append(env, o.env...)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	instances := 8
	if o.manifestLimits {
		instances = 0
	}
	stack, err := localrun.Start(ctx, localrun.Options{
		Addr: ln.Addr().String(), ModuleDir: "../../..", DSN: o.dsn,
		AccessKey: loadAccessKey, Env: env, MaxInstances: instances, TimerEvery: o.timer,
		FunctionOutput: w.logs, BuildOutput: io.Discard,
		Logger: slog.New(slog.NewTextHandler(w.logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
	})
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: stack.Handler(), ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	db, err := sql.Open("mysql", o.direct)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close(); stack.Close(); db.Close() })
	w.stack, w.base, w.db = stack, "http://"+ln.Addr().String(), db
	w.client = &probe.Client{
		URL: w.base + "/saas/produce", Key: kgsign.NewKey([]byte(loadAccessKey), "t"),
		// Only a guard against a call that never ends: the gateway's own timeout
		// answers long before it.
		HTTP: &http.Client{Timeout: 2 * time.Minute, Transport: &http.Transport{MaxIdleConnsPerHost: 256, MaxConnsPerHost: 256}},
	}
	engine := dbtest.Engine()
	if o.engine != "" {
		engine = o.engine
	}
	t.Logf("database: %s; functions reach it at %s", engine, stack.DatabaseLabel())
	return w
}

// call signs and sends one saas-produce body and records the answer for the
// secret scan.
func (w *world) call(ctx context.Context, body string) (probe.Answer, error) {
	a, err := w.client.Post(ctx, []byte(body))
	if err == nil {
		w.mu.Lock()
		w.answers.Write(a.Body)
		fmt.Fprintln(&w.answers, a.Header)
		w.mu.Unlock()
	}
	return a, err
}

// scanSecrets fails the test if any secret appears in the logs or answers. It also
// checks that the logs hold what the calls must have logged, so that an empty log
// cannot pass.
func (w *world) scanSecrets() {
	logs := w.logs.String()
	if !strings.Contains(logs, `"resultCode":`) {
		w.t.Errorf("the function logs hold no request lines (%d bytes): the secret scan would be vacuous", len(logs))
	}
	w.mu.Lock()
	haystack := logs + w.answers.String()
	w.mu.Unlock()
	hits := 0
	for _, s := range w.secrets {
		if s == "" {
			continue
		}
		if n := strings.Count(haystack, s); n > 0 {
			hits += n
			w.t.Errorf("a secret (%s…) appears %d times in the logs or answers", s[:4], n)
		}
	}
	w.t.Logf("secret scan: %d secrets, %d bytes of logs and answers, %d hits", len(w.secrets), len(haystack), hits)
}

// logLine returns the log lines that mention id (an APIG request id), or a note
// that none does.
func (w *world) logLine(id string) string {
	var lines []string
	for _, l := range strings.Split(w.logs.String(), "\n") {
		if strings.Contains(l, id) {
			lines = append(lines, l)
		}
	}
	if len(lines) == 0 {
		return "(no line mentions request " + id + ")"
	}
	return strings.Join(lines, "\n")
}

// count runs a COUNT query on the test's own connection.
func (w *world) count(q string, args ...any) int {
	w.t.Helper()
	var n int
	if err := w.db.QueryRow(q, args...).Scan(&n); err != nil {
		w.t.Fatalf("%s: %v", q, err)
	}
	return n
}

// waitFor polls cond until it holds or limit passes.
func (w *world) waitFor(what string, limit time.Duration, cond func() bool) {
	w.t.Helper()
	deadline := time.Now().Add(limit)
	for !cond() {
		if time.Now().After(deadline) {
			w.t.Fatalf("timed out after %s waiting for %s", limit, what)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// receiver is the seller's application behind the webhook provisioner: it checks
// each event's signature and counts deliveries per event id (KG-Event-Id, the
// idempotency key a receiver deduplicates on).
type receiver struct {
	mu        sync.Mutex
	secrets   sellerhook.Secrets
	delivered map[string]int    // event id -> deliveries
	types     map[string]string // event id -> type
	badSig    int
}

func newReceiver(t *testing.T) (*receiver, string) {
	t.Helper()
	secrets, err := sellerhook.NewSecrets(loadHookSecret)
	if err != nil {
		t.Fatal(err)
	}
	r := &receiver{secrets: secrets, delivered: map[string]int{}, types: map[string]string{}}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: r, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { srv.Close() })
	return r, "http://" + ln.Addr().String() + "/hook"
}

func (r *receiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	body, _ := io.ReadAll(io.LimitReader(req.Body, 1<<20))
	r.mu.Lock()
	defer r.mu.Unlock()
	if err := r.secrets.Verify(req.Header.Get(sellerhook.Header), body, time.Now(), 0); err != nil {
		r.badSig++
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	var ev struct {
		ID       string `json:"id"`
		Type     string `json:"type"`
		Instance struct {
			InstanceID string `json:"instanceId"`
			OrderID    string `json:"orderId"`
		} `json:"instance"`
	}
	_ = json.Unmarshal(body, &ev)
	id := req.Header.Get("KG-Event-Id")
	if id == "" || id != ev.ID {
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	// The interface monitor's probe instance is provisioned too whenever its
	// timer runs; the tests count the events of their own orders.
	if ev.Instance.OrderID != monitor.DefaultProbeOrderID {
		r.delivered[id]++
		r.types[id] = ev.Type
	}
	if ev.Type != "instance.provision" {
		w.WriteHeader(http.StatusNoContent)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_, _ = fmt.Fprintf(w, `{"frontEndUrl":"https://app.example.com/%s","userName":"admin","password":"pw-%s"}`, ev.Instance.InstanceID, ev.Instance.InstanceID)
}

// snapshot returns copies of the counters.
func (r *receiver) snapshot() (delivered map[string]int, types map[string]string, badSig int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	delivered, types = map[string]int{}, map[string]string{}
	for k, v := range r.delivered {
		delivered[k] = v
	}
	for k, v := range r.types {
		types[k] = v
	}
	return delivered, types, r.badSig
}

func newInstanceBody(order, business string) string {
	return fmt.Sprintf(`{"activity":"newInstance","businessId":%q,"orderId":%q,"orderLineId":"%s-000001","testFlag":"1"}`, business, order, order)
}

package monitor_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"io"
	"log/slog"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"

	"github.com/kgseller/kgseller/shared/alert"
	"github.com/kgseller/kgseller/shared/config"
	"github.com/kgseller/kgseller/shared/fakes/fakealert"
	"github.com/kgseller/kgseller/shared/fgruntime/httpfn"
	"github.com/kgseller/kgseller/shared/kgsign"
	"github.com/kgseller/kgseller/shared/monitor"
	"github.com/kgseller/kgseller/shared/store"
	"github.com/kgseller/kgseller/shared/tools/dbtest"
	"github.com/kgseller/kgseller/shared/tools/loadtest"
	"github.com/kgseller/kgseller/shared/wire/kitfn"
	"github.com/kgseller/kgseller/shared/wire/notifyfn"
	"github.com/kgseller/kgseller/shared/wire/saasfn"
)

const (
	basicKey  = "monitor-basic-key"
	kitKey    = "monitor-kit-key"
	notifyKey = "monitor-notify-key"
	failAfter = 2
)

// Fault modes of the interface under test.
// probeTimeout bounds each probe in these tests: far above what the in-process
// interface takes, short so that the hanging interface's runs end soon.
const probeTimeout = 1500 * time.Millisecond

const (
	modeOK      = ""
	modeHang    = "hang"    // no answer until the caller gives up
	modeBadSign = "badsign" // answers signed with another key
	mode5xx     = "502"     // the gateway answers 502
	mode404     = "404"     // the route is gone
)

// certs is a test CA and the leaf certificates of 127.0.0.1 it can sign.
type certs struct {
	pool   *x509.CertPool
	ca     *x509.Certificate
	caKey  *ecdsa.PrivateKey
	serial int64
}

func newCerts(t *testing.T) *certs {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "monitor test CA"},
		NotBefore: time.Now().Add(-48 * time.Hour), NotAfter: time.Now().Add(10 * 365 * 24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	ca, _ := x509.ParseCertificate(der)
	pool := x509.NewCertPool()
	pool.AddCert(ca)
	return &certs{pool: pool, ca: ca, caKey: key, serial: 1}
}

// leaf issues a certificate for 127.0.0.1 valid until notAfter.
func (c *certs) leaf(t *testing.T, notAfter time.Time) *tls.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	c.serial++
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(c.serial), Subject: pkix.Name{CommonName: "127.0.0.1"},
		NotBefore: time.Now().Add(-24 * time.Hour * 400), NotAfter: notAfter, IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)},
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, c.ca, &key.PublicKey, c.caKey)
	if err != nil {
		t.Fatal(err)
	}
	return &tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}

// harness is the production interface (saas-produce, kit-tenant-sync and
// order-notify, assembled from settings) behind a TLS server whose faults and
// certificate the test switches, a database behind a proxy the test can cut, and
// the monitor with a fake WeCom robot.
type harness struct {
	t        *testing.T
	mode     atomic.Value
	cert     atomic.Pointer[tls.Certificate]
	certs    *certs
	srv      *httptest.Server
	proxy    *loadtest.Proxy
	robot    *fakealert.Robot
	mon      *monitor.Monitor
	st       *store.Store
	host     string
	base     string
	robotURL string
	mu       sync.Mutex
	counts   map[string]int
}

func newHarness(t *testing.T) *harness {
	t.Helper()
	h := &harness{t: t, certs: newCerts(t)}
	h.mode.Store(modeOK)
	h.cert.Store(h.certs.leaf(t, time.Now().Add(365*24*time.Hour)))

	dsn := dbtest.NewDatabase(t)
	cfg, err := mysql.ParseDSN(dsn)
	if err != nil {
		t.Fatal(err)
	}
	h.proxy, err = loadtest.NewProxy(cfg.Addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(h.proxy.Close)
	cfg.Addr = h.proxy.Addr()
	dsn = cfg.FormatDSN()

	env := config.Map(map[string]string{
		"DB_DSN": dsn, "LOG_LEVEL": "error", "KG_ACCESS_KEY_BASIC": basicKey, "KG_ACCESS_KEY_KIT": kitKey,
		"KG_ACCESS_KEY_NOTIFY": notifyKey, "PROVISION_FRONTEND_URL": "https://app.example.com/i/{instanceId}",
		"FULFIL_MODE": "inline", "KG_QUERY_ORDERS": "false",
	})
	// release frees hanging handlers when the test ends, before the server waits
	// for them to return.
	release := make(chan struct{})
	mux := http.NewServeMux()
	mux.Handle("/saas/produce", httpfn.HTTPHandler(saasfn.SaaSProduce(env)))
	mux.Handle("/saas/produce/produceAPI/v2/tenantSync", httpfn.HTTPHandler(kitfn.TenantSync(env)))
	mux.Handle("/order/notify", httpfn.HTTPHandler(notifyfn.OrderNotify(env)))
	h.srv = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch h.mode.Load().(string) {
		case modeHang:
			select {
			case <-r.Context().Done():
			case <-release:
			}
			return
		case mode5xx:
			http.Error(w, `{"error_code":"APIG.0201","error_msg":"Backend unavailable"}`, http.StatusBadGateway)
			return
		case mode404:
			http.Error(w, `{"error_code":"APIG.0101","error_msg":"The API does not exist or has not been published"}`, http.StatusNotFound)
			return
		case modeBadSign:
			rec := httptest.NewRecorder()
			mux.ServeHTTP(rec, r)
			for k, v := range rec.Header() {
				w.Header()[k] = v
			}
			w.Header().Set("Body-Sign", kgsign.BodySignHeader(kgsign.NewKey([]byte("rotated-key"), "x"), rec.Body.Bytes()))
			w.WriteHeader(rec.Code)
			_, _ = w.Write(rec.Body.Bytes())
			return
		}
		mux.ServeHTTP(w, r)
	}))
	// A TLS listener of its own: httptest's StartTLS would answer clients without
	// SNI (an IP address) with its built-in certificate instead of the test's.
	h.srv.Listener = tls.NewListener(h.srv.Listener, &tls.Config{
		GetCertificate: func(*tls.ClientHelloInfo) (*tls.Certificate, error) { return h.cert.Load(), nil }})
	h.srv.Start()
	t.Cleanup(h.srv.Close)
	t.Cleanup(func() { close(release) })
	h.host = h.srv.Listener.Addr().String()
	h.base = "https://" + h.host
	base := h.base

	h.robot = fakealert.NewRobot(alert.FormatWeCom, "", nil)
	robotSrv := httptest.NewServer(h.robot)
	t.Cleanup(robotSrv.Close)
	h.robotURL = robotSrv.URL + "/cgi-bin/webhook/send?key=k"

	h.st, err = store.Open(dsn, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.st.Close() })
	h.mon = monitor.New(monitor.Config{
		SaaSURL: base + "/saas/produce", KitURL: base + "/saas/produce", NotifyURL: base + "/order/notify",
		BasicKey: kgsign.NewKey([]byte(basicKey), "b"), KitKey: kgsign.NewKey([]byte(kitKey), "k"),
		NotifyKey: kgsign.NewKey([]byte(notifyKey), "n"),
		Timeout:   probeTimeout, FailAfter: failAfter, RootCAs: h.certs.pool, RunsKept: 5,
	}, h.st, alert.Fanout{&alert.Robot{URL: h.robotURL, Format: alert.FormatWeCom}},
		slog.New(slog.NewTextHandler(io.Discard, nil)))
	return h
}

// run runs the monitor once and returns what it reported.
func (h *harness) run() monitor.Report {
	h.t.Helper()
	return h.mon.Run(context.Background())
}

// notices counts the robot's messages by their first line.
func (h *harness) notices() map[string]int {
	out := map[string]int{}
	for _, m := range h.robot.Messages() {
		first, _, _ := strings.Cut(m.Text, "\n")
		out[first]++
	}
	return out
}

// healthy runs the monitor n times and requires every check to pass.
func (h *harness) healthy(n int) {
	h.t.Helper()
	for i := 0; i < n; i++ {
		if rep := h.run(); len(rep.Failing()) > 0 {
			h.t.Fatalf("healthy run %d: failing %v: %+v", i+1, rep.Failing(), rep.Checks)
		}
	}
}

// incident breaks the interface with fault, runs the monitor until well past the
// alert threshold, repairs it and runs again: the robot must have received exactly
// one alert and one recovery for each of the checks in want, and nothing else.
func (h *harness) incident(name string, fault, repair func(), want ...string) {
	h.t.Helper()
	before := h.notices()
	fault()
	for i := 0; i < failAfter+2; i++ {
		rep := h.run()
		for _, c := range want {
			if !contains(rep.Failing(), c) {
				h.t.Fatalf("%s, run %d: %s does not fail: %+v", name, i+1, c, rep.Checks)
			}
		}
	}
	repair()
	h.healthy(2)
	got := h.notices()
	for k, n := range before {
		got[k] -= n
		if got[k] == 0 {
			delete(got, k)
		}
	}
	wantNotices := map[string]int{}
	for _, c := range want {
		wantNotices["[kgseller] ALERT: "+c]++
		wantNotices["[kgseller] RECOVERED: "+c]++
	}
	if len(got) != len(wantNotices) {
		h.t.Fatalf("%s: notices %v, want %v", name, got, wantNotices)
	}
	for k, n := range wantNotices {
		if got[k] != n {
			h.t.Fatalf("%s: notices %v, want %v", name, got, wantNotices)
		}
	}
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// TestEachFailureModeAlertsOnceAndRecoversOnce: a hanging interface, answers
// signed with another key, a 5xx and a 404 from the gateway are each one incident
// of the interface check; an expired certificate and one about to expire are the
// certificate's; a database cut is the database's (the interface's 000005 answers
// are part of it). Each raises exactly one alert and one recovery.
func TestEachFailureModeAlertsOnceAndRecoversOnce(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.healthy(2)
	if n := len(h.robot.Messages()); n != 0 {
		t.Fatalf("a healthy interface raised %d notices", n)
	}
	setMode := func(m string) func() { return func() { h.mode.Store(m) } }
	for _, mode := range []string{modeHang, modeBadSign, mode5xx, mode404} {
		h.incident(mode, setMode(mode), setMode(modeOK), monitor.CheckInterface)
	}
	valid := h.cert.Load()
	tlsCheck := "tls " + h.host
	h.incident("expired certificate", func() { h.cert.Store(h.certs.leaf(t, time.Now().Add(-time.Hour))) },
		func() { h.cert.Store(valid) }, tlsCheck)
	h.incident("certificate expiring in 10 days", func() { h.cert.Store(h.certs.leaf(t, time.Now().Add(10*24*time.Hour))) },
		func() { h.cert.Store(valid) }, tlsCheck)
	h.incident("database cut", h.proxy.Cut, func() {
		if err := h.proxy.Restore(); err != nil {
			t.Fatal(err)
		}
	}, monitor.CheckDatabase)

	// What the last alert said.
	msgs := h.robot.Messages()
	var last string
	for _, m := range msgs {
		if strings.HasPrefix(m.Text, "[kgseller] ALERT: database") {
			last = m.Text
		}
	}
	if !strings.Contains(last, "unreachable") || !strings.Contains(last, "What to do:") {
		t.Fatalf("database alert %q", last)
	}
}

// TestUndeliveredAlertIsRetriedAndNotRepeated: an alert no channel took is sent on
// the next run, once.
func TestUndeliveredAlertIsRetriedAndNotRepeated(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.healthy(1)
	down := &flakyNotifier{}
	h.mon = monitor.New(monitor.Config{
		SaaSURL: h.base + "/saas/produce", BasicKey: kgsign.NewKey([]byte(basicKey), "b"),
		Timeout: probeTimeout, FailAfter: failAfter, RootCAs: h.certs.pool,
	}, h.st, down, slog.New(slog.NewTextHandler(io.Discard, nil)))
	h.mode.Store(mode5xx)
	down.fail.Store(true)
	for i := 0; i < failAfter; i++ {
		h.run()
	}
	if down.sent() != 0 || down.tries() != 1 {
		t.Fatalf("sent %d, tried %d", down.sent(), down.tries())
	}
	down.fail.Store(false)
	h.run()
	h.run()
	if down.sent() != 1 {
		t.Fatalf("after the channel came back: %d alerts sent, want 1", down.sent())
	}
	h.mode.Store(modeOK)
	h.run()
	h.run()
	if down.sent() != 2 {
		t.Fatalf("recovery: %d notices sent, want 2", down.sent())
	}
}

type flakyNotifier struct {
	fail     atomic.Bool
	mu       sync.Mutex
	nTries   int
	nSent    int
	notices_ []alert.Notice
}

func (f *flakyNotifier) Send(_ context.Context, n alert.Notice) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.nTries++
	if f.fail.Load() {
		return 0, io.ErrUnexpectedEOF
	}
	f.nSent++
	f.notices_ = append(f.notices_, n)
	return 1, nil
}
func (f *flakyNotifier) sent() int  { f.mu.Lock(); defer f.mu.Unlock(); return f.nSent }
func (f *flakyNotifier) tries() int { f.mu.Lock(); defer f.mu.Unlock(); return f.nTries }

// TestStateSurvivesAColdStartAndRunsAreBounded: a new function instance (a new
// Monitor) picks the open incident up from the database and neither alerts again
// nor forgets to recover; runs recorded while the database was cut are saved
// when it is back; each check keeps at most RunsKept runs.
func TestStateSurvivesAColdStartAndRunsAreBounded(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.mode.Store(mode5xx)
	for i := 0; i < failAfter+1; i++ {
		h.run()
	}
	if n := h.notices()["[kgseller] ALERT: interface"]; n != 1 {
		t.Fatalf("%d alerts", n)
	}
	// The database is cut for two runs: the database check fails, below the
	// threshold, and its runs wait in memory.
	h.proxy.Cut()
	h.run()
	if err := h.proxy.Restore(); err != nil {
		t.Fatal(err)
	}
	cold := monitor.New(monitor.Config{
		SaaSURL: h.base + "/saas/produce", BasicKey: kgsign.NewKey([]byte(basicKey), "b"),
		Timeout: probeTimeout, FailAfter: failAfter, RootCAs: h.certs.pool, RunsKept: 5,
	}, h.st, alert.Fanout{&alert.Robot{URL: h.robotURL, Format: alert.FormatWeCom}}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	h.mon.Run(context.Background()) // the warm instance saves what it kept in memory
	runs, err := h.st.ListMonitorRuns(context.Background(), store.MonitorRunFilter{Check: monitor.CheckDatabase, Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	failed := 0
	for _, r := range runs {
		if !r.OK {
			failed++
		}
	}
	if failed != 1 {
		t.Fatalf("the run made while the database was cut was not saved: %+v", runs)
	}
	for i := 0; i < 4; i++ {
		cold.Run(context.Background())
	}
	if n := h.notices()["[kgseller] ALERT: interface"]; n != 1 {
		t.Fatalf("the cold instance alerted again: %d alerts", n)
	}
	h.mode.Store(modeOK)
	cold.Run(context.Background())
	if n := h.notices()["[kgseller] RECOVERED: interface"]; n != 1 {
		t.Fatalf("%d recoveries after a cold start", n)
	}
	all, err := h.st.ListMonitorRuns(context.Background(), store.MonitorRunFilter{Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	per := map[string]int{}
	for _, r := range all {
		per[r.Check]++
	}
	for check, n := range per {
		if n > 5 {
			t.Fatalf("%s keeps %d runs, want at most 5", check, n)
		}
	}
	if per[monitor.CheckInterface] != 5 {
		t.Fatalf("interface keeps %d runs after 9, want 5", per[monitor.CheckInterface])
	}
}

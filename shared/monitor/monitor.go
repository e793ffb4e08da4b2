// Package monitor watches the seller's production interface the way the
// marketplace does, and its insides, and raises one alert per incident
// (docs/monitoring.md). Every run (interface-monitor's TIMER trigger, every five
// minutes) it:
//
//   - calls the production URLs as the marketplace's dial tests do (probes.go):
//     a signed queryInstance of a probe instance created once with testFlag "1",
//     a forged request that must answer 000001, a signed Kit call, each judged by
//     the simulator's checks (shared/probe) within the 5 s budget; all of them
//     together are the check "interface";
//   - checks the certificate of every https host ("tls <host>");
//   - checks the database, DEAD and stuck outbox jobs, instances stuck in
//     PROVISIONING and the nonce table (internal.go).
//
// A check alerts after MONITOR_FAIL_AFTER failed runs in a row and recovers with
// its next passing run, each notice once (incident.go). A check that cannot be
// judged because another failed is not counted: while the database is down the
// interface (which then answers 000005) is reported within the database's alert,
// and while a host's TLS handshake fails its calls are the certificate's incident.
// State and recent runs live in monitor_checks and monitor_runs, and in memory
// while the database is unreachable.
package monitor

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/kgseller/kgseller/shared/alert"
	"github.com/kgseller/kgseller/shared/kgsign"
	"github.com/kgseller/kgseller/shared/marketplace"
	"github.com/kgseller/kgseller/shared/store"
)

// Defaults of Config.
const (
	DefaultName            = "kgseller"
	DefaultProbeOrderID    = "MOCKPERIODYEARNEW"
	DefaultProbeBusinessID = "kgmonitor-probe-0001"
	// DefaultTimeout is the marketplace's per-call limit (docs/protocol.md#timeouts).
	DefaultTimeout         = 5 * time.Second
	DefaultFailAfter       = 3
	DefaultCertWarnDays    = 21
	DefaultJobAge          = 15 * time.Minute
	DefaultProvisioningAge = 30 * time.Minute
	DefaultNoncesMax       = 1_000_000
	DefaultRunsKept        = 288 // a day of five-minute runs
	maxPendingRuns         = 2000
)

// Check names.
const (
	CheckInterface    = "interface"
	CheckDatabase     = "database"
	CheckDeadJobs     = "jobs.dead"
	CheckStuckJobs    = "jobs.stuck"
	CheckProvisioning = "instances.provisioning"
	CheckNonces       = "nonces"
	checkTLSPrefix    = "tls "
)

// Config is what the monitor watches and its thresholds.
type Config struct {
	Name string
	// The production addresses to call (empty: not deployed) and the key of each
	// interface type (the Kit below KitURL).
	SaaSURL, LicenseURL, KitURL, NotifyURL  string
	BasicKey, LicenseKey, KitKey, NotifyKey kgsign.Key
	KitHashedPayload                        bool
	// The probe instance's order (its line is <order>-000001) and businessId.
	ProbeOrderID, ProbeBusinessID string
	Timeout                       time.Duration
	FailAfter                     int
	CertWarn                      time.Duration
	JobAge, ProvisioningAge       time.Duration
	DeadJobsMax                   int
	NoncesMax                     int64
	RunsKept                      int
	// RootCAs verifies the interface's certificates; nil uses the system's.
	RootCAs *x509.CertPool
}

func (c Config) withDefaults() Config {
	def := func(s *string, v string) {
		if *s == "" {
			*s = v
		}
	}
	def(&c.Name, DefaultName)
	def(&c.ProbeOrderID, DefaultProbeOrderID)
	def(&c.ProbeBusinessID, DefaultProbeBusinessID)
	if c.Timeout <= 0 {
		c.Timeout = DefaultTimeout
	}
	if c.FailAfter <= 0 {
		c.FailAfter = DefaultFailAfter
	}
	if c.CertWarn <= 0 {
		c.CertWarn = DefaultCertWarnDays * 24 * time.Hour
	}
	if c.JobAge <= 0 {
		c.JobAge = DefaultJobAge
	}
	if c.ProvisioningAge <= 0 {
		c.ProvisioningAge = DefaultProvisioningAge
	}
	if c.NoncesMax <= 0 {
		c.NoncesMax = DefaultNoncesMax
	}
	if c.RunsKept <= 0 {
		c.RunsKept = DefaultRunsKept
	}
	return c
}

// Notifier delivers notices (alert.Fanout).
type Notifier interface {
	Send(ctx context.Context, n alert.Notice) (delivered int, err error)
}

// Monitor runs the checks. One is kept per warm function instance.
type Monitor struct {
	cfg      Config
	store    *store.Store
	notify   Notifier
	logger   *slog.Logger
	http     *http.Client
	now      func() time.Time
	wrongKey kgsign.Key

	saas, license, kit, notifyT target

	mu           sync.Mutex
	states       map[string]*store.MonitorCheck
	loaded       bool
	pending      []store.MonitorRun
	lastNonces   int64
	probeID      string
	probeCreated time.Time
}

// New returns a monitor over st, sending notices through n (nil: none).
func New(cfg Config, st *store.Store, n Notifier, logger *slog.Logger) *Monitor {
	cfg = cfg.withDefaults()
	if logger == nil {
		logger = slog.Default()
	}
	if n == nil {
		n = alert.Fanout(nil)
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	if tr.TLSClientConfig == nil {
		tr.TLSClientConfig = &tls.Config{}
	}
	tr.TLSClientConfig.RootCAs = cfg.RootCAs
	tr.TLSClientConfig.MinVersion = tls.VersionTLS12
	// No keep-alive: each call opens its own connection, as a marketplace call
	// does, so a certificate or route change shows on the next run.
	tr.DisableKeepAlives = true
	return &Monitor{
		cfg: cfg, store: st, notify: n, logger: logger, now: time.Now,
		http:     &http.Client{Transport: tr},
		wrongKey: kgsign.NewKey([]byte("kgmonitor-forged-"+uuid.NewString()), "kgmonitor-forged"),
		saas:     target{name: "saas", url: cfg.SaaSURL, key: cfg.BasicKey},
		license:  target{name: "license", url: cfg.LicenseURL, key: cfg.LicenseKey},
		kit:      target{name: "kit", url: cfg.KitURL, key: cfg.KitKey},
		notifyT:  target{name: "notify", url: cfg.NotifyURL, key: cfg.NotifyKey},
	}
}

// SetClock replaces the clock (tests).
func (m *Monitor) SetClock(now func() time.Time) { m.now = now }

// CheckResult is one check's outcome in a run.
type CheckResult struct {
	Check     string `json:"check"`
	OK        bool   `json:"ok"`
	Skipped   bool   `json:"skipped,omitempty"`
	Detail    string `json:"detail"`
	LatencyMS int    `json:"latencyMs,omitempty"`
}

// Report is what one run found and did.
type Report struct {
	Checks   []CheckResult `json:"checks"`
	Alerts   []string      `json:"alerts,omitempty"`
	Recovery []string      `json:"recoveries,omitempty"`
	Unsent   []string      `json:"unsent,omitempty"`
	Saved    bool          `json:"saved"`
	Error    string        `json:"error,omitempty"`
}

// Failing lists the checks that failed in this run.
func (r Report) Failing() []string {
	var out []string
	for _, c := range r.Checks {
		if !c.OK && !c.Skipped {
			out = append(out, c.Check)
		}
	}
	return out
}

// Run runs every check once.
func (m *Monitor) Run(ctx context.Context) Report {
	now := m.now().UTC()
	var results []CheckResult

	pctx, cancel := context.WithTimeout(ctx, m.cfg.Timeout)
	dbErr := m.store.Ping(pctx)
	cancel()
	dbOK := dbErr == nil
	if dbOK {
		m.load(ctx)
	}

	var tlsRes []tlsResult
	var wg sync.WaitGroup
	var mu sync.Mutex
	for _, hp := range m.tlsHosts() {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := m.certificate(ctx, hp)
			mu.Lock()
			tlsRes = append(tlsRes, r)
			mu.Unlock()
		}()
	}
	var probes []probeResult
	if m.saas.url != "" || m.license.url != "" || m.kit.url != "" || m.notifyT.url != "" {
		probes = m.probes(ctx, dbOK)
	}
	wg.Wait()
	slices.SortFunc(tlsRes, func(a, b tlsResult) int { return strings.Compare(a.host, b.host) })

	// The database.
	db := CheckResult{Check: CheckDatabase, OK: dbOK, Detail: "reachable"}
	if !dbOK {
		db.Detail = "unreachable: " + redactErr(dbErr)
		if failing := failingProbes(probes); failing != "" {
			db.Detail += "; meanwhile the interface fails: " + failing
		}
	}
	results = append(results, db)
	if dbOK {
		results = append(results, m.internal(ctx, now)...)
	}

	// Certificates; a failed handshake takes its host's calls with it.
	broken := map[string]bool{}
	for _, r := range tlsRes {
		results = append(results, CheckResult{Check: checkTLSPrefix + r.host, OK: r.ok, Detail: r.detail})
		if r.handshake {
			broken[r.host] = true
		}
	}

	// The interface, judged only when the database and the certificates are not
	// already failing it.
	if len(probes) > 0 {
		ir := CheckResult{Check: CheckInterface, OK: true}
		var parts []string
		judged := 0
		for _, p := range probes {
			if broken[p.host] {
				continue
			}
			judged++
			if ms := int(p.latency.Milliseconds()); ms > ir.LatencyMS {
				ir.LatencyMS = ms
			}
			if !p.ok {
				ir.OK = false
				parts = append(parts, p.name+": "+p.detail)
			}
		}
		switch {
		case !dbOK:
			ir.Skipped, ir.Detail = true, "not judged: the database is unreachable (see the database check)"
		case judged == 0:
			ir.Skipped, ir.Detail = true, "not judged: the TLS handshake fails (see the tls check)"
		case ir.OK:
			ir.Detail = okSummary(probes, broken)
		default:
			ir.Detail = strings.Join(parts, "; ")
		}
		results = append(results, ir)
	}
	return m.record(ctx, now, results, dbOK)
}

func failingProbes(ps []probeResult) string {
	var parts []string
	for _, p := range ps {
		if !p.ok {
			parts = append(parts, p.name+": "+p.detail)
		}
	}
	return strings.Join(parts, "; ")
}

func okSummary(ps []probeResult, broken map[string]bool) string {
	var parts []string
	for _, p := range ps {
		if !broken[p.host] {
			parts = append(parts, p.name+" "+p.detail)
		}
	}
	return strings.Join(parts, "; ")
}

// load reads the checks' state once per instance, keeping what this instance
// observed while the database was unreachable.
func (m *Monitor) load(ctx context.Context) {
	m.mu.Lock()
	loaded := m.loaded
	m.mu.Unlock()
	if loaded {
		return
	}
	checks, err := m.store.MonitorChecks(ctx)
	if err != nil {
		m.logger.Warn("reading the monitor's state", "err", err.Error())
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.states == nil {
		m.states = map[string]*store.MonitorCheck{}
	}
	for _, c := range checks {
		if _, ok := m.states[c.Name]; !ok {
			c := c
			m.states[c.Name] = &c
		}
	}
	m.loaded = true
}

// record folds the results into the states, sends the notices due and saves.
func (m *Monitor) record(ctx context.Context, now time.Time, results []CheckResult, dbOK bool) Report {
	rep := Report{Checks: results}
	m.mu.Lock()
	if m.states == nil {
		m.states = map[string]*store.MonitorCheck{}
	}
	var notices []alert.Notice
	touched := map[string]bool{}
	for _, r := range results {
		if r.Skipped {
			continue
		}
		st := m.states[r.Check]
		if st == nil {
			st = &store.MonitorCheck{Name: r.Check}
			m.states[r.Check] = st
		}
		unsentBefore := st.Unsent
		n := observe(st, r.OK, r.Detail, now, m.cfg.FailAfter)
		st.Seq++
		touched[r.Check] = true
		m.pending = append(m.pending, store.MonitorRun{Check: r.Check, Seq: st.Seq, RunAt: now, OK: r.OK, LatencyMS: r.LatencyMS, Detail: r.Detail})
		switch {
		case n.Kind != "":
			notices = append(notices, n)
		case st.Unsent != "" && st.Unsent == unsentBefore:
			notices = append(notices, unsentNotice(*st, now))
		}
	}
	// Notices left unsent by checks not run this time.
	for name, st := range m.states {
		if !touched[name] && st.Unsent != "" {
			notices = append(notices, unsentNotice(*st, now))
		}
	}
	if len(m.pending) > maxPendingRuns {
		m.pending = m.pending[len(m.pending)-maxPendingRuns:]
	}
	m.mu.Unlock()

	slices.SortFunc(notices, func(a, b alert.Notice) int { return strings.Compare(a.Check, b.Check) })
	for _, n := range notices {
		n.Service, n.Advice = m.cfg.Name, Advice(n.Check)
		delivered, err := m.notify.Send(ctx, n)
		if err != nil {
			m.logger.Warn("monitor notice not delivered on every channel", "check", n.Check, "kind", string(n.Kind), "err", err.Error())
		}
		m.logger.Warn("monitor "+string(n.Kind), "check", n.Check, "failures", n.Failures, "detail", marketplace.SafeText(n.Detail, 500), "channels", delivered)
		m.mu.Lock()
		if st := m.states[n.Check]; st != nil && delivered > 0 && st.Unsent == string(n.Kind) {
			st.Unsent = ""
		}
		m.mu.Unlock()
		switch {
		case delivered == 0:
			rep.Unsent = append(rep.Unsent, n.Check)
		case n.Kind == alert.KindAlert:
			rep.Alerts = append(rep.Alerts, n.Check)
		default:
			rep.Recovery = append(rep.Recovery, n.Check)
		}
	}

	if dbOK {
		m.mu.Lock()
		checks := make([]store.MonitorCheck, 0, len(m.states))
		for _, st := range m.states {
			checks = append(checks, *st)
		}
		runs := append([]store.MonitorRun(nil), m.pending...)
		m.mu.Unlock()
		slices.SortFunc(checks, func(a, b store.MonitorCheck) int { return strings.Compare(a.Name, b.Name) })
		if err := m.store.SaveMonitor(ctx, checks, runs, m.cfg.RunsKept); err != nil {
			rep.Error = "saving the runs: " + redactErr(err)
			m.logger.Warn("saving the monitor's runs", "err", rep.Error)
		} else {
			rep.Saved = true
			m.mu.Lock()
			m.pending = m.pending[len(runs):]
			m.mu.Unlock()
		}
	}
	for _, r := range results {
		level := slog.LevelInfo
		if !r.OK && !r.Skipped {
			level = slog.LevelWarn
		}
		m.logger.Log(ctx, level, "monitor check", "check", r.Check, "ok", r.OK, "skipped", r.Skipped, "detail", marketplace.SafeText(r.Detail, 500))
	}
	return rep
}

// Advice says what to do about a failing check (the alerts carry it).
func Advice(check string) string {
	switch {
	case check == CheckInterface:
		return "the marketplace's calls fail as shown: check the functions' logs and their keys (KG_ACCESS_KEY_*) against the Seller Console, then run scripts/kgsim against the address (docs/monitoring.md#interface)"
	case strings.HasPrefix(check, checkTLSPrefix):
		return "renew the certificate bound to the API group's domain in API Gateway; the marketplace calls only addresses with a valid certificate (docs/monitoring.md#tls)"
	case check == CheckDatabase:
		return "check the RDS instance (running? storage full? connections exhausted?) and DB_DSN; every call answers 000005 meanwhile (docs/monitoring.md#database)"
	case check == CheckDeadJobs:
		return "scripts/ops jobs -state DEAD shows why; fix the cause, then scripts/ops retry -yes ID (docs/monitoring.md#jobs-dead)"
	case check == CheckStuckJobs:
		return "fulfil-worker does not run due jobs: check its TIMER trigger, its logs and its concurrency (docs/monitoring.md#jobs-stuck)"
	case check == CheckProvisioning:
		return "the marketplace polls these instances and answers the buyer 'processing': see scripts/ops history -instance ID and the provisioner (docs/monitoring.md#instances-provisioning)"
	case check == CheckNonces:
		return "expired nonces are not purged: check fulfil-worker runs, or run scripts/ops purge-nonces -yes (docs/monitoring.md#nonces)"
	}
	return "see docs/monitoring.md"
}

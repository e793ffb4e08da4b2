// Package localrun assembles the local run: a database (the embedded engine unless a
// DSN is given) with migrations applied, the function binaries built from the
// manifest as the deployed ones are built, and the APIG/FunctionGraph emulator
// serving them. scripts/local wires it
// to a port and signals; integration tests start the same stack.
package localrun

import (
	"context"
	"crypto/rsa"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/go-sql-driver/mysql"

	"github.com/kgseller/kgseller/shared/apigsign"
	"github.com/kgseller/kgseller/shared/config"
	"github.com/kgseller/kgseller/shared/fakes/fakemkt"
	"github.com/kgseller/kgseller/shared/kit/clientsecret"
	"github.com/kgseller/kgseller/shared/store"
	"github.com/kgseller/kgseller/shared/tools/buildzip"
	"github.com/kgseller/kgseller/shared/tools/dbproc"
	"github.com/kgseller/kgseller/shared/tools/fglocal"
	"github.com/kgseller/kgseller/shared/tools/localstate"
	"github.com/kgseller/kgseller/shared/tools/manifest"
	"github.com/kgseller/kgseller/shared/tools/migrate"
)

// DefaultAccessKey is the access key of the local run when KG_ACCESS_KEY is unset.
// It is printed at start; it is not a secret and must never be used in production.
// localstate holds it so that sign and kgsim know it without linking the stack.
const DefaultAccessKey = localstate.DefaultAccessKey

// Options configure the stack.
type Options struct {
	// Addr is where the caller will serve Handler; it is used for the local
	// front-end URLs handed to instances.
	Addr string
	// ModuleDir is the repository root (with go.mod and serverless.yml).
	ModuleDir string
	// BuildCache is where built binaries are kept by content, so that an unchanged
	// tree starts without building; default buildzip.DefaultCacheDir().
	BuildCache string
	// BuildProgress, when set, hears of each function binary as it is ready (zero
	// time when it came from the cache).
	BuildProgress func(name string, took time.Duration)
	// DSN selects a real MySQL/MariaDB; empty starts the embedded engine.
	DSN string
	// AccessKey is the key of every interface type; default DefaultAccessKey.
	AccessKey string
	// Env is the environment passed to functions (os.Environ() by default).
	Env []string
	// MaxInstances, when positive, replaces every function's maxInstances of
	// serverless.yml (see fglocal.Options).
	MaxInstances   int
	Logger         *slog.Logger
	FunctionOutput io.Writer
	// BuildOutput receives go build's output.
	BuildOutput io.Writer
	// TimerEvery, when positive, replaces the schedule of every TIMER trigger
	// (tests use it instead of waiting a minute).
	TimerEvery time.Duration
	// AlertOutput receives what the fake alert channels are sent (default stdout).
	AlertOutput io.Writer
}

// Stack is a running local run.
type Stack struct {
	Manifest  *manifest.Manifest
	Emulator  *fglocal.Emulator
	DSN       string
	Embedded  bool
	AccessKey string
	// Market is the fake KooGallery open API the functions call, unless
	// KG_MKT_ENDPOINT pointed them elsewhere (then nil).
	Market    *fakemkt.Server
	MarketURL string
	// Alerts are the fake SMN topic and robot that receive interface-monitor's
	// notices.
	Alerts *Alerts
	// KitPublicKey is a PEM file of the Kit app's public key (the pair whose
	// private half kit-application-sync decrypts clientSecret with), for kgsim's
	// applicationSync cases; it is removed by Close.
	KitPublicKey string
	// Settings are the settings functions find missing or invalid in the
	// environment the local run gives them.
	Settings  []SettingProblem
	db        *dbproc.Server
	handler   http.Handler
	stop      []func()
	tmpDir    string
	closeOnce sync.Once
}

// Start brings the stack up; Close takes it down.
func Start(ctx context.Context, o Options) (*Stack, error) {
	if o.ModuleDir == "" {
		o.ModuleDir = "."
	}
	if o.Env == nil {
		o.Env = os.Environ()
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.BuildOutput == nil {
		o.BuildOutput = os.Stderr
	}
	getenv := envLookup(o.Env)
	if o.AccessKey == "" {
		if err := CheckEnv(o.Env); err != nil {
			return nil, err
		}
	}
	s := &Stack{AccessKey: o.AccessKey, DSN: o.DSN}
	if s.AccessKey == "" {
		s.AccessKey = DefaultAccessKey
	}
	m, err := manifest.Load(filepath.Join(o.ModuleDir, "serverless.yml"), getenv)
	if err != nil {
		return nil, err
	}
	s.Manifest = m

	// The functions build while the engine builds and starts: with an empty
	// build cache the two go builds share the machine's cores.
	var mu sync.Mutex
	if progress := o.BuildProgress; progress != nil {
		o.BuildProgress = func(name string, took time.Duration) { mu.Lock(); defer mu.Unlock(); progress(name, took) }
	}
	o.BuildOutput = &lockedWriter{mu: &mu, w: o.BuildOutput}
	type build struct {
		dir string
		err error
	}
	buildCtx, cancelBuild := context.WithCancel(ctx)
	defer cancelBuild()
	built := make(chan build, 1)
	go func() {
		// Built as scripts/build builds the deployed ones (the same flags and
		// tags), for this machine's platform.
		dir, err := buildzip.Binaries(buildCtx, buildzip.BinOptions{ModuleDir: o.ModuleDir, Names: m.Names(), Target: buildzip.Host(),
			Log: o.BuildOutput, Progress: o.BuildProgress, CacheDir: o.BuildCache})
		built <- build{dir, err}
	}()
	if err := s.startDatabase(ctx, o); err != nil {
		cancelBuild()
		<-built
		s.Close()
		return nil, err
	}
	b := <-built
	if b.err != nil {
		s.Close()
		return nil, b.err
	}
	binDir := b.dir
	env := append([]string(nil), o.Env...)
	env = setEnv(env, "DB_DSN", s.DSN)
	env = setEnv(env, "KG_ACCESS_KEY", s.AccessKey)
	if getenv("PROVISION_FRONTEND_URL") == "" {
		env = setEnv(env, "PROVISION_FRONTEND_URL", "http://"+o.Addr+"/app/{instanceId}")
	}
	if getenv("KG_MKT_ENDPOINT") == "" {
		if err := s.startMarket(); err != nil {
			s.Close()
			return nil, err
		}
		env = setEnv(env, "KG_MKT_ENDPOINT", s.MarketURL)
		env = setEnv(env, "HUAWEICLOUD_SDK_AK", LocalAK)
		env = setEnv(env, "HUAWEICLOUD_SDK_SK", LocalSK)
	}
	// Endpoints start the worker through the emulated FunctionGraph API.
	env = setEnv(env, "FULFIL_WORKER_URN", LocalWorkerURN)
	env = setEnv(env, "FULFIL_WORKER_ENDPOINT", "http://"+o.Addr)
	if o.AlertOutput == nil {
		o.AlertOutput = os.Stdout
	}
	if s.Alerts, err = s.startAlerts(getenvOr(env, "HUAWEICLOUD_SDK_AK"), getenvOr(env, "HUAWEICLOUD_SDK_SK"), o.AlertOutput); err != nil {
		s.Close()
		return nil, err
	}
	env = monitorEnv(env, getenv, o.Addr, s.Alerts)
	kitSSO := localKitSSO(o.Addr, getenv, o.Logger)
	env = kitSSO.addEnv(env)
	if kitSSO.pub != nil {
		if s.KitPublicKey, err = s.writeKitPublicKey(kitSSO.pub); err != nil {
			s.Close()
			return nil, err
		}
	}
	env = licenseEnv(env, getenv)
	s.Emulator, err = fglocal.New(fglocal.Options{
		Manifest: m, BinDir: binDir, Env: env, MaxInstances: o.MaxInstances,
		Logger: o.Logger, FunctionOutput: o.FunctionOutput,
	})
	if err != nil {
		s.Close()
		return nil, err
	}
	s.Settings = checkSettings(m, s.Emulator)
	mux := http.NewServeMux()
	mux.Handle("/", s.Emulator)
	page, closePage, err := newAppPage(s.DSN, getenvOr(env, config.Provisioner), getenvOr(env, config.ProvisionWebhookURL))
	if err != nil {
		s.Close()
		return nil, err
	}
	s.stop = append(s.stop, closePage)
	mux.Handle("GET /app/{instance}", page)
	kitSSO.mount(mux)
	s.stop = append(s.stop, kitSSO.close)
	mux.Handle("POST /v2/", s.Emulator.AsyncAPI(&apigsign.Verifier{
		Secret: func(ak string) ([]byte, bool) {
			return []byte(getenvOr(env, "HUAWEICLOUD_SDK_SK")), ak == getenvOr(env, "HUAWEICLOUD_SDK_AK")
		},
	}))
	s.handler = mux
	timers, cancel := context.WithCancel(context.Background())
	s.stop = append(s.stop, cancel)
	s.Emulator.StartTimers(timers, o.TimerEvery)
	return s, nil
}

// startDatabase starts the embedded engine when no DSN is given and applies the
// migrations.
func (s *Stack) startDatabase(ctx context.Context, o Options) error {
	if s.DSN == "" {
		bin, err := dbproc.Build(ctx, o.ModuleDir, o.BuildOutput, o.BuildProgress)
		if err != nil {
			return err
		}
		if s.db, err = dbproc.Run(bin); err != nil {
			return err
		}
		s.Embedded = true
		if err := createDatabase(ctx, s.db.DSN(""), "kgseller"); err != nil {
			return err
		}
		s.DSN = s.db.DSN("kgseller")
	}
	return applyMigrations(ctx, s.DSN)
}

// lockedWriter serialises the writes of the two builds.
type lockedWriter struct {
	mu *sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// Timeouts of the local run's HTTP server. Like API Gateway in front of the
// functions, it gives a client bounded time to send its headers and its body and
// closes keep-alive connections left idle, so slow or abandoned connections cannot
// pile up. ReadTimeout leaves a 12 MB body (the gateway's limit) 60 s.
const (
	ReadHeaderTimeout = 10 * time.Second
	ReadTimeout       = 60 * time.Second
	IdleTimeout       = 60 * time.Second
)

type serverTimeouts struct{ header, read, idle time.Duration }

// NewServer is the HTTP server of the local run for h (the stack's Handler).
func NewServer(h http.Handler) *http.Server {
	return newServer(h, serverTimeouts{header: ReadHeaderTimeout, read: ReadTimeout, idle: IdleTimeout})
}

func newServer(h http.Handler, t serverTimeouts) *http.Server {
	return &http.Server{Handler: h, ReadHeaderTimeout: t.header, ReadTimeout: t.read, IdleTimeout: t.idle}
}

// Local credentials of the fake open API and the emulated FunctionGraph API. They
// are not secrets: they only ever reach this machine's fakes.
const (
	LocalAK        = "LOCALAKEXAMPLE000000"
	LocalSK        = "local-sk-not-a-secret"
	LocalWorkerURN = "urn:fss:local:local:function:kgseller:fulfil-worker:latest"
)

// startMarket serves the fake open API on its own port, so its paths are exactly
// the marketplace's.
func (s *Stack) startMarket() error {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return fmt.Errorf("localrun: fake marketplace: %w", err)
	}
	s.Market = fakemkt.New(LocalAK, LocalSK)
	s.MarketURL = "http://" + ln.Addr().String()
	srv := &http.Server{Handler: s.Market, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	s.stop = append(s.stop, func() { _ = srv.Close() })
	return nil
}

func getenvOr(env []string, key string) string { return envLookup(env)(key) }

// Handler serves the functions' routes and the demo application page.
func (s *Stack) Handler() http.Handler { return s.handler }

// Close stops the functions, the fakes and the embedded database. Calls after
// the first do nothing.
func (s *Stack) Close() { s.closeOnce.Do(s.close) }

func (s *Stack) close() {
	for _, stop := range s.stop {
		stop()
	}
	if s.Emulator != nil {
		s.Emulator.Close()
	}
	if s.db != nil {
		s.db.Close()
	}
	if s.tmpDir != "" {
		_ = os.RemoveAll(s.tmpDir)
	}
}

// writeKitPublicKey writes the Kit app's public key to a file of the run.
func (s *Stack) writeKitPublicKey(pub *rsa.PublicKey) (string, error) {
	pemBytes, err := clientsecret.PublicPEM(pub)
	if err != nil {
		return "", fmt.Errorf("localrun: Kit public key: %w", err)
	}
	if s.tmpDir, err = os.MkdirTemp("", "kgseller-local-"); err != nil {
		return "", fmt.Errorf("localrun: Kit public key: %w", err)
	}
	path := filepath.Join(s.tmpDir, "kit-public.pem")
	if err := os.WriteFile(path, pemBytes, 0o644); err != nil {
		return "", fmt.Errorf("localrun: Kit public key: %w", err)
	}
	return path, nil
}

// CheckEnv refuses an environment the local run would misread: KG_ACCESS_KEY
// set to nothing is more likely a mistake than a wish for the default key.
func CheckEnv(env []string) error {
	if explicitlyEmpty(env, "KG_ACCESS_KEY") {
		return errors.New("KG_ACCESS_KEY is set but empty; unset it to use the local default key or set a key")
	}
	return nil
}

// explicitlyEmpty reports whether env sets key to an empty (or blank) value.
func explicitlyEmpty(env []string, key string) bool {
	for _, kv := range env {
		if k, v, ok := strings.Cut(kv, "="); ok && k == key {
			return strings.TrimSpace(v) == ""
		}
	}
	return false
}

// DatabaseLabel describes the database for the start-up banner, without secrets.
func (s *Stack) DatabaseLabel() string {
	if s.Embedded {
		return "embedded (in memory, " + s.db.Addr() + "; data is lost on exit)"
	}
	cfg, err := mysql.ParseDSN(s.DSN)
	if err != nil {
		return "DB_DSN"
	}
	return fmt.Sprintf("DB_DSN (%s@%s/%s)", cfg.User, cfg.Addr, cfg.DBName)
}

func createDatabase(ctx context.Context, serverDSN, name string) error {
	db, err := sql.Open("mysql", serverDSN)
	if err != nil {
		return fmt.Errorf("localrun: %w", err)
	}
	defer db.Close()
	if _, err := db.ExecContext(ctx, "CREATE DATABASE IF NOT EXISTS "+name); err != nil {
		return fmt.Errorf("localrun: creating database: %w", err)
	}
	return nil
}

func applyMigrations(ctx context.Context, dsn string) error {
	st, err := store.Open(dsn, store.Options{})
	if err != nil {
		return err
	}
	defer st.Close()
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	if _, err := migrate.Up(ctx, st.DB().DB); err != nil {
		return err
	}
	return nil
}

func envLookup(env []string) func(string) string {
	m := map[string]string{}
	for _, kv := range env {
		k, v, _ := strings.Cut(kv, "=")
		m[k] = v
	}
	return func(k string) string { return m[k] }
}

func setEnv(env []string, key, value string) []string {
	out := env[:0]
	for _, kv := range env {
		if !strings.HasPrefix(kv, key+"=") {
			out = append(out, kv)
		}
	}
	return append(out, key+"="+value)
}

// Package localrun assembles the local run: a database (the embedded engine unless a
// DSN is given) with migrations applied, the function binaries built from the
// manifest, and the APIG/FunctionGraph emulator serving them. scripts/local wires it
// to a port and signals; integration tests start the same stack.
package localrun

import (
	"context"
	"database/sql"
	"fmt"
	"html/template"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/go-sql-driver/mysql"

	"github.com/kgseller/kgseller/shared/embeddeddb"
	"github.com/kgseller/kgseller/shared/fglocal"
	"github.com/kgseller/kgseller/shared/manifest"
	"github.com/kgseller/kgseller/shared/store"
)

// DefaultAccessKey is the access key of the local run when KG_ACCESS_KEY is unset.
// It is printed at start; it is not a secret and must never be used in production.
const DefaultAccessKey = "local-dev-access-key"

// Options configure the stack.
type Options struct {
	// Addr is where the caller will serve Handler; it is used for the local
	// front-end URLs handed to instances.
	Addr string
	// ModuleDir is the repository root (with go.mod and serverless.yml).
	ModuleDir string
	// BinDir receives the built binaries; default <ModuleDir>/build/local.
	BinDir string
	// DSN selects a real MySQL/MariaDB; empty starts the embedded engine.
	DSN string
	// AccessKey is the key of every interface type; default DefaultAccessKey.
	AccessKey string
	// Env is the environment passed to functions (os.Environ() by default).
	Env            []string
	MaxInstances   int
	Logger         *slog.Logger
	FunctionOutput io.Writer
	// BuildOutput receives go build's output.
	BuildOutput io.Writer
}

// Stack is a running local run.
type Stack struct {
	Manifest  *manifest.Manifest
	Emulator  *fglocal.Emulator
	DSN       string
	Embedded  bool
	AccessKey string
	db        *embeddeddb.Server
	handler   http.Handler
}

// Start brings the stack up; Close takes it down.
func Start(ctx context.Context, o Options) (*Stack, error) {
	if o.ModuleDir == "" {
		o.ModuleDir = "."
	}
	if o.BinDir == "" {
		o.BinDir = filepath.Join(o.ModuleDir, "build", "local")
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
	s := &Stack{AccessKey: o.AccessKey, DSN: o.DSN}
	if s.AccessKey == "" {
		s.AccessKey = DefaultAccessKey
	}
	getenv := envLookup(o.Env)
	m, err := manifest.Load(filepath.Join(o.ModuleDir, "serverless.yml"), getenv)
	if err != nil {
		return nil, err
	}
	s.Manifest = m

	if s.DSN == "" {
		if s.db, err = embeddeddb.Start("127.0.0.1:0"); err != nil {
			return nil, err
		}
		s.Embedded = true
		if err := createDatabase(ctx, s.db.DSN(""), "kgseller"); err != nil {
			s.Close()
			return nil, err
		}
		s.DSN = s.db.DSN("kgseller")
	}
	if err := migrate(ctx, s.DSN); err != nil {
		s.Close()
		return nil, err
	}
	if err := fglocal.Build(ctx, o.ModuleDir, o.BinDir, m.Names(), o.BuildOutput); err != nil {
		s.Close()
		return nil, err
	}
	env := append([]string(nil), o.Env...)
	env = setEnv(env, "DB_DSN", s.DSN)
	env = setEnv(env, "KG_ACCESS_KEY", s.AccessKey)
	if getenv("PROVISION_FRONTEND_URL") == "" {
		env = setEnv(env, "PROVISION_FRONTEND_URL", "http://"+o.Addr+"/app/{instanceId}")
	}
	s.Emulator, err = fglocal.New(fglocal.Options{
		Manifest: m, BinDir: o.BinDir, Env: env, MaxInstances: o.MaxInstances,
		Logger: o.Logger, FunctionOutput: o.FunctionOutput,
	})
	if err != nil {
		s.Close()
		return nil, err
	}
	mux := http.NewServeMux()
	mux.Handle("/", s.Emulator)
	mux.HandleFunc("GET /app/{instance}", appPage)
	s.handler = mux
	return s, nil
}

// Handler serves the functions' routes and the demo application page.
func (s *Stack) Handler() http.Handler { return s.handler }

// Close stops the functions and the embedded database.
func (s *Stack) Close() {
	if s.Emulator != nil {
		s.Emulator.Close()
	}
	if s.db != nil {
		s.db.Close()
	}
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

func migrate(ctx context.Context, dsn string) error {
	st, err := store.Open(dsn, store.Options{})
	if err != nil {
		return err
	}
	defer st.Close()
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	if _, err := st.Migrate(ctx); err != nil {
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

var appTmpl = template.Must(template.New("app").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Instance {{.}}</title></head>
<body><h1>Instance {{.}}</h1>
<p>This page stands in for the seller's application in the local run: the static provisioner points every instance's frontEndUrl here.</p>
</body></html>
`))

func appPage(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Content-Security-Policy", "default-src 'none'")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	_ = appTmpl.Execute(w, r.PathValue("instance"))
}

package bench

import (
	"context"
	"database/sql"
	"encoding/base64"
	"fmt"
	"net"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/go-sql-driver/mysql"

	"github.com/kgseller/kgseller/shared/fakes/fakemkt"
	"github.com/kgseller/kgseller/shared/kit/clientsecret"
	"github.com/kgseller/kgseller/shared/store"
	"github.com/kgseller/kgseller/shared/tools/buildzip"
	"github.com/kgseller/kgseller/shared/tools/dbproc"
	"github.com/kgseller/kgseller/shared/tools/localrun"
	"github.com/kgseller/kgseller/shared/tools/migrate"
)

// HelloPackage is the hello-world custom runtime the cold starts are compared with.
const HelloPackage = "./shared/tools/bench/testdata/hello"

// helloName is the baseline's name in the results and its emulator manifest.
const helloName = "hello"

// accessKey is the access key the bench signs with. It only ever reaches the
// bench's own child processes.
const accessKey = "bench-access-key-not-a-secret"

// built is the output of the build step.
type built struct {
	artifacts []buildzip.Artifact
	binDir    string // one executable per function, named after it (fglocal's layout)
	helloDir  string // holds the hello executable, named hello
	hello     Sizes
	goVersion string
}

// buildAll builds the functions as they are deployed (buildzip's flags and tags,
// linux/amd64, static, stripped) and the hello baseline with the same flags and
// toolchain, in one folder laid out for the emulator, and measures each as its
// reproducible zip.
func buildAll(ctx context.Context, o Options, names []string) (built, error) {
	var b built
	dir, err := buildzip.Binaries(ctx, buildzip.BinOptions{ModuleDir: o.ModuleDir, Names: names,
		Extra: map[string]string{helloName: HelloPackage}, Log: o.Log})
	if err != nil {
		return b, err
	}
	b.binDir, b.helloDir = dir, dir
	for _, n := range names {
		a, err := buildzip.Measure(dir, n)
		if err != nil {
			return b, err
		}
		b.artifacts = append(b.artifacts, a)
		if b.goVersion == "" {
			b.goVersion = a.GoVersion
		}
	}
	hello, err := buildzip.Measure(dir, helloName)
	if err != nil {
		return b, err
	}
	b.hello = Sizes{Binary: hello.BinarySize, Zip: hello.ZipSize}
	return b, nil
}

// backend is the database and the fake marketplace the functions run against.
type backend struct {
	dsn   string
	label string
	stop  []func()
	env   []string
}

func (b *backend) close() {
	for i := len(b.stop) - 1; i >= 0; i-- {
		b.stop[i]()
	}
}

// startBackend connects to dsn, or starts the embedded engine when dsn is empty,
// applies the migrations, starts the fake KooGallery open API, and returns the
// environment every function gets: a complete, valid configuration, so that each
// function's cold start is that of a function that will serve.
func startBackend(ctx context.Context, moduleDir, dsn string) (*backend, error) {
	b := &backend{}
	if dsn == "" {
		srv, err := dbproc.Start(ctx, moduleDir)
		if err != nil {
			return nil, err
		}
		b.stop = append(b.stop, func() { srv.Close() })
		if err := exec1(ctx, srv.DSN(""), "CREATE DATABASE IF NOT EXISTS kgbench"); err != nil {
			b.close()
			return nil, err
		}
		b.dsn = srv.DSN("kgbench")
		b.label = "embedded engine (go-mysql-server, in memory)"
	} else {
		b.dsn = dsn
		var version string
		if err := queryRow(ctx, dsn, "SELECT VERSION()", &version); err != nil {
			return nil, err
		}
		cfg, _ := mysql.ParseDSN(dsn)
		b.label = fmt.Sprintf("MySQL/MariaDB %s (DB_DSN, %s/%s)", version, cfg.Addr, cfg.DBName)
	}
	st, err := store.Open(b.dsn, store.Options{})
	if err != nil {
		b.close()
		return nil, err
	}
	mctx, cancel := context.WithTimeout(ctx, time.Minute)
	_, err = migrate.Up(mctx, st.DB().DB)
	cancel()
	st.Close()
	if err != nil {
		b.close()
		return nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.close()
		return nil, fmt.Errorf("bench: %w", err)
	}
	mkt := &http.Server{Handler: fakemkt.New(localrun.LocalAK, localrun.LocalSK), ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = mkt.Serve(ln) }()
	b.stop = append(b.stop, func() { _ = mkt.Close() })

	key, err := clientsecret.Generate(clientsecret.MinBits)
	if err != nil {
		b.close()
		return nil, err
	}
	pemBytes, err := clientsecret.PrivatePEM(key)
	if err != nil {
		b.close()
		return nil, err
	}
	// Local URLs that nothing serves: a cold start never follows them.
	const site = "http://127.0.0.1:9"
	settings := map[string]string{
		"DB_DSN": b.dsn, "KG_ACCESS_KEY": accessKey, "LOG_LEVEL": "info",
		"PROVISIONER": "static", "PROVISION_FRONTEND_URL": "https://app.example.com/{instanceId}",
		"PROVISION_WEBHOOK_SECRET": "bench-webhook-secret-not-a-secret",
		"HUAWEICLOUD_SDK_AK":       localrun.LocalAK, "HUAWEICLOUD_SDK_SK": localrun.LocalSK,
		"KG_MKT_ENDPOINT": "http://" + ln.Addr().String(),
		// The bench invokes the worker itself.
		"FULFIL_MODE": "timer", "FULFIL_WORKER_URN": "",
		"KG_DATA_KEY": localrun.LocalDataKey, "KG_KIT_RSA_PRIVATE_KEY": base64.StdEncoding.EncodeToString(pemBytes),
		"SSO_SESSION_KEY": localrun.LocalSessionKey, "SSO_APP_ID": localrun.LocalAppID,
		"SSO_APP_URL": site + "/sso-demo/app", "SSO_LOGIN_URL": site + "/fake-idp/unified-login?ind=UNOP&appId={appId}",
		"SSO_REDIRECT_URI": site + "/sso/callback", "SSO_ALLOWED_REDIRECT_HOSTS": "127.0.0.1:9", "SSO_ALLOW_HTTP": "true",
		"KG_LICENSE_SIGNING_KEY": localrun.LocalLicenseSigningKey,
		"APIG_SIGNATURE_KEY":     localrun.LocalAPIGSignatureKey, "APIG_SIGNATURE_SECRET": localrun.LocalAPIGSignatureSec,
	}
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if _, ours := settings[k]; !ours && !strings.HasPrefix(k, "KG_") && !strings.HasPrefix(k, "PROVISION") && !strings.HasPrefix(k, "FULFIL_") && !strings.HasPrefix(k, "SSO_") {
			b.env = append(b.env, kv)
		}
	}
	for k, v := range settings {
		b.env = append(b.env, k+"="+v)
	}
	return b, nil
}

func exec1(ctx context.Context, dsn, q string) error {
	db, err := sql.Open("mysql", dsn)
	if err != nil {
		return fmt.Errorf("bench: %w", err)
	}
	defer db.Close()
	if _, err := db.ExecContext(ctx, q); err != nil {
		return fmt.Errorf("bench: %w", err)
	}
	return nil
}

func queryRow(ctx context.Context, dsn, q string, dest any) error {
	db, err := sql.Open("mysql", dsn)
	if err != nil {
		// The driver's message can quote the DSN, which may hold a password.
		return fmt.Errorf("bench: DB_DSN is not a valid MySQL DSN")
	}
	defer db.Close()
	qctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := db.QueryRowContext(qctx, q).Scan(dest); err != nil {
		return fmt.Errorf("bench: reaching DB_DSN: %w", err)
	}
	return nil
}

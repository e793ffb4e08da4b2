package fgdeploy

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"

	"github.com/kgseller/kgseller/shared/store"
	"github.com/kgseller/kgseller/shared/tools/migrate"
)

// EnvAdminDSN names a MySQL/MariaDB account that may create users and grant
// rights on kgt_* databases (CI creates one; see docs/deploy.md).
const EnvAdminDSN = "TEST_MYSQL_ADMIN_DSN"

// TestDatabaseBootstrap runs template/db-bootstrap.sql (names made unique, the
// passwords filled in as envsubst would) on a real server, then proves the grants:
// the migration user applies every migration; the application user reads and
// writes rows but cannot change the schema or read other databases.
func TestDatabaseBootstrap(t *testing.T) {
	t.Parallel()
	adminDSN := os.Getenv(EnvAdminDSN)
	if adminDSN == "" {
		if os.Getenv("TEST_MYSQL_DSN") != "" {
			t.Fatalf("%s must be set with TEST_MYSQL_DSN: an account that may CREATE USER and GRANT on kgt_* databases", EnvAdminDSN)
		}
		// Without any server (the embedded engine has no privilege system) grants cannot be checked.
		t.Skip(EnvAdminDSN + " not set and no MySQL server configured")
	}
	raw, err := os.ReadFile("../../../template/db-bootstrap.sql")
	if err != nil {
		t.Fatal(err)
	}
	suffix := randomHex(t, 5)
	db, app, mig := "kgt_boot_"+suffix, "kgt_a_"+suffix, "kgt_m_"+suffix
	appPW, migPW := "app-"+randomHex(t, 12), "mig-"+randomHex(t, 12)
	script := strings.NewReplacer(
		"`kgseller`", "`"+db+"`",
		"'kgseller_app'", "'"+app+"'",
		"'kgseller_migrate'", "'"+mig+"'",
		"${KG_DB_APP_PASSWORD}", appPW,
		"${KG_DB_MIGRATE_PASSWORD}", migPW,
	).Replace(string(raw))
	if strings.Contains(script, "kgseller") && strings.Contains(stripComments(script), "kgseller") {
		t.Fatalf("the script names kgseller objects the test did not rename:\n%s", stripComments(script))
	}

	admin, err := sql.Open("mysql", adminDSN)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	t.Cleanup(func() {
		for _, q := range []string{"DROP USER IF EXISTS '" + app + "'@'%'", "DROP USER IF EXISTS '" + mig + "'@'%'", "DROP DATABASE IF EXISTS `" + db + "`"} {
			if _, err := admin.Exec(q); err != nil {
				t.Errorf("cleanup %s: %v", q, err)
			}
		}
		admin.Close()
	})
	stmts := statements(script)
	if len(stmts) != 5 {
		t.Fatalf("%d statements, want 5 (database, two users, two grants)", len(stmts))
	}
	for _, s := range stmts {
		if _, err := admin.ExecContext(ctx, s); err != nil {
			t.Fatalf("%s: %v", firstWords(s), err)
		}
	}
	// Idempotent: a second run changes nothing and fails on nothing.
	for _, s := range stmts {
		if _, err := admin.ExecContext(ctx, s); err != nil {
			t.Fatalf("second run: %s: %v", firstWords(s), err)
		}
	}

	host := hostOf(t, adminDSN)
	dsn := func(user, pw string) string {
		cfg := mysql.NewConfig()
		cfg.User, cfg.Passwd, cfg.Net, cfg.Addr, cfg.DBName = user, pw, "tcp", host, db
		return cfg.FormatDSN()
	}

	migStore, err := store.Open(dsn(mig, migPW), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer migStore.Close()
	if n, err := migrate.Up(ctx, migStore.DB().DB); err != nil || n == 0 {
		t.Fatalf("migration user: %d migrations, %v", n, err)
	}

	appDB, err := sql.Open("mysql", dsn(app, appPW))
	if err != nil {
		t.Fatal(err)
	}
	defer appDB.Close()
	for _, q := range []string{
		"SELECT COUNT(*) FROM goose_db_version",
		"INSERT INTO goose_db_version (version_id, is_applied) VALUES (-1, 0)",
		"UPDATE goose_db_version SET is_applied = 0 WHERE version_id = -1",
		"DELETE FROM goose_db_version WHERE version_id = -1",
	} {
		if _, err := appDB.ExecContext(ctx, q); err != nil {
			t.Errorf("application user: %s: %v", q, err)
		}
	}
	for _, q := range []string{
		"CREATE TABLE kgt_denied (id INT PRIMARY KEY)",
		"ALTER TABLE goose_db_version ADD COLUMN kgt_denied INT",
		"DROP TABLE goose_db_version",
		"CREATE INDEX kgt_denied ON goose_db_version (tstamp)",
		"SELECT COUNT(*) FROM mysql.user",
		"CREATE DATABASE kgt_denied_" + suffix,
	} {
		_, err := appDB.ExecContext(ctx, q)
		var me *mysql.MySQLError
		if !errors.As(err, &me) || (me.Number != 1142 && me.Number != 1044 && me.Number != 1143) {
			t.Errorf("application user: %s: %v, want an access-denied error", q, err)
		}
	}
	// The migration user, too, is confined to its database.
	migDB, err := sql.Open("mysql", dsn(mig, migPW))
	if err != nil {
		t.Fatal(err)
	}
	defer migDB.Close()
	if _, err := migDB.ExecContext(ctx, "SELECT COUNT(*) FROM mysql.user"); err == nil {
		t.Error("migration user reads mysql.user")
	}
}

func statements(script string) []string {
	var out []string
	for _, s := range strings.Split(stripComments(script), ";") {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}

func stripComments(script string) string {
	var b strings.Builder
	for _, line := range strings.Split(script, "\n") {
		if strings.HasPrefix(strings.TrimSpace(line), "--") {
			continue
		}
		b.WriteString(line)
		b.WriteByte('\n')
	}
	return b.String()
}

func firstWords(s string) string {
	f := strings.Fields(s)
	return strings.Join(f[:min(3, len(f))], " ")
}

func hostOf(t *testing.T, dsn string) string {
	cfg, err := mysql.ParseDSN(dsn)
	if err != nil {
		t.Fatalf("%s is not a valid DSN", EnvAdminDSN)
	}
	return cfg.Addr
}

func randomHex(t *testing.T, n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b)
}

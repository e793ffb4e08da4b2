//go:build load

package loadtest

import (
	"context"
	"database/sql"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"

	"github.com/kgseller/kgseller/shared/store"
	"github.com/kgseller/kgseller/shared/tools/migrate"
)

// mariaDB is a MariaDB server the test starts for itself, on its own loopback
// port and data directory, so that it can have a small max_connections without
// touching the shared test server.
type mariaDB struct {
	// Root connects as root (the test's own connections); App as an account
	// with rights on the test database only, as the functions connect on RDS. App
	// has no SUPER: MariaDB keeps one connection beyond max_connections for SUPER
	// accounts, which the functions must not get.
	Root, App string
	cmd       *exec.Cmd
	errLog    string
}

// findBinary looks for a MariaDB program on PATH and in /usr/sbin (where Debian
// puts mariadbd).
func findBinary(names ...string) (string, error) {
	for _, n := range names {
		if p, err := exec.LookPath(n); err == nil {
			return p, nil
		}
		if p := filepath.Join("/usr/sbin", n); fileExists(p) {
			return p, nil
		}
	}
	return "", fmt.Errorf("none of %s is installed (apt-get install mariadb-server)", strings.Join(names, ", "))
}

func fileExists(p string) bool { _, err := os.Stat(p); return err == nil }

// startMariaDB initialises a data directory, starts mariadbd on a free loopback
// port with maxConnections, creates the database kgscale with the migrations
// applied and its account, and stops the server when the test ends. Any failure
// fails the test: the suite runs only with -tags load, where this server is part
// of what is tested.
func startMariaDB(t *testing.T, maxConnections int) *mariaDB {
	t.Helper()
	mariadbd, err := findBinary("mariadbd", "mysqld")
	if err != nil {
		t.Fatalf("starting a MariaDB for the scale test: %v", err)
	}
	installDB, err := findBinary("mariadb-install-db", "mysql_install_db")
	if err != nil {
		t.Fatalf("starting a MariaDB for the scale test: %v", err)
	}
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	var asUser []string
	if os.Geteuid() == 0 {
		asUser = []string{"--user=root"} // mariadbd refuses to run as root otherwise
	}
	args := append([]string{"--no-defaults", "--datadir=" + data, "--auth-root-authentication-method=normal", "--skip-test-db", "--skip-name-resolve"}, asUser...)
	if out, err := exec.Command(installDB, args...).CombinedOutput(); err != nil {
		t.Fatalf("%s: %v\n%s", installDB, err, out)
	}
	port, err := freePort()
	if err != nil {
		t.Fatal(err)
	}
	m := &mariaDB{errLog: filepath.Join(dir, "error.log")}
	m.cmd = exec.Command(mariadbd, append([]string{
		"--no-defaults", "--datadir=" + data, "--bind-address=127.0.0.1", "--port=" + strconv.Itoa(port),
		"--socket=" + filepath.Join(dir, "mariadb.sock"), "--pid-file=" + filepath.Join(dir, "mariadb.pid"),
		"--log-error=" + m.errLog, "--max-connections=" + strconv.Itoa(maxConnections), "--skip-name-resolve",
		"--skip-log-bin", "--innodb-buffer-pool-size=64M",
	}, asUser...)...)
	if err := m.cmd.Start(); err != nil {
		t.Fatalf("starting %s: %v", mariadbd, err)
	}
	exited := make(chan error, 1)
	go func() { exited <- m.cmd.Wait() }()
	t.Cleanup(func() {
		_ = m.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(30 * time.Second):
			_ = m.cmd.Process.Kill()
			<-exited
		}
	})

	root := mysql.NewConfig()
	root.User, root.Net, root.Addr = "root", "tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	m.Root = root.FormatDSN()
	db, err := sql.Open("mysql", m.Root)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	deadline := time.Now().Add(60 * time.Second)
	for {
		if err = db.Ping(); err == nil {
			break
		}
		select {
		case werr := <-exited:
			t.Fatalf("mariadbd exited: %v\n%s", werr, m.logTail())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("mariadbd did not accept connections within 60 s: %v\n%s", err, m.logTail())
		}
		time.Sleep(100 * time.Millisecond)
	}
	var got int
	if err := db.QueryRow("SELECT @@max_connections").Scan(&got); err != nil || got != maxConnections {
		t.Fatalf("max_connections %d (%v), want %d", got, err, maxConnections)
	}
	const password = "kgscale-app-pw"
	for _, q := range []string{
		"CREATE DATABASE kgscale CHARACTER SET utf8mb4 COLLATE utf8mb4_bin",
		"CREATE USER 'kgscale'@'%' IDENTIFIED BY '" + password + "'",
		// The local run applies the migrations with the functions' DSN too.
		"GRANT ALL PRIVILEGES ON kgscale.* TO 'kgscale'@'%'",
	} {
		if _, err := db.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	root.DBName = "kgscale"
	m.Root = root.FormatDSN()
	app := root.Clone()
	app.User, app.Passwd = "kgscale", password
	m.App = app.FormatDSN()

	s, err := store.Open(m.Root, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if _, err := migrate.Up(ctx, s.DB().DB); err != nil {
		t.Fatal(err)
	}
	return m
}

func (m *mariaDB) logTail() string {
	b, err := os.ReadFile(m.errLog)
	if err != nil {
		return "(no error log: " + err.Error() + ")"
	}
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	return strings.Join(lines[max(0, len(lines)-15):], "\n")
}

func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

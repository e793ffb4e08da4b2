// Package dbproc runs the embedded engine (shared/fakes/embeddeddb) as a child
// process for the local run, the bench command and the tests without MariaDB. The
// engine is a large program; built once through the content-keyed build cache
// (shared/tools/buildzip) rather than linked into every test binary, it costs
// its link once per change of the sources instead of once per package tested. It
// never ships, so it is built as a tool, with the go command's own settings:
// `go test ./...` compiles its packages the same way, and the build reuses them.
package dbproc

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/kgseller/kgseller/shared/tools/buildzip"
)

// Name and Package are the engine's binary name and package, for callers that
// build it along with other binaries (buildzip.BinOptions.Extra).
const (
	Name    = "embeddeddb"
	Package = "./shared/fakes/embeddeddb"
)

// startWait bounds how long the engine may take to listen.
const startWait = time.Minute

// Server is a running engine.
type Server struct {
	cmd   *exec.Cmd
	stdin io.WriteCloser
	addr  string
	done  chan error
}

// Build builds the engine for this machine through the build cache and returns
// the binary's path. moduleDir is the module root; log and progress are as in
// buildzip.BinOptions (either may be nil).
func Build(ctx context.Context, moduleDir string, log io.Writer, progress func(string, time.Duration)) (string, error) {
	dir, err := buildzip.Binaries(ctx, buildzip.BinOptions{ModuleDir: moduleDir, Extra: map[string]string{Name: Package},
		Tool: true, Log: log, Progress: progress})
	if err != nil {
		return "", fmt.Errorf("dbproc: building the embedded engine: %w", err)
	}
	return filepath.Join(dir, Name), nil
}

// Start builds the engine if needed and runs it on a free loopback port.
func Start(ctx context.Context, moduleDir string) (*Server, error) {
	bin, err := Build(ctx, moduleDir, nil, nil)
	if err != nil {
		return nil, err
	}
	return Run(bin)
}

// Run starts the engine binary on a free loopback port and waits until it
// listens. The engine ends when Close is called or this process exits: it serves
// only while its standard input, held here, stays open.
func Run(bin string) (*Server, error) {
	cmd := exec.Command(bin, "-addr", "127.0.0.1:0")
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, fmt.Errorf("dbproc: %w", err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, fmt.Errorf("dbproc: %w", err)
	}
	var stderr strings.Builder
	cmd.Stderr = &limited{w: &stderr, n: 4096}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("dbproc: starting the embedded engine: %w", err)
	}
	s := &Server{cmd: cmd, stdin: stdin, done: make(chan error, 1)}
	line := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		if sc.Scan() {
			line <- sc.Text()
		}
		close(line)
		_, _ = io.Copy(io.Discard, stdout)
	}()
	go func() { s.done <- cmd.Wait() }()
	select {
	case l, ok := <-line:
		addr, found := strings.CutPrefix(l, "listening ")
		if ok && found && addr != "" {
			s.addr = addr
			return s, nil
		}
		s.Close()
		return nil, fmt.Errorf("dbproc: the embedded engine did not start: %q %s", l, strings.TrimSpace(stderr.String()))
	case <-time.After(startWait):
		s.Close()
		return nil, fmt.Errorf("dbproc: the embedded engine did not listen within %s", startWait)
	}
}

// Addr returns host:port of the engine.
func (s *Server) Addr() string { return s.addr }

// DSN returns a go-sql-driver DSN for database db on the engine (user root, no
// password).
func (s *Server) DSN(db string) string { return fmt.Sprintf("root@tcp(%s)/%s", s.addr, db) }

// Close stops the engine; its data is gone.
func (s *Server) Close() error {
	_ = s.stdin.Close()
	select {
	case <-s.done:
		return nil
	case <-time.After(5 * time.Second):
	}
	_ = s.cmd.Process.Kill()
	err := <-s.done
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		return nil // killed, as asked
	}
	return err
}

// ModuleRoot finds the module root at or above the working directory, for
// callers (tests) that run in a package's folder.
func ModuleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("dbproc: no go.mod at or above the working directory")
		}
		dir = parent
	}
}

// limited keeps the first n bytes written to it.
type limited struct {
	w io.Writer
	n int
}

func (l *limited) Write(p []byte) (int, error) {
	if l.n > 0 {
		k := min(len(p), l.n)
		_, _ = l.w.Write(p[:k])
		l.n -= k
	}
	return len(p), nil
}

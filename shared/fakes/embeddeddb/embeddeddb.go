// Command embeddeddb is a MySQL-compatible server (dolthub's go-mysql-server,
// memory engine) for the local run and for tests without MariaDB. It runs as a
// child process (shared/tools/dbproc builds and starts it), so that no test binary
// and no command links the engine: it prints "listening <host:port>" once it
// accepts connections and serves until its standard input closes, which happens
// when its parent exits however it exits. Function binaries reach it over TCP with
// the ordinary MySQL driver, exactly as they reach RDS.
//
// The memory engine does not isolate concurrent transactions the way InnoDB does: two
// transactions inserting the same unique key can both commit, the later silently
// replacing the earlier. The server therefore admits one statement or one explicit
// transaction at a time across all connections (see serialHandler), which gives the
// store the same unique-key guarantees it relies on in MySQL. It also ends the
// transaction the engine leaves open after a failed autocommit statement
// (afterFailure), which would otherwise hide later commits from that connection.
package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"time"

	sqle "github.com/dolthub/go-mysql-server"
	"github.com/dolthub/go-mysql-server/memory"
	"github.com/dolthub/go-mysql-server/server"
	"github.com/dolthub/go-mysql-server/sql"
	"github.com/dolthub/vitess/go/mysql"
	"github.com/dolthub/vitess/go/sqltypes"
	querypb "github.com/dolthub/vitess/go/vt/proto/query"
	"github.com/sirupsen/logrus"
)

// Server is a running embedded database server.
type Server struct {
	srv  *server.Server
	addr string
	done chan struct{}
}

// Start listens on addr (host:port; port 0 picks a free one) and serves an empty
// in-memory catalog. Databases are created with CREATE DATABASE.
func Start(addr string) (*Server, error) {
	// The engine logs every connection at info level and warns about settings that
	// only matter to a shared server; the local run only wants errors.
	logrus.SetLevel(logrus.ErrorLevel)

	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("embeddeddb: listen on %s: %w", addr, err)
	}
	pro := memory.NewDBProvider()
	engine := sqle.NewDefault(pro)
	cfg := server.Config{Protocol: "tcp", Address: ln.Addr().String(), Listener: ln}
	gate := newSerialGate(30 * time.Second)
	srv, err := server.NewServerWithHandler(cfg, engine, sql.NewContext, memory.NewSessionBuilder(pro), nil,
		func(h mysql.Handler) (mysql.Handler, error) { return &serialHandler{Handler: h, gate: gate}, nil })
	if err != nil {
		ln.Close()
		return nil, fmt.Errorf("embeddeddb: server: %w", err)
	}
	s := &Server{srv: srv, addr: ln.Addr().String(), done: make(chan struct{})}
	go func() {
		defer close(s.done)
		_ = srv.Start()
	}()
	return s, nil
}

// Addr returns host:port of the server.
func (s *Server) Addr() string { return s.addr }

// DSN returns a go-sql-driver DSN for database db on this server.
func (s *Server) DSN(db string) string {
	return fmt.Sprintf("root@tcp(%s)/%s", s.addr, db)
}

// Close stops the server and drops all data.
func (s *Server) Close() error {
	err := s.srv.Close()
	<-s.done
	return err
}

// serialGate admits one connection at a time. The holder keeps it across an explicit
// transaction and gives it up at COMMIT, ROLLBACK or disconnect.
type serialGate struct {
	slot    chan struct{}
	mu      sync.Mutex
	holder  uint32
	held    bool
	inTx    bool
	maxWait time.Duration
}

func newSerialGate(maxWait time.Duration) *serialGate {
	return &serialGate{slot: make(chan struct{}, 1), maxWait: maxWait}
}

var errBusy = errors.New("embedded database busy: another transaction held it too long")

// enter waits for the gate unless conn already holds it.
func (g *serialGate) enter(ctx context.Context, conn uint32) error {
	g.mu.Lock()
	if g.held && g.holder == conn {
		g.mu.Unlock()
		return nil
	}
	g.mu.Unlock()
	t := time.NewTimer(g.maxWait)
	defer t.Stop()
	select {
	case g.slot <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return errBusy
	}
	g.mu.Lock()
	g.holder, g.held, g.inTx = conn, true, false
	g.mu.Unlock()
	return nil
}

// leave updates the transaction state after a statement and frees the gate unless
// the connection is inside an explicit transaction.
func (g *serialGate) leave(conn uint32, query string, err error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if !g.held || g.holder != conn {
		return
	}
	switch classify(query) {
	case stmtBegin:
		g.inTx = err == nil
	case stmtEnd:
		g.inTx = false
	}
	if !g.inTx {
		g.held = false
		<-g.slot
	}
}

// explicit reports whether conn is inside an explicit transaction.
func (g *serialGate) explicit(conn uint32) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.held && g.holder == conn && g.inTx
}

// drop frees the gate if a closing connection still holds it.
func (g *serialGate) drop(conn uint32) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.held && g.holder == conn {
		g.held, g.inTx = false, false
		<-g.slot
	}
}

type stmtKind int

const (
	stmtOther stmtKind = iota
	stmtBegin
	stmtEnd
)

func classify(q string) stmtKind {
	q = strings.ToUpper(strings.TrimSpace(q))
	switch {
	case strings.HasPrefix(q, "BEGIN"), strings.HasPrefix(q, "START TRANSACTION"):
		return stmtBegin
	case strings.HasPrefix(q, "COMMIT"), strings.HasPrefix(q, "ROLLBACK"):
		return stmtEnd
	}
	return stmtOther
}

// serialHandler wraps the engine's handler with the gate.
type serialHandler struct {
	mysql.Handler
	gate *serialGate
}

func (h *serialHandler) ComQuery(ctx context.Context, c *mysql.Conn, query string, cb mysql.ResultSpoolFn) error {
	if err := h.gate.enter(ctx, c.ConnectionID); err != nil {
		return err
	}
	err := h.Handler.ComQuery(ctx, c, query, cb)
	h.afterFailure(ctx, c, err)
	h.gate.leave(c.ConnectionID, query, err)
	return err
}

// afterFailure ends the transaction the engine leaves open when a statement fails
// outside an explicit transaction (a duplicate key, say). MySQL commits or rolls
// back every autocommit statement; the engine would keep that connection on the
// failed statement's snapshot, blind to what others commit afterwards, so that a
// unique key another connection stores later would not be a duplicate for it.
func (h *serialHandler) afterFailure(ctx context.Context, c *mysql.Conn, err error) {
	if err == nil || h.gate.explicit(c.ConnectionID) {
		return
	}
	_ = h.Handler.ComQuery(ctx, c, "ROLLBACK", func(*sqltypes.Result, bool) error { return nil })
}

func (h *serialHandler) ComMultiQuery(ctx context.Context, c *mysql.Conn, query string, cb mysql.ResultSpoolFn) (string, error) {
	if err := h.gate.enter(ctx, c.ConnectionID); err != nil {
		return "", err
	}
	rest, err := h.Handler.ComMultiQuery(ctx, c, query, cb)
	h.afterFailure(ctx, c, err)
	h.gate.leave(c.ConnectionID, query, err)
	if err != nil {
		// MySQL stops a multi-statement query at the first error; the engine's
		// server would run the remaining statements, so drop them here.
		return "", err
	}
	return rest, err
}

func (h *serialHandler) ComStmtExecute(ctx context.Context, c *mysql.Conn, p *mysql.PrepareData, cb func(*sqltypes.Result) error) error {
	if err := h.gate.enter(ctx, c.ConnectionID); err != nil {
		return err
	}
	err := h.Handler.ComStmtExecute(ctx, c, p, cb)
	h.afterFailure(ctx, c, err)
	h.gate.leave(c.ConnectionID, p.PrepareStmt, err)
	return err
}

func (h *serialHandler) ComPrepare(ctx context.Context, c *mysql.Conn, query string, p *mysql.PrepareData) ([]*querypb.Field, error) {
	return h.Handler.ComPrepare(ctx, c, query, p)
}

func (h *serialHandler) ConnectionClosed(c *mysql.Conn) {
	h.gate.drop(c.ConnectionID)
	h.Handler.ConnectionClosed(c)
}

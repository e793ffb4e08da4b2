package dbtest

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"fmt"
	"sync"
	"sync/atomic"
)

// Counter counts database round trips: with interpolateParams every Exec and Query
// is one, as are BEGIN, COMMIT, ROLLBACK and a ping. Dialling is counted apart. It
// also counts statements as the server counts them (each statement of a
// multi-statement query, BEGIN, COMMIT and ROLLBACK one each) and, while
// recording, keeps what was sent so that a benchmark can send it again raw.
type Counter struct {
	trips atomic.Int64
	stmts atomic.Int64
	dials atomic.Int64

	mu        sync.Mutex
	recording bool
	log       []Sent
}

// Kinds of Sent.
const (
	SentExec     = "exec"
	SentQuery    = "query"
	SentBegin    = "begin"
	SentCommit   = "commit"
	SentRollback = "rollback"
)

// Sent is one round trip as the store sent it: a query with its arguments
// (placeholders not yet interpolated), or a transaction command.
type Sent struct {
	Kind  string
	Query string
	Args  []driver.NamedValue
}

// RoundTrips returns the round trips counted so far.
func (c *Counter) RoundTrips() int64 { return c.trips.Load() }

// Statements returns the statements counted so far.
func (c *Counter) Statements() int64 { return c.stmts.Load() }

// Dials returns the connections opened so far.
func (c *Counter) Dials() int64 { return c.dials.Load() }

// Record starts keeping what is sent, dropping what was kept before.
func (c *Counter) Record() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.recording, c.log = true, nil
}

// Recorded stops recording and returns what was sent since Record.
func (c *Counter) Recorded() []Sent {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := c.log
	c.recording, c.log = false, nil
	return out
}

func (c *Counter) sent(kind, query string, args []driver.NamedValue) {
	c.trips.Add(1)
	n := int64(1)
	if query != "" {
		n = int64(CountStatements(query))
	}
	c.stmts.Add(n)
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.recording {
		c.log = append(c.log, Sent{Kind: kind, Query: query, Args: append([]driver.NamedValue(nil), args...)})
	}
}

// CountStatements counts the statements of a query: the semicolons that separate
// them, outside quotes and comments, plus one.
func CountStatements(q string) int {
	n, body := 0, false
	for i := 0; i < len(q); i++ {
		switch ch := q[i]; ch {
		case '\'', '"', '`':
			for i++; i < len(q) && q[i] != ch; i++ {
				if q[i] == '\\' {
					i++
				}
			}
			body = true
		case '-':
			if i+2 < len(q) && q[i+1] == '-' && (q[i+2] == ' ' || q[i+2] == '\t' || q[i+2] == '\n') {
				for i < len(q) && q[i] != '\n' {
					i++
				}
				continue
			}
			body = true
		case ';':
			if body {
				n++
			}
			body = false
		case ' ', '\t', '\n', '\r':
		default:
			body = true
		}
	}
	if body {
		n++
	}
	return n
}

// Wrap returns a connector that counts through c.
func (c *Counter) Wrap(next driver.Connector) driver.Connector {
	return &countingConnector{next: next, c: c}
}

type countingConnector struct {
	next driver.Connector
	c    *Counter
}

func (cc *countingConnector) Connect(ctx context.Context) (driver.Conn, error) {
	conn, err := cc.next.Connect(ctx)
	if err != nil {
		return nil, err
	}
	cc.c.dials.Add(1)
	return &countingConn{Conn: conn, c: cc.c}, nil
}

func (cc *countingConnector) Driver() driver.Driver { return cc.next.Driver() }

type countingConn struct {
	driver.Conn
	c *Counter
}

func (cn *countingConn) ExecContext(ctx context.Context, q string, args []driver.NamedValue) (driver.Result, error) {
	cn.c.sent(SentExec, q, args)
	return cn.Conn.(driver.ExecerContext).ExecContext(ctx, q, args)
}

func (cn *countingConn) QueryContext(ctx context.Context, q string, args []driver.NamedValue) (driver.Rows, error) {
	cn.c.sent(SentQuery, q, args)
	return cn.Conn.(driver.QueryerContext).QueryContext(ctx, q, args)
}

func (cn *countingConn) PrepareContext(ctx context.Context, q string) (driver.Stmt, error) {
	cn.c.trips.Add(1)
	return cn.Conn.(driver.ConnPrepareContext).PrepareContext(ctx, q)
}

func (cn *countingConn) BeginTx(ctx context.Context, opts driver.TxOptions) (driver.Tx, error) {
	cn.c.sent(SentBegin, "", nil)
	tx, err := cn.Conn.(driver.ConnBeginTx).BeginTx(ctx, opts)
	if err != nil {
		return nil, err
	}
	return &countingTx{Tx: tx, c: cn.c}, nil
}

func (cn *countingConn) Ping(ctx context.Context) error {
	cn.c.trips.Add(1)
	return cn.Conn.(driver.Pinger).Ping(ctx)
}

func (cn *countingConn) CheckNamedValue(v *driver.NamedValue) error {
	if nc, ok := cn.Conn.(driver.NamedValueChecker); ok {
		return nc.CheckNamedValue(v)
	}
	return driver.ErrSkip
}

func (cn *countingConn) ResetSession(ctx context.Context) error {
	if r, ok := cn.Conn.(driver.SessionResetter); ok {
		return r.ResetSession(ctx)
	}
	return nil
}

func (cn *countingConn) IsValid() bool {
	if v, ok := cn.Conn.(driver.Validator); ok {
		return v.IsValid()
	}
	return true
}

type countingTx struct {
	driver.Tx
	c *Counter
}

func (t *countingTx) Commit() error   { t.c.sent(SentCommit, "", nil); return t.Tx.Commit() }
func (t *countingTx) Rollback() error { t.c.sent(SentRollback, "", nil); return t.Tx.Rollback() }

// ServerStatements reads the statements the server has counted on the connection
// (its Questions status variable, which MariaDB, MySQL and the embedded engine
// keep per session). Run on a pool of one connection, two readings bracket what
// that connection sent; the second reading counts the first.
func ServerStatements(ctx context.Context, db *sql.DB) (int64, error) {
	var name string
	var n int64
	if err := db.QueryRowContext(ctx, "SHOW SESSION STATUS LIKE 'Questions'").Scan(&name, &n); err != nil {
		return 0, fmt.Errorf("dbtest: reading the server's statement count: %w", err)
	}
	return n, nil
}

package dbtest

import (
	"context"
	"database/sql/driver"
	"sync/atomic"
)

// Counter counts database round trips: with interpolateParams every Exec and Query
// is one, as are BEGIN, COMMIT, ROLLBACK and a ping. Dialling is counted apart.
type Counter struct {
	trips atomic.Int64
	dials atomic.Int64
}

// RoundTrips returns the round trips counted so far.
func (c *Counter) RoundTrips() int64 { return c.trips.Load() }

// Dials returns the connections opened so far.
func (c *Counter) Dials() int64 { return c.dials.Load() }

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
	cn.c.trips.Add(1)
	return cn.Conn.(driver.ExecerContext).ExecContext(ctx, q, args)
}

func (cn *countingConn) QueryContext(ctx context.Context, q string, args []driver.NamedValue) (driver.Rows, error) {
	cn.c.trips.Add(1)
	return cn.Conn.(driver.QueryerContext).QueryContext(ctx, q, args)
}

func (cn *countingConn) PrepareContext(ctx context.Context, q string) (driver.Stmt, error) {
	cn.c.trips.Add(1)
	return cn.Conn.(driver.ConnPrepareContext).PrepareContext(ctx, q)
}

func (cn *countingConn) BeginTx(ctx context.Context, opts driver.TxOptions) (driver.Tx, error) {
	cn.c.trips.Add(1)
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

func (t *countingTx) Commit() error   { t.c.trips.Add(1); return t.Tx.Commit() }
func (t *countingTx) Rollback() error { t.c.trips.Add(1); return t.Tx.Rollback() }

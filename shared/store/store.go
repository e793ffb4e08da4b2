// Package store is the MySQL access of every function: connection settings tuned for
// one FunctionGraph instance, and the statements that carry the protocol's
// idempotency through PRIMARY and UNIQUE keys (the schema is applied by
// shared/tools/migrate). A duplicate-key error
// (MySQL 1062) always means "already done": the caller answers with what is stored.
package store

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/go-sql-driver/mysql"
	"github.com/jmoiron/sqlx"

	"github.com/kgseller/kgseller/shared/marketplace"
)

// Options size the connection pool. The zero value suits one event-function
// instance, which serves one request at a time: no code path holds two
// connections at once (a transaction, a multi-statement batch, the nonce taken
// and released around an operation, the purge and the worker's jobs each run on
// one), so one connection serves it, and a deployment's connections are its
// functions' instances (docs/performance.md, "Capacity").
type Options struct {
	MaxOpen int // default 1
	MaxIdle int // default MaxOpen: the connection stays open between invocations
	// MaxLifetime retires a connection this long after it was opened, and
	// MaxIdleTime one left unused this long; both must stay below the server's
	// wait_timeout, or the server closes connections the pool still offers.
	// Idle connections are given back so that instances no longer receiving
	// traffic free their share of the server's max_connections.
	MaxLifetime time.Duration // default 5m
	MaxIdleTime time.Duration // default 1m
	DialTimeout time.Duration // default 3s: a DB outage must still leave time to answer
	IOTimeout   time.Duration // default 3s: a hung connection fails within the request budget
	// Wrap, when set, wraps the driver connector (benchmarks count round trips).
	Wrap func(driver.Connector) driver.Connector
	// Logger receives the lines about refused connections; nil is slog.Default().
	Logger *slog.Logger
}

func (o Options) withDefaults() Options {
	if o.MaxOpen <= 0 {
		o.MaxOpen = 1
	}
	if o.MaxIdle <= 0 || o.MaxIdle > o.MaxOpen {
		o.MaxIdle = o.MaxOpen
	}
	if o.MaxLifetime <= 0 {
		o.MaxLifetime = 5 * time.Minute
	}
	if o.MaxIdleTime <= 0 {
		o.MaxIdleTime = time.Minute
	}
	if o.DialTimeout <= 0 {
		o.DialTimeout = 3 * time.Second
	}
	if o.IOTimeout <= 0 {
		o.IOTimeout = 3 * time.Second
	}
	return o
}

// NormalizeDSN parses a go-sql-driver DSN and forces the settings the store relies
// on: interpolateParams (one round trip per statement instead of prepare+execute+
// close), multiStatements (a whole transaction in one round trip), parseTime in
// UTC, utf8mb4, and bounded dial and I/O timeouts. Times are
// always passed from Go in UTC, never taken from NOW(), so the server's time zone
// does not matter.
func NormalizeDSN(dsn string, o Options) (*mysql.Config, error) {
	cfg, err := mysql.ParseDSN(dsn)
	if err != nil {
		// The driver's message can quote the DSN, which may hold a password.
		return nil, errors.New("store: DB_DSN is not a valid MySQL DSN (user:pass@tcp(host:3306)/db)")
	}
	o = o.withDefaults()
	cfg.InterpolateParams = true
	// CreateInstance and the Kit writes (batch.go) send their transactions as
	// multi-statement queries. Every statement here uses placeholders, and
	// interpolation escapes each value, so no input can add a statement.
	cfg.MultiStatements = true
	cfg.ParseTime = true
	cfg.Loc = time.UTC
	cfg.Collation = "utf8mb4_general_ci"
	if cfg.Timeout == 0 {
		cfg.Timeout = o.DialTimeout
	}
	if cfg.ReadTimeout == 0 {
		cfg.ReadTimeout = o.IOTimeout
	}
	if cfg.WriteTimeout == 0 {
		cfg.WriteTimeout = o.IOTimeout
	}
	return cfg, nil
}

// Store is the database handle of one function instance.
type Store struct {
	db        *sqlx.DB
	now       func() time.Time
	maxPacket int // bytes of SQL one round trip may carry
}

// Open connects with a normalized DSN. It does not ping: a function instance must
// come up (and answer 000005) even while the database is unreachable.
func Open(dsn string, o Options) (*Store, error) {
	cfg, err := NormalizeDSN(dsn, o)
	if err != nil {
		return nil, err
	}
	var connector driver.Connector
	connector, err = mysql.NewConnector(cfg)
	if err != nil {
		return nil, fmt.Errorf("store: connector: %w", err)
	}
	if o.Wrap != nil {
		connector = o.Wrap(connector)
	}
	o = o.withDefaults()
	connector = &pressure{next: connector, logger: o.Logger, now: time.Now}
	db := sqlx.NewDb(sql.OpenDB(connector), "mysql")
	db.SetMaxOpenConns(o.MaxOpen)
	db.SetMaxIdleConns(o.MaxIdle)
	db.SetConnMaxLifetime(o.MaxLifetime)
	db.SetConnMaxIdleTime(o.MaxIdleTime)
	s := New(db)
	// A DSN that lowers the driver's packet limit (maxAllowedPacket) lowers the
	// store's: the driver refuses to interpolate a query longer than that.
	if p := cfg.MaxAllowedPacket - packetMargin; cfg.MaxAllowedPacket > 0 && p < s.maxPacket {
		s.maxPacket = max(p, packetMargin)
	}
	return s, nil
}

// New wraps an existing handle (tests, tools).
func New(db *sqlx.DB) *Store {
	return &Store{db: db, now: func() time.Time { return dbTime(time.Now()) }, maxPacket: defaultMaxPacket}
}

// WithClock returns a copy of the store that reads time from now (tests).
func (s *Store) WithClock(now func() time.Time) *Store {
	c := *s
	c.now = func() time.Time { return dbTime(now()) }
	return &c
}

// dbTime is t as a DATETIME(3) column keeps it: UTC, whole milliseconds. MySQL
// rounds extra digits, so a time stored unrounded can read back up to half a
// millisecond later than it was, and a job written "due now" would not be due yet.
func dbTime(t time.Time) time.Time { return t.UTC().Truncate(time.Millisecond) }

// DB exposes the handle for tools and tests.
func (s *Store) DB() *sqlx.DB { return s.db }

// Close closes the pool.
func (s *Store) Close() error { return s.db.Close() }

// Ping checks connectivity.
func (s *Store) Ping(ctx context.Context) error { return s.db.PingContext(ctx) }

// IsDuplicate reports whether err is MySQL's duplicate-key error 1062.
func IsDuplicate(err error) bool {
	var me *mysql.MySQLError
	return errors.As(err, &me) && me.Number == 1062
}

// inTx runs fn in a transaction and commits it, rolling back on any error or panic.
// A deadlock (1213), which InnoDB can raise when several transactions wait on the
// same unique key, reruns fn from the start, so fn must only change state through
// tx and reset what it reports.
func (s *Store) inTx(ctx context.Context, fn func(tx *sqlx.Tx) error) error {
	var err error
	for attempt := 0; attempt < 3; attempt++ {
		if err = s.tryTx(ctx, fn); !isDeadlock(err) {
			return err
		}
	}
	return err
}

func (s *Store) tryTx(ctx context.Context, fn func(tx *sqlx.Tx) error) (err error) {
	tx, err := s.db.BeginTxx(ctx, nil)
	if err != nil {
		return fmt.Errorf("store: begin: %w", err)
	}
	defer func() {
		if p := recover(); p != nil {
			_ = tx.Rollback()
			panic(p)
		}
		if err != nil {
			_ = tx.Rollback()
		}
	}()
	if err = fn(tx); err != nil {
		return err
	}
	if err = commit(ctx, tx); err != nil {
		return fmt.Errorf("store: commit: %w", err)
	}
	return nil
}

// commit commits within ctx. database/sql's Commit takes no context, so a COMMIT
// on a hung connection would wait for the driver's I/O timeout and overrun the
// request's budget. If ctx ends first, the caller answers with an error while the
// commit finishes (or fails) on its own; the outcome is then unknown to this
// request, which is safe because every change is idempotent and the marketplace
// retries.
func commit(ctx context.Context, tx *sqlx.Tx) error {
	done := make(chan error, 1)
	go func() { done <- tx.Commit() }()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

func isDeadlock(err error) bool {
	var me *mysql.MySQLError
	return errors.As(err, &me) && me.Number == 1213
}

// tooManyConnections reports the errors of a server, or an account, at its
// connection limit: 1040 (max_connections), 1203 and 1226 (max_user_connections).
func tooManyConnections(err error) bool {
	var me *mysql.MySQLError
	return errors.As(err, &me) && (me.Number == 1040 || me.Number == 1203 || me.Number == 1226)
}

// stillRefusing is how often a burst of refused connections that goes on is
// logged again.
const stillRefusing = time.Minute

// pressure turns a connection the server refuses for its connection limit into
// marketplace.ErrBusy, which every caller answers at once (000005, a 5xx, an
// error page) instead of waiting, and logs such refusals once per burst: at the
// first, every minute while they go on, and when a connection succeeds again,
// with the count. A burst makes every request of the instance fail; one line per
// request would bury the logs.
type pressure struct {
	next   driver.Connector
	logger *slog.Logger
	now    func() time.Time

	mu      sync.Mutex
	refused int       // refusals in the current burst
	since   time.Time // first refusal of the burst
	logged  time.Time // last line about it
}

func (p *pressure) Connect(ctx context.Context) (driver.Conn, error) {
	c, err := p.next.Connect(ctx)
	switch {
	case err == nil:
		p.accepted()
		return c, nil
	case tooManyConnections(err):
		p.refusal(err)
		return nil, fmt.Errorf("%w: %w", marketplace.ErrBusy, err)
	}
	return nil, err
}

func (p *pressure) Driver() driver.Driver { return p.next.Driver() }

func (p *pressure) log() *slog.Logger {
	if p.logger != nil {
		return p.logger
	}
	return slog.Default()
}

func (p *pressure) refusal(err error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	now := p.now()
	p.refused++
	switch {
	case p.refused == 1:
		p.since, p.logged = now, now
		p.log().Error("the database refused a connection: too many connections; calls answer at once with an error, "+
			"further refusals are counted until a connection succeeds", "err", err.Error())
	case now.Sub(p.logged) >= stillRefusing:
		p.logged = now
		p.log().Error("the database still refuses connections: too many connections", "refused", p.refused, "for", now.Sub(p.since).Round(time.Second).String())
	}
}

func (p *pressure) accepted() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.refused == 0 {
		return
	}
	p.log().Warn("the database accepts connections again", "refused", p.refused, "for", p.now().Sub(p.since).Round(time.Millisecond).String())
	p.refused = 0
}

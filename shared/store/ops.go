package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/kgseller/kgseller/shared/marketplace"
)

// Operator queries: listings and the two writes an operator may ask for (requeue a
// dead job, purge expired nonces). scripts/ops is their only user; functions never
// call them.

// Listing limits.
const (
	DefaultListLimit = 50
	MaxListLimit     = 1000
)

func listLimit(n int) int {
	switch {
	case n <= 0:
		return DefaultListLimit
	case n > MaxListLimit:
		return MaxListLimit
	}
	return n
}

// where collects optional equality conditions.
type where struct {
	conds []string
	args  []any
}

func (w *where) eq(col, v string) {
	if v != "" {
		w.conds = append(w.conds, col+" = ?")
		w.args = append(w.args, v)
	}
}

func (w *where) sql() string {
	if len(w.conds) == 0 {
		return ""
	}
	return " WHERE " + strings.Join(w.conds, " AND ")
}

// InstanceFilter selects instances; empty fields match everything.
type InstanceFilter struct {
	Status      string // NORMAL, FROZEN, RELEASED
	State       string // PROVISIONING, ACTIVE, FAILED
	OrderID     string // the creating order
	OrderLineID string
	Limit       int
}

// ListInstances returns instances, newest first.
func (s *Store) ListInstances(ctx context.Context, f InstanceFilter) ([]marketplace.Instance, error) {
	var w where
	w.eq("status", f.Status)
	w.eq("state", f.State)
	w.eq("order_id", f.OrderID)
	w.eq("order_line_id", f.OrderLineID)
	var rows []instanceRow
	q := "SELECT " + instanceCols + " FROM instances" + w.sql() + " ORDER BY created_at DESC, instance_id LIMIT ?"
	if err := s.db.SelectContext(ctx, &rows, q, append(w.args, listLimit(f.Limit))...); err != nil {
		return nil, fmt.Errorf("store: listing instances: %w", err)
	}
	out := make([]marketplace.Instance, 0, len(rows))
	for _, r := range rows {
		inst, err := r.domain()
		if err != nil {
			return nil, err
		}
		out = append(out, inst)
	}
	return out, nil
}

// InstanceOrder is an order applied to an existing instance (renewal, renewal
// cancellation, upgrade): a row of instance_orders.
type InstanceOrder struct {
	Kind        string         `db:"kind"`
	OrderID     string         `db:"order_id"`
	OrderLineID string         `db:"order_line_id"`
	InstanceID  string         `db:"instance_id"`
	Detail      sql.NullString `db:"detail"`
	CreatedAt   time.Time      `db:"created_at"`
}

// OrderFilter selects applied orders; empty fields match everything.
type OrderFilter struct {
	InstanceID  string
	OrderID     string
	OrderLineID string
	Kind        string
	Limit       int
}

// ListInstanceOrders returns applied orders, newest first.
func (s *Store) ListInstanceOrders(ctx context.Context, f OrderFilter) ([]InstanceOrder, error) {
	var w where
	w.eq("instance_id", f.InstanceID)
	w.eq("order_id", f.OrderID)
	w.eq("order_line_id", f.OrderLineID)
	w.eq("kind", f.Kind)
	var out []InstanceOrder
	q := "SELECT kind, order_id, order_line_id, instance_id, detail, created_at FROM instance_orders" + w.sql() +
		" ORDER BY created_at DESC, kind, order_id, order_line_id LIMIT ?"
	if err := s.db.SelectContext(ctx, &out, q, append(w.args, listLimit(f.Limit))...); err != nil {
		return nil, fmt.Errorf("store: listing instance orders: %w", err)
	}
	return out, nil
}

// JobFilter selects jobs; empty fields match everything.
type JobFilter struct {
	State      string // PENDING, DONE, DEAD
	Kind       string
	InstanceID string
	Limit      int
}

// ListJobs returns jobs, newest first.
func (s *Store) ListJobs(ctx context.Context, f JobFilter) ([]Job, error) {
	var w where
	w.eq("state", f.State)
	w.eq("kind", f.Kind)
	w.eq("instance_id", f.InstanceID)
	var out []Job
	q := "SELECT " + jobCols + " FROM jobs" + w.sql() + " ORDER BY id DESC LIMIT ?"
	if err := s.db.SelectContext(ctx, &out, q, append(w.args, listLimit(f.Limit))...); err != nil {
		return nil, fmt.Errorf("store: listing jobs: %w", err)
	}
	return out, nil
}

// Counts summarises the operational tables.
type Counts struct {
	InstancesByStatus map[string]int
	InstancesByState  map[string]int
	JobsByState       map[string]int
	DeadJobsByKind    map[string]int
	Nonces            int64
	ExpiredNonces     int64
}

// Count returns the summary counts.
func (s *Store) Count(ctx context.Context) (Counts, error) {
	c := Counts{}
	group := func(q string, args ...any) (map[string]int, error) {
		var rows []struct {
			Key string `db:"k"`
			N   int    `db:"n"`
		}
		if err := s.db.SelectContext(ctx, &rows, q, args...); err != nil {
			return nil, fmt.Errorf("store: counting: %w", err)
		}
		m := make(map[string]int, len(rows))
		for _, r := range rows {
			m[r.Key] = r.N
		}
		return m, nil
	}
	var err error
	if c.InstancesByStatus, err = group("SELECT status AS k, COUNT(*) AS n FROM instances GROUP BY status"); err != nil {
		return c, err
	}
	if c.InstancesByState, err = group("SELECT state AS k, COUNT(*) AS n FROM instances GROUP BY state"); err != nil {
		return c, err
	}
	if c.JobsByState, err = group("SELECT state AS k, COUNT(*) AS n FROM jobs GROUP BY state"); err != nil {
		return c, err
	}
	if c.DeadJobsByKind, err = group("SELECT kind AS k, COUNT(*) AS n FROM jobs WHERE state = ? GROUP BY kind", JobDead); err != nil {
		return c, err
	}
	if c.Nonces, c.ExpiredNonces, err = s.CountNonces(ctx); err != nil {
		return c, err
	}
	return c, nil
}

// CountNonces returns how many nonces are stored and how many of them have expired
// (what PurgeNonces would delete).
func (s *Store) CountNonces(ctx context.Context) (total, expired int64, err error) {
	if err := s.db.GetContext(ctx, &total, "SELECT COUNT(*) FROM nonces"); err != nil {
		return 0, 0, fmt.Errorf("store: counting nonces: %w", err)
	}
	if err := s.db.GetContext(ctx, &expired, "SELECT COUNT(*) FROM nonces WHERE expires_at < ?", s.now()); err != nil {
		return 0, 0, fmt.Errorf("store: counting expired nonces: %w", err)
	}
	return total, expired, nil
}

// ErrNotDead is returned when an operator asks to requeue a job that is not DEAD.
var ErrNotDead = errors.New("store: job is not DEAD")

// RequeueDeadJob puts a DEAD job back to PENDING, due now and unleased, so the
// worker runs it on its next pass. resetAttempts gives it the full retry budget
// again; otherwise its attempt count is kept and one more failure buries it. The
// last error stays until the next attempt replaces or clears it.
//
// A dead provisioning job left its instance FAILED; the instance goes back to
// PROVISIONING in the same transaction, so the marketplace sees "processing"
// (000004) again instead of the old failure while the job is retried.
func (s *Store) RequeueDeadJob(ctx context.Context, id int64, resetAttempts bool) (Job, error) {
	// Whole milliseconds: engines that round DATETIME(3) (MySQL 8, the embedded
	// one) would otherwise store a due time up to half a millisecond ahead.
	now := s.now().Truncate(time.Millisecond)
	err := s.inTx(ctx, func(tx *sqlx.Tx) error {
		var j Job
		err := tx.GetContext(ctx, &j, "SELECT "+jobCols+" FROM jobs WHERE id = ? FOR UPDATE", id)
		if errors.Is(err, sql.ErrNoRows) {
			return ErrNotFound
		}
		if err != nil {
			return fmt.Errorf("store: reading job: %w", err)
		}
		if j.State != JobDead {
			return ErrNotDead
		}
		attempts := j.Attempts
		if resetAttempts {
			attempts = 0
		}
		if _, err := tx.ExecContext(ctx,
			`UPDATE jobs SET state = ?, attempts = ?, next_run_at = ?, lease_owner = NULL, lease_until = NULL, done_at = NULL, updated_at = ?
			 WHERE id = ? AND state = ?`, JobPending, attempts, now, now, id, JobDead); err != nil {
			return fmt.Errorf("store: requeueing job: %w", err)
		}
		if j.Kind == marketplace.JobProvision && j.InstanceID.Valid {
			if _, err := tx.ExecContext(ctx,
				`UPDATE instances SET state = ?, fail_code = NULL, fail_reason = NULL, updated_at = ?
				 WHERE instance_id = ? AND state = ?`, marketplace.Provisioning, now, j.InstanceID.String, marketplace.Failed); err != nil {
				return fmt.Errorf("store: reopening instance: %w", err)
			}
		}
		return nil
	})
	if err != nil {
		return Job{}, err
	}
	return s.Job(ctx, id)
}

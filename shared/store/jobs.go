package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/kgseller/kgseller/shared/marketplace"
)

// Job states.
const (
	JobPending = "PENDING"
	JobDone    = "DONE"
	JobDead    = "DEAD"
)

// ErrLeaseLost is returned when a job's lease expired and another worker took it.
var ErrLeaseLost = errors.New("store: job lease lost")

// NewJob describes an outbox job to write with a state change.
type NewJob struct {
	Key        string // idempotency key of the side effect
	Kind       string
	InstanceID string
	Payload    string // JSON
}

// Job is an outbox row.
type Job struct {
	ID         int64          `db:"id"`
	Key        string         `db:"job_key"`
	Kind       string         `db:"kind"`
	InstanceID sql.NullString `db:"instance_id"`
	Payload    sql.NullString `db:"payload"`
	State      string         `db:"state"`
	Attempts   int            `db:"attempts"`
	NextRunAt  time.Time      `db:"next_run_at"`
	LeaseOwner sql.NullString `db:"lease_owner"`
	LeaseUntil sql.NullTime   `db:"lease_until"`
	LastError  sql.NullString `db:"last_error"`
	CreatedAt  time.Time      `db:"created_at"`
	UpdatedAt  time.Time      `db:"updated_at"`
	DoneAt     sql.NullTime   `db:"done_at"`
}

const jobCols = "id, job_key, kind, instance_id, payload, state, attempts, next_run_at, lease_owner, lease_until, last_error, created_at, updated_at, done_at"

// insertJob writes a job inside tx. A job whose key exists is left as it is (its
// side effect is already scheduled or done) and 0 is returned.
func insertJob(ctx context.Context, tx *sqlx.Tx, j NewJob, now time.Time) (int64, error) {
	res, err := tx.ExecContext(ctx,
		"INSERT INTO jobs (job_key, kind, instance_id, payload, state, attempts, next_run_at, created_at, updated_at) VALUES (?, ?, ?, ?, ?, 0, ?, ?, ?)",
		j.Key, j.Kind, nullString(j.InstanceID), nullString(j.Payload), JobPending, now, now, now)
	if IsDuplicate(err) {
		return 0, errDuplicateJob
	}
	if err != nil {
		return 0, fmt.Errorf("store: writing job %s: %w", j.Kind, err)
	}
	id, err := res.LastInsertId()
	if err != nil {
		return 0, fmt.Errorf("store: job id: %w", err)
	}
	return id, nil
}

var errDuplicateJob = errors.New("store: job key exists")

// Job returns one job by id.
func (s *Store) Job(ctx context.Context, id int64) (Job, error) {
	var j Job
	err := s.db.GetContext(ctx, &j, "SELECT "+jobCols+" FROM jobs WHERE id = ?", id)
	if errors.Is(err, sql.ErrNoRows) {
		return Job{}, ErrNotFound
	}
	if err != nil {
		return Job{}, fmt.Errorf("store: reading job: %w", err)
	}
	return j, nil
}

// JobByKey returns one job by its idempotency key.
func (s *Store) JobByKey(ctx context.Context, key string) (Job, error) {
	var j Job
	err := s.db.GetContext(ctx, &j, "SELECT "+jobCols+" FROM jobs WHERE job_key = ?", key)
	if errors.Is(err, sql.ErrNoRows) {
		return Job{}, ErrNotFound
	}
	if err != nil {
		return Job{}, fmt.Errorf("store: reading job: %w", err)
	}
	return j, nil
}

// ClaimJob takes the lease of a pending job that is due and not leased by a live
// worker. ok is false when another worker holds it or it is no longer pending. The
// conditional UPDATE is the claim: only one worker can move a row this way.
func (s *Store) ClaimJob(ctx context.Context, id int64, owner string, lease time.Duration) (Job, bool, error) {
	now := s.now()
	res, err := s.db.ExecContext(ctx,
		`UPDATE jobs SET lease_owner = ?, lease_until = ?, attempts = attempts + 1, updated_at = ?
		 WHERE id = ? AND state = ? AND next_run_at <= ? AND (lease_until IS NULL OR lease_until < ?)`,
		owner, now.Add(lease), now, id, JobPending, now, now)
	if err != nil {
		return Job{}, false, fmt.Errorf("store: claiming job: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return Job{}, false, nil
	}
	j, err := s.Job(ctx, id)
	if err != nil {
		return Job{}, false, err
	}
	return j, true, nil
}

// DueJobs lists up to limit job ids that are due and unleased, oldest first.
func (s *Store) DueJobs(ctx context.Context, limit int) ([]int64, error) {
	now := s.now()
	var ids []int64
	err := s.db.SelectContext(ctx, &ids,
		`SELECT id FROM jobs WHERE state = ? AND next_run_at <= ? AND (lease_until IS NULL OR lease_until < ?)
		 ORDER BY next_run_at, id LIMIT ?`, JobPending, now, now, limit)
	if err != nil {
		return nil, fmt.Errorf("store: listing due jobs: %w", err)
	}
	return ids, nil
}

// TxFunc is a write applied inside another operation's transaction, such as the
// result of a job recorded together with the job's end.
type TxFunc func(ctx context.Context, tx *sqlx.Tx, now time.Time) error

// CompleteJob marks a leased job done and applies its result (apply may be nil) in
// the same transaction; ErrLeaseLost means another runner owns the job and nothing
// was written.
func (s *Store) CompleteJob(ctx context.Context, id int64, owner string, apply TxFunc) error {
	return s.inTx(ctx, func(tx *sqlx.Tx) error {
		now := s.now()
		if err := completeJob(ctx, tx, id, owner, now); err != nil {
			return err
		}
		if apply != nil {
			return apply(ctx, tx, now)
		}
		return nil
	})
}

func completeJob(ctx context.Context, tx *sqlx.Tx, id int64, owner string, now time.Time) error {
	res, err := tx.ExecContext(ctx,
		`UPDATE jobs SET state = ?, done_at = ?, updated_at = ?, lease_owner = NULL, lease_until = NULL, last_error = NULL
		 WHERE id = ? AND state = ? AND lease_owner = ?`, JobDone, now, now, id, JobPending, owner)
	if err != nil {
		return fmt.Errorf("store: completing job: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return ErrLeaseLost
	}
	return nil
}

// RetryJob releases a leased job to run again at next, keeping the error.
func (s *Store) RetryJob(ctx context.Context, id int64, owner string, next time.Time, lastErr string) error {
	now := s.now()
	res, err := s.db.ExecContext(ctx,
		`UPDATE jobs SET next_run_at = ?, lease_owner = NULL, lease_until = NULL, last_error = ?, updated_at = ?
		 WHERE id = ? AND state = ? AND lease_owner = ?`, dbTime(next), marketplace.SafeText(lastErr, 1024), now, id, JobPending, owner)
	if err != nil {
		return fmt.Errorf("store: rescheduling job: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return ErrLeaseLost
	}
	return nil
}

// BuryJob moves a leased job to DEAD with its last error, applying apply (may be
// nil) in the same transaction; the job is kept for inspection and can be retried
// by an operator.
func (s *Store) BuryJob(ctx context.Context, id int64, owner, lastErr string, apply TxFunc) error {
	return s.inTx(ctx, func(tx *sqlx.Tx) error {
		now := s.now()
		if err := buryJob(ctx, tx, id, owner, lastErr, now); err != nil {
			return err
		}
		if apply != nil {
			return apply(ctx, tx, now)
		}
		return nil
	})
}

func buryJob(ctx context.Context, tx *sqlx.Tx, id int64, owner, lastErr string, now time.Time) error {
	res, err := tx.ExecContext(ctx,
		`UPDATE jobs SET state = ?, lease_owner = NULL, lease_until = NULL, last_error = ?, updated_at = ?
		 WHERE id = ? AND state = ? AND lease_owner = ?`, JobDead, marketplace.SafeText(lastErr, 1024), now, id, JobPending, owner)
	if err != nil {
		return fmt.Errorf("store: burying job: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return ErrLeaseLost
	}
	return nil
}

func nullString(s string) sql.NullString { return sql.NullString{String: s, Valid: s != ""} }

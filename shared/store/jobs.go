package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

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
// worker, and reads the job, in one round trip. ok is false when another worker
// holds it or it is no longer pending. The conditional UPDATE is the claim: only
// one worker can move a row this way; the read returns the row only with this
// claim's lease on it.
func (s *Store) ClaimJob(ctx context.Context, id int64, owner string, lease time.Duration) (Job, bool, error) {
	now := s.now()
	until := now.Add(lease)
	b := s.newBatch()
	b.add(`UPDATE jobs SET lease_owner = ?, lease_until = ?, attempts = attempts + 1, updated_at = ?
  WHERE id = ? AND state = ? AND next_run_at <= ? AND (lease_until IS NULL OR lease_until < ?)`,
		owner, until, now, id, JobPending, now, now)
	b.add("SELECT "+jobCols+" FROM jobs WHERE id = ? AND lease_owner = ? AND lease_until = ?", id, owner, until)
	var j Job
	var ok bool
	err := s.queryStatements(ctx, b, func(rows *sql.Rows) error {
		if !rows.Next() {
			return nil
		}
		ok = true
		return scanRow(rows, s.db.Mapper, &j)
	})
	if err != nil {
		return Job{}, false, fmt.Errorf("store: claiming job: %w", err)
	}
	return j, ok, nil
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

// Effect is what a job's end records besides the job itself: writes made in the
// same transaction as the job's end, each only while the runner ending the job
// still holds its lease (each write joins the job's row under that condition), so
// that a runner whose lease was taken over writes nothing. A single update is
// made in the very statement that ends the job. Effects combine by appending.
type Effect []effectWrite

// effectWrite is an update of the rows of table (aliased t) matching where, or an
// insert into table of cols valued by vals (a SELECT list) followed by tail (an
// ON DUPLICATE KEY UPDATE clause, or "").
type effectWrite struct {
	table              string
	insert             bool
	set, where         string
	setArgs, whereArgs []any
	cols, vals, tail   string
	valArgs, tailArgs  []any
}

// nowArg stands for the time the job ends, in an effect's arguments.
type nowArg struct{}

func withNow(args []any, now time.Time) []any {
	out := make([]any, len(args))
	for i, a := range args {
		if _, ok := a.(nowArg); ok {
			a = now
		}
		out[i] = a
	}
	return out
}

// update is the write as a plain UPDATE, outside a job's end.
func (w effectWrite) update(now time.Time) (string, []any) {
	return "UPDATE " + w.table + " t SET " + w.set + " WHERE " + w.where, withNow(append(append([]any{}, w.setArgs...), w.whereArgs...), now)
}

// jobFence is the condition on the job's row (aliased j) under which a runner may
// end it: still pending and leased by that runner.
const jobFence = "j.id = ? AND j.state = ? AND j.lease_owner = ?"

// endJob ends a leased job, setting jobSet (columns of j), with the effect e, as
// one statement when e is at most one update and as one transaction otherwise,
// in one round trip either way; ErrLeaseLost means another runner owns the job and
// nothing was written.
func (s *Store) endJob(ctx context.Context, id int64, owner, jobSet string, jobArgs []any, e Effect) error {
	now := s.now()
	fence := []any{id, JobPending, owner}
	jobArgs = withNow(jobArgs, now)
	b := s.newBatch()
	switch {
	case len(e) == 0:
		b.add("UPDATE jobs j SET "+jobSet+" WHERE "+jobFence, append(jobArgs, fence...)...)
	case len(e) == 1 && !e[0].insert:
		// A missing row of the effect's table leaves the job to end all the same.
		w := e[0]
		b.add("UPDATE jobs j LEFT JOIN "+w.table+" t ON "+w.where+" SET "+jobSet+", "+w.set+" WHERE "+jobFence,
			withNow(concat(w.whereArgs, jobArgs, w.setArgs, fence), now)...)
	default:
		for _, w := range e {
			if w.insert {
				b.add("INSERT INTO "+w.table+" ("+w.cols+") SELECT "+w.vals+" FROM jobs j WHERE "+jobFence+" "+w.tail,
					withNow(concat(w.valArgs, fence, w.tailArgs), now)...)
				continue
			}
			b.add("UPDATE "+w.table+" t JOIN jobs j ON "+jobFence+" SET "+w.set+" WHERE "+w.where,
				withNow(concat(fence, w.setArgs, w.whereArgs), now)...)
		}
		b.add("UPDATE jobs j SET "+jobSet+" WHERE "+jobFence, append(jobArgs, fence...)...)
	}
	res, err := s.execBatch(ctx, b)
	if err != nil {
		return err
	}
	if res.affectedAt(len(b.stmts)-1) == 0 {
		return ErrLeaseLost
	}
	return nil
}

func concat(lists ...[]any) []any {
	var out []any
	for _, l := range lists {
		out = append(out, l...)
	}
	return out
}

// CompleteJob marks a leased job done and records its effect (e may be nil) with
// it; ErrLeaseLost means another runner owns the job and nothing was written.
func (s *Store) CompleteJob(ctx context.Context, id int64, owner string, e Effect) error {
	err := s.endJob(ctx, id, owner,
		"j.state = ?, j.done_at = ?, j.updated_at = ?, j.lease_owner = NULL, j.lease_until = NULL, j.last_error = NULL",
		[]any{JobDone, nowArg{}, nowArg{}}, e)
	if err != nil && !errors.Is(err, ErrLeaseLost) {
		return fmt.Errorf("store: completing job: %w", err)
	}
	return err
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

// BuryJob moves a leased job to DEAD with its last error, recording the effect e
// (may be nil) with it; the job is kept for inspection and can be retried by an
// operator.
func (s *Store) BuryJob(ctx context.Context, id int64, owner, lastErr string, e Effect) error {
	err := s.endJob(ctx, id, owner,
		"j.state = ?, j.lease_owner = NULL, j.lease_until = NULL, j.last_error = ?, j.updated_at = ?",
		[]any{JobDead, marketplace.SafeText(lastErr, 1024), nowArg{}}, e)
	if err != nil && !errors.Is(err, ErrLeaseLost) {
		return fmt.Errorf("store: burying job: %w", err)
	}
	return err
}

func nullString(s string) sql.NullString { return sql.NullString{String: s, Valid: s != ""} }

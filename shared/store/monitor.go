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

// The interface monitor's tables (monitor_checks, monitor_runs) and the internal
// health queries it runs; scripts/ops reads the same tables.

// MonitorCheck is the state of one monitored check.
type MonitorCheck struct {
	Name string `db:"check_name" json:"check"`
	// Failures counts the current streak of failed runs.
	Failures int `db:"failures" json:"failures"`
	// Incident is set from the alert until the recovery.
	Incident bool `db:"incident" json:"incident"`
	// Unsent names a notice ("alert" or "recovery") not yet delivered.
	Unsent     string       `db:"unsent" json:"unsent,omitempty"`
	Seq        int64        `db:"seq" json:"seq"`
	Since      sql.NullTime `db:"since" json:"-"`
	LastOKAt   sql.NullTime `db:"last_ok_at" json:"-"`
	LastRunAt  time.Time    `db:"last_run_at" json:"lastRunAt"`
	LastDetail string       `db:"last_detail" json:"lastDetail,omitempty"`
}

// MonitorRun is one run of one check.
type MonitorRun struct {
	Check     string    `db:"check_name" json:"check"`
	Seq       int64     `db:"seq" json:"seq"`
	RunAt     time.Time `db:"run_at" json:"runAt"`
	OK        bool      `db:"ok" json:"ok"`
	LatencyMS int       `db:"latency_ms" json:"latencyMs"`
	Detail    string    `db:"detail" json:"detail,omitempty"`
}

// MaxMonitorDetail is the stored length of a run's detail, in characters.
const MaxMonitorDetail = 1024

const monitorCheckCols = "check_name, failures, incident, unsent, seq, since, last_ok_at, last_run_at, last_detail"

// MonitorChecks returns the state of every check, by name.
func (s *Store) MonitorChecks(ctx context.Context) ([]MonitorCheck, error) {
	var out []MonitorCheck
	if err := s.db.SelectContext(ctx, &out, "SELECT "+monitorCheckCols+" FROM monitor_checks ORDER BY check_name"); err != nil {
		return nil, fmt.Errorf("store: reading monitor checks: %w", err)
	}
	return out, nil
}

// SaveMonitor writes runs and the checks' new state in one transaction, and
// deletes each written check's runs older than its newest keep, so the table
// holds at most keep runs per check.
func (s *Store) SaveMonitor(ctx context.Context, checks []MonitorCheck, runs []MonitorRun, keep int) error {
	if keep <= 0 {
		keep = 1
	}
	return s.inTx(ctx, func(tx *sqlx.Tx) error {
		for _, r := range runs {
			if _, err := tx.ExecContext(ctx,
				"INSERT INTO monitor_runs (check_name, seq, run_at, ok, latency_ms, detail) VALUES (?, ?, ?, ?, ?, ?)",
				r.Check, r.Seq, r.RunAt.UTC(), r.OK, r.LatencyMS, marketplace.SafeText(r.Detail, MaxMonitorDetail)); err != nil && !IsDuplicate(err) {
				return fmt.Errorf("store: writing monitor run: %w", err)
			}
		}
		for _, c := range checks {
			if _, err := tx.ExecContext(ctx, "DELETE FROM monitor_runs WHERE check_name = ? AND seq <= ?", c.Name, c.Seq-int64(keep)); err != nil {
				return fmt.Errorf("store: trimming monitor runs: %w", err)
			}
			if _, err := tx.ExecContext(ctx,
				`INSERT INTO monitor_checks (`+monitorCheckCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
				 ON DUPLICATE KEY UPDATE failures = VALUES(failures), incident = VALUES(incident), unsent = VALUES(unsent),
				 seq = VALUES(seq), since = VALUES(since), last_ok_at = VALUES(last_ok_at), last_run_at = VALUES(last_run_at),
				 last_detail = VALUES(last_detail)`,
				c.Name, c.Failures, c.Incident, c.Unsent, c.Seq, nullUTC(c.Since), nullUTC(c.LastOKAt), c.LastRunAt.UTC(),
				marketplace.SafeText(c.LastDetail, MaxMonitorDetail)); err != nil {
				return fmt.Errorf("store: writing monitor check: %w", err)
			}
		}
		return nil
	})
}

func nullUTC(t sql.NullTime) any {
	if !t.Valid {
		return nil
	}
	return t.Time.UTC()
}

// MonitorRunFilter selects runs; the zero value is the newest runs of every check.
type MonitorRunFilter struct {
	Check        string
	FailuresOnly bool
	Limit        int
}

// ListMonitorRuns returns runs, newest first.
func (s *Store) ListMonitorRuns(ctx context.Context, f MonitorRunFilter) ([]MonitorRun, error) {
	var w where
	w.eq("check_name", f.Check)
	if f.FailuresOnly {
		w.conds = append(w.conds, "ok = 0")
	}
	var out []MonitorRun
	q := "SELECT check_name, seq, run_at, ok, latency_ms, detail FROM monitor_runs" + w.sql() + " ORDER BY run_at DESC, check_name, seq DESC LIMIT ?"
	if err := s.db.SelectContext(ctx, &out, q, append(w.args, listLimit(f.Limit))...); err != nil {
		return nil, fmt.Errorf("store: listing monitor runs: %w", err)
	}
	return out, nil
}

// OldestStuckJob returns the oldest PENDING job that was due before dueBefore and
// has not run since (nobody holds its lease), and whether there is one. A job the
// worker keeps retrying is not stuck: each failure moves its next run ahead.
func (s *Store) OldestStuckJob(ctx context.Context, dueBefore time.Time) (Job, bool, error) {
	var j Job
	err := s.db.GetContext(ctx, &j, "SELECT "+jobCols+` FROM jobs
		WHERE state = ? AND next_run_at < ? AND (lease_until IS NULL OR lease_until < ?)
		ORDER BY next_run_at, id LIMIT 1`, JobPending, dueBefore.UTC(), s.now())
	if errors.Is(err, sql.ErrNoRows) {
		return Job{}, false, nil
	}
	if err != nil {
		return Job{}, false, fmt.Errorf("store: reading stuck jobs: %w", err)
	}
	return j, true, nil
}

// DeadJobs counts DEAD jobs and returns the most recent one.
func (s *Store) DeadJobs(ctx context.Context) (int, Job, error) {
	var n int
	if err := s.db.GetContext(ctx, &n, "SELECT COUNT(*) FROM jobs WHERE state = ?", JobDead); err != nil {
		return 0, Job{}, fmt.Errorf("store: counting dead jobs: %w", err)
	}
	if n == 0 {
		return 0, Job{}, nil
	}
	var j Job
	if err := s.db.GetContext(ctx, &j, "SELECT "+jobCols+" FROM jobs WHERE state = ? ORDER BY updated_at DESC, id DESC LIMIT 1", JobDead); err != nil {
		return n, Job{}, fmt.Errorf("store: reading dead jobs: %w", err)
	}
	return n, j, nil
}

// StuckProvisioning counts instances still PROVISIONING that were created before
// createdBefore and returns the oldest of them.
func (s *Store) StuckProvisioning(ctx context.Context, createdBefore time.Time) (int, marketplace.Instance, error) {
	var n int
	if err := s.db.GetContext(ctx, &n, "SELECT COUNT(*) FROM instances WHERE state = ? AND created_at < ?",
		marketplace.Provisioning, createdBefore.UTC()); err != nil {
		return 0, marketplace.Instance{}, fmt.Errorf("store: counting provisioning instances: %w", err)
	}
	if n == 0 {
		return 0, marketplace.Instance{}, nil
	}
	var r instanceRow
	if err := s.db.GetContext(ctx, &r, "SELECT "+instanceCols+" FROM instances WHERE state = ? AND created_at < ? ORDER BY created_at, instance_id LIMIT 1",
		marketplace.Provisioning, createdBefore.UTC()); err != nil {
		return n, marketplace.Instance{}, fmt.Errorf("store: reading provisioning instances: %w", err)
	}
	inst, err := r.domain()
	return n, inst, err
}

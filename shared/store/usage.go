package store

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"github.com/jmoiron/sqlx"

	"github.com/kgseller/kgseller/shared/marketplace"
)

// RecordUsage stores a usage report for an existing instance. A report whose
// statistical time is older than the stored one leaves the stored value as it is,
// so reports that arrive out of order cannot move usage backwards. The comparison
// is part of the one upsert, which holds the row's lock, so it holds for
// concurrent reports too. It returns ErrNotFound for an unknown instance.
func (s *Store) RecordUsage(ctx context.Context, u marketplace.Usage) error {
	return s.inTx(ctx, func(tx *sqlx.Tx) error {
		var one int
		err := tx.GetContext(ctx, &one, "SELECT 1 FROM instances WHERE instance_id = ?", u.InstanceID)
		if err == sql.ErrNoRows {
			return ErrNotFound
		}
		if err != nil {
			return fmt.Errorf("store: reading instance: %w", err)
		}
		// Assignments run left to right: usage_value and dashboard_url compare with the
		// old statistical_time before it is moved forward.
		_, err = tx.ExecContext(ctx,
			`INSERT INTO instance_usage (instance_id, related_instance_id, usage_value, statistical_time, dashboard_url, updated_at)
			 VALUES (?, ?, ?, ?, ?, ?)
			 ON DUPLICATE KEY UPDATE
			   usage_value = IF(VALUES(statistical_time) >= statistical_time, VALUES(usage_value), usage_value),
			   dashboard_url = IF(VALUES(statistical_time) >= statistical_time, VALUES(dashboard_url), dashboard_url),
			   updated_at = VALUES(updated_at),
			   statistical_time = GREATEST(statistical_time, VALUES(statistical_time))`,
			u.InstanceID, u.RelatedInstanceID, u.Value, u.StatisticalTime.UTC(), nullString(u.DashboardURL), s.now())
		if err != nil {
			return fmt.Errorf("store: recording usage: %w", err)
		}
		return nil
	})
}

// InstancesWithUsage returns the instances among ids that exist and their usage,
// in one query (queryInstance's read).
func (s *Store) InstancesWithUsage(ctx context.Context, ids []string) ([]marketplace.Instance, map[string][]marketplace.Usage, error) {
	if len(ids) == 0 {
		return nil, nil, nil
	}
	q, args, err := sqlx.In(`SELECT `+prefixed("i.", instanceCols)+`,
		u.related_instance_id AS u_related, u.usage_value AS u_value, u.statistical_time AS u_time, u.dashboard_url AS u_dashboard
		FROM instances i LEFT JOIN instance_usage u ON u.instance_id = i.instance_id
		WHERE i.instance_id IN (?) ORDER BY i.instance_id, u.related_instance_id`, ids)
	if err != nil {
		return nil, nil, fmt.Errorf("store: building query: %w", err)
	}
	var rows []struct {
		instanceRow
		Related   sql.NullString `db:"u_related"`
		Value     sql.NullString `db:"u_value"`
		Time      sql.NullTime   `db:"u_time"`
		Dashboard sql.NullString `db:"u_dashboard"`
	}
	if err := s.db.SelectContext(ctx, &rows, q, args...); err != nil {
		return nil, nil, fmt.Errorf("store: reading instances: %w", err)
	}
	var out []marketplace.Instance
	usage := map[string][]marketplace.Usage{}
	for _, r := range rows {
		if len(out) == 0 || out[len(out)-1].InstanceID != r.InstanceID {
			inst, err := r.instanceRow.domain()
			if err != nil {
				return nil, nil, err
			}
			out = append(out, inst)
		}
		if r.Value.Valid {
			usage[r.InstanceID] = append(usage[r.InstanceID], marketplace.Usage{
				InstanceID: r.InstanceID, RelatedInstanceID: r.Related.String, Value: r.Value.String,
				StatisticalTime: r.Time.Time, DashboardURL: r.Dashboard.String,
			})
		}
	}
	return out, usage, nil
}

// prefixed qualifies every column of a comma-separated list.
func prefixed(prefix, cols string) string {
	parts := strings.Split(cols, ",")
	for i, p := range parts {
		parts[i] = prefix + strings.TrimSpace(p)
	}
	return strings.Join(parts, ", ")
}

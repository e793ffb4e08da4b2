package monitor

import (
	"context"
	"fmt"
	"time"

	"github.com/kgseller/kgseller/shared/marketplace"
)

// internal runs the checks of the interface's insides, which need the database:
// DEAD jobs, jobs due but not run, instances stuck in PROVISIONING, the nonces.
func (m *Monitor) internal(ctx context.Context, now time.Time) []CheckResult {
	var out []CheckResult
	fail := func(check string, err error) CheckResult {
		return CheckResult{Check: check, Detail: "query failed: " + redactErr(err)}
	}

	if n, last, err := m.store.DeadJobs(ctx); err != nil {
		out = append(out, fail(CheckDeadJobs, err))
	} else {
		r := CheckResult{Check: CheckDeadJobs, OK: n <= m.cfg.DeadJobsMax, Detail: fmt.Sprintf("%d DEAD job(s) (at most %d allowed)", n, m.cfg.DeadJobsMax)}
		if n > 0 {
			r.Detail += fmt.Sprintf("; latest #%d %s%s: %s", last.ID, last.Kind, instanceNote(last.InstanceID.String),
				marketplace.SafeText(last.LastError.String, 200))
		}
		out = append(out, r)
	}

	if j, found, err := m.store.OldestStuckJob(ctx, now.Add(-m.cfg.JobAge)); err != nil {
		out = append(out, fail(CheckStuckJobs, err))
	} else {
		r := CheckResult{Check: CheckStuckJobs, OK: !found, Detail: fmt.Sprintf("no job due for more than %v", m.cfg.JobAge)}
		if found {
			r.Detail = fmt.Sprintf("job #%d %s%s has been due since %s (%v) without running; attempts %d",
				j.ID, j.Kind, instanceNote(j.InstanceID.String), j.NextRunAt.UTC().Format(time.RFC3339),
				now.Sub(j.NextRunAt).Round(time.Second), j.Attempts)
		}
		out = append(out, r)
	}

	if n, oldest, err := m.store.StuckProvisioning(ctx, now.Add(-m.cfg.ProvisioningAge)); err != nil {
		out = append(out, fail(CheckProvisioning, err))
	} else {
		r := CheckResult{Check: CheckProvisioning, OK: n == 0, Detail: fmt.Sprintf("no instance PROVISIONING for more than %v", m.cfg.ProvisioningAge)}
		if n > 0 {
			r.Detail = fmt.Sprintf("%d instance(s) PROVISIONING for more than %v; oldest %s (order %s, created %s)",
				n, m.cfg.ProvisioningAge, oldest.InstanceID, oldest.OrderID, oldest.CreatedAt.UTC().Format(time.RFC3339))
		}
		out = append(out, r)
	}

	if total, expired, err := m.store.CountNonces(ctx); err != nil {
		out = append(out, fail(CheckNonces, err))
	} else {
		m.mu.Lock()
		prev := m.lastNonces
		m.lastNonces = total
		m.mu.Unlock()
		growth := ""
		if prev > 0 {
			growth = fmt.Sprintf(", %+d since the last run", total-prev)
		}
		out = append(out, CheckResult{Check: CheckNonces, OK: total <= m.cfg.NoncesMax,
			Detail: fmt.Sprintf("%d nonces stored (%d expired%s; at most %d allowed)", total, expired, growth, m.cfg.NoncesMax)})
	}
	return out
}

func instanceNote(id string) string {
	if id == "" {
		return ""
	}
	return " of instance " + id
}

package ops

import (
	"context"
	"fmt"
	"github.com/kgseller/kgseller/shared/marketplace"
	"strconv"
	"time"

	"github.com/kgseller/kgseller/shared/store"
)

// CheckView is the state of one of the interface monitor's checks.
type CheckView struct {
	Check     string     `json:"check"`
	Status    string     `json:"status"` // OK, FAILING (below the alert threshold) or ALERTED
	Failures  int        `json:"failures"`
	Since     *time.Time `json:"since,omitempty"`
	LastRunAt time.Time  `json:"lastRunAt"`
	LastOKAt  *time.Time `json:"lastOkAt,omitempty"`
	Unsent    string     `json:"unsent,omitempty"`
	Detail    string     `json:"detail,omitempty"`
}

// Check statuses.
const (
	CheckOK      = "OK"
	CheckFailing = "FAILING"
	CheckAlerted = "ALERTED"
)

func checkView(c store.MonitorCheck) CheckView {
	v := CheckView{Check: c.Name, Failures: c.Failures, LastRunAt: c.LastRunAt, Unsent: c.Unsent, Detail: c.LastDetail, Status: CheckOK}
	switch {
	case c.Incident:
		v.Status = CheckAlerted
	case c.Failures > 0:
		v.Status = CheckFailing
	}
	if c.Since.Valid {
		t := c.Since.Time
		v.Since = &t
	}
	if c.LastOKAt.Valid {
		t := c.LastOKAt.Time
		v.LastOKAt = &t
	}
	return v
}

// Health is what the interface monitor found, and the oldest stuck job.
type Health struct {
	Checks   []CheckView        `json:"checks"`
	Runs     []store.MonitorRun `json:"runs"`
	Failures []store.MonitorRun `json:"failures"`
	// OldestStuckJob is the oldest PENDING job due for longer than StuckAfter
	// that nobody is running.
	OldestStuckJob *JobView `json:"oldestStuckJob,omitempty"`
	StuckAfter     string   `json:"stuckAfter"`
}

// HealthQuery selects what Health shows.
type HealthQuery struct {
	Check      string        // only this check's runs
	Runs       int           // how many recent runs and failures
	StuckAfter time.Duration // how long a due job waits before it counts as stuck
}

// Health reads the monitor's tables and the oldest stuck job.
func (o *Ops) Health(ctx context.Context, q HealthQuery) (Health, error) {
	if q.StuckAfter <= 0 {
		q.StuckAfter = 15 * time.Minute
	}
	h := Health{StuckAfter: q.StuckAfter.String()}
	checks, err := o.Store.MonitorChecks(ctx)
	if err != nil {
		return h, err
	}
	for _, c := range checks {
		if q.Check == "" || c.Name == q.Check {
			h.Checks = append(h.Checks, checkView(c))
		}
	}
	if h.Runs, err = o.Store.ListMonitorRuns(ctx, store.MonitorRunFilter{Check: q.Check, Limit: q.Runs}); err != nil {
		return h, err
	}
	if h.Failures, err = o.Store.ListMonitorRuns(ctx, store.MonitorRunFilter{Check: q.Check, FailuresOnly: true, Limit: q.Runs}); err != nil {
		return h, err
	}
	j, found, err := o.Store.OldestStuckJob(ctx, time.Now().Add(-q.StuckAfter))
	if err != nil {
		return h, err
	}
	if found {
		v := jobView(j)
		h.OldestStuckJob = &v
	}
	return h, nil
}

// MonitorSummary is the monitor's part of Summary.
type MonitorSummary struct {
	Checks    int        `json:"checks"`
	Failing   []string   `json:"failing"`
	Alerted   []string   `json:"alerted"`
	LastRunAt *time.Time `json:"lastRunAt,omitempty"`
}

func (o *Ops) monitorSummary(ctx context.Context) (MonitorSummary, error) {
	checks, err := o.Store.MonitorChecks(ctx)
	if err != nil {
		return MonitorSummary{}, err
	}
	s := MonitorSummary{Checks: len(checks), Failing: []string{}, Alerted: []string{}}
	for _, c := range checks {
		if c.Failures > 0 {
			s.Failing = append(s.Failing, c.Name)
		}
		if c.Incident {
			s.Alerted = append(s.Alerted, c.Name)
		}
		if s.LastRunAt == nil || c.LastRunAt.After(*s.LastRunAt) {
			t := c.LastRunAt
			s.LastRunAt = &t
		}
	}
	return s, nil
}

func (o *output) health(h Health) error {
	fmt.Fprintln(o.w, "Interface monitor checks")
	t := o.table("CHECK", "STATUS", "FAILURES", "SINCE", "LAST RUN", "LAST OK", "DETAIL")
	for _, c := range h.Checks {
		status := c.Status
		if c.Unsent != "" {
			status += " (" + c.Unsent + " not delivered yet)"
		}
		t.row(c.Check, status, strconv.Itoa(c.Failures), tsp(c.Since), ts(c.LastRunAt), tsp(c.LastOKAt), marketplace.Clip(c.Detail, 120))
	}
	if err := t.flush(); err != nil {
		return err
	}
	if len(h.Checks) == 0 {
		fmt.Fprintln(o.w, "(no check has run: is interface-monitor deployed and its timer enabled?)")
	}
	runs := func(title string, list []store.MonitorRun) error {
		fmt.Fprintf(o.w, "\n%s (%d)\n", title, len(list))
		if len(list) == 0 {
			return nil
		}
		t := o.table("RUN AT", "CHECK", "RESULT", "MS", "DETAIL")
		for _, r := range list {
			result := "ok"
			if !r.OK {
				result = "FAILED"
			}
			t.row(ts(r.RunAt), r.Check, result, strconv.Itoa(r.LatencyMS), marketplace.Clip(r.Detail, 120))
		}
		return t.flush()
	}
	if err := runs("Last runs", h.Runs); err != nil {
		return err
	}
	if err := runs("Last failures", h.Failures); err != nil {
		return err
	}
	fmt.Fprintf(o.w, "\nOldest stuck job (due for more than %s, not running)\n", h.StuckAfter)
	if h.OldestStuckJob == nil {
		_, err := fmt.Fprintln(o.w, "none")
		return err
	}
	return o.jobs([]JobView{*h.OldestStuckJob})
}

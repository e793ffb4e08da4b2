package monitor

import (
	"database/sql"
	"time"

	"github.com/kgseller/kgseller/shared/alert"
	"github.com/kgseller/kgseller/shared/store"
)

// observe folds one run's result into a check's state and returns the notice the
// change calls for (Kind empty when none). A check alerts when its failures reach
// failAfter in a row, once; it recovers with its next passing run, once. The
// notice is marked unsent until a channel takes it (retried on the next run); an
// alert never delivered is dropped by the recovery, which would announce the end
// of something nobody heard of.
func observe(st *store.MonitorCheck, ok bool, detail string, now time.Time, failAfter int) alert.Notice {
	st.LastRunAt, st.LastDetail = now, detail
	n := alert.Notice{Check: st.Name, At: now, Detail: detail}
	if ok {
		st.LastOKAt = sql.NullTime{Time: now, Valid: true}
		n.Failures, n.Since = st.Failures, st.Since.Time
		wasIncident, undelivered := st.Incident, st.Unsent == string(alert.KindAlert)
		st.Failures, st.Since, st.Incident = 0, sql.NullTime{}, false
		if !wasIncident {
			return alert.Notice{}
		}
		if undelivered {
			st.Unsent = ""
			return alert.Notice{}
		}
		st.Unsent = string(alert.KindRecovery)
		n.Kind = alert.KindRecovery
		return n
	}
	if st.Failures == 0 || !st.Since.Valid {
		st.Since = sql.NullTime{Time: now, Valid: true}
	}
	st.Failures++
	n.Failures, n.Since = st.Failures, st.Since.Time
	if !st.Incident && st.Failures >= failAfter {
		st.Incident = true
		st.Unsent = string(alert.KindAlert)
		n.Kind = alert.KindAlert
		return n
	}
	return alert.Notice{}
}

// unsentNotice rebuilds a notice left unsent by an earlier run.
func unsentNotice(st store.MonitorCheck, now time.Time) alert.Notice {
	return alert.Notice{Kind: alert.Kind(st.Unsent), Check: st.Name, At: now, Failures: st.Failures,
		Since: st.Since.Time, Detail: st.LastDetail}
}

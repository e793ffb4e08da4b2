// Package monitorfn assembles interface-monitor from its settings: the monitor
// (shared/monitor) over the store, with the alert channels (shared/alert).
package monitorfn

import (
	"context"
	"encoding/json"

	"github.com/kgseller/kgseller/shared/alert"
	"github.com/kgseller/kgseller/shared/config"
	"github.com/kgseller/kgseller/shared/fgruntime"
	"github.com/kgseller/kgseller/shared/monitor"
	"github.com/kgseller/kgseller/shared/store"
)

// InterfaceMonitor builds the interface-monitor function, invoked by its TIMER
// trigger (every five minutes). Each invocation runs every check once and returns
// the run's report as JSON.
func InterfaceMonitor(src config.Source) fgruntime.InvokeFunc {
	logger := config.Logger(src)
	l := config.New(src)
	dsn, pool := store.Load(l)
	cfg := monitor.Load(l)
	channels := alert.Load(l)
	st, cfgErr := store.OpenConfigured(l, dsn, pool)
	var m *monitor.Monitor
	if cfgErr == nil {
		m = monitor.New(cfg, st, channels, logger)
		if len(channels) == 0 {
			logger.Warn("interface-monitor has no alert channel: set MONITOR_SMN_TOPIC_URN or MONITOR_WEBHOOK_URL (docs/monitoring.md)")
		}
	}
	return func(ctx context.Context, _ []byte) ([]byte, error) {
		if cfgErr != nil {
			logger.Error("interface-monitor is misconfigured", "err", cfgErr.Error())
			return json.Marshal(monitor.Report{Error: "misconfigured"})
		}
		return json.Marshal(m.Run(ctx))
	}
}

package fglocal

import (
	"context"
	"encoding/json"
	"strconv"
	"strings"
	"time"

	"github.com/kgseller/kgseller/shared/tools/manifest"
)

// ParseRate reads a Rate schedule such as "30s", "1m", "2h" or "1d".
func ParseRate(s string) (time.Duration, bool) {
	s = strings.TrimSpace(s)
	if n, ok := strings.CutSuffix(s, "d"); ok {
		days, err := strconv.Atoi(n)
		if err != nil || days <= 0 {
			return 0, false
		}
		return time.Duration(days) * 24 * time.Hour, true
	}
	d, err := time.ParseDuration(s)
	return d, err == nil && d > 0
}

// StartTimers fires the functions' TIMER triggers (scheduleType Rate) until ctx
// ends, with the event FunctionGraph sends. every, when positive, replaces each
// schedule (tests use it to avoid waiting a minute). Cron schedules are not
// emulated and are logged as such.
func (e *Emulator) StartTimers(ctx context.Context, every time.Duration) {
	for _, name := range e.opts.Manifest.Names() {
		for _, ev := range e.opts.Manifest.Functions[name].Events {
			if ev.TriggerTypeCode != manifest.TriggerTimer || strings.EqualFold(ev.Status, "DISABLED") {
				continue
			}
			period, ok := ParseRate(ev.String("schedule"))
			if !strings.EqualFold(ev.String("scheduleType"), "Rate") || !ok {
				e.opts.Logger.Warn("timer trigger not emulated (only Rate schedules are)", "function", name, "schedule", ev.String("schedule"))
				continue
			}
			if every > 0 {
				period = every
			}
			go e.tick(ctx, name, ev, period)
		}
	}
}

func (e *Emulator) tick(ctx context.Context, fn string, ev manifest.Event, period time.Duration) {
	t := time.NewTicker(period)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-t.C:
			payload, _ := json.Marshal(map[string]string{
				"version": "v2.0", "time": now.UTC().Format(time.RFC3339), "trigger_type": "TIMER",
				"trigger_name": ev.String("name"), "user_event": ev.String("userEvent"),
			})
			ictx, cancel := context.WithTimeout(ctx, 15*time.Minute)
			if _, err := e.Invoke(ictx, fn, payload); err != nil && ctx.Err() == nil {
				e.opts.Logger.Warn("timer invocation failed", "function", fn, "err", err)
			}
			cancel()
		}
	}
}

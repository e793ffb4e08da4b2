package localrun_test

import (
	"context"
	"encoding/json"
	"github.com/kgseller/kgseller/shared/tools/logbuf"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"

	"github.com/kgseller/kgseller/shared/monitor"
	"github.com/kgseller/kgseller/shared/tools/dbtest"
	"github.com/kgseller/kgseller/shared/tools/loadtest"
	"github.com/kgseller/kgseller/shared/tools/localrun"
)

// TestLocalRunMonitorAlertsOnceAndRecovers runs the real interface-monitor binary
// against the local run, as its timer does: all passes; a key changed in
// saas-produce's settings, then the database stopped, each give one alert and one
// recovery on the fake robot and the fake SMN topic.
func TestLocalRunMonitorAlertsOnceAndRecovers(t *testing.T) {
	t.Parallel()
	cfg, err := mysql.ParseDSN(dbtest.NewDatabase(t))
	if err != nil {
		t.Fatal(err)
	}
	proxy, err := loadtest.NewProxy(cfg.Addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(proxy.Close)
	cfg.Addr = proxy.Addr()
	var alerts logbuf.Buffer
	stack, _, _ := startStackWith(t, cfg.FormatDSN(), func(o *localrun.Options) {
		o.Env = append(os.Environ(), "MONITOR_FAIL_AFTER=2")
		o.AlertOutput = &alerts
		o.TimerEvery = time.Hour // the test runs the monitor itself
	})
	run := func() monitor.Report {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		out, err := stack.Emulator.Invoke(ctx, "interface-monitor", []byte(`{"source":"timer"}`))
		if err != nil {
			t.Fatal(err)
		}
		var rep monitor.Report
		if err := json.Unmarshal(out, &rep); err != nil || rep.Error == "misconfigured" {
			t.Fatalf("monitor answered %s (%v)", out, err)
		}
		return rep
	}
	notices := func() map[string]int {
		got := map[string]int{}
		for _, m := range stack.Alerts.Robot.Messages() {
			first, _, _ := strings.Cut(m.Text, "\n")
			got["robot "+first]++
		}
		for _, m := range stack.Alerts.SMN.Messages() {
			got["smn "+m.Subject]++
		}
		return got
	}
	for i := 0; i < 2; i++ {
		if rep := run(); len(rep.Failing()) > 0 || !rep.Saved {
			t.Fatalf("healthy local run: failing %v, saved %v: %+v", rep.Failing(), rep.Saved, rep.Checks)
		}
	}
	if n := len(notices()); n != 0 {
		t.Fatalf("a healthy local run raised notices: %v", notices())
	}

	// The basic key changed in saas-produce's settings only.
	if err := stack.Emulator.SetEnv("saas-produce", "KG_ACCESS_KEY_BASIC", "a-key-the-marketplace-does-not-have"); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 3; i++ {
		if rep := run(); !contains(rep.Failing(), monitor.CheckInterface) {
			t.Fatalf("changed key, run %d: interface does not fail: %+v", i+1, rep.Checks)
		}
	}
	if err := stack.Emulator.SetEnv("saas-produce", "KG_ACCESS_KEY_BASIC", "it-key"); err != nil {
		t.Fatal(err)
	}
	run()

	// The database stops.
	proxy.Cut()
	for i := 0; i < 3; i++ {
		if rep := run(); !contains(rep.Failing(), monitor.CheckDatabase) || contains(rep.Failing(), monitor.CheckInterface) {
			t.Fatalf("database stopped, run %d: %v: %+v", i+1, rep.Failing(), rep.Checks)
		}
	}
	if err := proxy.Restore(); err != nil {
		t.Fatal(err)
	}
	if rep := run(); len(rep.Failing()) > 0 {
		t.Fatalf("after the database is back: failing %v", rep.Failing())
	}

	want := map[string]int{}
	for _, c := range []string{monitor.CheckInterface, monitor.CheckDatabase} {
		for _, ch := range []string{"robot ", "smn "} {
			want[ch+"[kgseller-local] ALERT: "+c] = 1
			want[ch+"[kgseller-local] RECOVERED: "+c] = 1
		}
	}
	got := notices()
	if len(got) != len(want) {
		t.Fatalf("notices %v, want %v", got, want)
	}
	for k, n := range want {
		if got[k] != n {
			t.Fatalf("notices %v, want %v", got, want)
		}
	}
	if out := alerts.String(); !strings.Contains(out, "fake wecom robot received") || !strings.Contains(out, "fake SMN: topic "+localrun.LocalSMNTopicURN) {
		t.Fatalf("the fakes printed:\n%s", out)
	}
	if labels := stack.AlertsLabel(); len(labels) != 2 || !strings.Contains(labels[1], stack.Alerts.RobotURL) {
		t.Fatalf("banner lines %q", labels)
	}
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

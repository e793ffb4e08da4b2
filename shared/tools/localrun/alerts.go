package localrun

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"time"

	"github.com/kgseller/kgseller/shared/alert"
	"github.com/kgseller/kgseller/shared/fakes/fakealert"
)

// Local-run values of the monitor's alert channels: a fake SMN topic and a fake
// WeCom robot, both printing what they receive. Not secrets.
const (
	LocalSMNProject  = "local"
	LocalSMNTopicURN = "urn:smn:local:" + LocalSMNProject + ":kgseller-alerts"
	localRobotPath   = "/cgi-bin/webhook/send?key=local-robot-key-not-a-secret"
)

// Alerts are the fakes that receive interface-monitor's notices in the local run.
type Alerts struct {
	SMN      *fakealert.SMN
	SMNURL   string
	Robot    *fakealert.Robot
	RobotURL string
}

// startAlerts serves the fake SMN (accepting the functions' AK/SK) and the fake
// robot, each on its own port, printing to out.
func (s *Stack) startAlerts(ak, sk string, out io.Writer) (*Alerts, error) {
	a := &Alerts{
		SMN:   fakealert.NewSMN(LocalSMNProject, ak, sk, out),
		Robot: fakealert.NewRobot(alert.FormatWeCom, "", out),
	}
	for _, srv := range []struct {
		h   http.Handler
		url *string
	}{{a.SMN, &a.SMNURL}, {a.Robot, &a.RobotURL}} {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, fmt.Errorf("localrun: fake alert channel: %w", err)
		}
		hs := &http.Server{Handler: srv.h, ReadHeaderTimeout: 10 * time.Second}
		go func() { _ = hs.Serve(ln) }()
		s.stop = append(s.stop, func() { _ = hs.Close() })
		*srv.url = "http://" + ln.Addr().String()
	}
	a.RobotURL += localRobotPath
	return a, nil
}

// monitorEnv points interface-monitor at the local addresses and the fake
// channels, where the caller's environment does not say otherwise.
func monitorEnv(env []string, getenv func(string) string, addr string, a *Alerts) []string {
	base := "http://" + addr
	for _, kv := range [][2]string{
		{"MONITOR_NAME", "kgseller-local"},
		{"MONITOR_SAAS_URL", base + "/saas/produce"},
		{"MONITOR_LICENSE_URL", base + "/license/produce"},
		{"MONITOR_KIT_URL", base + "/saas/produce"},
		{"MONITOR_NOTIFY_URL", base + "/order/notify"},
		{"MONITOR_SMN_TOPIC_URN", LocalSMNTopicURN},
		{"MONITOR_SMN_ENDPOINT", a.SMNURL},
		{"MONITOR_WEBHOOK_URL", a.RobotURL},
		{"MONITOR_WEBHOOK_FORMAT", alert.FormatWeCom},
		{"MONITOR_ALLOW_HTTP", "true"},
	} {
		if getenv(kv[0]) == "" {
			env = setEnv(env, kv[0], kv[1])
		}
	}
	return env
}

// AlertsLabel says where the local run's alerts appear, for the banner.
func (s *Stack) AlertsLabel() []string {
	if s.Alerts == nil {
		return nil
	}
	return []string{
		fmt.Sprintf("fake SMN topic %s at %s", LocalSMNTopicURN, s.Alerts.SMNURL),
		fmt.Sprintf("fake WeCom robot at %s", s.Alerts.RobotURL),
	}
}

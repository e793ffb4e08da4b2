package wire_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/kgseller/kgseller/shared/alert"
	"github.com/kgseller/kgseller/shared/config"
	"github.com/kgseller/kgseller/shared/fakes/fakealert"
	"github.com/kgseller/kgseller/shared/fgruntime/httpfn"
	"github.com/kgseller/kgseller/shared/monitor"
	"github.com/kgseller/kgseller/shared/wire/kitfn"
	"github.com/kgseller/kgseller/shared/wire/licensefn"
	"github.com/kgseller/kgseller/shared/wire/monitorfn"
	"github.com/kgseller/kgseller/shared/wire/notifyfn"
	"github.com/kgseller/kgseller/shared/wire/saasfn"
)

// TestInterfaceMonitorAssembly assembles interface-monitor from settings against
// saas-produce, license-produce, the Kit and order-notify: every check passes,
// the probe instance created at the SaaS address answers at the License address
// too, and a misconfiguration is reported by name.
func TestInterfaceMonitorAssembly(t *testing.T) {
	env, _ := licenseEnv(t)
	env["KG_ACCESS_KEY_BASIC"] = "basic-key"
	env["KG_ACCESS_KEY_KIT"] = "kit-key"
	mux := http.NewServeMux()
	mux.Handle("/saas/produce", httpfn.HTTPHandler(saasfn.SaaSProduce(config.Map(env))))
	mux.Handle("/saas/produce/produceAPI/v2/tenantSync", httpfn.HTTPHandler(kitfn.TenantSync(config.Map(env))))
	mux.Handle("/license/produce", httpfn.HTTPHandler(licensefn.LicenseProduce(config.Map(env))))
	mux.Handle("/order/notify", httpfn.HTTPHandler(notifyfn.OrderNotify(config.Map(env))))
	srv := httptest.NewServer(mux)
	defer srv.Close()
	robot := fakealert.NewRobot(alert.FormatFeishu, "robot-secret", nil)
	robotSrv := httptest.NewServer(robot)
	defer robotSrv.Close()

	env[config.MonitorSaaSURL] = srv.URL + "/saas/produce"
	env[config.MonitorKitURL] = srv.URL + "/saas/produce"
	env[config.MonitorLicenseURL] = srv.URL + "/license/produce"
	env[config.MonitorNotifyURL] = srv.URL + "/order/notify"
	env[config.MonitorWebhookURL] = robotSrv.URL + "/open-apis/bot/v2/hook/x"
	env[config.MonitorWebhookFormat] = alert.FormatFeishu
	env[config.MonitorWebhookSecret] = "robot-secret"
	env[config.MonitorAllowHTTP] = "true"
	fn := monitorfn.InterfaceMonitor(config.Map(env))
	var rep monitor.Report
	for i := 0; i < 2; i++ {
		out, err := fn(context.Background(), []byte(`{}`))
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(out, &rep); err != nil {
			t.Fatal(err)
		}
		if len(rep.Failing()) > 0 || !rep.Saved {
			t.Fatalf("run %d: failing %v: %+v", i+1, rep.Failing(), rep.Checks)
		}
	}
	var detail string
	for _, c := range rep.Checks {
		if c.Check == monitor.CheckInterface {
			detail = c.Detail
		}
	}
	for _, probe := range []string{"saas.queryInstance 000000", "license.queryInstance 000000", "saas.forged 000001",
		"license.forged 000001", "notify.forged 000001", "kit.tenantSync 000000"} {
		if !strings.Contains(detail, probe) {
			t.Fatalf("interface detail lacks %q: %s", probe, detail)
		}
	}

	env[config.MonitorWebhookFormat] = "slack"
	out, _ := monitorfn.InterfaceMonitor(config.Map(env))(context.Background(), nil)
	if !strings.Contains(string(out), "misconfigured") {
		t.Fatalf("a bad setting: %s", out)
	}
}

package deployenv

import (
	"github.com/kgseller/kgseller/shared/config"
	"github.com/kgseller/kgseller/shared/wire/apifn"
	"github.com/kgseller/kgseller/shared/wire/kitfn"
	"github.com/kgseller/kgseller/shared/wire/licensefn"
	"github.com/kgseller/kgseller/shared/wire/monitorfn"
	"github.com/kgseller/kgseller/shared/wire/notifyfn"
	"github.com/kgseller/kgseller/shared/wire/saasfn"
	"github.com/kgseller/kgseller/shared/wire/sellerfn"
	"github.com/kgseller/kgseller/shared/wire/ssofn"
	"github.com/kgseller/kgseller/shared/wire/workerfn"
)

// Assembly is how one function is built from its settings: the constructor its
// functions/<name>/main.go calls (a test holds Call to that file).
type Assembly struct {
	Call  string
	Build func(config.Source)
}

// Assemblies are the functions of serverless.yml by name (a test holds the two
// lists together).
var Assemblies = map[string]Assembly{
	"saas-produce":         {"saasfn.SaaSProduce", func(s config.Source) { saasfn.SaaSProduce(s) }},
	"license-produce":      {"licensefn.LicenseProduce", func(s config.Source) { licensefn.LicenseProduce(s) }},
	"order-notify":         {"notifyfn.OrderNotify", func(s config.Source) { notifyfn.OrderNotify(s) }},
	"fulfil-worker":        {"workerfn.FulfilWorker", func(s config.Source) { workerfn.FulfilWorker(s) }},
	"kit-tenant-sync":      {"kitfn.TenantSync", func(s config.Source) { kitfn.TenantSync(s) }},
	"kit-application-sync": {"kitfn.ApplicationSync", func(s config.Source) { kitfn.ApplicationSync(s) }},
	"kit-auth-sync":        {"kitfn.AuthSync", func(s config.Source) { kitfn.AuthSync(s) }},
	"kit-single-org-sync":  {"kitfn.SingleOrgSync", func(s config.Source) { kitfn.SingleOrgSync(s) }},
	"kit-all-org-sync":     {"kitfn.AllOrgSync", func(s config.Source) { kitfn.AllOrgSync(s) }},
	"sso-login":            {"ssofn.Login", func(s config.Source) { ssofn.Login(s) }},
	"sso-callback":         {"ssofn.Callback", func(s config.Source) { ssofn.Callback(s) }},
	"sso-logout":           {"ssofn.Logout", func(s config.Source) { ssofn.Logout(s) }},
	"provision-callback":   {"sellerfn.ProvisionCallback", func(s config.Source) { sellerfn.ProvisionCallback(s) }},
	"usage-report":         {"sellerfn.UsageReport", func(s config.Source) { sellerfn.UsageReport(s) }},
	"api-backend":          {"apifn.Backend", func(s config.Source) { apifn.Backend(s) }},
	"interface-monitor":    {"monitorfn.InterfaceMonitor", func(s config.Source) { monitorfn.InterfaceMonitor(s) }},
}

package wire_test

import (
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// families are the packages of a function family; a function may link only its
// own (and the base and mechanisms every family shares).
var families = map[string][]string{
	"saas":    {"shared/saas"},
	"license": {"shared/license", "shared/licensefile"},
	"notify":  {"shared/ordernotify"},
	"kit":     {"shared/kit", "shared/kit/clientsecret"},
	"sso":     {"shared/sso"},
	"seller":  {"shared/sellerapi"},
	"api":     {"shared/apibackend"},
	"jobs":    {"shared/fulfil", "shared/fgasync", "shared/provision", "shared/sellerhook", "shared/openapi"},
	"db":      {"shared/store", "github.com/go-sql-driver/mysql", "github.com/jmoiron/sqlx"},
	"monitor": {"shared/monitor", "shared/alert", "shared/probe"},
}

// linked is what each function may link beyond the base.
var linked = map[string][]string{
	"saas-produce":         {"saas", "notify", "jobs", "db"},
	"license-produce":      {"license", "saas", "notify", "jobs", "db"},
	"order-notify":         {"notify", "jobs", "db"},
	"kit-tenant-sync":      {"kit", "db"},
	"kit-application-sync": {"kit", "db"},
	"kit-auth-sync":        {"kit", "db"},
	"kit-single-org-sync":  {"kit", "db"},
	"kit-all-org-sync":     {"kit", "db"},
	"sso-login":            {"sso", "db"},
	"sso-callback":         {"sso", "db"},
	"sso-logout":           {"sso", "db"},
	"provision-callback":   {"seller", "jobs", "db"},
	"usage-report":         {"seller", "jobs", "db"},
	"api-backend":          {"api"},
	"fulfil-worker":        {"jobs", "saas", "license", "notify", "db"},
	"interface-monitor":    {"monitor", "db"},
}

// neverLinked are never in a function: the Huawei SDK (functions sign with
// shared/aksk), the migration library, html/template, and the tools and test
// doubles.
var neverLinked = []string{
	"github.com/huaweicloud/", "github.com/pressly/goose", "html/template",
	"github.com/kgseller/kgseller/shared/tools/", "github.com/kgseller/kgseller/shared/fakes/",
	"github.com/dolthub/",
}

// TestEachFunctionLinksOnlyItsFamily lists what each deployed binary links (as
// scripts/build builds it) and refuses another family's packages or anything
// that never belongs in a function.
func TestEachFunctionLinksOnlyItsFamily(t *testing.T) {
	mine := map[string]bool{}
	for _, fams := range linked {
		for _, f := range fams {
			for _, p := range families[f] {
				mine[p] = true
			}
		}
	}
	for fn, fams := range linked {
		t.Run(fn, func(t *testing.T) {
			cmd := exec.Command("go", "list", "-tags", "fgonly", "-deps", "./"+filepath.ToSlash(filepath.Join("functions", fn)))
			cmd.Dir = "../.."
			out, err := cmd.CombinedOutput()
			if err != nil {
				t.Fatalf("go list: %v\n%s", err, out)
			}
			allowed := map[string]bool{}
			for _, f := range fams {
				for _, p := range families[f] {
					allowed[p] = true
				}
			}
			deps := strings.Fields(string(out))
			if len(deps) < 20 {
				t.Fatalf("go list found only %v", deps)
			}
			for _, d := range deps {
				for _, bad := range neverLinked {
					if strings.HasPrefix(d, bad) {
						t.Errorf("links %s", d)
					}
				}
				short := strings.TrimPrefix(d, "github.com/kgseller/kgseller/")
				if (mine[short] || mine[d]) && !allowed[short] && !allowed[d] {
					t.Errorf("links %s, of another family", d)
				}
			}
		})
	}
}

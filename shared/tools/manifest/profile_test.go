package manifest

import (
	"os"
	"slices"
	"strings"
	"testing"
)

// profileYAML is productionYAML with profiles: "lic" leaves the basic function
// out, "kitted" serves the Kit at the License address only.
var profileYAML = strings.Replace(productionYAML, "custom:\n", `custom:
  profiles:
    basic-only: [basic]
    lic: [lic, other]
    kitted: [lic, kit, other]
  needs:
    lic: [other]
`, 1)

func paths(m *Manifest) []string {
	var out []string
	for _, r := range m.Routes() {
		out = append(out, r.Method+" "+r.Path+" "+r.Function)
	}
	return out
}

// TestProfilesNarrowTheRoutes: a profile deploys only its functions' routes; the
// production addresses shrink to those of the functions deployed, so no route
// leads to a function left out and the Kit is served only below addresses that
// exist.
func TestProfilesNarrowTheRoutes(t *testing.T) {
	m, err := Parse([]byte(profileYAML), nil)
	if err != nil {
		t.Fatal(err)
	}
	for spec, want := range map[string][]string{
		"basic-only": {"POST / basic", "POST /saas/produce basic"},
		"lic":        {"POST /license/produce lic", "POST /order/notify other"},
		"kitted": {"POST /license/produce lic", "POST /license/produce/produceAPI/v2/x kit",
			"POST /license/produce/produceAPI/x kit", "POST /order/notify other"},
		"basic-only,lic": {"POST / basic", "POST /license/produce lic", "POST /order/notify other", "POST /saas/produce basic"},
	} {
		n, err := m.ForProfile(spec)
		if err != nil {
			t.Fatalf("%s: %v", spec, err)
		}
		if got := paths(n); !slices.Equal(got, want) {
			t.Errorf("%s: routes\n%s\nwant\n%s", spec, strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
		if n.Profile != spec {
			t.Errorf("%s: Profile %q", spec, n.Profile)
		}
	}
	all, err := m.ForProfile("")
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(paths(all), paths(m)) || len(all.Functions) != len(m.Functions) {
		t.Errorf("the implicit all profile differs from the file:\n%v\n%v", paths(all), paths(m))
	}
	// Narrowing twice is narrowing once: the triggers expand from what was written.
	once, _ := m.ForProfile("kitted")
	twice, err := once.Select([]string{"lic", "kit", "other"})
	if err != nil || !slices.Equal(paths(twice), paths(once)) {
		t.Errorf("narrowed again: %v %v", err, paths(twice))
	}
	if _, err := m.ForProfile("nope"); err == nil || !strings.Contains(err.Error(), "all, basic-only, kitted, lic") {
		t.Errorf("unknown profile: %v", err)
	}
}

func TestProfileValidation(t *testing.T) {
	replace := func(old, new string) string {
		if !strings.Contains(profileYAML, old) {
			t.Fatalf("fixture lacks %q", old)
		}
		return strings.Replace(profileYAML, old, new, 1)
	}
	for name, c := range map[string]struct{ yml, err string }{
		"unknown function":  {replace("basic-only: [basic]", "basic-only: [basic, nobody]"), `"nobody" is not a function`},
		"listed twice":      {replace("basic-only: [basic]", "basic-only: [basic, basic]"), "twice"},
		"bad name":          {replace("basic-only:", "Basic_Only:"), "lower-case"},
		"need left out":     {replace("lic: [lic, other]", "lic: [lic]"), "lic needs other"},
		"need not function": {replace("lic: [other]", "lic: [ghost]"), `needs "ghost"`},
		"needs unknown":     {replace("  needs:\n    lic:", "  needs:\n    ghost:"), `"ghost" is not a function`},
		"all incomplete":    {replace("basic-only: [basic]", "all: [basic, lic, kit]"), "all lacks other"},
		"kit, no address":   {replace("kitted: [lic, kit, other]", "kitted: [kit]"), "custom.profiles.kitted"},
	} {
		_, err := Parse([]byte(c.yml), nil)
		if err == nil || !strings.Contains(err.Error(), c.err) {
			t.Errorf("%s: err %v, want one mentioning %q", name, err, c.err)
		}
	}
}

// TestProjectProfiles: serverless.yml offers a profile per product type, each
// complete (the validation above), and a SaaS-only or License-only deployment
// creates no route of the other product.
func TestProjectProfiles(t *testing.T) {
	m, err := Load("../../../serverless.yml", os.Getenv)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"saas", "license", "joint-operation", "api", "all"} {
		if _, ok := m.Custom.Profiles[p]; !ok {
			t.Errorf("serverless.yml has no profile %s", p)
		}
	}
	for spec, forbidden := range map[string]string{"saas": "/license/produce", "license": "/saas/produce", "api": "/produce"} {
		n, err := m.ForProfile(spec)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range n.Routes() {
			if strings.Contains(r.Path, forbidden) || strings.Contains(r.Path, "produceAPI") && spec != "joint-operation" {
				t.Errorf("profile %s routes %s %s to %s", spec, r.Method, r.Path, r.Function)
			}
		}
	}
	// Every function the marketplace calls (a route, a marketplace access key)
	// is watched by interface-monitor wherever it is deployed.
	for _, name := range m.Names() {
		fn := m.Functions[name]
		marketplace := false
		for k := range fn.EncryptedUserData {
			marketplace = marketplace || strings.HasPrefix(k, "KG_ACCESS_KEY_")
		}
		if len(m.RoutesOf(name)) > 0 && marketplace && !slices.Contains(m.Custom.Needs[name], "interface-monitor") {
			t.Errorf("%s answers the marketplace, but custom.needs does not list interface-monitor for it", name)
		}
	}
	jo, err := m.ForProfile("joint-operation")
	if err != nil {
		t.Fatal(err)
	}
	kit := 0
	for _, r := range jo.Routes() {
		if strings.Contains(r.Path, "/produceAPI/") {
			kit++
			if !strings.HasPrefix(r.Path, "/saas/produce/") && !strings.HasPrefix(r.Path, "/produceAPI/") {
				t.Errorf("joint-operation: Kit route %s below an address it does not deploy", r.Path)
			}
		}
	}
	// Five Kit functions, two sub-paths each, below /saas/produce and /.
	if kit != 20 {
		t.Errorf("joint-operation has %d Kit routes, want 20", kit)
	}
}

package manifest

import (
	"fmt"
	"os"
	"sort"
	"strings"
	"testing"
)

const productionYAML = `
service: s
custom:
  production:
    addresses:
      /saas/produce: basic
      /license/produce: lic
      /: basic
functions:
  basic:
    handler: bootstrap
    events:
      - triggerTypeCode: DEDICATEDGATEWAY
        eventData: {name: basic_api, path: /saas/produce, reqMethod: POST, auth: NONE, timeout: 5000}
  lic:
    handler: bootstrap
    events:
      - triggerTypeCode: DEDICATEDGATEWAY
        eventData: {name: lic_api, path: /license/produce, reqMethod: POST, auth: NONE, timeout: 4000}
  kit:
    handler: bootstrap
    events:
      - triggerTypeCode: DEDICATEDGATEWAY
        belowAddresses: true
        eventData: {name: kit_x, path: /produceAPI/v2/x, reqMethod: POST, auth: NONE, timeout: 3000}
      - triggerTypeCode: DEDICATEDGATEWAY
        belowAddresses: true
        eventData: {name: kit_x_unversioned, path: /produceAPI/x, reqMethod: POST, auth: NONE, timeout: 3000}
  other:
    handler: bootstrap
    events:
      - triggerTypeCode: DEDICATEDGATEWAY
        eventData: {name: other_api, path: /order/notify, reqMethod: POST, auth: NONE}
      - triggerTypeCode: TIMER
        eventData: {name: t, schedule: 1m}
`

// TestProductionAddressesExpand: each address gets the basic trigger of its
// function and every belowAddresses trigger below it, with the template's
// settings, its API name where the path is the one written and a derived unique
// name elsewhere; other triggers stay as written.
func TestProductionAddressesExpand(t *testing.T) {
	m, err := Parse([]byte(productionYAML), nil)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range m.Routes() {
		got = append(got, fmt.Sprintf("%s %s %s %d [%s]", r.Method, r.Path, r.Function, r.TimeoutMS, r.Address))
	}
	want := []string{
		"POST / basic 5000 [/]",
		"POST /license/produce lic 4000 [/license/produce]",
		"POST /license/produce/produceAPI/v2/x kit 3000 [/license/produce]",
		"POST /license/produce/produceAPI/x kit 3000 [/license/produce]",
		"POST /order/notify other 0 []",
		"POST /produceAPI/v2/x kit 3000 [/]",
		"POST /produceAPI/x kit 3000 [/]",
		"POST /saas/produce basic 5000 [/saas/produce]",
		"POST /saas/produce/produceAPI/v2/x kit 3000 [/saas/produce]",
		"POST /saas/produce/produceAPI/x kit 3000 [/saas/produce]",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("routes:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}

	names := map[string]string{}
	for _, fn := range m.Functions {
		for _, ev := range fn.Events {
			if ev.IsHTTP() {
				names[ev.String("path")] = ev.String("name")
				if ev.String("auth") != "NONE" || ev.TriggerTypeCode != TriggerDedicatedAPIG {
					t.Errorf("%s: settings not copied: %+v", ev.String("path"), ev)
				}
			}
		}
	}
	for path, name := range map[string]string{
		"/saas/produce": "basic_api", "/": "basic_api_root", "/license/produce": "lic_api",
		"/produceAPI/v2/x": "kit_x", "/saas/produce/produceAPI/v2/x": "kit_x_saas_produce",
		"/license/produce/produceAPI/x": "kit_x_unversioned_license_produce", "/order/notify": "other_api",
	} {
		if names[path] != name {
			t.Errorf("API name at %s: %q, want %q", path, names[path], name)
		}
	}
	// Each derived trigger owns its settings: changing one leaves the others alone.
	kit := m.Functions["kit"].Events
	kit[0].EventData["timeout"] = 1
	if kit[1].EventData["timeout"] == 1 {
		t.Error("derived triggers share their eventData")
	}
	if n := len(m.Functions["other"].Events); n != 2 {
		t.Errorf("other has %d events, want its 2 as written", n)
	}
	addrs := m.Addresses()
	if len(addrs) != 3 || addrs[0] != (Address{"/", "basic"}) || addrs[1] != (Address{"/license/produce", "lic"}) {
		t.Errorf("addresses %+v", addrs)
	}
}

func TestProductionValidation(t *testing.T) {
	replace := func(old, new string) string {
		if !strings.Contains(productionYAML, old) {
			t.Fatalf("fixture lacks %q", old)
		}
		return strings.Replace(productionYAML, old, new, 1)
	}
	for name, c := range map[string]struct{ yml, err string }{
		"relative address":   {replace("/license/produce: lic", "license/produce: lic"), "is not a path"},
		"trailing slash":     {replace("/license/produce: lic", "/license/produce/: lic"), "is not a path"},
		"unknown function":   {replace("/license/produce: lic", "/license/produce: nobody"), "not a function"},
		"no template":        {replace("path: /license/produce,", "path: /license/other,"), "no APIG trigger at one of its addresses"},
		"below the root":     {replace("path: /produceAPI/x,", "path: /,"), "sub-path"},
		"below on a timer":   {replace("- triggerTypeCode: TIMER", "- triggerTypeCode: TIMER\n        belowAddresses: true"), "APIG triggers only"},
		"below, no address":  {strings.Replace(productionYAML[:strings.Index(productionYAML, "custom:")]+productionYAML[strings.Index(productionYAML, "functions:"):], "path: /saas/produce,", "path: /x,", 1), "lists no address"},
		"nameless template":  {replace("name: kit_x, ", ""), "needs eventData.name"},
		"name too long":      {replace("name: kit_x_unversioned,", "name: "+strings.Repeat("k", 50)+","), "longer than"},
		"duplicate API name": {replace("name: other_api,", "name: lic_api,"), "API name lic_api"},
		"address collides":   {replace("path: /order/notify,", "path: /saas/produce/produceAPI/x,"), "served by both"},
	} {
		_, err := Parse([]byte(c.yml), nil)
		if err == nil || !strings.Contains(err.Error(), c.err) {
			t.Errorf("%s: err %v, want one mentioning %q", name, err, c.err)
		}
	}
}

// TestProjectAddressLayout holds serverless.yml to the marketplace's layout: at
// every production address it offers, POST {address} is the basic interface of the
// address's function and each Kit function answers {address}/produceAPI/v2/<name>
// and {address}/produceAPI/<name>; the domain root is an address of saas-produce.
func TestProjectAddressLayout(t *testing.T) {
	m, err := Load("../../../serverless.yml", os.Getenv)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"/saas/produce": "saas-produce", "/license/produce": "license-produce", "/": "saas-produce"}
	got := map[string]string{}
	for _, a := range m.Addresses() {
		got[a.Path] = a.Function
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("production addresses %v, want %v", got, want)
	}
	routes := map[string]Route{}
	for _, r := range m.Routes() {
		routes[r.Method+" "+r.Path] = r
	}
	kit := map[string]string{
		"tenantSync": "kit-tenant-sync", "applicationSync": "kit-application-sync", "authSync": "kit-auth-sync",
		"singleOrgSync": "kit-single-org-sync", "allOrgSync": "kit-all-org-sync",
	}
	var missing []string
	for addr, fn := range want {
		check := func(path, fn string) {
			r, ok := routes["POST "+path]
			switch {
			case !ok:
				missing = append(missing, "POST "+path)
			case r.Function != fn || r.Address != addr || r.Prefix:
				t.Errorf("POST %s: %+v, want %s at address %s", path, r, fn, addr)
			}
		}
		check(addr, fn)
		for name, kfn := range kit {
			check(JoinAddress(addr, "/produceAPI/v2/"+name), kfn)
			check(JoinAddress(addr, "/produceAPI/"+name), kfn)
		}
	}
	sort.Strings(missing)
	if len(missing) > 0 {
		t.Errorf("not routed: %s", strings.Join(missing, ", "))
	}
}

// TestTriggersWrittenAtAddressesAreKept: a trigger written at one of its
// function's addresses is used as written; only addresses without one get a copy.
func TestTriggersWrittenAtAddressesAreKept(t *testing.T) {
	yml := strings.Replace(productionYAML, "name: basic_api, path: /saas/produce, reqMethod: POST, auth: NONE, timeout: 5000}",
		"name: basic_api, path: /saas/produce, reqMethod: POST, auth: NONE, timeout: 5000}\n"+
			"      - triggerTypeCode: DEDICATEDGATEWAY\n        eventData: {name: basic_at_root, path: /, reqMethod: POST, auth: NONE, timeout: 7000}", 1)
	m, err := Parse([]byte(yml), nil)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, ev := range m.Functions["basic"].Events {
		got = append(got, fmt.Sprintf("%s %s %v [%s]", ev.String("path"), ev.String("name"), ev.EventData["timeout"], ev.Address))
	}
	if want := "/saas/produce basic_api 5000 [/saas/produce]\n/ basic_at_root 7000 [/]"; strings.Join(got, "\n") != want {
		t.Fatalf("basic triggers:\n%s\nwant:\n%s", strings.Join(got, "\n"), want)
	}
}

// TestRoutesOfStartWithThePathWritten: a function's first route is the path its
// first trigger names in serverless.yml, whatever the addresses sort to.
func TestRoutesOfStartWithThePathWritten(t *testing.T) {
	m, err := Parse([]byte(productionYAML), nil)
	if err != nil {
		t.Fatal(err)
	}
	for fn, want := range map[string]string{"basic": "/saas/produce", "kit": "/produceAPI/v2/x", "lic": "/license/produce", "other": "/order/notify"} {
		if rs := m.RoutesOf(fn); len(rs) == 0 || rs[0].Path != want {
			t.Errorf("%s: routes %+v, want %s first", fn, rs, want)
		}
	}
	if n := len(m.RoutesOf("kit")); n != 6 {
		t.Errorf("kit has %d routes, want 6", n)
	}
}

package kgsim

import "strings"

// Values of the address suite's Kit calls, apart from the kit suite's.
const (
	layoutInstance = "kgsim-layout-instance-0001"
	layoutTenant   = "kgsim-layout-tenant-0001"
	layoutApp      = "kgsim-layout-app-0001"
	layoutOrg      = "kgsim-layout-org-0001"
)

// addressProduct checks one production address the way the marketplace uses it:
// the Seller Console binds one address to a product and every interface type of
// the product is called relative to it, each signed with its own key. At the
// address (Options.URL): the basic (or License) interface at POST {address} with
// Options.Key, each Kit interface at {address}/produceAPI/v2/<name> and at the
// unversioned {address}/produceAPI/<name> with KitKey, and orderNotify at POST
// {address} with NotifyKey. Calls that pass are replayed, unchanged, on the other
// routes that trust the same key (the other Kit path, the other addresses), which
// must refuse them with 000001.
func addressProduct(o Options) *Product {
	others := func(path string, otherKey bool) []Replay {
		var rs []Replay
		for _, a := range o.OtherAddresses {
			rs = append(rs, Replay{URL: strings.TrimRight(a, "/") + path, OtherKey: otherKey})
		}
		return rs
	}
	// The address may answer with another type's key than the basic one (License).
	basic := Case{
		Name: "basic interface at POST {address}: queryInstance of an unknown instance", Want: []string{codeNoSuchInstance},
		Body: func(*Env) ([]byte, error) {
			return jsonBody(map[string]any{"activity": "queryInstance", "instanceId": unknownInstanceID, "testFlag": "1"})
		},
	}
	probe := basic
	basic.ReplayTo = others("", true)

	cases := []Case{basic}
	for _, name := range kitNames {
		fields := layoutKitFields(name)
		for _, base := range []string{kitPath, kitPathPlain} {
			c := Case{
				Name: "Kit " + name + " at {address}" + base + name, Path: base + name, Key: o.KitKey, Kit: true, Want: []string{codeOK},
				Body: func(e *Env) ([]byte, error) { return kitBody(e, fields(e)) },
			}
			if base == kitPath {
				c.ReplayTo = append([]Replay{{URL: kitPathPlain + name}}, others(kitPath+name, false)...)
			}
			if o.KitKey.IsZero() {
				c.Skip = "needs the Kit key (-kit-key)"
			}
			cases = append(cases, c)
		}
	}
	notify := Case{
		Name: "orderNotify at POST {address}", Key: o.NotifyKey, Want: []string{codeOK},
		Body: func(*Env) ([]byte, error) {
			return jsonBody(map[string]any{"activity": "orderNotify", "orderId": mockOneTimeNew, "orderLineId": line(mockOneTimeNew), "testFlag": "1"})
		},
		ReplayTo: others("", true),
	}
	if o.NotifyKey.IsZero() {
		notify.Skip = "needs the generic-interface key (-notify-key)"
	}
	cases = append(cases, notify)
	duplicate := notify
	duplicate.Name, duplicate.ReplayTo = "orderNotify at POST {address} (duplicates)", nil
	return &Product{
		Name:      "address",
		Summary:   "one production address as the marketplace uses it: basic interface and orderNotify at it, the Kit below it (v2 and unversioned), replays on the other routes",
		Cases:     cases,
		Duplicate: duplicate,
		Probe:     probe,
		// Signed with the address's key; an orderNotify body reaches the order
		// notification, whose decoder must refuse it too.
		Malformed: []Malformed{
			{Name: "not JSON", Body: []byte(`activity=queryInstance&instanceId=` + unknownInstanceID)},
			{Name: "unknown activity", Body: []byte(`{"activity":"kgsimUnknownActivity","instanceId":"` + unknownInstanceID + `"}`)},
			{Name: "orderNotify without orderId", Body: []byte(`{"activity":"orderNotify","orderLineId":"` + line(mockOneTimeNew) + `","testFlag":"1"}`)},
		},
	}
}

// layoutKitFields builds a repeatable call of one Kit interface on kgsim-layout-*
// identifiers: the tenant is added, the other entities deleted (which succeeds
// whether they exist or not), the departments listed in full.
func layoutKitFields(name string) func(e *Env) map[string]any {
	return func(e *Env) map[string]any {
		f := map[string]any{"instanceId": layoutInstance, "tenantId": layoutTenant}
		switch name {
		case "tenantSync":
			f["orderId"], f["tenantCode"], f["name"], f["flag"] = mockPeriodNew, "kgsim-layout", "kgsim layout tenant", 1
			f["domainName"] = "https://kgsim-layout.tenantaccount.example.com"
		case "applicationSync":
			f["appId"], f["flag"] = layoutApp, 0
		case "authSync":
			f["appId"], f["flag"], f["currentSyncTime"] = layoutApp, 0, kitTimeStamp(e.Now())
			f["userList"] = []map[string]any{{"userName": "kgsim.layout"}}
		case "singleOrgSync":
			f["orgCode"], f["orgName"], f["parentCode"], f["flag"] = layoutOrg, "kgsim layout", "", 0
		case "allOrgSync":
			f["orgInfoList"] = []map[string]any{{"orgCode": layoutOrg, "orgName": "kgsim layout", "parentCode": ""}}
		}
		return f
	}
}

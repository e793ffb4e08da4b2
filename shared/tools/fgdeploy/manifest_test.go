package fgdeploy

import (
	"fmt"
	"strings"
	"testing"

	"github.com/kgseller/kgseller/shared/fakes/fgcontract"
	"github.com/kgseller/kgseller/shared/tools/manifest"
)

// TestProjectManifestWorksWithThePlugin checks what the serverless-huawei-functions
// plugin needs from serverless.yml beyond what the deploy tool needs: the plugin
// sends a function's userData instead of (not on top of) the provider variables, so
// every userData map must hold them (`<<: *common`); every API trigger must name its
// authentication (the plugin's default is IAM, which locks the marketplace out) and
// a backend timeout within APIG's 1–60000 ms; every function is a custom runtime.
func TestProjectManifestWorksWithThePlugin(t *testing.T) {
	t.Parallel()
	m, err := manifest.Load("../../../serverless.yml", nil)
	if err != nil {
		t.Fatal(err)
	}
	provider := m.Provider.Environment.Variables
	if len(provider) == 0 {
		t.Fatal("provider.environment.variables is empty")
	}
	for _, name := range m.Names() {
		fn := m.Functions[name]
		if fn.UserData != nil {
			var missing []string
			for k := range provider {
				if _, ok := fn.UserData[k]; !ok {
					missing = append(missing, k)
				}
			}
			if len(missing) > 0 {
				t.Errorf("%s: userData lacks provider variables %v: start the map with `<<: *common`", name, missing)
			}
		}
		if fn.Handler != "bootstrap" {
			t.Errorf("%s: handler %q, want bootstrap", name, fn.Handler)
		}
		if fn.Runtime != "" && fn.Runtime != "Custom" {
			t.Errorf("%s: runtime %q, want Custom", name, fn.Runtime)
		}
		for _, ev := range fn.Events {
			if !ev.IsHTTP() {
				continue
			}
			if ev.String("auth") == "" {
				t.Errorf("%s %s: eventData.auth not set (the plugin would use IAM)", name, ev.String("path"))
			}
			if ev.String("timeout") == "" {
				t.Errorf("%s %s: eventData.timeout not set", name, ev.String("path"))
			}
		}
	}
	// Every function must be deployable: with each ${env:…} set, Desire accepts it.
	full, err := manifest.Load("../../../serverless.yml", func(k string) string {
		if strings.HasSuffix(k, "_ID") {
			return "id0123456789"
		}
		return "value-of-" + strings.ToLower(k)
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range full.Names() {
		if _, err := Desire(full, name, "xx-test-1", "project"); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
}

// twentyOne is 21 plain variables (FunctionGraph allows 20).
var twentyOne = func() string {
	var s []string
	for i := range 21 {
		s = append(s, fmt.Sprintf("V%d: x", i))
	}
	return strings.Join(s, ", ")
}()

func TestDesireRules(t *testing.T) {
	t.Parallel()
	parse := func(yml string, env map[string]string) *manifest.Manifest {
		t.Helper()
		m, err := manifest.Parse([]byte(yml), func(k string) string { return env[k] })
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
	base := "provider: {runtime: Custom, package: p, xrole: agency}\nfunctions:\n  f:\n    handler: bootstrap\n    maxInstances: 1\n"
	for name, c := range map[string]struct {
		yml string
		env map[string]string
		err string
	}{
		"unresolved":        {base + "    userData: {A: '${opt:stage}'}\n", nil, "unresolved"},
		"bad name":          {base + "    userData: {1A: x}\n", nil, "valid variable name"},
		"both kinds":        {base + "    userData: {A: x}\n    encryptedUserData: {A: y}\n", nil, "both a plain and an encrypted"},
		"too big":           {base + "    encryptedUserData: {A: '${env:BIG}'}\n", map[string]string{"BIG": strings.Repeat("x", 4100)}, "4096"},
		"memory":            {base + "    memorySize: 100\n", nil, "memorySize"},
		"memory 640":        {base + "    memorySize: 640\n", nil, "memorySize 640"},
		"memory 10240":      {base + "    memorySize: 10240\n", nil, "memorySize 10240"},
		"runtime":           {base + "    runtime: Go1.21\n", nil, "runtime"},
		"21 variables":      {base + "    userData: {" + twentyOne + "}\n", nil, "20"},
		"half vpc":          {"provider: {funcVpc: {vpcId: v}}\nfunctions:\n  f:\n    handler: bootstrap\n    maxInstances: 1\n", nil, "both vpcId and subnetId"},
		"vpc no agency":     {"provider: {funcVpc: {vpcId: v, subnetId: s}}\nfunctions:\n  f:\n    handler: bootstrap\n    maxInstances: 1\n", nil, "agency"},
		"no maxInstances":   {strings.Replace(base, "    maxInstances: 1\n", "", 1), nil, "maxInstances is not declared"},
		"maxInstances 0":    {strings.Replace(base, "maxInstances: 1", "maxInstances: 0", 1), nil, "disables"},
		"maxInstances 1001": {strings.Replace(base, "maxInstances: 1", "maxInstances: 1001", 1), nil, "outside"},
		"maxInstances -2":   {strings.Replace(base, "maxInstances: 1", "maxInstances: -2", 1), nil, "outside"},
		"bad pool":          {base + "    userData: {DB_MAX_OPEN: many}\n    encryptedUserData: {DB_DSN: x}\n", nil, "DB_MAX_OPEN"},
		"no group":          {base + "    events: [{triggerTypeCode: DEDICATEDGATEWAY, eventData: {name: n, instanceId: i, path: /x, auth: NONE}}]\n", nil, "groupId"},
		"no instance":       {base + "    events: [{triggerTypeCode: DEDICATEDGATEWAY, eventData: {name: n, groupId: g, path: /x, auth: NONE}}]\n", nil, "instanceId"},
		"bad auth":          {base + "    events: [{triggerTypeCode: APIG, eventData: {name: n, groupId: g, path: /x, auth: OPEN}}]\n", nil, "auth"},
		"timer no sched":    {base + "    events: [{triggerTypeCode: TIMER, eventData: {name: t}}]\n", nil, "schedule"},
		"unsupported":       {base + "    events: [{triggerTypeCode: OBS, eventData: {bucket: b}}]\n", nil, "not supported"},
		"bad api timeout":   {base + "    events: [{triggerTypeCode: APIG, eventData: {name: n, groupId: g, path: /x, auth: NONE, timeout: 70000}}]\n", nil, "timeout"},
		"11 triggers": {"custom: {production: {addresses: {/a: f, /b: g, /c: g, /d: g, /e: g, /f: g}}}\n" + base +
			"    events: [{triggerTypeCode: APIG, eventData: {name: n, groupId: g, path: /a, auth: NONE}}, {triggerTypeCode: APIG, belowAddresses: true, eventData: {name: k, groupId: g, path: /k, auth: NONE}}," +
			" {triggerTypeCode: APIG, belowAddresses: true, eventData: {name: k2, groupId: g, path: /k2, auth: NONE}}]\n" +
			"  g:\n    maxInstances: 1\n    events: [{triggerTypeCode: APIG, eventData: {name: gn, groupId: g, path: /b, auth: NONE}}]\n", nil, "FunctionGraph allows 10"},
	} {
		_, err := Desire(parse(c.yml, c.env), "f", "r", "p")
		if err == nil || !strings.Contains(err.Error(), c.err) {
			t.Errorf("%s: err %v, want one mentioning %q", name, err, c.err)
		}
		if err != nil && strings.Contains(err.Error(), "xxxxxxxx") {
			t.Errorf("%s: the error quotes a value", name)
		}
	}

	// Every size FunctionGraph lists is accepted.
	for _, mem := range fgcontract.MemorySizes() {
		if _, err := Desire(parse(base+fmt.Sprintf("    memorySize: %d\n", mem), nil), "f", "r", "p"); err != nil {
			t.Errorf("memorySize %d: %v", mem, err)
		}
	}

	d, err := Desire(parse(base+"    description: "+strings.Repeat("d", 600)+"\n    userData: {A: x, EMPTY: ''}\n", nil), "f", "r", "p")
	if err != nil {
		t.Fatal(err)
	}
	d.CodeSHA256 = strings.Repeat("a", 64)
	desc := d.Description()
	if n := len([]rune(desc)); n > DescriptionLimit {
		t.Errorf("description has %d characters", n)
	}
	if code, cfg := ParseMarker(desc); code != d.CodeSHA256 || cfg != d.ConfigHash {
		t.Errorf("marker %q %q from %q", code, cfg, desc)
	}
	if len(d.Unset) != 1 || d.Unset[0] != "EMPTY" || strings.Contains(d.Config.UserData, "EMPTY") {
		t.Errorf("unset %v user_data %s", d.Unset, d.Config.UserData)
	}
	if code, cfg := ParseMarker("no marker here"); code != "" || cfg != "" {
		t.Error("marker found in a plain description")
	}
}

// TestTriggersCoverEveryRoute: the deploy tool creates one trigger for each route
// of serverless.yml, the production addresses expanded (the basic interface at
// every address, the Kit below every address), and no other.
func TestTriggersCoverEveryRoute(t *testing.T) {
	t.Parallel()
	m, err := manifest.Load("../../../serverless.yml", func(k string) string {
		if strings.HasSuffix(k, "_ID") {
			return "id0123456789"
		}
		return "value-of-" + strings.ToLower(k)
	})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]bool{}
	for _, r := range m.Routes() {
		want[r.Function+" "+manifest.TriggerDedicatedAPIG+" "+r.Method+" "+r.Path] = true
	}
	got := map[string]bool{}
	for _, name := range m.Names() {
		d, err := Desire(m, name, "xx-test-1", "project")
		if err != nil {
			t.Fatal(err)
		}
		for _, tr := range d.Triggers {
			if tr.Type != manifest.TriggerTimer {
				got[name+" "+tr.Key()] = true
			}
		}
	}
	for k := range want {
		if !got[k] {
			t.Errorf("no trigger for %s", k)
		}
	}
	for k := range got {
		if !want[k] {
			t.Errorf("trigger %s is not a route", k)
		}
	}
	for _, k := range []string{"saas-produce DEDICATEDGATEWAY POST /", "kit-auth-sync DEDICATEDGATEWAY POST /license/produce/produceAPI/authSync"} {
		if !got[k] {
			t.Errorf("no trigger %s", k)
		}
	}
}

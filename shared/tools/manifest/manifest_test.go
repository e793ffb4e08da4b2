package manifest

import (
	"os"
	"sort"
	"strings"
	"testing"
)

func TestProjectManifestMatchesFunctions(t *testing.T) {
	m, err := Load("../../../serverless.yml", nil)
	if err != nil {
		t.Fatal(err)
	}
	entries, err := os.ReadDir("../../../functions")
	if err != nil {
		t.Fatal(err)
	}
	var dirs []string
	for _, e := range entries {
		if e.IsDir() {
			if _, err := os.Stat("../../../functions/" + e.Name() + "/main.go"); err == nil {
				dirs = append(dirs, e.Name())
			}
		}
	}
	sort.Strings(dirs)
	if got := strings.Join(m.Names(), ","); got != strings.Join(dirs, ",") {
		t.Fatalf("serverless.yml functions %s != functions/ folders %s", got, strings.Join(dirs, ","))
	}
	for _, name := range m.Names() {
		fn := m.Functions[name]
		if fn.Handler != "bootstrap" {
			t.Errorf("%s: handler %q, want bootstrap (custom runtime)", name, fn.Handler)
		}
		if fn.Code.CodeURI != "./build/"+name {
			t.Errorf("%s: codeUri %q, want ./build/%s", name, fn.Code.CodeURI, name)
		}
	}
	if m.Provider.Runtime != "Custom" {
		t.Errorf("provider runtime %q, want Custom", m.Provider.Runtime)
	}
}

func TestEnvReferences(t *testing.T) {
	raw := []byte(`
service: s
provider: {name: huawei, region: "${env:REGION, 'cn-north-4'}"}
functions:
  a:
    handler: bootstrap
    userData:
      X: ${env:X}
      Y: ${env:Y, "dflt"}
      Z: ${opt:stage}
    events:
      - triggerTypeCode: APIG
        eventData: {path: /a, reqMethod: post, matchMode: SWA, timeout: 5000}
`)
	m, err := Parse(raw, func(k string) string { return map[string]string{"X": "from-env"}[k] })
	if err != nil {
		t.Fatal(err)
	}
	ud := m.Functions["a"].UserData
	if m.Provider.Region != "cn-north-4" || ud["X"] != "from-env" || ud["Y"] != "dflt" || ud["Z"] != "${opt:stage}" {
		t.Fatalf("resolved: region %q userData %v", m.Provider.Region, ud)
	}
	r := m.Routes()
	if len(r) != 1 || r[0].Method != "POST" || !r[0].Prefix || r[0].TimeoutMS != 5000 || r[0].Function != "a" {
		t.Fatalf("routes %+v", r)
	}
}

func TestValidation(t *testing.T) {
	for name, raw := range map[string]string{
		"no functions": "service: s\n",
		"bad name":     "functions:\n  Bad_Name:\n    handler: bootstrap\n",
		"dup route":    "functions:\n  a:\n    events: [{triggerTypeCode: APIG, eventData: {path: /x, reqMethod: POST}}]\n  b:\n    events: [{triggerTypeCode: APIG, eventData: {path: /x, reqMethod: POST}}]\n",
		"no path":      "functions:\n  a:\n    events: [{triggerTypeCode: APIG, eventData: {reqMethod: POST}}]\n",
	} {
		if _, err := Parse([]byte(raw), nil); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func TestMultiLineValuesAreSubstitutedSafely(t *testing.T) {
	pem := "-----BEGIN PRIVATE KEY-----\nMIIBVQ: not: yaml: [\n-----END PRIVATE KEY-----"
	raw := []byte("functions:\n  a:\n    handler: bootstrap\n    encryptedUserData:\n      KEY: ${env:PEM}\n      N: \"${env:NUM}\"\n")
	m, err := Parse(raw, func(k string) string { return map[string]string{"PEM": pem, "NUM": "42"}[k] })
	if err != nil {
		t.Fatal(err)
	}
	if got := m.Functions["a"].EncryptedUserData["KEY"]; got != pem {
		t.Fatalf("KEY = %q", got)
	}
	if got := m.Functions["a"].EncryptedUserData["N"]; got != "42" {
		t.Fatalf("N = %q", got)
	}
}

package kgsim

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/kgseller/kgseller/shared/kgsign"
	"github.com/kgseller/kgseller/shared/probe"
)

var unitKey = kgsign.NewKey([]byte("unit-key"), "unit")

// answer builds an Answer as the engine would receive it.
func answer(body string, header http.Header) *Answer {
	if header == nil {
		header = http.Header{}
		header.Set("Content-Type", "application/json")
		header.Set("Body-Sign", kgsign.BodySignHeader(unitKey, []byte(body)))
	}
	return &Answer{Status: 200, Header: header, Body: []byte(body), ContentType: header.Get("Content-Type"),
		Fields: probe.DecodeObject([]byte(body)), Key: unitKey}
}

func mustContain(t *testing.T, problems []string, want string) {
	t.Helper()
	if !strings.Contains(strings.Join(problems, "; "), want) {
		t.Fatalf("problems %q do not mention %q", problems, want)
	}
}

func TestQueryInstanceFields(t *testing.T) {
	t.Parallel()
	e := newEnv(nil)
	e.Learn(instanceKey(mockPeriodNew), "inst-1")
	c := queryCase("q", false, mockPeriodNew)
	ok := `{"resultCode":"000000","resultMsg":"success.","info":[{"instanceId":"inst-1","appInfo":{"frontEndUrl":"https://a/1","memo":"\u4e2d"},` +
		`"usageInfo":[{"usageValue":12.3456,"statisticalTime":"20250101000000000"}]}]}`
	if p := c.Check(e, answer(ok, nil)); len(p) != 0 {
		t.Fatalf("good answer: %q", p)
	}
	long := strings.Repeat("x", 65)
	for _, tc := range []struct{ body, want string }{
		{`{"resultCode":"000000","resultMsg":"","info":[{"instanceId":"` + long + `"}]}`, "info[0].instanceId has 65 characters, at most 64"},
		{`{"resultCode":"000000","resultMsg":"","info":[{"instanceId":"inst-1","appInfo":{"frontEndUrl":"https://` + strings.Repeat("a", 505) + `"}}]}`, "info[0].appInfo.frontEndUrl has 513 characters, at most 512"},
		{`{"resultCode":"000000","resultMsg":"","info":[{"instanceId":"inst-1","appInfo":{"adminUrl":"https://a"}}]}`, "info[0].appInfo.frontEndUrl missing"},
		{`{"resultCode":"000000","resultMsg":"","info":[{"instanceId":"inst-1","usageInfo":[{"usageValue":1}]}]}`, "info[0].usageInfo[0].statisticalTime missing"},
		{`{"resultCode":"000000","resultMsg":"","info":[{"instanceId":"inst-1","usageInfo":[{"statisticalTime":"20250101000000000"}]}]}`, "usageValue missing"},
		{`{"resultCode":"000000","resultMsg":"","info":[{"instanceId":"inst-1","usageInfo":[{"usageValue":1.23456,"statisticalTime":"20250101000000000"}]}]}`, "5 decimals, at most 4"},
		{`{"resultCode":"000000","resultMsg":"","info":[{"instanceId":"inst-1","usageInfo":[{"usageValue":"1","statisticalTime":"2025-01-01"}]}]}`, "usageValue is not a number"},
		{`{"resultCode":"000000","resultMsg":"","info":[{"instanceId":"inst-1","usageInfo":[{"usageValue":1,"statisticalTime":"2025-01-01"}]}]}`, "not a 17-digit UTC time"},
		{`{"resultCode":"000000","resultMsg":"","info":[{"instanceId":"other"}]}`, `no entry for instanceId "inst-1"`},
		{`{"resultCode":"000000","resultMsg":"","info":{"instanceId":"inst-1"}}`, "info is not an array"},
		{`{"resultCode":"000000","resultMsg":"","encryptType":"1234","info":[{"instanceId":"inst-1"}]}`, "encryptType has 4 characters"},
	} {
		mustContain(t, c.Check(e, answer(tc.body, nil)), tc.want)
	}
}

func TestNewInstanceFields(t *testing.T) {
	t.Parallel()
	e := newEnv(nil)
	c := newInstanceCase("n", mockPeriodNew)
	mustContain(t, c.Check(e, answer(`{"resultCode":"000000","resultMsg":""}`, nil)), "instanceId missing")
	mustContain(t, c.Check(e, answer(`{"resultCode":"000000","resultMsg":"","instanceId":""}`, nil)), "instanceId is empty")
	mustContain(t, c.Check(e, answer(`{"resultCode":"000000","resultMsg":"","instanceId":"`+strings.Repeat("i", 65)+`"}`, nil)), "65 characters")
	first := answer(`{"resultCode":"000000","resultMsg":"","instanceId":"a"}`, nil)
	if p := c.Check(e, first); len(p) != 0 {
		t.Fatal(p)
	}
	c.Learn(e, first)
	mustContain(t, c.Check(e, answer(`{"resultCode":"000004","resultMsg":"","instanceId":"b"}`, nil)), `instanceId "b" differs from "a"`)
}

func TestProductsAreWellFormed(t *testing.T) {
	t.Parallel()
	for _, name := range Types() {
		p, err := ProductFor(name, Options{})
		if err != nil {
			t.Fatal(err)
		}
		seen := map[string]bool{}
		all := append(append([]Case{}, p.Setup...), p.Cases...)
		for _, c := range all {
			if c.Name == "" || c.Body == nil || len(c.Want) == 0 {
				t.Fatalf("%s: incomplete case %+v", name, c)
			}
			if seen[c.Name] {
				t.Fatalf("%s: duplicate case name %q", name, c.Name)
			}
			seen[c.Name] = true
		}
		if p.Probe.Body == nil || p.Duplicate.Body == nil || len(p.Malformed) == 0 {
			t.Fatalf("%s: missing probe, duplicate or malformed bodies", name)
		}
		// Every case body that needs no learned value is valid compact JSON whose
		// debug flag is set.
		e := newEnv(nil)
		e.Learn(instanceKey(mockPeriodNew), "i-1")
		for _, id := range []string{mockOneTimeNew, mockOnDemand, mockOnDemandPkg, mockTrial} {
			e.Learn(instanceKey(id), "i-"+id)
		}
		for _, c := range all {
			if c.Skip != "" {
				continue
			}
			b, err := c.Body(e)
			if err != nil {
				t.Fatalf("%s %s: %v", name, c.Name, err)
			}
			obj := probe.DecodeObject(b)
			if obj == nil {
				t.Fatalf("%s %s: body is not a JSON object: %s", name, c.Name, b)
			}
			switch flag := obj["testFlag"].(type) {
			case string:
				if flag != "1" {
					t.Fatalf("%s %s: testFlag %q", name, c.Name, flag)
				}
			case json.Number:
				if flag.String() != "1" {
					t.Fatalf("%s %s: testFlag %s", name, c.Name, flag)
				}
			default:
				t.Fatalf("%s %s: no testFlag: %s", name, c.Name, b)
			}
		}
	}
	if _, err := ProductFor("vm", Options{}); err == nil {
		t.Fatal("unknown type accepted")
	}
}

func TestAddressWarnings(t *testing.T) {
	t.Parallel()
	for raw, want := range map[string]int{
		"http://127.0.0.1:8080/saas/produce":   0,
		"http://localhost:8080/saas/produce":   0,
		"https://api.example.com/saas/produce": 0,
		"http://api.example.com/saas/produce":  1,
		"https://203.0.113.7/saas/produce":     1,
		"http://203.0.113.7:8080/saas/produce": 2,
	} {
		u, _ := url.Parse(raw)
		if got := addressWarnings(u); len(got) != want {
			t.Errorf("%s: %q, want %d warnings", raw, got, want)
		}
	}
}

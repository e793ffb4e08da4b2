package kit

import (
	"encoding/json"
	"errors"
	"testing"

	"github.com/kgseller/kgseller/shared/marketplace"
)

// FuzzDecode: no body makes a decoder panic, and every refusal is a 000002 error.
func FuzzDecode(f *testing.F) {
	for _, seed := range []string{
		`{"instanceId":"i","tenantId":"t","tenantCode":"c","name":"n","domainName":"https://d","flag":1,"testFlag":0}`,
		`{"instanceId":"i","tenantId":"t","appId":"a","userList":[{"userName":"u","name":"n","orgCode":"o","role":"user","enable":"true","extension":{"employeeType":1}}],"flag":3}`,
		`{"instanceId":"i","tenantId":"t","orgInfoList":"[{orgCode:\"1\", orgName:'x'}]"}`,
		`{"instanceId":"i","tenantId":"t","orgInfo":"[{\"orgCode\":\"1\",\"name\":\"x\"}]"}`,
		`{"instanceId":"i","tenantId":"t","orgCode":"o","orgName":"n","flag":"2"}`,
		`{"tenantId":"t","appId":"a","clientId":"c","clientSecret":"AAAA","flag":1}`,
	} {
		f.Add([]byte(seed))
	}
	s := &Service{}
	decoders := []func([]byte) (any, error){
		func(b []byte) (any, error) { return s.DecodeTenantSync(b) },
		func(b []byte) (any, error) { return s.DecodeAuthSync(b) },
		func(b []byte) (any, error) { return s.DecodeSingleOrgSync(b) },
		func(b []byte) (any, error) { return s.DecodeAllOrgSync(b) },
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		for _, dec := range decoders {
			if _, err := dec(body); err != nil {
				var me *marketplace.Error
				if !errors.As(err, &me) || me.Code != marketplace.BadRequest {
					t.Fatalf("refusal %v is not a 000002 error", err)
				}
			}
		}
	})
}

func TestLenientJSON(t *testing.T) {
	cases := map[string]string{
		`[{orgCode:"00000001", orgName:"产品部", parentCode:"265789314" }]`: `[{"orgCode":"00000001","orgName":"产品部","parentCode":"265789314"}]`,
		`[{a:'it\'s', b:true, c:null, d:007}]`:                           `[{"a":"it's","b":true,"c":null,"d":"007"}]`,
		`[{a:"x\"y"}]`:                                                   `[{"a":"x\"y"}]`,
	}
	for in, want := range cases {
		got, ok := lenientJSON(in)
		if !ok {
			t.Fatalf("%s refused", in)
		}
		var g, w any
		if err := json.Unmarshal([]byte(got), &g); err != nil {
			t.Fatalf("%s => invalid JSON %s", in, got)
		}
		_ = json.Unmarshal([]byte(want), &w)
		gb, _ := json.Marshal(g)
		wb, _ := json.Marshal(w)
		if string(gb) != string(wb) {
			t.Fatalf("%s => %s, want %s", in, gb, wb)
		}
	}
	for _, in := range []string{`[{a:"open`, `[{a:'open`, "[{a:\"x\xff\"}]", `[{a:'x\`} {
		if _, ok := lenientJSON(in); ok {
			t.Fatalf("%q accepted", in)
		}
	}
}

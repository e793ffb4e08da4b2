package kgsim

import (
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/kgseller/kgseller/shared/kit/clientsecret"
)

// Kit debug values (docs/protocol.md#kit): one tenant, app, two users and two
// departments, all named kgsim-* so they are easy to find and delete.
const (
	kitPath       = "/produceAPI/v2/"
	kitPathPlain  = "/produceAPI/"
	kitInstance   = "kgsim-kit-instance-0001"
	kitTenant     = "kgsim-tenant-0001"
	kitApp        = "kgsim-app-0001"
	kitRootOrg    = "kgsim-org-0001"
	kitChildOrg   = "kgsim-org-0002"
	kitSecret     = "kgsim-client-secret-0001"
	kitNeedPubKey = "needs -public-key: applicationSync carries clientSecret encrypted with the RSA public key uploaded for the Kit app"
)

// beijing is the zone of the Kit timeStamp field ("默认时区东8区", UTC+8).
var beijing = time.FixedZone("UTC+8", 8*3600)

// kitTimeStamp formats yyyyMMddHHmmssSSS in UTC+8.
func kitTimeStamp(t time.Time) string {
	return strings.Replace(t.In(beijing).Format("20060102150405.000"), ".", "", 1)
}

// ParsePublicKey reads the PEM RSA public key (PKIX "PUBLIC KEY" or PKCS#1 "RSA
// PUBLIC KEY") a seller uploads for its Kit app.
func ParsePublicKey(pemBytes []byte) (*rsa.PublicKey, error) {
	block, _ := pem.Decode(pemBytes)
	if block == nil {
		return nil, errors.New("kgsim: no PEM block in the public key file")
	}
	if k, err := x509.ParsePKCS1PublicKey(block.Bytes); err == nil {
		return k, nil
	}
	k, err := x509.ParsePKIXPublicKey(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("kgsim: reading public key: %w", err)
	}
	rk, ok := k.(*rsa.PublicKey)
	if !ok {
		return nil, errors.New("kgsim: the public key is not an RSA key")
	}
	return rk, nil
}

// kitNames are the five Kit sync interfaces, each on its fixed sub-path.
var kitNames = []string{"tenantSync", "applicationSync", "authSync", "singleOrgSync", "allOrgSync"}

// kitBody is the body of a debug Kit call: the fields, testFlag 1 (an integer, as
// the Kit sends it) and timeStamp in UTC+8.
func kitBody(e *Env, f map[string]any) ([]byte, error) {
	f["testFlag"] = 1
	f["timeStamp"] = kitTimeStamp(e.Now())
	return jsonBody(f)
}

// kitProduct is the joint-operation Kit suite: the five V2 sync calls on their
// fixed sub-paths (the unversioned /produceAPI/<name> ones when unversioned),
// signed with x-sign headers. Adds, modifies and deletes are replayed in any order;
// every one must answer 000000 (repeated adds create nothing, repeated deletes still
// succeed).
func kitProduct(pub *rsa.PublicKey, unversioned bool) *Product {
	// As a Java marketplace encrypts: OAEP with SHA-256, MGF1 with SHA-1.
	seal := func() (string, error) {
		if pub == nil {
			return "", errors.New(kitNeedPubKey)
		}
		return clientsecret.EncryptWith(pub, kitSecret, clientsecret.JavaOAEP)
	}
	return kitProductSealed(seal, pub == nil, unversioned)
}

// kitProductSealed is kitProduct with the clientSecret encryption given: the
// example bodies put a placeholder there.
func kitProductSealed(seal func() (string, error), noKey, unversioned bool) *Product {
	base := kitPath
	if unversioned {
		base = kitPathPlain
	}
	kit := func(name, path string, fields func(e *Env) (map[string]any, error)) Case {
		return Case{Name: name, Path: base + path, Want: []string{codeOK}, Body: func(e *Env) ([]byte, error) {
			f, err := fields(e)
			if err != nil {
				return nil, err
			}
			return kitBody(e, f)
		}}
	}
	tenant := func(name string, flag int) Case {
		return kit(name, "tenantSync", func(*Env) (map[string]any, error) {
			return map[string]any{
				"instanceId": kitInstance, "orderId": mockPeriodNew, "tenantId": kitTenant, "tenantCode": "kgsim",
				"name": "kgsim tenant", "domainName": "https://kgsim.tenantaccount.example.com", "flag": flag,
			}, nil
		})
	}
	app := func(name string, flag int) Case {
		c := kit(name, "applicationSync", func(*Env) (map[string]any, error) {
			secret, err := seal()
			if err != nil {
				return nil, fmt.Errorf("encrypting clientSecret: %w", err)
			}
			return map[string]any{
				"instanceId": kitInstance, "tenantId": kitTenant, "appId": kitApp, "clientId": "kgsim-client-0001",
				"clientSecret": secret, "flag": flag,
			}, nil
		})
		if noKey {
			c.Skip = kitNeedPubKey
		}
		return c
	}
	users := []map[string]any{
		{"userName": "kgsim.user1", "name": "KG Sim User 1", "orgCode": kitRootOrg, "role": "user", "enable": "true",
			"employeeType": 1, "position": "engineer", "email": "user1@kgsim.example.com"},
		{"userName": "kgsim.admin", "name": "KG Sim Admin", "orgCode": kitChildOrg, "role": "admin", "enable": "true"},
	}
	auth := func(name string, flag int) Case {
		return kit(name, "authSync", func(e *Env) (map[string]any, error) {
			return map[string]any{
				"instanceId": kitInstance, "tenantId": kitTenant, "appId": kitApp, "userList": users,
				"currentSyncTime": kitTimeStamp(e.Now()), "flag": flag,
			}, nil
		})
	}
	org := func(name, code, orgName, parent string, flag int) Case {
		return kit(name, "singleOrgSync", func(*Env) (map[string]any, error) {
			return map[string]any{
				"instanceId": kitInstance, "tenantId": kitTenant, "orgCode": code, "orgName": orgName, "parentCode": parent, "flag": flag,
			}, nil
		})
	}
	orgs := []map[string]any{
		{"orgCode": kitRootOrg, "orgName": "产品部", "parentCode": ""},
		{"orgCode": kitChildOrg, "orgName": "研发部", "parentCode": kitRootOrg},
	}
	orgsJSON, _ := json.Marshal(orgs)
	allOrgs := func(name string, list any, withFlag bool) Case {
		return kit(name, "allOrgSync", func(*Env) (map[string]any, error) {
			f := map[string]any{"instanceId": kitInstance, "tenantId": kitTenant, "orgInfoList": list}
			if withFlag {
				f["flag"] = 1
			}
			return f, nil
		})
	}
	long := strings.Repeat("A", 65)
	bad := func(name, path, body string) Malformed {
		return Malformed{Name: name, Path: base + path, Body: []byte(body)}
	}
	return &Product{
		Name:    "kit",
		Summary: "joint-operation Kit sync: tenantSync, applicationSync, authSync, singleOrgSync, allOrgSync below the production address (x-sign headers)",
		Kit:     true,
		Cases: []Case{
			tenant("tenantSync add", 1),
			tenant("tenantSync modify", 2),
			tenant("tenantSync delete", 0),
			app("applicationSync add", 1),
			app("applicationSync modify", 2),
			app("applicationSync delete", 0),
			auth("authSync add", 1),
			auth("authSync modify", 2),
			auth("authSync revoke", 3),
			auth("authSync delete", 0),
			org("singleOrgSync add root", kitRootOrg, "产品部", "", 1),
			org("singleOrgSync add child", kitChildOrg, "研发部", kitRootOrg, 1),
			org("singleOrgSync rename child", kitChildOrg, "研发二部", kitRootOrg, 2),
			org("singleOrgSync delete child", kitChildOrg, "研发部", kitRootOrg, 0),
			allOrgs("allOrgSync orgInfoList as an array", orgs, false),
			// The documented V2 example sends the list as a JSON string and adds flag.
			allOrgs("allOrgSync orgInfoList as a JSON string", string(orgsJSON), true),
			allOrgs("allOrgSync orgInfoList as the documented unquoted-key string",
				`[{orgCode:"`+kitRootOrg+`", orgName:"产品部", parentCode:"" },{orgCode:"`+kitChildOrg+`", orgName:"研发部", parentCode:"`+kitRootOrg+`" }]`, true),
		},
		Duplicate: tenant("tenantSync add (duplicates)", 1),
		Probe:     tenant("tenantSync add", 1),
		Malformed: []Malformed{
			bad("tenantSync not JSON", "tenantSync", `tenantId=`+kitTenant),
			bad("tenantSync JSON array", "tenantSync", `[{"tenantId":"`+kitTenant+`"}]`),
			bad("tenantSync without tenantId", "tenantSync", `{"domainName":"https://x.example.com","flag":1,"instanceId":"i","name":"n","orderId":"o","tenantCode":"c","testFlag":1,"timeStamp":"20250101000000000"}`),
			bad("tenantSync tenantId of 65 characters", "tenantSync", `{"domainName":"https://x.example.com","flag":1,"instanceId":"i","name":"n","orderId":"o","tenantCode":"c","tenantId":"`+long+`","testFlag":1,"timeStamp":"20250101000000000"}`),
			bad("tenantSync tenantId as a number", "tenantSync", `{"domainName":"https://x.example.com","flag":1,"instanceId":"i","name":"n","orderId":"o","tenantCode":"c","tenantId":42,"testFlag":1,"timeStamp":"20250101000000000"}`),
			bad("authSync userList as a number", "authSync", `{"appId":"a","currentSyncTime":"20250101000000000","flag":1,"instanceId":"i","tenantId":"t","testFlag":1,"timeStamp":"20250101000000000","userList":42}`),
		},
	}
}

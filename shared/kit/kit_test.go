package kit_test

import (
	"context"
	"crypto"
	"crypto/rsa"
	"encoding/json"
	"fmt"
	"github.com/kgseller/kgseller/shared/tools/logbuf"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/kgseller/kgseller/shared/endpoint"
	"github.com/kgseller/kgseller/shared/fgruntime"
	"github.com/kgseller/kgseller/shared/kgsign"
	"github.com/kgseller/kgseller/shared/kit"
	"github.com/kgseller/kgseller/shared/kit/clientsecret"
	"github.com/kgseller/kgseller/shared/marketplace"
	"github.com/kgseller/kgseller/shared/probe"
	"github.com/kgseller/kgseller/shared/secretbox"
	"github.com/kgseller/kgseller/shared/store"
	"github.com/kgseller/kgseller/shared/tools/dbtest"
)

const kitKey = "KitAccessKey-0123456789"

var (
	rsaOnce sync.Once
	rsaKey  *rsa.PrivateKey
)

func sellerKey(t testing.TB) *rsa.PrivateKey {
	t.Helper()
	rsaOnce.Do(func() {
		k, err := clientsecret.Generate(3072)
		if err != nil {
			panic(err)
		}
		rsaKey = k
	})
	return rsaKey
}

// harness drives the five Kit handlers, assembled as the functions assemble them,
// over one fresh database.
type harness struct {
	t    testing.TB
	st   *store.Store
	box  *secretbox.Box
	h    map[string]fgruntime.Handler
	logs *logbuf.Buffer
}

func newHarness(t *testing.T) *harness {
	t.Helper()
	st, _ := dbtest.Open(t)
	// The budget is a guard against a hang, not a bound a busy machine could
	// miss: concurrent calls queue on the embedded engine.
	return newHarnessOn(t, st, time.Minute)
}

// newHarnessOn assembles the handlers over st with a request budget (0: the
// default one).
func newHarnessOn(t testing.TB, st *store.Store, timeout time.Duration) *harness {
	t.Helper()
	dataKey, _ := secretbox.NewKey()
	box, err := secretbox.New(dataKey)
	if err != nil {
		t.Fatal(err)
	}
	svc := &kit.Service{Store: st, Secrets: clientsecret.NewFromKeys(sellerKey(t)), Box: box}
	logs := &logbuf.Buffer{}
	logger := slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	h := &harness{t: t, st: st, box: box, logs: logs, h: map[string]fgruntime.Handler{}}
	for name, dec := range map[string]endpoint.Decoder{
		"tenantSync": svc.DecodeTenantSync, "applicationSync": svc.DecodeApplicationSync, "authSync": svc.DecodeAuthSync,
		"singleOrgSync": svc.DecodeSingleOrgSync, "allOrgSync": svc.DecodeAllOrgSync,
	} {
		h.h[name] = endpoint.Handler(endpoint.Config{
			Scope: "kit", Scheme: endpoint.KitHeaders, Verifier: &kgsign.Verifier{Keys: kgsign.MustKeySet(kitKey)},
			Nonces: st, Decode: dec, Logger: logger, Timeout: timeout,
		})
	}
	return h
}

func (h *harness) signed(path, body string, key string, hashed bool) events.APIGatewayProxyRequest {
	c := probe.Client{URL: "https://seller.example.com/produceAPI/v2/" + path, Key: kgsign.NewKey([]byte(key), "t"), Kit: true, KitHashedPayload: hashed}
	s, err := c.Sign([]byte(body))
	if err != nil {
		h.t.Fatal(err)
	}
	return s.Event()
}

// send posts a correctly signed call and checks the answer's shape.
func (h *harness) send(iface, body string) (string, string) {
	h.t.Helper()
	return h.do(iface, h.signed(iface, body, kitKey, false))
}

func (h *harness) do(iface string, req events.APIGatewayProxyRequest) (string, string) {
	h.t.Helper()
	resp, err := h.h[iface](context.Background(), req)
	if err != nil {
		h.t.Fatal(err)
	}
	m, err := probe.CheckEvent(resp, kgsign.NewKey([]byte(kitKey), "t"))
	if err != nil {
		h.t.Fatal(err)
	}
	code, _ := m["resultCode"].(string)
	msg, _ := m["resultMsg"].(string)
	return code, msg
}

// want sends and requires a result code.
func (h *harness) want(iface, body, code string) {
	h.t.Helper()
	got, msg := h.send(iface, body)
	if got != code {
		h.t.Fatalf("%s %s => %s %q, want %s", iface, body, got, msg, code)
	}
}

func (h *harness) count(table, where string, args ...any) int {
	h.t.Helper()
	q := "SELECT COUNT(*) FROM " + table
	if where != "" {
		q += " WHERE " + where
	}
	var n int
	if err := h.st.DB().Get(&n, q, args...); err != nil {
		h.t.Fatal(err)
	}
	return n
}

func (h *harness) total() int {
	n := 0
	for _, table := range []string{"kit_tenants", "kit_applications", "kit_users", "kit_orgs", "nonces"} {
		n += h.count(table, "")
	}
	return n
}

func (h *harness) encrypt(secret string, hash crypto.Hash) string {
	h.t.Helper()
	ct, err := clientsecret.Encrypt(&sellerKey(h.t).PublicKey, secret, hash)
	if err != nil {
		h.t.Fatal(err)
	}
	return ct
}

const tenantAdd = `{"instanceId":"huaiweitest123456","orderId":"CS1906666666ABCDE","tenantId":"68cbc86","tenantCode":"huawei","name":"huaiweitest","domainName":"https://example.tenantaccount.com","flag":1,"testFlag":0,"timeStamp":"20220413093539534"}`

func TestTenantSyncIdempotency(t *testing.T) {
	h := newHarness(t)
	h.want("tenantSync", tenantAdd, "000000")
	h.want("tenantSync", tenantAdd, "000000")
	if n := h.count("kit_tenants", ""); n != 1 {
		t.Fatalf("%d tenants after a repeated add, want 1", n)
	}
	// modify (flag as a string) changes the name and the domain only.
	h.want("tenantSync", `{"instanceId":"huaiweitest123456","orderId":"CS1906666666ABCDE","tenantId":"68cbc86","tenantCode":"changed","name":"新名字","domainName":"https://new.tenantaccount.com/","flag":"2","testFlag":"0","timeStamp":"20220413093539999"}`, "000000")
	var row store.KitTenant
	if err := h.st.DB().Get(&row, "SELECT instance_id, tenant_id, order_id, tenant_code, name, domain_name, test_flag, sync_time FROM kit_tenants"); err != nil {
		t.Fatal(err)
	}
	if row.Name != "新名字" || row.DomainName != "https://new.tenantaccount.com" || row.TenantCode != "huawei" {
		t.Fatalf("after modify: %+v", row)
	}
	// delete, twice, and once more for a tenant that never existed: all succeed.
	del := `{"instanceId":"huaiweitest123456","orderId":"CS1906666666ABCDE","tenantId":"68cbc86","flag":0,"testFlag":0,"timeStamp":"20220413093540000"}`
	h.want("tenantSync", del, "000000")
	h.want("tenantSync", del, "000000")
	h.want("tenantSync", strings.Replace(del, "68cbc86", "never-synced", 1), "000000")
	if n := h.count("kit_tenants", ""); n != 0 {
		t.Fatalf("%d tenants after delete", n)
	}
	// A credential requested in the Seller Console has empty instanceId and orderId.
	h.want("tenantSync", `{"instanceId":"","orderId":"","tenantId":"t-console","tenantCode":"c","name":"n","domainName":"https://d.example.com","flag":1,"testFlag":1,"timeStamp":"20220413093539534"}`, "000000")
	if n := h.count("kit_tenants", "instance_id = '' AND test_flag = 1"); n != 1 {
		t.Fatalf("console credential tenant not stored: %d", n)
	}
}

func TestApplicationSyncSecrets(t *testing.T) {
	h := newHarness(t)
	body := func(flag int, secret string) string {
		return fmt.Sprintf(`{"instanceId":"i-1","tenantId":"t-1","appId":"app-1","clientId":"client-1","clientSecret":%q,"flag":%d,"testFlag":0,"timeStamp":"20220413093539534"}`, secret, flag)
	}
	h.want("applicationSync", body(1, h.encrypt("first-secret", crypto.SHA256)), "000000")
	h.want("applicationSync", body(1, h.encrypt("first-secret", crypto.SHA1)), "000000")
	if n := h.count("kit_applications", ""); n != 1 {
		t.Fatalf("%d applications after a repeated add", n)
	}
	h.want("applicationSync", body(2, h.encrypt("second-secret", crypto.SHA1)), "000000")
	a, err := h.st.KitApp(context.Background(), "i-1", "t-1", "app-1")
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(a.SealedSecret, "second-secret") {
		t.Fatal("client secret stored in plaintext")
	}
	plain, err := h.box.Open(a.SealedSecret, marketplace.KitSecretContext("i-1", "t-1", "app-1"))
	if err != nil || plain != "second-secret" {
		t.Fatalf("sealed secret opens to %q, %v", plain, err)
	}
	if _, err := h.box.Open(a.SealedSecret, marketplace.KitSecretContext("i-2", "t-1", "app-1")); err == nil {
		t.Fatal("sealed secret opens in another row's context")
	}
	// Undecryptable secrets are bad parameters and change nothing.
	other, _ := clientsecret.Generate(3072)
	foreign, _ := clientsecret.Encrypt(&other.PublicKey, "x", crypto.SHA256)
	for _, bad := range []string{"not-base64!!", foreign, ""} {
		h.want("applicationSync", body(2, bad), "000002")
	}
	if again, _ := h.st.KitApp(context.Background(), "i-1", "t-1", "app-1"); again.SealedSecret != a.SealedSecret {
		t.Fatal("a rejected call changed the stored secret")
	}
	// Users of the app go with it.
	h.want("authSync", `{"instanceId":"i-1","tenantId":"t-1","appId":"app-1","userList":[{"userName":"u","name":"U","orgCode":"o","role":"user","enable":"true"}],"flag":1,"testFlag":0,"currentSyncTime":"20220413093539534","timeStamp":"20220413093539534"}`, "000000")
	for i := 0; i < 2; i++ {
		h.want("applicationSync", `{"instanceId":"i-1","tenantId":"t-1","appId":"app-1","flag":0,"testFlag":0,"timeStamp":"20220413093539534"}`, "000000")
	}
	if h.count("kit_applications", "")+h.count("kit_users", "") != 0 {
		t.Fatal("application delete left rows")
	}
	// Neither the plaintext nor the ciphertext ever reaches the logs.
	logs := h.logs.String()
	for _, secret := range []string{"first-secret", "second-secret", foreign[:40]} {
		if strings.Contains(logs, secret) {
			t.Fatalf("secret %q found in the logs", secret)
		}
	}
}

func user(name string, extra string) string {
	return fmt.Sprintf(`{"userName":%q,"name":"Name %s","orgCode":"dep-1","role":"user","enable":"true"%s}`, name, name, extra)
}

func authBody(flag any, users string) string {
	return fmt.Sprintf(`{"instanceId":"i-1","tenantId":"t-1","appId":"app-1","userList":%s,"flag":%v,"testFlag":"1","currentSyncTime":"20220420114117642","timeStamp":"20220420114117642"}`, users, flag)
}

func TestAuthSyncIdempotencyAndRevoke(t *testing.T) {
	h := newHarness(t)
	list := "[" + user("alice", `,"role":"admin","mobile":"13800000000","email":"a@example.com","position":"p","employeeCode":"e1","employeeType":1,"workPlace":"w","entryDate":"2022-11-09"`) + "," + user("bob", `,"extension":{"entryDate":"2022-11-9","employeeType":"2","workPlace":"Shenzhen"}`) + "]"
	h.want("authSync", authBody(1, list), "000000")
	h.want("authSync", authBody("1", list), "000000")
	if n := h.count("kit_users", ""); n != 2 {
		t.Fatalf("%d users after a repeated add", n)
	}
	bob, err := h.st.KitUser(context.Background(), "i-1", "t-1", "app-1", "bob")
	if err != nil {
		t.Fatal(err)
	}
	if bob.EntryDate != "2022-11-9" || bob.WorkPlace != "Shenzhen" || bob.EmployeeType.Int64 != 2 || !bob.Enabled || !bob.Authorized || !bob.TestFlag {
		t.Fatalf("V1 extension fields: %+v", bob)
	}
	alice, _ := h.st.KitUser(context.Background(), "i-1", "t-1", "app-1", "alice")
	if alice.Role != "admin" || alice.Email != "a@example.com" || alice.EmployeeType.Int64 != 1 {
		t.Fatalf("alice: %+v", alice)
	}
	// V1: userList as a string holding the array; modify keeps authorisation as is.
	v1 := authBody(2, strconv.Quote("["+user("bob", `,"enable":"false"`)+"]"))
	h.want("authSync", v1, "000000")
	if bob, _ = h.st.KitUser(context.Background(), "i-1", "t-1", "app-1", "bob"); bob.Enabled {
		t.Fatal("modify did not disable bob")
	}
	// flag 3 revokes, repeatedly, and ignores unknown users.
	revoke := authBody(3, `[{"userName":"alice"},{"userName":"nobody"}]`)
	h.want("authSync", revoke, "000000")
	h.want("authSync", revoke, "000000")
	if alice, _ = h.st.KitUser(context.Background(), "i-1", "t-1", "app-1", "alice"); alice.Authorized {
		t.Fatal("flag 3 did not revoke alice")
	}
	// delete, twice.
	del := authBody(0, `[{"userName":"alice"},{"userName":"bob"}]`)
	h.want("authSync", del, "000000")
	h.want("authSync", del, "000000")
	if n := h.count("kit_users", ""); n != 0 {
		t.Fatalf("%d users after delete", n)
	}
}

func TestAuthSyncUserLimit(t *testing.T) {
	h := newHarness(t)
	users := func(n int) string {
		parts := make([]string, n)
		for i := range parts {
			parts[i] = user(fmt.Sprintf("user-%04d", i), "")
		}
		return "[" + strings.Join(parts, ",") + "]"
	}
	h.want("authSync", authBody(1, users(501)), "000002")
	if n := h.total(); n != 0 {
		t.Fatalf("a refused call stored %d rows", n)
	}
	h.want("authSync", authBody(1, users(500)), "000000")
	if n := h.count("kit_users", ""); n != 500 {
		t.Fatalf("%d users stored, want 500", n)
	}
}

func orgBody(list string) string {
	return fmt.Sprintf(`{"instanceId":"i-1","tenantId":"t-1","orgInfoList":%s,"flag":1,"testFlag":0,"timeStamp":"20220413093539534"}`, list)
}

func TestAllOrgSyncForms(t *testing.T) {
	forms := map[string]string{
		"array":           orgBody(`[{"orgCode":"00000001","orgName":"产品部","parentCode":"265789314"},{"orgCode":"00000002","orgName":"研发部","parentCode":"00000001"}]`),
		"json string":     orgBody(strconv.Quote(`[{"orgCode":"00000001","orgName":"产品部","parentCode":"265789314"},{"orgCode":"00000002","orgName":"研发部","parentCode":"00000001"}]`)),
		"unquoted keys":   orgBody(strconv.Quote(`[{orgCode:"00000001", orgName:"产品部", parentCode:"265789314" },{orgCode:"00000002", orgName:"研发部", parentCode:"00000001" }]`)),
		"bare values":     orgBody(strconv.Quote(`[{orgCode:00000001, orgName:'产品部', parentCode:265789314},{orgCode:00000002,orgName:'研发部',parentCode:00000001}]`)),
		"V1 orgInfo/name": `{"instanceId":"i-1","tenantId":"t-1","orgInfo":` + strconv.Quote(`[{"orgCode":"00000001","name":"产品部","parentCode":"265789314"},{"orgCode":"00000002","name":"研发部","parentCode":"00000001"}]`) + `,"testFlag":0,"timeStamp":"20220413093539534"}`,
	}
	for name, body := range forms {
		t.Run(name, func(t *testing.T) {
			h := newHarness(t)
			h.want("allOrgSync", body, "000000")
			h.want("allOrgSync", body, "000000")
			if n := h.count("kit_orgs", ""); n != 2 {
				t.Fatalf("%d departments, want 2", n)
			}
			if n := h.count("kit_orgs", "org_code = ? AND org_name = ? AND parent_code = ?", "00000001", "产品部", "265789314"); n != 1 {
				t.Fatal("department 00000001 not stored as sent")
			}
		})
	}
}

func TestSingleOrgSyncIdempotency(t *testing.T) {
	h := newHarness(t)
	add := `{"instanceId":"i-1","instanceId":"i-1","tenantId":"t-1","orgCode":"d1","orgName":"Sales","parentCode":"","flag":1,"testFlag":0,"timeStamp":"20220413093539534"}`
	h.want("singleOrgSync", add, "000000")
	h.want("singleOrgSync", add, "000000")
	h.want("singleOrgSync", `{"instanceId":"i-1","tenantId":"t-1","orgCode":"d1","name":"Sales EU","parentCode":"root","flag":2,"testFlag":0,"timeStamp":"20220413093539534"}`, "000000")
	if n := h.count("kit_orgs", "org_name = 'Sales EU' AND parent_code = 'root'"); n != 1 {
		t.Fatal("modify (with the V1 name field) not applied")
	}
	del := `{"instanceId":"i-1","tenantId":"t-1","orgCode":"d1","flag":0,"testFlag":0,"timeStamp":"20220413093539534"}`
	h.want("singleOrgSync", del, "000000")
	h.want("singleOrgSync", del, "000000")
	if n := h.count("kit_orgs", ""); n != 0 {
		t.Fatalf("%d departments after delete", n)
	}
}

// TestBadInputStoresNothing: every malformed call answers 000002 and writes no row,
// not even its nonce.
func TestBadInputStoresNothing(t *testing.T) {
	h := newHarness(t)
	long := strings.Repeat("x", 65)
	cases := map[string][]string{
		"tenantSync": {
			`not json`,
			`[]`,
			`{"instanceId":"i","tenantCode":"c","name":"n","domainName":"https://d","flag":1}`,
			`{"instanceId":"i","tenantId":"t","tenantCode":"c","name":"n","domainName":"https://d","flag":5}`,
			`{"instanceId":"i","tenantId":"t","tenantCode":"c","name":"n","domainName":"https://d","flag":true}`,
			`{"instanceId":"i","tenantId":"t","tenantCode":"c","name":"n","domainName":"https://d","flag":1,"testFlag":"yes"}`,
			`{"instanceId":"i","tenantId":"t","tenantCode":"c","name":"n","domainName":"https://d","flag":1,"testFlag":2}`,
			`{"instanceId":"i","tenantId":"t","tenantCode":"c","name":"n","domainName":"ftp://d","flag":1}`,
			`{"instanceId":"i","tenantId":"t","tenantCode":"c","name":"n","domainName":"https://user:pw@d","flag":1}`,
			`{"instanceId":"i","tenantId":"t","tenantCode":"c","name":"n","flag":1}`,
			`{"instanceId":"` + long + `","tenantId":"t","tenantCode":"c","name":"n","domainName":"https://d","flag":1}`,
			`{"instanceId":7,"tenantId":"t","tenantCode":"c","name":"n","domainName":"https://d","flag":1}`,
			`{"instanceId":"i","tenantId":"t\u0000","tenantCode":"c","name":"n","domainName":"https://d","flag":1}`,
		},
		"applicationSync": {
			`{"instanceId":"i","tenantId":"t","clientId":"c","clientSecret":"AAAA","flag":1}`,
			`{"instanceId":"i","tenantId":"t","appId":"a","clientSecret":"AAAA","flag":1}`,
			`{"instanceId":"i","tenantId":"t","appId":"a","clientId":"c","clientSecret":"AAAA","flag":1}`,
			`{"instanceId":"i","tenantId":"t","appId":"a","clientId":"c","flag":1}`,
			`{"instanceId":"i","tenantId":"t","appId":"a","clientId":"c","clientSecret":"AAAA","flag":3}`,
		},
		"authSync": {
			authBody(1, `[{"userName":"u"}]`),
			authBody(1, `[{"name":"n","orgCode":"o","role":"user","enable":"true"}]`),
			authBody(1, `["alice"]`),
			authBody(1, `{"userName":"u"}`),
			authBody(1, `"not a list"`),
			authBody(1, `[`+user("u", `,"enable":"maybe"`)+`]`),
			authBody(1, `[`+user("u", `,"employeeType":"x"`)+`]`),
			authBody(1, `[`+user("u", `,"extension":"x"`)+`]`),
			authBody(4, `[`+user("u", "")+`]`),
			`{"instanceId":"i","tenantId":"t","appId":"a","flag":1}`,
			authBody(1, `[`+user("u", "")+`,`+user(long, "")+`]`),
		},
		"singleOrgSync": {
			`{"instanceId":"i","tenantId":"t","orgName":"n","flag":1}`,
			`{"instanceId":"i","tenantId":"t","orgCode":"o","flag":1}`,
			`{"instanceId":"i","tenantId":"t","orgCode":"o","orgName":"n","flag":3}`,
		},
		"allOrgSync": {
			orgBody(`[{"orgCode":"o1","orgName":"n"},{"orgName":"missing code"}]`),
			orgBody(strconv.Quote(`[{orgCode:"o1", orgName:"unterminated}]`)),
			orgBody(strconv.Quote(`{orgCode:"o1"}`)),
			orgBody(`42`),
			orgBody(strconv.Quote(strings.Repeat("[", 40) + strings.Repeat("]", 40))),
			`{"instanceId":"i","tenantId":"t","flag":1}`,
		},
	}
	for iface, bodies := range cases {
		for _, body := range bodies {
			if code, msg := h.send(iface, body); code != "000002" {
				t.Errorf("%s %s => %s %q, want 000002", iface, body, code, msg)
			}
		}
	}
	if n := h.total(); n != 0 {
		t.Fatalf("refused calls stored %d rows", n)
	}
}

// TestForgedCallsStoreNothing: wrong key, the other x-sign formula, a stale
// timestamp, missing headers and a replayed nonce answer 000001.
func TestForgedCallsStoreNothing(t *testing.T) {
	h := newHarness(t)
	wrongKey := h.signed("tenantSync", tenantAdd, "another-key", false)
	hashed := h.signed("tenantSync", tenantAdd, kitKey, true)
	stale := h.signed("tenantSync", tenantAdd, kitKey, false)
	old := strconv.FormatInt(time.Now().Add(-5*time.Minute).UnixMilli(), 10)
	stale.Headers["x-timestamp"] = old
	stale.Headers["x-sign"] = kgsign.KitSignature(kgsign.NewKey([]byte(kitKey), "t"), stale.Headers["x-nonce"], old, []byte(tenantAdd), false)
	unsigned := h.signed("tenantSync", tenantAdd, kitKey, false)
	delete(unsigned.Headers, "x-sign")
	tampered := h.signed("tenantSync", tenantAdd, kitKey, false)
	tampered.Body = strings.Replace(tampered.Body, `"flag":1`, `"flag":0`, 1)
	querySigned := h.signed("tenantSync", tenantAdd, kitKey, false)
	querySigned.QueryStringParameters = map[string]string{"signature": querySigned.Headers["x-sign"], "timestamp": querySigned.Headers["x-timestamp"], "nonce": querySigned.Headers["x-nonce"]}
	delete(querySigned.Headers, "x-sign")
	for name, req := range map[string]events.APIGatewayProxyRequest{
		"wrong key": wrongKey, "hashed formula": hashed, "stale": stale, "unsigned": unsigned, "tampered": tampered, "query signature": querySigned,
	} {
		if code, _ := h.do("tenantSync", req); code != "000001" {
			t.Errorf("%s: %s, want 000001", name, code)
		}
	}
	if n := h.total(); n != 0 {
		t.Fatalf("forged calls stored %d rows", n)
	}
	ok := h.signed("tenantSync", tenantAdd, kitKey, false)
	if code, _ := h.do("tenantSync", ok); code != "000000" {
		t.Fatalf("genuine call: %s", code)
	}
	if code, _ := h.do("tenantSync", ok); code != "000001" {
		t.Fatalf("replayed nonce: %s, want 000001", code)
	}
}

// TestKitConcurrentDuplicateCalls sends the same add 25 times at once to each
// interface through the full handler; every key ends with one row.
func TestKitConcurrentDuplicateCalls(t *testing.T) {
	h := newHarness(t)
	users := make([]string, 200)
	for i := range users {
		users[i] = user(fmt.Sprintf("u%03d", i), "")
	}
	// Encrypted as a Java marketplace does: one private-key operation per call.
	secret, err := clientsecret.EncryptWith(&sellerKey(t).PublicKey, "concurrent-secret", clientsecret.JavaOAEP)
	if err != nil {
		t.Fatal(err)
	}
	calls := map[string]string{
		"tenantSync":      strings.Replace(strings.Replace(tenantAdd, "huaiweitest123456", "i-1", 1), "68cbc86", "t-1", 1),
		"applicationSync": fmt.Sprintf(`{"instanceId":"i-1","tenantId":"t-1","appId":"app-1","clientId":"c","clientSecret":%q,"flag":1,"testFlag":0}`, secret),
		"authSync":        authBody(1, "["+strings.Join(users, ",")+"]"),
		"singleOrgSync":   `{"instanceId":"i-1","tenantId":"t-1","orgCode":"single","orgName":"n","flag":1,"testFlag":0}`,
		"allOrgSync":      orgBody(`[{"orgCode":"a","orgName":"A"},{"orgCode":"b","orgName":"B","parentCode":"a"}]`),
	}
	const n = 25
	var wg sync.WaitGroup
	codes := make(chan string, n*len(calls))
	for i := 0; i < n; i++ {
		for iface, body := range calls {
			wg.Add(1)
			go func() {
				defer wg.Done()
				resp, err := h.h[iface](context.Background(), h.signed(iface, body, kitKey, false))
				if err != nil {
					codes <- err.Error()
					return
				}
				var m map[string]string
				_ = json.Unmarshal([]byte(resp.Body), &m)
				codes <- iface + " " + m["resultCode"] + " " + m["resultMsg"]
			}()
		}
	}
	wg.Wait()
	close(codes)
	for c := range codes {
		if !strings.Contains(c, " 000000 ") {
			t.Fatalf("concurrent duplicate answered %s (%s)", c, dbtest.Engine())
		}
	}
	for table, want := range map[string]int{"kit_tenants": 1, "kit_applications": 1, "kit_users": 200, "kit_orgs": 3} {
		if got := h.count(table, ""); got != want {
			t.Fatalf("%s: %d rows after %d concurrent duplicates, want %d (%s)", table, got, n, want, dbtest.Engine())
		}
	}
}

// TestEmptyTestFlag: a Kit testFlag sent as "" is read as 0 (a normal call).
func TestEmptyTestFlag(t *testing.T) {
	h := newHarness(t)
	h.want("tenantSync", `{"instanceId":"i-empty","orderId":"o","tenantId":"t-empty","tenantCode":"c","name":"n","domainName":"https://d.example.com","flag":1,"testFlag":"","timeStamp":"20220413093539534"}`, "000000")
	h.want("singleOrgSync", `{"instanceId":"i-empty","tenantId":"t-empty","orgCode":"d1","orgName":"Sales","flag":1,"testFlag":"","timeStamp":"20220413093539534"}`, "000000")
	if n := h.count("kit_tenants", "tenant_id = ? AND test_flag = 0", "t-empty"); n != 1 {
		t.Fatalf("%d normal tenants", n)
	}
	if n := h.count("kit_orgs", "tenant_id = ? AND test_flag = 0", "t-empty"); n != 1 {
		t.Fatalf("%d normal departments", n)
	}
}

// TestRetryAfterInternalError: a Kit call that fails with 000005 stores nothing,
// not even its nonce, so the marketplace's retry of the same signed request
// succeeds; a replay after that success is refused.
func TestRetryAfterInternalError(t *testing.T) {
	h := newHarness(t)
	req := h.signed("allOrgSync", orgBody(`[{"orgCode":"a","orgName":"A"},{"orgCode":"b","orgName":"B","parentCode":"a"},{"orgCode":"c","orgName":"C","parentCode":"a"}]`), kitKey, false)
	rename := func(from, to string) {
		t.Helper()
		if _, err := h.st.DB().Exec("RENAME TABLE " + from + " TO " + to); err != nil {
			t.Fatal(err)
		}
	}
	rename("kit_orgs", "kit_orgs_away")
	if code, msg := h.do("allOrgSync", req); code != "000005" {
		t.Fatalf("write into a missing table: %s %q, want 000005", code, msg)
	}
	rename("kit_orgs_away", "kit_orgs")
	if n := h.total(); n != 0 {
		t.Fatalf("a failed call left %d rows (its nonce included)", n)
	}
	if code, msg := h.do("allOrgSync", req); code != "000000" {
		t.Fatalf("retry after 000005: %s %q, want 000000 (%s)", code, msg, dbtest.Engine())
	}
	if n := h.count("kit_orgs", ""); n != 3 {
		t.Fatalf("%d departments after the retry, want 3", n)
	}
	if code, _ := h.do("allOrgSync", req); code != "000001" {
		t.Fatalf("replay after success: %s, want 000001", code)
	}
}

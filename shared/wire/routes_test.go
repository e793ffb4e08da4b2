package wire_test

import (
	"context"
	"net/url"
	"testing"

	"github.com/kgseller/kgseller/shared/config"
	"github.com/kgseller/kgseller/shared/kgsign"
	"github.com/kgseller/kgseller/shared/marketplace"
	"github.com/kgseller/kgseller/shared/openapi"
	"github.com/kgseller/kgseller/shared/probe"
	"github.com/kgseller/kgseller/shared/store"
	"github.com/kgseller/kgseller/shared/wire/licensefn"
	"github.com/kgseller/kgseller/shared/wire/notifyfn"
	"github.com/kgseller/kgseller/shared/wire/saasfn"
)

// keyed is c signing with another key.
func keyed(c *probe.Client, key string) *probe.Client {
	return &probe.Client{URL: c.URL, Key: kgsign.NewKey([]byte(key), "t")}
}

// sendTo sends a request signed for one URL to another one, unchanged.
func sendTo(t *testing.T, s probe.Signed, target *probe.Client) probe.Answer {
	t.Helper()
	from, err := url.Parse(s.URL)
	if err != nil {
		t.Fatal(err)
	}
	to, err := url.Parse(target.URL)
	if err != nil {
		t.Fatal(err)
	}
	to.RawQuery = from.RawQuery
	s.URL = to.String()
	a, err := target.Send(context.Background(), s)
	if err != nil {
		t.Fatal(err)
	}
	if err := a.ShapeError(); err != nil {
		t.Fatalf("%v (%s)", err, a.Body)
	}
	return a
}

// TestOrderNotifyAtTheProductAddress: orderNotify reaching a product's basic or
// License address is answered as order-notify answers it: verified with the
// generic (notify) key or with the address's own key, recorded once, the order
// queried once. A key of any other type is refused, and the notify key does not
// open the address's own activities.
func TestOrderNotifyAtTheProductAddress(t *testing.T) {
	env, fake := licenseEnv(t)
	env["KG_ACCESS_KEY_BASIC"] = "basic-key"
	st, err := store.Open(env["DB_DSN"], store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	saas := serve(t, saasfn.SaaSProduce(config.Map(env)), "/saas/produce", "notify-key")
	lic := serve(t, licensefn.LicenseProduce(config.Map(env)), "/license/produce", "notify-key")
	notify := serve(t, notifyfn.OrderNotify(config.Map(env)), "/order/notify", "notify-key")

	for _, c := range []struct {
		name    string
		at      *probe.Client
		key     string
		order   string
		wantErr bool
	}{
		{"basic address, notify key", saas, "notify-key", "MOCKONETIMENEW", false},
		{"basic address, basic key", saas, "basic-key", "MOCKPERIODYEARNEW", false},
		{"basic address, License key", saas, "license-key", "MOCKONDEMAND", true},
		{"License address, notify key", lic, "notify-key", "MOCKONDEMANDPKG", false},
		{"License address, License key", lic, "license-key", "MOCKPERIODDAYTRIAL", false},
		{"License address, basic key", lic, "basic-key", "MOCKMONTYRENEW", true},
	} {
		body := `{"activity":"orderNotify","orderId":"` + c.order + `","orderLineId":"` + c.order + `-000001","testFlag":"1"}`
		cl := keyed(c.at, c.key)
		for range 2 {
			if c.wantErr {
				// A refused call is answered under the endpoint's primary key.
				if a, err := cl.Post(context.Background(), []byte(body)); err != nil || a.Code() != "000001" {
					t.Fatalf("%s: %s %v, want 000001", c.name, a.Body, err)
				}
				continue
			}
			// post checks Body-Sign with the key that signed the request.
			if a := post(t, cl, body); a.Code() != "000000" {
				t.Fatalf("%s: %s", c.name, a.Body)
			}
		}
		n, err := st.OrderNoticeOf(context.Background(), c.order, c.order+"-000001")
		switch {
		case c.wantErr && err == nil:
			t.Errorf("%s: notice stored although refused", c.name)
		case !c.wantErr && (err != nil || n.OrderID != c.order):
			t.Errorf("%s: notice %+v, %v", c.name, n, err)
		}
	}
	if n := len(fake.CallsTo(openapi.QueryOrderPath)); n != 4 {
		t.Errorf("%d Query Order calls, want one per accepted order (4)", n)
	}

	// The notify key opens orderNotify only.
	if a, _ := keyed(saas, "notify-key").Post(context.Background(), []byte(`{"activity":"queryInstance","instanceId":"x"}`)); a.Code() != "000001" {
		t.Errorf("queryInstance with the notify key at the basic address: %s", a.Body)
	}
	if a, _ := keyed(lic, "notify-key").Post(context.Background(), []byte(`{"activity":"releaseLicenseCode","license":"PL1"}`)); a.Code() != "000001" {
		t.Errorf("releaseLicenseCode with the notify key at the License address: %s", a.Body)
	}
	// Bad orderNotify bodies get order-notify's answer, and nothing is stored.
	if a := post(t, keyed(saas, "notify-key"), `{"activity":"orderNotify","orderLineId":"CS-NONE-000001"}`); a.Code() != "000002" {
		t.Errorf("orderNotify without orderId: %s", a.Body)
	}
	// A notification captured at the product's address is not accepted again at
	// the generic address: both verify with the notify key.
	s, err := keyed(saas, "notify-key").Sign([]byte(`{"activity":"orderNotify","orderId":"CS-RE","orderLineId":"CS-RE-000001","testFlag":"1"}`))
	if err != nil {
		t.Fatal(err)
	}
	if a := sendTo(t, s, saas); a.Code() != "000000" {
		t.Fatalf("first: %s", a.Body)
	}
	if a := sendTo(t, s, notify); a.Code() != "000001" {
		t.Errorf("replayed at /order/notify: %s", a.Body)
	}
}

// TestOrderNotifyAtTheAddressWithoutANotifyKey: with no generic key configured,
// saas-produce still works and orderNotify verifies with the basic key.
func TestOrderNotifyAtTheAddressWithoutANotifyKey(t *testing.T) {
	env, _ := licenseEnv(t)
	delete(env, "KG_ACCESS_KEY")
	delete(env, "KG_ACCESS_KEY_NOTIFY")
	env["KG_ACCESS_KEY_BASIC"] = "basic-key"
	saas := serve(t, saasfn.SaaSProduce(config.Map(env)), "/saas/produce", "basic-key")
	if a := post(t, saas, `{"activity":"orderNotify","orderId":"MOCKONETIMENEW","orderLineId":"MOCKONETIMENEW-000001","testFlag":"1"}`); a.Code() != "000000" {
		t.Fatalf("orderNotify with the basic key: %s", a.Body)
	}
	if a := post(t, saas, `{"activity":"queryInstance","instanceId":"nothing-here"}`); a.Code() != "000003" {
		t.Fatalf("queryInstance: %s", a.Body)
	}
}

// TestReplayAcrossRoutesWithTheSameKey: with one key for every interface type
// (KG_ACCESS_KEY), a FREEZE captured at /saas/produce and replayed at
// /license/produce answers 000001 and leaves the instance as it was.
func TestReplayAcrossRoutesWithTheSameKey(t *testing.T) {
	env, _ := licenseEnv(t)
	delete(env, "KG_ACCESS_KEY_LICENSE")
	delete(env, "KG_ACCESS_KEY_NOTIFY")
	env["KG_ACCESS_KEY"] = "shared-key"
	st, err := store.Open(env["DB_DSN"], store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	saas := serve(t, saasfn.SaaSProduce(config.Map(env)), "/saas/produce", "shared-key")
	lic := serve(t, licensefn.LicenseProduce(config.Map(env)), "/license/produce", "shared-key")

	inst := post(t, saas, `{"activity":"newInstance","businessId":"b-replay","orderId":"MOCKPERIODYEARNEW","orderLineId":"MOCKPERIODYEARNEW-000001","testFlag":"1"}`)
	id := inst.String("instanceId")
	if inst.Code() != "000000" || id == "" {
		t.Fatalf("newInstance: %s", inst.Body)
	}
	freeze, err := saas.Sign([]byte(`{"activity":"updateInstanceStatus","instanceId":"` + id + `","status":"FREEZE","testFlag":"1"}`))
	if err != nil {
		t.Fatal(err)
	}
	if a := sendTo(t, freeze, saas); a.Code() != "000000" {
		t.Fatalf("FREEZE: %s", a.Body)
	}
	if a := post(t, saas, `{"activity":"updateInstanceStatus","instanceId":"`+id+`","status":"UNFREEZE","testFlag":"1"}`); a.Code() != "000000" {
		t.Fatalf("UNFREEZE: %s", a.Body)
	}
	for name, at := range map[string]*probe.Client{"/license/produce": lic, "/saas/produce": saas} {
		if a := sendTo(t, freeze, at); a.Code() != "000001" {
			t.Errorf("FREEZE replayed at %s: %s", name, a.Body)
		}
	}
	got, err := st.Instance(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	if got.Status != marketplace.Normal {
		t.Fatalf("instance %s after the replays, want %s", got.Status, marketplace.Normal)
	}
}

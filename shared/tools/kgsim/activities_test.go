package kgsim_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/kgseller/kgseller/shared/fakes/fakemkt"
	"github.com/kgseller/kgseller/shared/kgsign"
	"github.com/kgseller/kgseller/shared/probe"
	"github.com/kgseller/kgseller/shared/tools/kgsim"
	"github.com/kgseller/kgseller/shared/tools/kgsim/kgsimtest"
)

// TestActivityBodiesAreAccepted sends every activity's default body, signed with
// its type's key, to the real handlers at their production routes: none may be
// refused (000002 malformed, 000001 unauthenticated, 000003 unknown instance):
// newInstance's instance serves the activities that need one.
func TestActivityBodiesAreAccepted(t *testing.T) {
	t.Parallel()
	h, pub := kgsimtest.AddressHandlerKit(t)
	srv := httptest.NewServer(h)
	defer srv.Close()
	keys := map[string]string{"saas": kgsimtest.BasicKey, "license": kgsimtest.LicenseKey, "notify": kgsimtest.NotifyKey, "kit": kgsimtest.KitKey}
	send := func(a kgsim.Activity, body []byte) probe.Answer {
		t.Helper()
		key := kgsign.NewKey([]byte(keys[a.Type]), a.Type)
		c := &probe.Client{URL: srv.URL + kgsim.DefaultAddress(a.Type) + a.Path, Key: key, Kit: a.Kit}
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		ans, err := c.Post(ctx, body)
		if err != nil {
			t.Fatalf("%s: %v", a.Name, err)
		}
		if p := ans.Problems(); len(p) > 0 {
			t.Fatalf("%s: %q\n%s", a.Name, p, ans.Body)
		}
		return ans
	}
	newInst, _ := kgsim.LookupActivity("newInstance")
	body, err := newInst.Body(kgsim.BodyOptions{})
	if err != nil {
		t.Fatal(err)
	}
	created := send(newInst, body)
	inst := created.String("instanceId")
	if inst == "" {
		t.Fatalf("newInstance answered no instanceId: %s", created.Body)
	}
	for _, a := range kgsim.Activities() {
		o := kgsim.BodyOptions{KitPublicKey: pub}
		if a.NeedsInstance {
			o.Instance = inst
		}
		body, err := a.Body(o)
		if err != nil {
			t.Fatalf("%s: %v", a.Name, err)
		}
		var f map[string]any
		if err := json.Unmarshal(body, &f); err != nil || (!a.Kit && f["activity"] != a.Name) {
			t.Fatalf("%s: body %s", a.Name, body)
		}
		ans := send(a, body)
		t.Logf("%s: %s", a.Name, ans.Code())
		if code := ans.Code(); code != "000000" && code != "000004" {
			t.Errorf("%s: default body answered %s: %s\nbody %s", a.Name, code, ans.Body, body)
		}
	}
}

// TestActivityOrdersAreKnownToTheFakeMarket: the worker's Query Order of a
// newInstance sent by hand must find the order in the local run's fake market.
func TestActivityOrdersAreKnownToTheFakeMarket(t *testing.T) {
	t.Parallel()
	known := fakemkt.MockOrderIDs()
	for _, a := range kgsim.Activities() {
		o := kgsim.BodyOptions{SecretPlaceholder: "x"}
		if a.NeedsInstance {
			o.Instance = "i-1"
		}
		body, err := a.Body(o)
		if err != nil {
			t.Fatal(err)
		}
		var f map[string]any
		_ = json.Unmarshal(body, &f)
		if o, ok := f["orderId"].(string); ok && !slices.Contains(known, o) {
			t.Errorf("%s: orderId %q is not a mock order of the fake market %v", a.Name, o, known)
		}
	}
}

func TestActivityBodyOptions(t *testing.T) {
	t.Parallel()
	a, ok := kgsim.LookupActivity("refreshinstance")
	if !ok {
		t.Fatal("lookup is case-insensitive")
	}
	if _, err := a.Body(kgsim.BodyOptions{}); !errors.Is(err, kgsim.ErrNeedsInstance) || !strings.Contains(err.Error(), "-instance") ||
		!strings.Contains(err.Error(), "scripts/ops instances") {
		t.Fatalf("no instance: %v", err)
	}
	body, err := a.Body(kgsim.BodyOptions{Instance: "b-1", Order: "MOCKMONTYCHANGE",
		Set: []string{"scene=RENEWAL_CHANGE", "testFlag=0", "extra={\"n\":1}", "count=3"}})
	if err != nil {
		t.Fatal(err)
	}
	want := `{"activity":"refreshInstance","count":3,"expireTime":"20351124023618","extra":{"n":1},"instanceId":"b-1","orderId":"MOCKMONTYCHANGE",` +
		`"orderLineId":"MOCKMONTYCHANGE-000001","productId":"OFFI846204237451911168","scene":"RENEWAL_CHANGE","testFlag":"0"}`
	if string(body) != want {
		t.Fatalf("body\n%s\nwant\n%s", body, want)
	}
	// -set instanceId stands in for -instance.
	if _, err := a.Body(kgsim.BodyOptions{Set: []string{"instanceId=x"}}); err != nil {
		t.Fatal(err)
	}
	// Kit numbers stay numbers; a field the body lacks is refused by name.
	kit, _ := kgsim.LookupActivity("tenantSync")
	body, err = kit.Body(kgsim.BodyOptions{Set: []string{"flag=2"}})
	if err != nil || !strings.Contains(string(body), `"flag":2`) || !strings.Contains(string(body), `"testFlag":1`) {
		t.Fatalf("kit body %s: %v", body, err)
	}
	q, _ := kgsim.LookupActivity("queryInstance")
	if _, err := q.Body(kgsim.BodyOptions{Instance: "b-1", Order: "o"}); err == nil || !strings.Contains(err.Error(), "no orderId") {
		t.Fatalf("-order on queryInstance: %v", err)
	}
	n, _ := kgsim.LookupActivity("newInstance")
	if _, err := n.Body(kgsim.BodyOptions{Instance: "b-1"}); err == nil || !strings.Contains(err.Error(), "no instanceId") {
		t.Fatalf("-instance on newInstance: %v", err)
	}
	if _, err := n.Body(kgsim.BodyOptions{Set: []string{"novalue"}}); err == nil {
		t.Fatal("-set without = accepted")
	}
	app, _ := kgsim.LookupActivity("applicationSync")
	if _, err := app.Body(kgsim.BodyOptions{}); err == nil || !strings.Contains(err.Error(), "public-key") {
		t.Fatalf("applicationSync without a key: %v", err)
	}
}

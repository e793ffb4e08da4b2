package kgsim

import (
	"encoding/json"
	"fmt"
	"github.com/kgseller/kgseller/shared/marketplace"
	"strings"

	"github.com/kgseller/kgseller/shared/probe"
)

// Mock orders of the debug tool (docs/protocol.md#mock-orders); the order line is
// always <orderId>-000001.
const (
	mockPeriodNew      = "MOCKPERIODYEARNEW"
	mockOneTimeNew     = "MOCKONETIMENEW"
	mockOnDemand       = "MOCKONDEMAND"
	mockOnDemandPkg    = "MOCKONDEMANDPKG"
	mockTrial          = "MOCKPERIODDAYTRIAL"
	mockTrialToFormal  = "MOCKMONTYTRIALTOFORMAL"
	mockUnsubscribe    = "MOCKMONTYUNSUBSCRIBE"
	mockRenew          = "MOCKMONTYRENEW"
	mockChange         = "MOCKMONTYCHANGE"
	unknownInstanceID  = "kgsim-no-such-instance-0000"
	mockProductID      = "OFFI846204237451911168"
	mockSKU            = "0a4d1578-5295-46a7-92d4-7c803dccc51d"
	mockProductNameCN  = "MOCK测试商品,测试规格,基础版,包周期"
	codeOK             = "000000"
	codeProcessing     = "000004"
	codeNoSuchInstance = "000003"
)

// mockOrders are every documented mock order ID.
var mockOrders = []string{mockPeriodNew, mockOneTimeNew, mockOnDemand, mockOnDemandPkg, mockTrial,
	mockTrialToFormal, mockUnsubscribe, mockRenew, mockChange}

func line(order string) string { return order + "-000001" }

// instanceKey names the learned instance of a newInstance mock order.
func instanceKey(order string) string { return "the instanceId of " + order }

// jsonBody marshals fields with their keys in ascending order, compact, as the
// marketplace sends its bodies.
func jsonBody(fields map[string]any) ([]byte, error) {
	b, err := json.Marshal(fields)
	if err != nil {
		return nil, fmt.Errorf("building body: %w", err)
	}
	return b, nil
}

// withInstance builds a body that names the instance learned for order.
func withInstance(order string, fields func(id string) map[string]any) func(e *Env) ([]byte, error) {
	return func(e *Env) ([]byte, error) {
		id, err := e.Get(instanceKey(order))
		if err != nil {
			return nil, err
		}
		return jsonBody(fields(id))
	}
}

// newInstanceCase is the debug tool's create case for a mock order. Every call
// carries a fresh businessId, as the marketplace's retries do; the instanceId must
// stay the one first answered.
func newInstanceCase(name, order string) Case {
	return Case{
		Name:   name,
		Learns: instanceKey(order),
		Body: func(e *Env) ([]byte, error) {
			return jsonBody(map[string]any{
				"activity": "newInstance", "businessId": e.NewID(), "orderId": order,
				"orderLineId": line(order), "testFlag": "1",
			})
		},
		Want: []string{codeOK, codeProcessing},
		Check: func(e *Env, a *Answer) []string {
			p := probe.CheckFields("", a.Fields, probe.NewInstanceFields)
			got, _ := a.Fields["instanceId"].(string)
			if known, ok := e.lookup(instanceKey(order)); ok && got != "" && got != known {
				p = append(p, fmt.Sprintf("instanceId %q differs from %q answered earlier for the same order: not idempotent", marketplace.Clip(got, 64), marketplace.Clip(known, 64)))
			}
			return p
		},
		Learn: func(e *Env, a *Answer) {
			id, _ := a.Fields["instanceId"].(string)
			e.Learn(instanceKey(order), id)
		},
		Agree:      func(a *Answer) string { s, _ := a.Fields["instanceId"].(string); return s },
		AgreeField: "instanceId",
	}
}

// queryCase asks for the instances of orders and requires each in info.
func queryCase(name string, poll bool, orders ...string) Case {
	return Case{
		Name: name,
		Body: func(e *Env) ([]byte, error) {
			ids := make([]string, len(orders))
			for i, o := range orders {
				id, err := e.Get(instanceKey(o))
				if err != nil {
					return nil, err
				}
				ids[i] = id
			}
			return jsonBody(map[string]any{"activity": "queryInstance", "instanceId": strings.Join(ids, ","), "testFlag": "1"})
		},
		Want: []string{codeOK},
		Poll: poll,
		Check: func(e *Env, a *Answer) []string {
			p := probe.CheckFields("", a.Fields, probe.QueryInstanceFields)
			if a.Code() != codeOK {
				return p
			}
			var ids []string
			for _, o := range orders {
				if id, ok := e.lookup(instanceKey(o)); ok {
					ids = append(ids, id)
				}
			}
			return append(p, probe.MissingInstances(a.Fields, ids...)...)
		},
	}
}

// saasProduct is the SaaS basic suite (docs/protocol.md#saas-basic): every activity of the
// debug tool, on the mock orders, replayed in any order, the way dial tests replay
// saved cases twice a day forever. Released instances are released again, frozen
// ones frozen again: each call must still succeed.
func saasProduct() *Product {
	refresh := func(name, order, scene, expire, of string) Case {
		return Case{Name: name, Want: []string{codeOK}, Body: withInstance(of, func(id string) map[string]any {
			return map[string]any{
				"activity": "refreshInstance", "expireTime": expire, "instanceId": id, "orderId": order,
				"orderLineId": line(order), "productId": mockProductID, "scene": scene, "testFlag": "1",
			}
		})}
	}
	status := func(status string) Case {
		return Case{Name: "updateInstanceStatus " + status, Want: []string{codeOK}, Body: withInstance(mockPeriodNew, func(id string) map[string]any {
			return map[string]any{"activity": "updateInstanceStatus", "instanceId": id, "status": status, "testFlag": "1"}
		})}
	}
	productInfo := map[string]any{"linearValue": 50, "productId": mockProductID, "productName": mockProductNameCN, "skuCode": mockSKU}
	unknown := func(name string, fields map[string]any, want ...string) Case {
		return Case{Name: name, Want: want, Body: func(*Env) ([]byte, error) { return jsonBody(fields) }}
	}

	setup := []Case{
		// First contact with the period order is a burst: on a fresh database the
		// copies race to create the instance, and all must name the same one.
		func() Case {
			c := newInstanceCase("newInstance "+mockPeriodNew, mockPeriodNew)
			c.Burst = true
			return c
		}(),
		newInstanceCase("newInstance "+mockOneTimeNew, mockOneTimeNew),
		newInstanceCase("newInstance "+mockOnDemand, mockOnDemand),
		newInstanceCase("newInstance "+mockOnDemandPkg, mockOnDemandPkg),
		newInstanceCase("newInstance "+mockTrial, mockTrial),
	}
	for _, o := range []string{mockPeriodNew, mockOneTimeNew, mockOnDemand, mockOnDemandPkg, mockTrial} {
		setup = append(setup, queryCase("queryInstance "+o+" until ready", true, o))
	}

	cases := []Case{
		newInstanceCase("newInstance "+mockPeriodNew+" again", mockPeriodNew),
		newInstanceCase("newInstance "+mockOneTimeNew+" again", mockOneTimeNew),
		newInstanceCase("newInstance "+mockOnDemand+" again", mockOnDemand),
		newInstanceCase("newInstance "+mockOnDemandPkg+" again", mockOnDemandPkg),
		newInstanceCase("newInstance "+mockTrial+" again", mockTrial),
		queryCase("queryInstance "+mockPeriodNew, false, mockPeriodNew),
		queryCase("queryInstance "+mockOnDemand+" (pay-per-use)", false, mockOnDemand),
		queryCase("queryInstance three instances at once", false, mockPeriodNew, mockOneTimeNew, mockTrial),
		refresh("refreshInstance RENEWAL "+mockRenew, mockRenew, "RENEWAL", "20351124023618", mockPeriodNew),
		refresh("refreshInstance RENEWAL_CHANGE "+mockRenew, mockRenew, "RENEWAL_CHANGE", "20361124023618", mockPeriodNew),
		refresh("refreshInstance UNSUBSCRIBE_RENEWAL_PERIOD "+mockUnsubscribe, mockUnsubscribe, "UNSUBSCRIBE_RENEWAL_PERIOD", "20341124023618", mockPeriodNew),
		// The documented example carries 17 digits although the table says 14.
		refresh("refreshInstance TRIAL_TO_FORMAL "+mockTrialToFormal+" (17-digit expireTime)", mockTrialToFormal, "TRIAL_TO_FORMAL", "20351124023618256", mockTrial),
		status("FREEZE"),
		status("UNFREEZE"),
		{Name: "upgradeInstance " + mockChange, Want: []string{codeOK}, Body: withInstance(mockPeriodNew, func(id string) map[string]any {
			return map[string]any{"activity": "upgradeInstance", "instanceId": id, "orderId": mockChange, "orderLineId": line(mockChange), "testFlag": "1"}
		})},
		{Name: "changeInstanceCheck", Want: []string{codeOK}, Body: withInstance(mockPeriodNew, func(id string) map[string]any {
			return map[string]any{"activity": "changeInstanceCheck", "instanceId": id, "productInfo": productInfo, "testFlag": "1"}
		})},
		{Name: "releaseInstance " + mockOneTimeNew, Want: []string{codeOK}, Body: withInstance(mockOneTimeNew, func(id string) map[string]any {
			return map[string]any{"activity": "releaseInstance", "instanceId": id, "testFlag": "1"}
		})},
		{Name: "releaseInstance by unsubscribe " + mockUnsubscribe, Want: []string{codeOK}, Body: withInstance(mockOnDemandPkg, func(id string) map[string]any {
			return map[string]any{"activity": "releaseInstance", "instanceId": id, "orderId": mockUnsubscribe, "orderLineId": line(mockUnsubscribe), "testFlag": "1"}
		})},
		unknown("queryInstance unknown instance", map[string]any{"activity": "queryInstance", "instanceId": unknownInstanceID, "testFlag": "1"}, codeNoSuchInstance),
		unknown("refreshInstance unknown instance", map[string]any{
			"activity": "refreshInstance", "expireTime": "20351124023618", "instanceId": unknownInstanceID, "orderId": mockRenew,
			"orderLineId": line(mockRenew), "scene": "RENEWAL", "testFlag": "1"}, codeNoSuchInstance),
		unknown("updateInstanceStatus unknown instance", map[string]any{"activity": "updateInstanceStatus", "instanceId": unknownInstanceID, "status": "FREEZE", "testFlag": "1"}, codeNoSuchInstance),
		unknown("upgradeInstance unknown instance", map[string]any{
			"activity": "upgradeInstance", "instanceId": unknownInstanceID, "orderId": mockChange, "orderLineId": line(mockChange), "testFlag": "1"}, codeNoSuchInstance),
		// 000003 is documented; answering 000000 (already released) is also sound.
		unknown("releaseInstance unknown instance", map[string]any{"activity": "releaseInstance", "instanceId": unknownInstanceID, "testFlag": "1"}, codeOK, codeNoSuchInstance),
	}

	long := strings.Repeat("A", 65)
	return &Product{
		Name:      "saas",
		Summary:   "SaaS basic interfaces: newInstance, queryInstance, refreshInstance, updateInstanceStatus, releaseInstance, upgradeInstance, changeInstanceCheck",
		Setup:     setup,
		Cases:     cases,
		Duplicate: newInstanceCase("newInstance "+mockPeriodNew+" (duplicates)", mockPeriodNew),
		Probe:     queryCase("queryInstance "+mockPeriodNew, false, mockPeriodNew),
		Malformed: []Malformed{
			{Name: "not JSON", Body: []byte(`activity=newInstance&orderId=` + mockPeriodNew)},
			{Name: "empty body", Body: []byte{}},
			{Name: "JSON array", Body: []byte(`[{"activity":"queryInstance","instanceId":"x"}]`)},
			{Name: "no activity", Body: []byte(`{"instanceId":"x","testFlag":"1"}`)},
			{Name: "unknown activity", Body: []byte(`{"activity":"deleteEverything","instanceId":"x","testFlag":"1"}`)},
			{Name: "newInstance without orderLineId", Body: []byte(`{"activity":"newInstance","businessId":"b","orderId":"` + mockPeriodNew + `","testFlag":"1"}`)},
			{Name: "newInstance orderId of 65 characters", Body: []byte(`{"activity":"newInstance","businessId":"b","orderId":"` + long + `","orderLineId":"l","testFlag":"1"}`)},
			{Name: "newInstance orderId as a number", Body: []byte(`{"activity":"newInstance","businessId":"b","orderId":12345,"orderLineId":"l","testFlag":"1"}`)},
			{Name: "queryInstance instanceId of 65 characters", Body: []byte(`{"activity":"queryInstance","instanceId":"` + long + `","testFlag":"1"}`)},
			{Name: "updateInstanceStatus status PAUSE", Body: []byte(`{"activity":"updateInstanceStatus","instanceId":"x","status":"PAUSE","testFlag":"1"}`)},
			{Name: "refreshInstance expireTime 2035", Body: []byte(`{"activity":"refreshInstance","expireTime":"2035","instanceId":"x","orderId":"o","orderLineId":"l","scene":"RENEWAL","testFlag":"1"}`)},
			{Name: "changeInstanceCheck without productInfo", Body: []byte(`{"activity":"changeInstanceCheck","instanceId":"x","testFlag":"1"}`)},
		},
	}
}

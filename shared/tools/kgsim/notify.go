package kgsim

import "strings"

// notifyProduct is the order-notification suite (docs/protocol.md#ordernotify):
// orderNotify for every mock order, and one without orderLineId, on the URL bound to
// the generic interface type. The notification carries no order content, so every
// repeat answers 000000.
func notifyProduct() *Product {
	notify := func(name, order string) Case {
		return Case{Name: name, Want: []string{codeOK}, Body: func(*Env) ([]byte, error) {
			return jsonBody(map[string]any{"activity": "orderNotify", "orderId": order, "orderLineId": line(order), "testFlag": "1"})
		}}
	}
	var cases []Case
	for _, o := range mockOrders {
		cases = append(cases, notify("orderNotify "+o, o))
	}
	// Only the order number is promised; the order line may be missing.
	cases = append(cases, Case{Name: "orderNotify " + mockOneTimeNew + " without orderLineId", Want: []string{codeOK},
		Body: func(*Env) ([]byte, error) {
			return jsonBody(map[string]any{"activity": "orderNotify", "orderId": mockOneTimeNew, "testFlag": "1"})
		}})
	long := strings.Repeat("A", 65)
	return &Product{
		Name:      "notify",
		Summary:   "order notification: orderNotify for every mock order, and one without orderLineId",
		Cases:     cases,
		Duplicate: notify("orderNotify "+mockPeriodNew+" (duplicates)", mockPeriodNew),
		Probe:     notify("orderNotify "+mockOneTimeNew, mockOneTimeNew),
		Malformed: []Malformed{
			{Name: "not JSON", Body: []byte(`activity=orderNotify&orderId=` + mockPeriodNew)},
			{Name: "JSON array", Body: []byte(`[{"activity":"orderNotify"}]`)},
			{Name: "unknown activity", Body: []byte(`{"activity":"orderCancel","orderId":"o","orderLineId":"l","testFlag":"1"}`)},
			{Name: "orderNotify without orderId", Body: []byte(`{"activity":"orderNotify","orderLineId":"` + line(mockPeriodNew) + `","testFlag":"1"}`)},
			{Name: "orderNotify orderId of 65 characters", Body: []byte(`{"activity":"orderNotify","orderId":"` + long + `","orderLineId":"l","testFlag":"1"}`)},
			{Name: "orderNotify orderId as a number", Body: []byte(`{"activity":"orderNotify","orderId":42,"orderLineId":"l","testFlag":"1"}`)},
		},
	}
}

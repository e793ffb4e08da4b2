// Package ordernotify implements the order notification (订单通知,
// docs/protocol.md#ordernotify) that the marketplace sends after a buyer pays, for
// every product type (SaaS, License, API, hardware, manual service…). The
// notification carries only the order number (and usually its line), so the
// endpoint stores it under its unique key and answers at once; a worker job calls Query Order and records what
// was bought.
package ordernotify

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/kgseller/kgseller/shared/endpoint"
	"github.com/kgseller/kgseller/shared/fulfil"
	"github.com/kgseller/kgseller/shared/marketplace"
	"github.com/kgseller/kgseller/shared/openapi"
	"github.com/kgseller/kgseller/shared/provision"
	"github.com/kgseller/kgseller/shared/reqbody"
	"github.com/kgseller/kgseller/shared/store"
)

// JobQuery is the job kind that queries a notified order.
const JobQuery = "order.query"

// Field lengths from the table of docs/protocol.md#ordernotify.
const (
	lenID       = 64
	lenActivity = 32 // 20 in the table; the larger limit of the other tables is accepted
)

// Service holds what the endpoint needs.
type Service struct {
	Store *store.Store
	// Fulfil, when set, hands the query job on right after the notice commits
	// (fulfil.Handoff); what it reports is not needed here.
	Fulfil func(ctx context.Context, jobID int64) (ran bool)
}

var bad = reqbody.Bad

// Decode validates a verified body: activity orderNotify with orderId and, when the
// marketplace sends it, orderLineId. Only the order number is promised ("将订单号同步至
// 商家生产系统中"), so a notice without an order line is keyed on the order alone.
func (s *Service) Decode(body []byte) (endpoint.Operation, error) {
	o, act, err := reqbody.ParseActivity(body, lenActivity)
	if err != nil {
		return nil, err
	}
	if act.Name != "orderNotify" {
		return nil, bad("unknown activity %q", marketplace.Clip(act.Name, 32))
	}
	op := &notifyOp{s: s, test: act.Test}
	if op.orderID, err = o.ID("orderId", lenID, true); err != nil {
		return nil, err
	}
	if op.orderLineID, err = o.ID("orderLineId", lenID, false); err != nil {
		return nil, err
	}
	return op, nil
}

type notifyOp struct {
	s                    *Service
	orderID, orderLineID string
	test                 bool
}

func (op *notifyOp) Name() string { return "orderNotify" }

// Run stores the order line and its query job once; every repeat answers 000000.
func (op *notifyOp) Run(ctx context.Context) (marketplace.Reply, error) {
	created, jobID, err := op.s.Store.RecordOrderNotice(ctx, op.orderID, op.orderLineID, op.test, JobQuery)
	if err != nil {
		return nil, err
	}
	if created && jobID != 0 && op.s.Fulfil != nil {
		op.s.Fulfil(ctx, jobID)
	}
	return marketplace.NewResult(marketplace.Success, "success"), nil
}

// Jobs runs the order-query jobs.
type Jobs struct {
	Store *store.Store
	// Orders answers Query Order; nil records notices without details (SKIPPED).
	Orders fulfil.OrderSource
}

// Handlers returns the handler of JobQuery: Query Order once, its details recorded
// together with the job's end. A failure the marketplace will repeat (a client
// error) ends the job at once; others are retried with backoff.
func (j Jobs) Handlers() map[string]fulfil.Handler {
	return map[string]fulfil.Handler{JobQuery: {Run: j.query}}
}

func (j Jobs) query(ctx context.Context, job store.Job) (store.Effect, error) {
	var ref struct {
		OrderID     string `json:"orderId"`
		OrderLineID string `json:"orderLineId"`
	}
	if err := json.Unmarshal([]byte(job.Payload.String), &ref); err != nil || ref.OrderID == "" {
		return nil, &provision.Permanent{Code: marketplace.InternalError, Reason: "order job without an order"}
	}
	if j.Orders == nil {
		return store.SetOrderNoticeState(ref.OrderID, ref.OrderLineID, store.NoticeSkipped), nil
	}
	o, err := j.Orders.QueryOrder(ctx, ref.OrderID, ref.OrderLineID)
	if err != nil {
		if openapi.Temporary(err) {
			return nil, fmt.Errorf("querying order %s: %w", ref.OrderID, err)
		}
		return nil, &provision.Permanent{Code: marketplace.InternalError, Reason: "querying order " + ref.OrderID + ": " + err.Error()}
	}
	d := fulfil.OrderDetailsOf(o, ref.OrderLineID)
	d.OrderID, d.OrderLineID = ref.OrderID, ref.OrderLineID
	return store.RecordOrderDetails(d), nil
}

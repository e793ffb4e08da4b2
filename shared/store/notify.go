package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/kgseller/kgseller/shared/marketplace"
)

// Order-notice states.
const (
	NoticePending = "PENDING" // Query Order not yet recorded
	NoticeQueried = "QUERIED" // order_details holds the answer
	NoticeSkipped = "SKIPPED" // the worker does not query orders
)

// OrderNotice is one orderNotify order line.
type OrderNotice struct {
	OrderID     string    `db:"order_id"`
	OrderLineID string    `db:"order_line_id"`
	TestFlag    bool      `db:"test_flag"`
	State       string    `db:"state"`
	CreatedAt   time.Time `db:"created_at"`
	UpdatedAt   time.Time `db:"updated_at"`
}

// OrderNoticeJobKey is the idempotency key of the job that queries a notified order.
func OrderNoticeJobKey(orderID, orderLineID string) string {
	return "order-notify:" + orderID + ":" + orderLineID
}

// RecordOrderNotice stores a notified order line with the job (of kind jobKind)
// that queries it, in one transaction sent as one round trip. A line notified
// before is left as it is: created is false and no job is written. Both inserts
// leave an existing row unchanged rather than fail, so a repeat costs the same
// round trip and nothing more.
func (s *Store) RecordOrderNotice(ctx context.Context, orderID, orderLineID string, test bool, jobKind string) (created bool, jobID int64, err error) {
	now := s.now()
	payload, _ := json.Marshal(map[string]string{"orderId": orderID, "orderLineId": orderLineID})
	b := s.newBatch()
	b.add(`INSERT INTO order_notices (order_id, order_line_id, test_flag, state, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)
  ON DUPLICATE KEY UPDATE order_id = order_id`, orderID, orderLineID, test, NoticePending, now, now)
	b.add(jobInsert+`VALUES (?, ?, NULL, ?, ?, 0, ?, ?, ?) ON DUPLICATE KEY UPDATE job_key = job_key`,
		OrderNoticeJobKey(orderID, orderLineID), jobKind, string(payload), JobPending, now, now, now)
	res, err := s.execBatch(ctx, b)
	if err != nil {
		return false, 0, fmt.Errorf("store: recording order notice: %w", err)
	}
	if res.affectedAt(0) != 1 {
		return false, 0, nil
	}
	if res.affectedAt(1) == 1 {
		jobID = res.idAt(1)
	}
	return true, jobID, nil
}

// OrderNoticeOf returns a notified order line.
func (s *Store) OrderNoticeOf(ctx context.Context, orderID, orderLineID string) (OrderNotice, error) {
	var n OrderNotice
	err := s.db.GetContext(ctx, &n,
		"SELECT order_id, order_line_id, test_flag, state, created_at, updated_at FROM order_notices WHERE order_id = ? AND order_line_id = ?",
		orderID, orderLineID)
	if errors.Is(err, sql.ErrNoRows) {
		return OrderNotice{}, ErrNotFound
	}
	if err != nil {
		return OrderNotice{}, fmt.Errorf("store: reading order notice: %w", err)
	}
	return n, nil
}

// SetOrderNoticeState sets the state of a notice with the end of its job.
func SetOrderNoticeState(orderID, orderLineID, state string) Effect {
	return Effect{{table: "order_notices", set: "t.state = ?, t.updated_at = ?", setArgs: []any{state, nowArg{}},
		where: "t.order_id = ? AND t.order_line_id = ?", whereArgs: []any{orderID, orderLineID}}}
}

// OrderDetails is what Query Order answered for one order line.
type OrderDetails struct {
	OrderID      string         `db:"order_id"`
	OrderLineID  string         `db:"order_line_id"`
	OrderType    string         `db:"order_type"`
	ChargingMode string         `db:"charging_mode"`
	PeriodType   string         `db:"period_type"`
	PeriodNumber string         `db:"period_number"`
	ExpireTime   sql.NullTime   `db:"expire_time"`
	ProductID    string         `db:"product_id"`
	SKUCode      string         `db:"sku_code"`
	ProductName  string         `db:"product_name"`
	LinearValue  string         `db:"linear_value"`
	CustomerID   string         `db:"customer_id"`
	CustomerName string         `db:"customer_name"`
	OrderJSON    sql.NullString `db:"order_json"`
	QueriedAt    time.Time      `db:"queried_at"`
}

const orderDetailsCols = "order_id, order_line_id, order_type, charging_mode, period_type, period_number, expire_time, " +
	"product_id, sku_code, product_name, linear_value, customer_id, customer_name, order_json, queried_at"

// RecordOrderDetails stores (or replaces) the details of an order line with the
// end of a job, and marks a notice of that line QUERIED.
func RecordOrderDetails(d OrderDetails) Effect {
	var exp any
	if d.ExpireTime.Valid {
		exp = d.ExpireTime.Time.UTC()
	}
	// Order text comes from outside: stored inert and within its column.
	cut := marketplace.SafeText
	args := []any{cut(d.OrderType, 32), cut(d.ChargingMode, 32), cut(d.PeriodType, 16), cut(d.PeriodNumber, 16), exp,
		cut(d.ProductID, 64), cut(d.SKUCode, 64), cut(d.ProductName, 255), cut(d.LinearValue, 32),
		cut(d.CustomerID, 64), cut(d.CustomerName, 255), d.OrderJSON, nowArg{}}
	details := effectWrite{table: "order_details", insert: true,
		cols:    orderDetailsCols,
		vals:    "?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?",
		valArgs: append([]any{d.OrderID, d.OrderLineID}, args...),
		tail: `ON DUPLICATE KEY UPDATE order_type = ?, charging_mode = ?, period_type = ?, period_number = ?, expire_time = ?,
  product_id = ?, sku_code = ?, product_name = ?, linear_value = ?, customer_id = ?, customer_name = ?,
  order_json = ?, queried_at = ?`,
		tailArgs: args}
	return append(Effect{details}, SetOrderNoticeState(d.OrderID, d.OrderLineID, NoticeQueried)...)
}

// OrderDetailsFor returns the recorded details of an order line.
func (s *Store) OrderDetailsFor(ctx context.Context, orderID, orderLineID string) (OrderDetails, error) {
	var d OrderDetails
	err := s.db.GetContext(ctx, &d,
		"SELECT "+orderDetailsCols+" FROM order_details WHERE order_id = ? AND order_line_id = ?", orderID, orderLineID)
	if errors.Is(err, sql.ErrNoRows) {
		return OrderDetails{}, ErrNotFound
	}
	if err != nil {
		return OrderDetails{}, fmt.Errorf("store: reading order details: %w", err)
	}
	return d, nil
}

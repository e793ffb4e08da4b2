package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"

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
// that queries it, in one transaction. A line notified before is left as it is:
// created is false and no job is written.
func (s *Store) RecordOrderNotice(ctx context.Context, orderID, orderLineID string, test bool, jobKind string) (created bool, jobID int64, err error) {
	now := s.now()
	err = s.inTx(ctx, func(tx *sqlx.Tx) error {
		jobID = 0
		if _, err := tx.ExecContext(ctx,
			"INSERT INTO order_notices (order_id, order_line_id, test_flag, state, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)",
			orderID, orderLineID, test, NoticePending, now, now); err != nil {
			return err
		}
		payload, _ := json.Marshal(map[string]string{"orderId": orderID, "orderLineId": orderLineID})
		var err error
		jobID, err = insertJob(ctx, tx, NewJob{Key: OrderNoticeJobKey(orderID, orderLineID), Kind: jobKind, Payload: string(payload)}, now)
		return err
	})
	switch {
	case err == nil:
		return true, jobID, nil
	case IsDuplicate(err) || errors.Is(err, errDuplicateJob):
		return false, 0, nil
	default:
		return false, 0, fmt.Errorf("store: recording order notice: %w", err)
	}
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

// SetOrderNoticeState sets the state of a notice inside the transaction that ends
// its job.
func SetOrderNoticeState(orderID, orderLineID, state string) TxFunc {
	return func(ctx context.Context, tx *sqlx.Tx, now time.Time) error {
		if _, err := tx.ExecContext(ctx, "UPDATE order_notices SET state = ?, updated_at = ? WHERE order_id = ? AND order_line_id = ?",
			state, now, orderID, orderLineID); err != nil {
			return fmt.Errorf("store: updating order notice: %w", err)
		}
		return nil
	}
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

// RecordOrderDetails stores (or replaces) the details of an order line inside the
// transaction that ends a job, and marks a notice of that line QUERIED.
func RecordOrderDetails(d OrderDetails) TxFunc {
	return func(ctx context.Context, tx *sqlx.Tx, now time.Time) error {
		var exp any
		if d.ExpireTime.Valid {
			exp = d.ExpireTime.Time.UTC()
		}
		// Order text comes from outside: stored inert and within its column.
		cut := marketplace.SafeText
		args := []any{cut(d.OrderType, 32), cut(d.ChargingMode, 32), cut(d.PeriodType, 16), cut(d.PeriodNumber, 16), exp,
			cut(d.ProductID, 64), cut(d.SKUCode, 64), cut(d.ProductName, 255), cut(d.LinearValue, 32),
			cut(d.CustomerID, 64), cut(d.CustomerName, 255), d.OrderJSON, now}
		if _, err := tx.ExecContext(ctx,
			`INSERT INTO order_details (order_id, order_line_id, order_type, charging_mode, period_type, period_number, expire_time,
			   product_id, sku_code, product_name, linear_value, customer_id, customer_name, order_json, queried_at)
			 VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
			 ON DUPLICATE KEY UPDATE order_type = ?, charging_mode = ?, period_type = ?, period_number = ?, expire_time = ?,
			   product_id = ?, sku_code = ?, product_name = ?, linear_value = ?, customer_id = ?, customer_name = ?,
			   order_json = ?, queried_at = ?`,
			append(append([]any{d.OrderID, d.OrderLineID}, args...), args...)...); err != nil {
			return fmt.Errorf("store: recording order details: %w", err)
		}
		return SetOrderNoticeState(d.OrderID, d.OrderLineID, NoticeQueried)(ctx, tx, now)
	}
}

// OrderDetailsFor returns the recorded details of an order line.
func (s *Store) OrderDetailsFor(ctx context.Context, orderID, orderLineID string) (OrderDetails, error) {
	var d OrderDetails
	err := s.db.GetContext(ctx, &d,
		`SELECT order_id, order_line_id, order_type, charging_mode, period_type, period_number, expire_time, product_id,
		   sku_code, product_name, linear_value, customer_id, customer_name, order_json, queried_at
		 FROM order_details WHERE order_id = ? AND order_line_id = ?`, orderID, orderLineID)
	if errors.Is(err, sql.ErrNoRows) {
		return OrderDetails{}, ErrNotFound
	}
	if err != nil {
		return OrderDetails{}, fmt.Errorf("store: reading order details: %w", err)
	}
	return d, nil
}

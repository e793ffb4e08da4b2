package store

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/go-sql-driver/mysql"
	"github.com/jmoiron/sqlx"

	"github.com/kgseller/kgseller/shared/marketplace"
)

var (
	// ErrNotFound: no such row.
	ErrNotFound = errors.New("store: not found")
	// ErrIDTaken: the proposed instance ID belongs to another order (a businessId
	// reused across orders, as debug-tool dummy values often are).
	ErrIDTaken = errors.New("store: instance id already used by another order")
)

type instanceRow struct {
	InstanceID        string         `db:"instance_id"`
	OrderID           string         `db:"order_id"`
	OrderLineID       string         `db:"order_line_id"`
	OnDemandProductID sql.NullString `db:"ondemand_product_id"`
	BusinessID        string         `db:"business_id"`
	ProductID         sql.NullString `db:"product_id"`
	TestFlag          bool           `db:"test_flag"`
	State             string         `db:"state"`
	Status            string         `db:"status"`
	FailCode          sql.NullString `db:"fail_code"`
	FailReason        sql.NullString `db:"fail_reason"`
	AppInfo           sql.NullString `db:"app_info"`
	AppSecret         sql.NullString `db:"app_secret"`
	ExpireTime        sql.NullTime   `db:"expire_time"`
	Version           int            `db:"version"`
	CreatedAt         time.Time      `db:"created_at"`
	UpdatedAt         time.Time      `db:"updated_at"`
	ReleasedAt        sql.NullTime   `db:"released_at"`
}

const instanceCols = "instance_id, order_id, order_line_id, ondemand_product_id, business_id, product_id, test_flag, state, status, fail_code, fail_reason, app_info, app_secret, expire_time, version, created_at, updated_at, released_at"

func (r instanceRow) domain() (marketplace.Instance, error) {
	inst := marketplace.Instance{
		InstanceID:        r.InstanceID,
		OrderID:           r.OrderID,
		OrderLineID:       r.OrderLineID,
		OnDemandProductID: r.OnDemandProductID.String,
		BusinessID:        r.BusinessID,
		ProductID:         r.ProductID.String,
		TestFlag:          r.TestFlag,
		State:             marketplace.ProvisionState(r.State),
		Status:            marketplace.Status(r.Status),
		FailCode:          marketplace.Code(r.FailCode.String),
		FailReason:        r.FailReason.String,
		SealedSecret:      r.AppSecret.String,
		Version:           r.Version,
		CreatedAt:         r.CreatedAt,
		UpdatedAt:         r.UpdatedAt,
	}
	if r.ExpireTime.Valid {
		t := r.ExpireTime.Time
		inst.ExpireTime = &t
	}
	if r.ReleasedAt.Valid {
		t := r.ReleasedAt.Time
		inst.ReleasedAt = &t
	}
	if r.AppInfo.Valid && r.AppInfo.String != "" {
		var app marketplace.AppInfo
		if err := json.Unmarshal([]byte(r.AppInfo.String), &app); err != nil {
			return marketplace.Instance{}, fmt.Errorf("store: instance %s has unreadable app_info: %w", r.InstanceID, err)
		}
		inst.App = &app
	}
	return inst, nil
}

func (s *Store) getInstance(ctx context.Context, q sqlx.QueryerContext, where string, args ...any) (marketplace.Instance, error) {
	var r instanceRow
	err := sqlx.GetContext(ctx, q, &r, "SELECT "+instanceCols+" FROM instances WHERE "+where, args...)
	if errors.Is(err, sql.ErrNoRows) {
		return marketplace.Instance{}, ErrNotFound
	}
	if err != nil {
		return marketplace.Instance{}, fmt.Errorf("store: reading instance: %w", err)
	}
	return r.domain()
}

// Instance returns one instance by ID.
func (s *Store) Instance(ctx context.Context, id string) (marketplace.Instance, error) {
	return s.getInstance(ctx, s.db, "instance_id = ?", id)
}

// InstanceByOrder returns the instance created for an order line.
func (s *Store) InstanceByOrder(ctx context.Context, orderID, orderLineID string) (marketplace.Instance, error) {
	return s.getInstance(ctx, s.db, "order_id = ? AND order_line_id = ?", orderID, orderLineID)
}

// Created is the outcome of CreateInstance.
type Created struct {
	Instance marketplace.Instance
	New      bool  // false: the order already had an instance, returned as stored
	JobID    int64 // the provisioning job written with a new instance
}

// createInstanceSQL is the whole creation transaction, sent as one multi-statement
// query: the instance and its provisioning job commit together in a single round
// trip. If a statement fails, the server stops there and the transaction stays
// open on the connection, which createTx then rolls back.
const createInstanceSQL = `START TRANSACTION;
INSERT INTO instances (instance_id, order_id, order_line_id, ondemand_product_id, business_id, product_id,
  test_flag, state, status, version, created_at, updated_at)
  VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 0, ?, ?);
INSERT INTO jobs (job_key, kind, instance_id, payload, state, attempts, next_run_at, created_at, updated_at)
  VALUES (?, ?, ?, NULL, ?, 0, ?, ?, ?);
COMMIT`

// CreateInstance writes a new instance in state PROVISIONING together with its
// provisioning job, in one transaction. If the order line (or, for pay-per-use, the
// order and product) already has an instance, that instance is returned unchanged:
// the unique key, not a prior read, decides, so concurrent duplicates all get the
// first instance. ErrIDTaken means the proposed instance ID belongs to a different
// order; the caller retries with a fresh ID.
func (s *Store) CreateInstance(ctx context.Context, in marketplace.Instance) (Created, error) {
	now := s.now()
	in.State, in.Status, in.Version = marketplace.Provisioning, marketplace.Normal, 0
	in.CreatedAt, in.UpdatedAt = now, now
	args := []any{
		in.InstanceID, in.OrderID, in.OrderLineID, nullString(in.OnDemandProductID), in.BusinessID,
		nullString(in.ProductID), in.TestFlag, string(in.State), string(in.Status), now, now,
		marketplace.JobProvision + ":" + in.InstanceID, marketplace.JobProvision, in.InstanceID, JobPending, now, now, now,
	}
	var jobID int64
	var err error
	for attempt := 0; attempt < 3; attempt++ {
		if jobID, err = s.createTx(ctx, args); !isDeadlock(err) {
			break
		}
	}
	if err == nil {
		return Created{Instance: in, New: true, JobID: jobID}, nil
	}
	if !IsDuplicate(err) {
		return Created{}, fmt.Errorf("store: creating instance: %w", err)
	}
	// A unique key fired: find the instance that owns this order.
	stored, gerr := s.InstanceByOrder(ctx, in.OrderID, in.OrderLineID)
	if errors.Is(gerr, ErrNotFound) && in.OnDemandProductID != "" {
		stored, gerr = s.getInstance(ctx, s.db, "order_id = ? AND ondemand_product_id = ?", in.OrderID, in.OnDemandProductID)
	}
	switch {
	case gerr == nil:
		return Created{Instance: stored}, nil
	case errors.Is(gerr, ErrNotFound):
		return Created{}, ErrIDTaken
	default:
		return Created{}, gerr
	}
}

// createTx runs createInstanceSQL on one connection and returns the job's id.
func (s *Store) createTx(ctx context.Context, args []any) (int64, error) {
	conn, err := s.db.Conn(ctx)
	if err != nil {
		return 0, fmt.Errorf("store: connection: %w", err)
	}
	defer conn.Close()
	named := make([]driver.NamedValue, len(args))
	for i, a := range args {
		if v, ok := a.(driver.Valuer); ok {
			if a, err = v.Value(); err != nil {
				return 0, err
			}
		}
		named[i] = driver.NamedValue{Ordinal: i + 1, Value: a}
	}
	var jobID int64
	err = conn.Raw(func(dc any) error {
		ex, ok := dc.(driver.ExecerContext)
		if !ok {
			return errors.New("store: driver cannot execute multi-statement queries")
		}
		res, err := ex.ExecContext(ctx, createInstanceSQL, named)
		if err != nil {
			return err
		}
		if r, ok := res.(mysql.Result); ok {
			if ids := r.AllLastInsertIds(); len(ids) >= 3 {
				jobID = ids[2]
			}
		}
		return nil
	})
	if err == nil {
		return jobID, nil
	}
	// The failed statement left the transaction open: end it, or drop the
	// connection so that no later query runs inside it.
	rbErr := conn.Raw(func(dc any) error {
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
		defer cancel()
		_, e := dc.(driver.ExecerContext).ExecContext(rctx, "ROLLBACK", nil)
		if e != nil {
			return driver.ErrBadConn
		}
		return nil
	})
	_ = rbErr
	return 0, err
}

// Change is the outcome of a lifecycle update.
type Change struct {
	Applied bool  // false: a repeat or a no-op, nothing was written
	JobID   int64 // the job written with the change, 0 if none
}

// lockInstance reads the status and version of an instance inside tx, locking the
// row until the transaction ends.
func lockInstance(ctx context.Context, tx *sqlx.Tx, id string) (marketplace.Status, int, error) {
	var row struct {
		Status  string `db:"status"`
		Version int    `db:"version"`
	}
	err := tx.GetContext(ctx, &row, "SELECT status, version FROM instances WHERE instance_id = ? FOR UPDATE", id)
	if errors.Is(err, sql.ErrNoRows) {
		return "", 0, ErrNotFound
	}
	if err != nil {
		return "", 0, fmt.Errorf("store: locking instance: %w", err)
	}
	return marketplace.Status(row.Status), row.Version, nil
}

// recordOrder writes the order that drives a change; errAlreadyApplied means this
// order line was applied before.
func recordOrder(ctx context.Context, tx *sqlx.Tx, kind, orderID, orderLineID, instanceID, detail string, now time.Time) error {
	_, err := tx.ExecContext(ctx,
		"INSERT INTO instance_orders (kind, order_id, order_line_id, instance_id, detail, created_at) VALUES (?, ?, ?, ?, ?, ?)",
		kind, orderID, orderLineID, instanceID, nullString(detail), now)
	if IsDuplicate(err) {
		return errAlreadyApplied
	}
	if err != nil {
		return fmt.Errorf("store: recording order: %w", err)
	}
	return nil
}

var errAlreadyApplied = errors.New("store: order already applied")

// Refresh is a renewal-type order for refreshInstance.
type Refresh struct {
	InstanceID  string
	OrderID     string
	OrderLineID string
	Scene       string
	ProductID   string // optional new product
	ExpireTime  time.Time
}

// ApplyRefresh sets (never adds to) the expiry of an instance for a renewal order.
// Each (scene, order line) applies once: a repeat changes nothing, so a stale retry
// cannot undo a later order. A released instance keeps its record: the order is
// noted and nothing else changes.
func (s *Store) ApplyRefresh(ctx context.Context, r Refresh) (Change, error) {
	now := s.now()
	var ch Change
	err := s.inTx(ctx, func(tx *sqlx.Tx) error {
		ch = Change{}
		status, _, err := lockInstance(ctx, tx, r.InstanceID)
		if err != nil {
			return err
		}
		detail, _ := json.Marshal(map[string]string{
			"scene": r.Scene, "expireTime": r.ExpireTime.UTC().Format(time.RFC3339Nano), "productId": r.ProductID,
		})
		if err := recordOrder(ctx, tx, "refresh/"+r.Scene, r.OrderID, r.OrderLineID, r.InstanceID, string(detail), now); err != nil {
			return err
		}
		ch.Applied = true
		if status == marketplace.Released {
			return nil
		}
		if _, err := tx.ExecContext(ctx,
			`UPDATE instances SET expire_time = ?, product_id = COALESCE(?, product_id), version = version + 1, updated_at = ?
			 WHERE instance_id = ?`, r.ExpireTime.UTC(), nullString(r.ProductID), now, r.InstanceID); err != nil {
			return fmt.Errorf("store: updating expiry: %w", err)
		}
		ch.JobID, err = insertJob(ctx, tx, NewJob{
			Key:  marketplace.JobRefresh + ":" + r.Scene + ":" + r.OrderID + ":" + r.OrderLineID,
			Kind: marketplace.JobRefresh, InstanceID: r.InstanceID, Payload: string(detail),
		}, now)
		return err
	})
	if errors.Is(err, errAlreadyApplied) {
		return Change{}, nil
	}
	return ch, err
}

// SetStatus freezes or unfreezes an instance. Setting the status it already has, or
// changing a released instance, is a successful no-op. Each real transition writes
// one notification job keyed by the instance version it produced.
func (s *Store) SetStatus(ctx context.Context, id string, target marketplace.Status) (Change, error) {
	kind := marketplace.JobFreeze
	if target == marketplace.Normal {
		kind = marketplace.JobUnfreeze
	}
	now := s.now()
	var ch Change
	err := s.inTx(ctx, func(tx *sqlx.Tx) error {
		ch = Change{}
		status, version, err := lockInstance(ctx, tx, id)
		if err != nil {
			return err
		}
		if status == target || status == marketplace.Released {
			return nil
		}
		if _, err := tx.ExecContext(ctx,
			"UPDATE instances SET status = ?, version = ?, updated_at = ? WHERE instance_id = ?",
			target, version+1, now, id); err != nil {
			return fmt.Errorf("store: updating status: %w", err)
		}
		ch.Applied = true
		ch.JobID, err = insertJob(ctx, tx, NewJob{
			Key: kind + ":" + id + ":" + strconv.Itoa(version+1), Kind: kind, InstanceID: id,
		}, now)
		return err
	})
	return ch, err
}

// Release marks an instance released. The row stays (soft delete) so replayed
// debug cases and late retries still find it; a second release is a no-op.
func (s *Store) Release(ctx context.Context, id, orderID, orderLineID string) (Change, error) {
	now := s.now()
	var ch Change
	err := s.inTx(ctx, func(tx *sqlx.Tx) error {
		ch = Change{}
		status, version, err := lockInstance(ctx, tx, id)
		if err != nil {
			return err
		}
		if status == marketplace.Released {
			return nil
		}
		if _, err := tx.ExecContext(ctx,
			"UPDATE instances SET status = ?, version = ?, released_at = ?, updated_at = ? WHERE instance_id = ?",
			marketplace.Released, version+1, now, now, id); err != nil {
			return fmt.Errorf("store: releasing: %w", err)
		}
		ch.Applied = true
		payload, _ := json.Marshal(map[string]string{"orderId": orderID, "orderLineId": orderLineID})
		ch.JobID, err = insertJob(ctx, tx, NewJob{
			Key: marketplace.JobRelease + ":" + id, Kind: marketplace.JobRelease, InstanceID: id, Payload: string(payload),
		}, now)
		return err
	})
	return ch, err
}

// RecordUpgrade accepts an upgrade order once per order line and schedules the
// upgrade job; a repeat is a no-op.
func (s *Store) RecordUpgrade(ctx context.Context, id, orderID, orderLineID string) (Change, error) {
	now := s.now()
	var ch Change
	err := s.inTx(ctx, func(tx *sqlx.Tx) error {
		ch = Change{}
		if _, _, err := lockInstance(ctx, tx, id); err != nil {
			return err
		}
		if err := recordOrder(ctx, tx, marketplace.JobUpgrade, orderID, orderLineID, id, "", now); err != nil {
			return err
		}
		ch.Applied = true
		payload, _ := json.Marshal(map[string]string{"orderId": orderID, "orderLineId": orderLineID})
		var err error
		ch.JobID, err = insertJob(ctx, tx, NewJob{
			Key:  marketplace.JobUpgrade + ":" + orderID + ":" + orderLineID,
			Kind: marketplace.JobUpgrade, InstanceID: id, Payload: string(payload),
		}, now)
		return err
	})
	if errors.Is(err, errAlreadyApplied) {
		return Change{}, nil
	}
	return ch, err
}

// ActivateInstance is the result of a provisioning job: the instance becomes
// ACTIVE with its access information. The password is not stored in app_info: the
// caller passes it sealed (shared/secretbox), or "" when there is none.
func ActivateInstance(instanceID string, app marketplace.AppInfo, sealedPassword string) TxFunc {
	return func(ctx context.Context, tx *sqlx.Tx, now time.Time) error {
		_, err := activate(ctx, tx, instanceID, app, sealedPassword, now, false)
		return err
	}
}

// activate writes the access information; onlyProvisioning restricts it to an
// instance still PROVISIONING and reports whether it changed one.
func activate(ctx context.Context, tx *sqlx.Tx, instanceID string, app marketplace.AppInfo, sealedPassword string, now time.Time, onlyProvisioning bool) (bool, error) {
	app.Password = ""
	appJSON, err := json.Marshal(app)
	if err != nil {
		return false, fmt.Errorf("store: encoding app info: %w", err)
	}
	q := `UPDATE instances SET state = ?, app_info = ?, app_secret = ?, fail_code = NULL, fail_reason = NULL, updated_at = ?
	      WHERE instance_id = ?`
	args := []any{marketplace.Active, string(appJSON), nullString(sealedPassword), now, instanceID}
	if onlyProvisioning {
		q += " AND state = ?"
		args = append(args, marketplace.Provisioning)
	}
	res, err := tx.ExecContext(ctx, q, args...)
	if err != nil {
		return false, fmt.Errorf("store: activating instance: %w", err)
	}
	n, _ := res.RowsAffected()
	return n > 0, nil
}

// CompleteByCallback records the outcome the seller's application reports for an
// instance it accepted to provision asynchronously. Only a PROVISIONING instance
// changes; a repeated callback is a no-op. It returns ErrNotFound for an unknown
// instance and whether anything changed.
func (s *Store) CompleteByCallback(ctx context.Context, instanceID string, app *marketplace.AppInfo, sealedPassword string, fail *marketplace.Error) (bool, error) {
	var changed bool
	err := s.inTx(ctx, func(tx *sqlx.Tx) error {
		changed = false
		var state string
		err := tx.GetContext(ctx, &state, "SELECT state FROM instances WHERE instance_id = ? FOR UPDATE", instanceID)
		if errors.Is(err, sql.ErrNoRows) {
			return ErrNotFound
		}
		if err != nil {
			return fmt.Errorf("store: reading instance: %w", err)
		}
		if marketplace.ProvisionState(state) != marketplace.Provisioning {
			return nil
		}
		now := s.now()
		if fail != nil {
			changed = true
			return FailInstance(instanceID, fail.Code, fail.Msg)(ctx, tx, now)
		}
		changed, err = activate(ctx, tx, instanceID, *app, sealedPassword, now, true)
		return err
	})
	return changed, err
}

// FailInstance is the end of a provisioning job that will not succeed: the instance
// becomes FAILED with the result code and reason newInstance will answer. The
// reason is stored inert (marketplace.SafeText): it may come from the application.
func FailInstance(instanceID string, code marketplace.Code, reason string) TxFunc {
	return func(ctx context.Context, tx *sqlx.Tx, now time.Time) error {
		_, err := tx.ExecContext(ctx,
			"UPDATE instances SET state = ?, fail_code = ?, fail_reason = ?, updated_at = ? WHERE instance_id = ?",
			marketplace.Failed, string(code), marketplace.SafeText(reason, 255), now, instanceID)
		if err != nil {
			return fmt.Errorf("store: failing instance: %w", err)
		}
		return nil
	}
}

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

// jobCols are the columns a new job is written with.
const jobInsert = "INSERT INTO jobs (job_key, kind, instance_id, payload, state, attempts, next_run_at, created_at, updated_at) "

// CreateInstance writes a new instance in state PROVISIONING together with its
// provisioning job, in one transaction sent as one round trip (batch.go). If the
// order line (or, for pay-per-use, the order and product) already has an
// instance, that instance is returned unchanged: the unique key, not a prior read,
// decides, so concurrent duplicates all get the first instance. ErrIDTaken means
// the proposed instance ID belongs to a different order; the caller retries with
// a fresh ID.
func (s *Store) CreateInstance(ctx context.Context, in marketplace.Instance) (Created, error) {
	now := s.now()
	in.State, in.Status, in.Version = marketplace.Provisioning, marketplace.Normal, 0
	in.CreatedAt, in.UpdatedAt = now, now
	b := s.newBatch()
	b.add(`INSERT INTO instances (instance_id, order_id, order_line_id, ondemand_product_id, business_id, product_id,
  test_flag, state, status, version, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 0, ?, ?)`,
		in.InstanceID, in.OrderID, in.OrderLineID, nullString(in.OnDemandProductID), in.BusinessID,
		nullString(in.ProductID), in.TestFlag, string(in.State), string(in.Status), now, now)
	b.add(jobInsert+"VALUES (?, ?, ?, NULL, ?, 0, ?, ?, ?)",
		marketplace.JobProvision+":"+in.InstanceID, marketplace.JobProvision, in.InstanceID, JobPending, now, now, now)
	res, err := s.execBatch(ctx, b)
	if err == nil {
		return Created{Instance: in, New: true, JobID: res.idAt(1)}, nil
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

// Change is the outcome of a lifecycle update.
type Change struct {
	Applied bool  // false: a repeat or a no-op, nothing was written
	JobID   int64 // the job written with the change, 0 if none
}

// locked is an instance's row as a lifecycle change reads it.
type locked struct {
	found   bool
	status  marketplace.Status
	version int
}

// changeInstance runs a lifecycle change of instance id as one transaction in one
// round trip: the instance's row read and locked (FOR UPDATE), the writes that
// write adds, then the id of the last job inserted. Each write carries the
// condition it applies under in its own WHERE clause, evaluated on the locked row,
// and the caller draws its conclusions from the row read by the same rules: no
// decision waits for a round trip. A missing instance makes every write a no-op.
func (s *Store) changeInstance(ctx context.Context, id string, write func(b *batch)) (locked, int64, error) {
	b := s.newBatch()
	b.add("SELECT status, version FROM instances WHERE instance_id = ? FOR UPDATE", id)
	write(b)
	b.add("SELECT LAST_INSERT_ID()")
	var row locked
	var lastID int64
	err := s.queryBatch(ctx, b, func(rows *sql.Rows) error {
		row = locked{}
		if rows.Next() {
			var status string
			if err := rows.Scan(&status, &row.version); err != nil {
				return err
			}
			row.found, row.status = true, marketplace.Status(status)
		}
		if err := nextSet(rows); err != nil {
			return err
		}
		if !rows.Next() {
			return errors.New("store: no LAST_INSERT_ID")
		}
		return rows.Scan(&lastID)
	})
	return row, lastID, err
}

// addInstanceJob adds the insert of a job of instance id, keyed by keyExpr (SQL
// over the instance's row with keyArg, e.g. "CONCAT(?, version + 1)"), made only
// when the instance exists and cond (SQL over its row, with condArgs; "" for
// none) holds.
func addInstanceJob(b *batch, kind, keyExpr, keyArg, payload, id, cond string, condArgs []any, now time.Time) {
	q := jobInsert + "SELECT " + keyExpr + ", ?, instance_id, ?, ?, 0, ?, ?, ? FROM instances WHERE instance_id = ?"
	if cond != "" {
		q += " AND " + cond
	}
	b.add(q, append([]any{keyArg, kind, nullString(payload), JobPending, now, now, now, id}, condArgs...)...)
}

// addOrder adds the record of the order that drives a change of instance id, made
// when the instance exists; a repeated order line is a duplicate key, which
// stops the transaction (IsDuplicate): the order was applied before.
func addOrder(b *batch, kind, orderID, orderLineID, id, detail string, now time.Time) {
	b.add(`INSERT INTO instance_orders (kind, order_id, order_line_id, instance_id, detail, created_at)
  SELECT ?, ?, ?, instance_id, ?, ? FROM instances WHERE instance_id = ?`, kind, orderID, orderLineID, nullString(detail), now, id)
}

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
	detail, _ := json.Marshal(map[string]string{
		"scene": r.Scene, "expireTime": r.ExpireTime.UTC().Format(time.RFC3339Nano), "productId": r.ProductID,
	})
	row, jobID, err := s.changeInstance(ctx, r.InstanceID, func(b *batch) {
		addOrder(b, "refresh/"+r.Scene, r.OrderID, r.OrderLineID, r.InstanceID, string(detail), now)
		b.add(`UPDATE instances SET expire_time = ?, product_id = COALESCE(?, product_id), version = version + 1, updated_at = ?
  WHERE instance_id = ? AND status <> ?`, r.ExpireTime.UTC(), nullString(r.ProductID), now, r.InstanceID, marketplace.Released)
		addInstanceJob(b, marketplace.JobRefresh, "?", marketplace.JobRefresh+":"+r.Scene+":"+r.OrderID+":"+r.OrderLineID,
			string(detail), r.InstanceID, "status <> ?", []any{marketplace.Released}, now)
	})
	switch {
	case IsDuplicate(err):
		return Change{}, nil
	case err != nil:
		return Change{}, fmt.Errorf("store: applying refresh: %w", err)
	case !row.found:
		return Change{}, ErrNotFound
	case row.status == marketplace.Released:
		return Change{Applied: true}, nil
	}
	return Change{Applied: true, JobID: jobID}, nil
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
	// The job is inserted before the update, both under the same condition on the
	// row as it was, and keyed by the version the update produces.
	cond, condArgs := "status NOT IN (?, ?)", []any{target, marketplace.Released}
	row, jobID, err := s.changeInstance(ctx, id, func(b *batch) {
		addInstanceJob(b, kind, "CONCAT(?, version + 1)", kind+":"+id+":", "", id, cond, condArgs, now)
		b.add("UPDATE instances SET status = ?, version = version + 1, updated_at = ? WHERE instance_id = ? AND "+cond,
			append([]any{target, now, id}, condArgs...)...)
	})
	switch {
	case err != nil:
		return Change{}, fmt.Errorf("store: updating status: %w", err)
	case !row.found:
		return Change{}, ErrNotFound
	case row.status == target || row.status == marketplace.Released:
		return Change{}, nil
	}
	return Change{Applied: true, JobID: jobID}, nil
}

// Release marks an instance released. The row stays (soft delete) so replayed
// debug cases and late retries still find it; a second release is a no-op.
func (s *Store) Release(ctx context.Context, id, orderID, orderLineID string) (Change, error) {
	now := s.now()
	payload, _ := json.Marshal(map[string]string{"orderId": orderID, "orderLineId": orderLineID})
	row, jobID, err := s.changeInstance(ctx, id, func(b *batch) {
		addInstanceJob(b, marketplace.JobRelease, "?", marketplace.JobRelease+":"+id, string(payload), id,
			"status <> ?", []any{marketplace.Released}, now)
		b.add("UPDATE instances SET status = ?, version = version + 1, released_at = ?, updated_at = ? WHERE instance_id = ? AND status <> ?",
			marketplace.Released, now, now, id, marketplace.Released)
	})
	switch {
	case err != nil:
		return Change{}, fmt.Errorf("store: releasing: %w", err)
	case !row.found:
		return Change{}, ErrNotFound
	case row.status == marketplace.Released:
		return Change{}, nil
	}
	return Change{Applied: true, JobID: jobID}, nil
}

// RecordUpgrade accepts an upgrade order once per order line and schedules the
// upgrade job; a repeat is a no-op.
func (s *Store) RecordUpgrade(ctx context.Context, id, orderID, orderLineID string) (Change, error) {
	now := s.now()
	payload, _ := json.Marshal(map[string]string{"orderId": orderID, "orderLineId": orderLineID})
	row, jobID, err := s.changeInstance(ctx, id, func(b *batch) {
		addOrder(b, marketplace.JobUpgrade, orderID, orderLineID, id, "", now)
		addInstanceJob(b, marketplace.JobUpgrade, "?", marketplace.JobUpgrade+":"+orderID+":"+orderLineID, string(payload), id, "", nil, now)
	})
	switch {
	case IsDuplicate(err):
		return Change{}, nil
	case err != nil:
		return Change{}, fmt.Errorf("store: recording upgrade: %w", err)
	case !row.found:
		return Change{}, ErrNotFound
	}
	return Change{Applied: true, JobID: jobID}, nil
}

// ActivateInstance is the result of a provisioning job: the instance becomes
// ACTIVE with its access information. The password is not stored in app_info: the
// caller passes it sealed (shared/secretbox), or "" when there is none.
func ActivateInstance(instanceID string, app marketplace.AppInfo, sealedPassword string) Effect {
	app.Password = ""
	// AppInfo is made of strings: encoding it cannot fail.
	appJSON, _ := json.Marshal(app)
	return Effect{{table: "instances",
		set:     "t.state = ?, t.app_info = ?, t.app_secret = ?, t.fail_code = NULL, t.fail_reason = NULL, t.updated_at = ?",
		setArgs: []any{marketplace.Active, string(appJSON), nullString(sealedPassword), nowArg{}},
		where:   "t.instance_id = ?", whereArgs: []any{instanceID}}}
}

// FailInstance is the end of a provisioning job that will not succeed: the instance
// becomes FAILED with the result code and reason newInstance will answer. The
// reason is stored inert (marketplace.SafeText): it may come from the application.
func FailInstance(instanceID string, code marketplace.Code, reason string) Effect {
	return Effect{{table: "instances",
		set:     "t.state = ?, t.fail_code = ?, t.fail_reason = ?, t.updated_at = ?",
		setArgs: []any{marketplace.Failed, string(code), marketplace.SafeText(reason, 255), nowArg{}},
		where:   "t.instance_id = ?", whereArgs: []any{instanceID}}}
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
		var e Effect
		if fail != nil {
			e = FailInstance(instanceID, fail.Code, fail.Msg)
		} else {
			e = ActivateInstance(instanceID, *app, sealedPassword)
		}
		q, args := e[0].update(s.now())
		if _, err := tx.ExecContext(ctx, q, args...); err != nil {
			return fmt.Errorf("store: completing instance: %w", err)
		}
		changed = true
		return nil
	})
	return changed, err
}

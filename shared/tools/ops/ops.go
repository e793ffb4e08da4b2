// Package ops is the operator's view of the production interface's database:
// instances, the orders applied to them, outbox jobs and nonces; one order's
// history; and the two writes an operator may need, requeueing a dead job and
// purging expired nonces. Everything reads unless a write is asked for explicitly:
// the write operations take an apply flag and, without it, only report what they
// would change. scripts/ops is the command; the queries live in shared/store.
package ops

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/kgseller/kgseller/shared/marketplace"
	"github.com/kgseller/kgseller/shared/store"
)

// Ops runs operator queries against one store.
type Ops struct {
	Store *store.Store
}

// InstanceView is an instance as operators see it. Credentials are never part of
// it: the password is sealed in the database and userName is left out.
type InstanceView struct {
	InstanceID  string     `json:"instanceId"`
	OrderID     string     `json:"orderId"`
	OrderLineID string     `json:"orderLineId"`
	BusinessID  string     `json:"businessId"`
	ProductID   string     `json:"productId,omitempty"`
	Test        bool       `json:"testFlag"`
	State       string     `json:"state"`
	Status      string     `json:"status"`
	FailCode    string     `json:"failCode,omitempty"`
	FailReason  string     `json:"failReason,omitempty"`
	FrontEndURL string     `json:"frontEndUrl,omitempty"`
	ExpireTime  *time.Time `json:"expireTime,omitempty"`
	CreatedAt   time.Time  `json:"createdAt"`
	UpdatedAt   time.Time  `json:"updatedAt"`
	ReleasedAt  *time.Time `json:"releasedAt,omitempty"`
}

func instanceView(i marketplace.Instance) InstanceView {
	v := InstanceView{
		InstanceID: i.InstanceID, OrderID: i.OrderID, OrderLineID: i.OrderLineID, BusinessID: i.BusinessID,
		ProductID: i.ProductID, Test: i.TestFlag, State: string(i.State), Status: string(i.Status),
		FailCode: string(i.FailCode), FailReason: i.FailReason, ExpireTime: i.ExpireTime,
		CreatedAt: i.CreatedAt, UpdatedAt: i.UpdatedAt, ReleasedAt: i.ReleasedAt,
	}
	if i.App != nil {
		v.FrontEndURL = i.App.FrontEndURL
	}
	return v
}

// OrderView is an order applied to an instance.
type OrderView struct {
	Kind        string          `json:"kind"`
	OrderID     string          `json:"orderId"`
	OrderLineID string          `json:"orderLineId"`
	InstanceID  string          `json:"instanceId"`
	Detail      json.RawMessage `json:"detail,omitempty"`
	CreatedAt   time.Time       `json:"createdAt"`
}

func orderView(o store.InstanceOrder) OrderView {
	v := OrderView{Kind: o.Kind, OrderID: o.OrderID, OrderLineID: o.OrderLineID, InstanceID: o.InstanceID, CreatedAt: o.CreatedAt}
	if o.Detail.Valid && json.Valid([]byte(o.Detail.String)) {
		v.Detail = json.RawMessage(o.Detail.String)
	}
	return v
}

// JobView is an outbox job. Its payload is left out: it is the side effect's
// input, not something an operator acts on.
type JobView struct {
	ID         int64      `json:"id"`
	Key        string     `json:"key"`
	Kind       string     `json:"kind"`
	InstanceID string     `json:"instanceId,omitempty"`
	State      string     `json:"state"`
	Attempts   int        `json:"attempts"`
	NextRunAt  time.Time  `json:"nextRunAt"`
	LeaseOwner string     `json:"leaseOwner,omitempty"`
	LeaseUntil *time.Time `json:"leaseUntil,omitempty"`
	LastError  string     `json:"lastError,omitempty"`
	CreatedAt  time.Time  `json:"createdAt"`
	UpdatedAt  time.Time  `json:"updatedAt"`
	DoneAt     *time.Time `json:"doneAt,omitempty"`
}

func jobView(j store.Job) JobView {
	v := JobView{
		ID: j.ID, Key: j.Key, Kind: j.Kind, InstanceID: j.InstanceID.String, State: j.State, Attempts: j.Attempts,
		NextRunAt: j.NextRunAt, LeaseOwner: j.LeaseOwner.String, LastError: j.LastError.String,
		CreatedAt: j.CreatedAt, UpdatedAt: j.UpdatedAt,
	}
	if j.LeaseUntil.Valid {
		t := j.LeaseUntil.Time
		v.LeaseUntil = &t
	}
	if j.DoneAt.Valid {
		t := j.DoneAt.Time
		v.DoneAt = &t
	}
	return v
}

// Instances lists instances, newest first.
func (o *Ops) Instances(ctx context.Context, f store.InstanceFilter) ([]InstanceView, error) {
	list, err := o.Store.ListInstances(ctx, f)
	if err != nil {
		return nil, err
	}
	out := make([]InstanceView, len(list))
	for i, inst := range list {
		out[i] = instanceView(inst)
	}
	return out, nil
}

// Orders lists applied orders, newest first.
func (o *Ops) Orders(ctx context.Context, f store.OrderFilter) ([]OrderView, error) {
	list, err := o.Store.ListInstanceOrders(ctx, f)
	if err != nil {
		return nil, err
	}
	out := make([]OrderView, len(list))
	for i, ord := range list {
		out[i] = orderView(ord)
	}
	return out, nil
}

// Jobs lists jobs, newest first.
func (o *Ops) Jobs(ctx context.Context, f store.JobFilter) ([]JobView, error) {
	list, err := o.Store.ListJobs(ctx, f)
	if err != nil {
		return nil, err
	}
	out := make([]JobView, len(list))
	for i, j := range list {
		out[i] = jobView(j)
	}
	return out, nil
}

// Summary is the state of the tables at a glance.
type Summary struct {
	InstancesByStatus map[string]int `json:"instancesByStatus"`
	InstancesByState  map[string]int `json:"instancesByState"`
	JobsByState       map[string]int `json:"jobsByState"`
	DeadJobsByKind    map[string]int `json:"deadJobsByKind"`
	Nonces            int64          `json:"nonces"`
	ExpiredNonces     int64          `json:"expiredNonces"`
	Monitor           MonitorSummary `json:"monitor"`
}

// Summary counts instances, jobs and nonces, and the monitor's failing checks.
func (o *Ops) Summary(ctx context.Context) (Summary, error) {
	c, err := o.Store.Count(ctx)
	if err != nil {
		return Summary{}, err
	}
	m, err := o.monitorSummary(ctx)
	if err != nil {
		return Summary{}, err
	}
	return Summary{
		InstancesByStatus: c.InstancesByStatus, InstancesByState: c.InstancesByState, JobsByState: c.JobsByState,
		DeadJobsByKind: c.DeadJobsByKind, Nonces: c.Nonces, ExpiredNonces: c.ExpiredNonces, Monitor: m,
	}, nil
}

// HistoryQuery names what to show the history of: an order (optionally one line)
// or an instance.
type HistoryQuery struct {
	OrderID     string
	OrderLineID string
	InstanceID  string
}

// History is everything the database knows about an order or instance.
type History struct {
	Query     string            `json:"query"`
	Instances []InstanceHistory `json:"instances"`
}

// InstanceHistory is one instance the query touches, with every order applied to
// it and every job written for it, oldest first.
type InstanceHistory struct {
	Relation string       `json:"relation"`
	Instance InstanceView `json:"instance"`
	Orders   []OrderView  `json:"orders"`
	Jobs     []JobView    `json:"jobs"`
}

// ErrNoHistory means the database holds nothing for the query.
var ErrNoHistory = errors.New("nothing recorded")

// History collects the instances an order created or changed (or one instance)
// with their applied orders and jobs.
func (o *Ops) History(ctx context.Context, q HistoryQuery) (History, error) {
	type touched struct {
		id      string
		created bool
		kinds   []string
	}
	var list []*touched
	byID := map[string]*touched{}
	add := func(id string, created bool, kind string) {
		t := byID[id]
		if t == nil {
			t = &touched{id: id}
			byID[id] = t
			list = append(list, t)
		}
		t.created = t.created || created
		if kind != "" && !slices.Contains(t.kinds, kind) {
			t.kinds = append(t.kinds, kind)
		}
	}
	h := History{}
	switch {
	case q.InstanceID != "":
		h.Query = "instance " + q.InstanceID
		add(q.InstanceID, false, "")
	case q.OrderID != "":
		h.Query = "order " + q.OrderID
		if q.OrderLineID != "" {
			h.Query += " line " + q.OrderLineID
		}
		created, err := o.Store.ListInstances(ctx, store.InstanceFilter{OrderID: q.OrderID, OrderLineID: q.OrderLineID, Limit: store.MaxListLimit})
		if err != nil {
			return h, err
		}
		for _, inst := range created {
			add(inst.InstanceID, true, "")
		}
		applied, err := o.Store.ListInstanceOrders(ctx, store.OrderFilter{OrderID: q.OrderID, OrderLineID: q.OrderLineID, Limit: store.MaxListLimit})
		if err != nil {
			return h, err
		}
		for _, a := range applied {
			add(a.InstanceID, false, a.Kind)
		}
	default:
		return h, errors.New("history needs an order or an instance")
	}
	for _, t := range list {
		inst, err := o.Store.Instance(ctx, t.id)
		if errors.Is(err, store.ErrNotFound) {
			continue
		}
		if err != nil {
			return h, err
		}
		ih := InstanceHistory{Relation: relation(q, t.created, t.kinds), Instance: instanceView(inst)}
		orders, err := o.Orders(ctx, store.OrderFilter{InstanceID: t.id, Limit: store.MaxListLimit})
		if err != nil {
			return h, err
		}
		jobs, err := o.Jobs(ctx, store.JobFilter{InstanceID: t.id, Limit: store.MaxListLimit})
		if err != nil {
			return h, err
		}
		sort.SliceStable(orders, func(i, j int) bool { return orders[i].CreatedAt.Before(orders[j].CreatedAt) })
		sort.SliceStable(jobs, func(i, j int) bool { return jobs[i].ID < jobs[j].ID })
		ih.Orders, ih.Jobs = orders, jobs
		h.Instances = append(h.Instances, ih)
	}
	if len(h.Instances) == 0 {
		return h, fmt.Errorf("%s: %w", h.Query, ErrNoHistory)
	}
	return h, nil
}

// relation says how a history's instance relates to the query.
func relation(q HistoryQuery, created bool, kinds []string) string {
	if q.InstanceID != "" {
		return "named"
	}
	var parts []string
	if created {
		parts = append(parts, "created by this order (newInstance)")
	}
	if len(kinds) > 0 {
		sort.Strings(kinds)
		parts = append(parts, "changed by this order ("+strings.Join(kinds, ", ")+")")
	}
	return strings.Join(parts, "; ")
}

// RetryOutcome reports what retrying one job did, or would do.
type RetryOutcome struct {
	JobID         int64  `json:"jobId"`
	Kind          string `json:"kind,omitempty"`
	InstanceID    string `json:"instanceId,omitempty"`
	State         string `json:"state,omitempty"` // before
	Attempts      int    `json:"attempts"`        // before
	AttemptsAfter int    `json:"attemptsAfter"`
	LastError     string `json:"lastError,omitempty"`
	Applied       bool   `json:"applied"`
	Error         string `json:"error,omitempty"`
}

// Retry requeues dead jobs: each goes back to PENDING, due now, with its attempts
// reset to 0 unless keepAttempts. Without apply nothing is written and the outcomes
// say what would change. A job that does not exist or is not DEAD is reported and
// left alone; err is set when any job could not be requeued.
func (o *Ops) Retry(ctx context.Context, ids []int64, keepAttempts, apply bool) ([]RetryOutcome, error) {
	var out []RetryOutcome
	var failed int
	for _, id := range ids {
		r := RetryOutcome{JobID: id}
		j, err := o.Store.Job(ctx, id)
		switch {
		case errors.Is(err, store.ErrNotFound):
			r.Error = "no such job"
		case err != nil:
			return out, err
		case j.State != store.JobDead:
			r.Kind, r.InstanceID, r.State, r.Attempts, r.AttemptsAfter = j.Kind, j.InstanceID.String, j.State, j.Attempts, j.Attempts
			r.Error = "job is " + j.State + ", not DEAD"
		default:
			r.Kind, r.InstanceID, r.State, r.Attempts, r.LastError = j.Kind, j.InstanceID.String, j.State, j.Attempts, j.LastError.String
			r.AttemptsAfter = 0
			if keepAttempts {
				r.AttemptsAfter = j.Attempts
			}
			if apply {
				after, err := o.Store.RequeueDeadJob(ctx, id, !keepAttempts)
				switch {
				case errors.Is(err, store.ErrNotDead):
					r.Error = "job changed state meanwhile; not DEAD any more"
				case err != nil:
					return out, err
				default:
					r.Applied, r.AttemptsAfter = true, after.Attempts
				}
			}
		}
		if r.Error != "" {
			failed++
		}
		out = append(out, r)
	}
	if failed > 0 {
		return out, fmt.Errorf("%d of %d jobs not requeued", failed, len(ids))
	}
	return out, nil
}

// DeadJobIDs lists the ids of dead jobs, optionally of one kind, oldest first.
func (o *Ops) DeadJobIDs(ctx context.Context, kind string) ([]int64, error) {
	jobs, err := o.Store.ListJobs(ctx, store.JobFilter{State: store.JobDead, Kind: kind, Limit: store.MaxListLimit})
	if err != nil {
		return nil, err
	}
	ids := make([]int64, len(jobs))
	for i, j := range jobs {
		ids[len(jobs)-1-i] = j.ID
	}
	return ids, nil
}

// PurgeOutcome reports a nonce purge.
type PurgeOutcome struct {
	Nonces  int64 `json:"nonces"`
	Expired int64 `json:"expired"`
	Deleted int64 `json:"deleted"`
	Applied bool  `json:"applied"`
}

// PurgeNonces deletes expired nonces in batches (the replay window is long past for
// them, so deleting them never readmits a replay). Without apply it only counts.
func (o *Ops) PurgeNonces(ctx context.Context, batch int, apply bool) (PurgeOutcome, error) {
	if batch <= 0 {
		batch = 1000
	}
	total, expired, err := o.Store.CountNonces(ctx)
	if err != nil {
		return PurgeOutcome{}, err
	}
	out := PurgeOutcome{Nonces: total, Expired: expired, Applied: apply}
	if !apply {
		return out, nil
	}
	for ctx.Err() == nil {
		n, err := o.Store.PurgeNonces(ctx, batch)
		out.Deleted += n
		if err != nil {
			return out, err
		}
		if n < int64(batch) {
			break
		}
	}
	return out, ctx.Err()
}

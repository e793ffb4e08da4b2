package saas

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/kgseller/kgseller/shared/endpoint"
	"github.com/kgseller/kgseller/shared/kgsign"
	"github.com/kgseller/kgseller/shared/marketplace"
	"github.com/kgseller/kgseller/shared/provision"
	"github.com/kgseller/kgseller/shared/secretbox"
	"github.com/kgseller/kgseller/shared/store"
)

// Service holds what the activities need.
type Service struct {
	Store       *store.Store
	Provisioner provision.Provisioner
	// Box opens provisioned passwords sealed at rest.
	Box *secretbox.Box
	// EncryptType, when set ("1" AES-256, "2" AES-128), makes queryInstance return
	// userName and password encrypted with the access key, with encryptType.
	EncryptType kgsign.EncryptType
	// Fulfil, when set, hands a job on right after the change that wrote it
	// commits (fulfil.Handoff): it starts the worker, or runs the job in the request
	// (FULFIL_MODE=inline) and then reports that it ran, so that what the job
	// changed is read again. Without a worker running the job inline is how
	// provisioning completes; with a worker, the worker's timer is the guarantee.
	Fulfil func(ctx context.Context, jobID int64) (ran bool)
}

// fulfil hands a job on and reports whether it ran in the request.
func (s *Service) fulfil(ctx context.Context, jobID int64) bool {
	return s.Fulfil != nil && jobID != 0 && s.Fulfil(ctx, jobID)
}

// NewInstanceReply is the newInstance answer.
type NewInstanceReply struct {
	marketplace.Result
	InstanceID string `json:"instanceId"`
}

type newInstanceOp struct {
	s                                *Service
	orderID, orderLineID, businessID string
	test                             bool
}

func (op *newInstanceOp) Name() string { return "newInstance" }

// Run returns the order line's instance, creating it on the first call. The unique
// key on (orderId, orderLineId) decides which of concurrent first calls creates it;
// every call answers with that one instance ID.
func (op *newInstanceOp) Run(ctx context.Context) (marketplace.Reply, error) {
	st := op.s.Store
	inst, err := st.InstanceByOrder(ctx, op.orderID, op.orderLineID)
	if err == nil {
		return newInstanceReply(inst), nil
	}
	if !errors.Is(err, store.ErrNotFound) {
		return nil, err
	}
	// The first businessId of an order is the instance ID, as the marketplace
	// recommends; if another order already owns that ID (debug tools reuse dummy
	// values), a UUID is used instead.
	candidate := marketplace.Instance{
		InstanceID: op.businessID, OrderID: op.orderID, OrderLineID: op.orderLineID,
		BusinessID: op.businessID, TestFlag: op.test,
	}
	res, err := st.CreateInstance(ctx, candidate)
	if errors.Is(err, store.ErrIDTaken) {
		candidate.InstanceID = uuid.NewString()
		res, err = st.CreateInstance(ctx, candidate)
	}
	if err != nil {
		return nil, err
	}
	// Only a job run in the request can have changed the instance: a worker started
	// asynchronously cannot have run yet, so nothing is read again then.
	if res.New && op.s.fulfil(ctx, res.JobID) {
		if fresh, err := st.Instance(ctx, res.Instance.InstanceID); err == nil {
			res.Instance = fresh
		}
	}
	return newInstanceReply(res.Instance), nil
}

func newInstanceReply(inst marketplace.Instance) NewInstanceReply {
	r := NewInstanceReply{InstanceID: inst.InstanceID}
	switch inst.State {
	case marketplace.Active:
		r.Result = marketplace.NewResult(marketplace.Success, "")
	case marketplace.Failed:
		r.Result = failedResult(inst)
	default:
		r.Result = marketplace.NewResult(marketplace.Processing, "instance is being provisioned")
	}
	return r
}

func failedResult(inst marketplace.Instance) marketplace.Result {
	code := inst.FailCode
	if !code.Valid() || code == marketplace.Success || code == marketplace.Processing {
		code = marketplace.InternalError
	}
	msg := inst.FailReason
	if msg == "" {
		msg = "provisioning failed"
	}
	return marketplace.NewResult(code, msg)
}

// QueryReply is the queryInstance answer.
type QueryReply struct {
	marketplace.Result
	EncryptType string         `json:"encryptType,omitempty"`
	Info        []InstanceInfo `json:"info,omitempty"`
}

// InstanceInfo is one entry of QueryReply.Info.
type InstanceInfo struct {
	InstanceID string               `json:"instanceId"`
	AppInfo    *marketplace.AppInfo `json:"appInfo,omitempty"`
	UsageInfo  []UsageInfo          `json:"usageInfo,omitempty"`
}

// UsageInfo is pay-per-use usage as queryInstance reports it.
type UsageInfo struct {
	RelatedInstanceID string      `json:"relatedInstanceId,omitempty"`
	UsageValue        json.Number `json:"usageValue"`
	StatisticalTime   string      `json:"statisticalTime"`
	DashboardURL      string      `json:"dashboardUrl,omitempty"`
}

// UsageTimeLayout is statisticalTime's format (UTC).
const UsageTimeLayout = "20060102150405.000"

func usageInfo(u marketplace.Usage) UsageInfo {
	return UsageInfo{
		RelatedInstanceID: u.RelatedInstanceID,
		UsageValue:        json.Number(TrimDecimal(u.Value)),
		StatisticalTime:   strings.Replace(u.StatisticalTime.UTC().Format(UsageTimeLayout), ".", "", 1),
		DashboardURL:      u.DashboardURL,
	}
}

// TrimDecimal drops trailing fraction zeros: "12.5000" becomes "12.5", "3.0000" "3".
func TrimDecimal(v string) string {
	if !strings.Contains(v, ".") {
		return v
	}
	v = strings.TrimRight(v, "0")
	return strings.TrimSuffix(v, ".")
}

// appInfo returns what queryInstance shows of an instance's access information:
// the password opened from its sealed form and, when configured, userName and
// password encrypted with the access key that verified the request.
func (s *Service) appInfo(ctx context.Context, inst marketplace.Instance) (*marketplace.AppInfo, error) {
	if inst.App == nil {
		return nil, nil
	}
	app := *inst.App
	if inst.SealedSecret != "" {
		if s.Box == nil {
			return nil, errors.New("a sealed password is stored but no data key is configured")
		}
		pw, err := s.Box.Open(inst.SealedSecret, marketplace.PasswordContext(inst.InstanceID))
		if err != nil {
			return nil, fmt.Errorf("opening the password of %s: %w", inst.InstanceID, err)
		}
		app.Password = pw
	}
	if s.EncryptType == "" {
		return &app, nil
	}
	v, ok := endpoint.VerifiedFrom(ctx)
	if !ok {
		return nil, errors.New("no verified key to encrypt credentials with")
	}
	for _, f := range []*string{&app.UserName, &app.Password} {
		if *f == "" {
			continue
		}
		enc, err := kgsign.EncryptField(v.Key, s.EncryptType, *f)
		if err != nil {
			return nil, fmt.Errorf("encrypting credentials: %w", err)
		}
		*f = enc
	}
	return &app, nil
}

type queryInstanceOp struct {
	s   *Service
	ids []string
}

func (op *queryInstanceOp) Name() string { return "queryInstance" }

// Run answers with every requested instance that has been provisioned, in the
// order asked. Instances still provisioning are left out; when nothing is ready but
// something is provisioning the answer is 000004 so the marketplace keeps polling.
// Released instances keep answering: debug cases are replayed in any order.
func (op *queryInstanceOp) Run(ctx context.Context) (marketplace.Reply, error) {
	found, usage, err := op.s.Store.InstancesWithUsage(ctx, op.ids)
	if err != nil {
		return nil, err
	}
	if len(found) == 0 {
		return marketplace.NewResult(marketplace.InstanceNotFound, ""), nil
	}
	byID := make(map[string]marketplace.Instance, len(found))
	for _, inst := range found {
		byID[inst.InstanceID] = inst
	}
	reply := QueryReply{EncryptType: string(op.s.EncryptType)}
	provisioning, failed := 0, (*marketplace.Instance)(nil)
	for _, id := range op.ids {
		inst, ok := byID[id]
		if !ok {
			continue
		}
		switch inst.State {
		case marketplace.Active:
			app, err := op.s.appInfo(ctx, inst)
			if err != nil {
				return nil, err
			}
			info := InstanceInfo{InstanceID: inst.InstanceID, AppInfo: app}
			for _, u := range usage[id] {
				info.UsageInfo = append(info.UsageInfo, usageInfo(u))
			}
			reply.Info = append(reply.Info, info)
		case marketplace.Provisioning:
			provisioning++
		case marketplace.Failed:
			if failed == nil {
				failed = &inst
			}
		}
	}
	switch {
	case len(reply.Info) > 0:
		reply.Result = marketplace.NewResult(marketplace.Success, "")
	case provisioning > 0:
		reply.EncryptType = ""
		reply.Result = marketplace.NewResult(marketplace.Processing, "instance is being provisioned")
	default:
		reply.EncryptType = ""
		reply.Result = failedResult(*failed)
	}
	return reply, nil
}

type refreshOp struct {
	s                                                  *Service
	orderID, orderLineID, instanceID, scene, productID string
	expire                                             time.Time
}

func (op *refreshOp) Name() string { return "refreshInstance" }

func (op *refreshOp) Run(ctx context.Context) (marketplace.Reply, error) {
	ch, err := op.s.Store.ApplyRefresh(ctx, store.Refresh{
		InstanceID: op.instanceID, OrderID: op.orderID, OrderLineID: op.orderLineID,
		Scene: op.scene, ProductID: op.productID, ExpireTime: op.expire,
	})
	return op.s.settle(ctx, ch, err)
}

// settle answers a lifecycle change: 000003 for an unknown instance, otherwise
// success once the change's job (if any) is handed on.
func (s *Service) settle(ctx context.Context, ch store.Change, err error) (marketplace.Reply, error) {
	if errors.Is(err, store.ErrNotFound) {
		return marketplace.NewResult(marketplace.InstanceNotFound, ""), nil
	}
	if err != nil {
		return nil, err
	}
	s.fulfil(ctx, ch.JobID)
	return marketplace.NewResult(marketplace.Success, ""), nil
}

type statusOp struct {
	s          *Service
	instanceID string
	target     marketplace.Status
}

func (op *statusOp) Name() string { return "updateInstanceStatus" }

func (op *statusOp) Run(ctx context.Context) (marketplace.Reply, error) {
	ch, err := op.s.Store.SetStatus(ctx, op.instanceID, op.target)
	return op.s.settle(ctx, ch, err)
}

type releaseOp struct {
	s                                *Service
	instanceID, orderID, orderLineID string
}

func (op *releaseOp) Name() string { return "releaseInstance" }

// Run releases the instance. Releasing an unknown or already released instance
// succeeds: a retry after a successful release must not fail (docs/protocol.md#releaseinstance).
func (op *releaseOp) Run(ctx context.Context) (marketplace.Reply, error) {
	ch, err := op.s.Store.Release(ctx, op.instanceID, op.orderID, op.orderLineID)
	if errors.Is(err, store.ErrNotFound) {
		err = nil
	}
	return op.s.settle(ctx, ch, err)
}

type upgradeOp struct {
	s                                *Service
	instanceID, orderID, orderLineID string
}

func (op *upgradeOp) Name() string { return "upgradeInstance" }

func (op *upgradeOp) Run(ctx context.Context) (marketplace.Reply, error) {
	ch, err := op.s.Store.RecordUpgrade(ctx, op.instanceID, op.orderID, op.orderLineID)
	return op.s.settle(ctx, ch, err)
}

type changeCheckOp struct {
	s          *Service
	instanceID string
	target     provision.Product
}

func (op *changeCheckOp) Name() string { return "changeInstanceCheck" }

// Run asks the provisioner whether the renewal change is allowed. The rejection
// code is undocumented; a rejection answers 000005 with the provisioner's reason.
func (op *changeCheckOp) Run(ctx context.Context) (marketplace.Reply, error) {
	inst, err := op.s.Store.Instance(ctx, op.instanceID)
	if errors.Is(err, store.ErrNotFound) {
		return marketplace.NewResult(marketplace.InstanceNotFound, ""), nil
	}
	if err != nil {
		return nil, err
	}
	if err := op.s.Provisioner.CheckChange(ctx, inst, op.target); err != nil {
		if p, ok := provision.IsPermanent(err); ok {
			code := p.Code
			if !code.Valid() || code == marketplace.Success {
				code = marketplace.InternalError
			}
			return marketplace.NewResult(code, "change not allowed: "+p.Reason), nil
		}
		return nil, fmt.Errorf("checking change: %w", err)
	}
	return marketplace.NewResult(marketplace.Success, ""), nil
}

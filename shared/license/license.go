// Package license implements the License production interface
// (docs/protocol.md#license): getLicenseAsync of online-License products, the
// license-code (授权码 2.0) lifecycle calls refreshLicenseCode,
// updateLicenseCodeStatus and releaseLicenseCode, and, through shared/saas, the
// instance activities that online-License products also receive on the same URL.
// The license itself is made and uploaded by a worker job (jobs.go).
package license

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/kgseller/kgseller/shared/endpoint"
	"github.com/kgseller/kgseller/shared/marketplace"
	"github.com/kgseller/kgseller/shared/reqbody"
	"github.com/kgseller/kgseller/shared/store"
)

// getLicenseAsync result codes (docs/protocol.md#result-codes-license).
const (
	CodeQuotaExhausted     marketplace.Code = "000900"
	CodeOutsideValidity    marketplace.Code = "000901"
	CodeExpireRequired     marketplace.Code = "000902"
	CodeFingerprintMissing marketplace.Code = "000903"
)

// Field lengths from the tables of docs/protocol.md#license.
const (
	lenID          = 64
	lenActivity    = 32
	lenTime        = 32
	lenFingerprint = 1024
	lenScene       = 64
	lenStatus      = 32
	lenExpire      = 20
)

// expireSlack is how far a license may outlive the instance's known expiry (the
// two are stated in different formats and rounded differently).
const expireSlack = 24 * time.Hour

// Service holds what the activities need.
type Service struct {
	Store *store.Store
	// Instances decodes the instance activities of online-License products (the
	// SaaS basic activities, served on this address too); nil answers them as
	// unknown activities.
	Instances endpoint.Decoder
	// Quota is how many licenses one instance may hold (000900 beyond it); 0 means
	// unlimited.
	Quota int
	// DeviceBound makes deviceFingerprint mandatory (000903 without it).
	DeviceBound bool
	// Fulfil, when set, hands a job on right after the change that wrote it
	// commits, and reports whether the job ran in the request (FULFIL_MODE=inline).
	Fulfil func(ctx context.Context, jobID int64) (ran bool)
}

var bad = reqbody.Bad

// Decode validates a verified body and returns the operation for its activity;
// activities other than the License ones go to shared/saas.
func (s *Service) Decode(body []byte) (endpoint.Operation, error) {
	o, act, err := reqbody.ParseActivity(body, lenActivity)
	if err != nil {
		return nil, err
	}
	activity, test := act.Name, act.Test
	switch activity {
	case "getLicenseAsync":
		return s.decodeGetLicense(o, test)
	case "refreshLicenseCode":
		return s.decodeRefreshCode(o, test)
	case "updateLicenseCodeStatus":
		return s.decodeCodeStatus(o, test)
	case "releaseLicenseCode":
		return s.decodeReleaseCode(o, test)
	}
	if s.Instances != nil {
		return s.Instances(body)
	}
	return nil, bad("unknown activity %q", marketplace.Clip(activity, 32))
}

func (s *Service) decodeGetLicense(o reqbody.Object, test bool) (endpoint.Operation, error) {
	op := &getLicenseOp{s: s, test: test}
	var err error
	if op.instanceID, err = o.ID("instanceId", lenID, true); err != nil {
		return nil, err
	}
	if op.eventID, err = o.ID("eventId", lenID, true); err != nil {
		return nil, err
	}
	eff, err := o.String("effectiveTime", lenTime, true)
	if err != nil {
		return nil, err
	}
	if op.effective, err = ParseTime(eff); err != nil {
		return nil, bad("effectiveTime: %v", err)
	}
	exp, err := o.String("expireTime", lenTime, false)
	if err != nil {
		return nil, err
	}
	if exp != "" {
		t, err := ParseTime(exp)
		if err != nil {
			return nil, bad("expireTime: %v", err)
		}
		if !t.After(op.effective) {
			return nil, bad("expireTime must be after effectiveTime")
		}
		op.expire = &t
	}
	if op.fingerprint, err = o.ID("deviceFingerprint", lenFingerprint, false); err != nil {
		return nil, err
	}
	return op, nil
}

func (s *Service) decodeRefreshCode(o reqbody.Object, test bool) (endpoint.Operation, error) {
	op := &refreshCodeOp{s: s}
	op.r.TestFlag = test
	for _, f := range []struct {
		name string
		dst  *string
		max  int
		req  bool
	}{
		{"scene", &op.r.Scene, lenScene, true}, {"orderId", &op.r.OrderID, lenID, true},
		{"orderLineId", &op.r.OrderLineID, lenID, true}, {"license", &op.r.Code, lenID, true},
		{"productId", &op.r.ProductID, lenID, false},
	} {
		v, err := o.ID(f.name, f.max, f.req)
		if err != nil {
			return nil, err
		}
		*f.dst = v
	}
	if op.r.Scene != "RENEWAL" && op.r.Scene != "UNSUBSCRIBE_RENEWAL_PERIOD" {
		return nil, bad("scene must be RENEWAL or UNSUBSCRIBE_RENEWAL_PERIOD")
	}
	exp, err := o.String("expireTime", lenExpire, true)
	if err != nil {
		return nil, err
	}
	if op.r.ExpireTime, err = reqbody.ParseExpireTime(exp); err != nil {
		return nil, err
	}
	return op, nil
}

func (s *Service) decodeCodeStatus(o reqbody.Object, test bool) (endpoint.Operation, error) {
	code, err := o.ID("license", lenID, true)
	if err != nil {
		return nil, err
	}
	status, err := o.String("status", lenStatus, true)
	if err != nil {
		return nil, err
	}
	op := &codeStatusOp{s: s, code: code, test: test}
	switch status {
	case "FREEZE":
		op.target = store.CodeFrozen
	case "UNFREEZE":
		op.target = store.CodeNormal
	default:
		return nil, bad("status must be FREEZE or UNFREEZE")
	}
	return op, nil
}

func (s *Service) decodeReleaseCode(o reqbody.Object, test bool) (endpoint.Operation, error) {
	op := &releaseCodeOp{s: s, test: test}
	var err error
	if op.code, err = o.ID("license", lenID, true); err != nil {
		return nil, err
	}
	if op.orderID, err = o.ID("orderId", lenID, false); err != nil {
		return nil, err
	}
	if op.orderLineID, err = o.ID("orderLineId", lenID, false); err != nil {
		return nil, err
	}
	return op, nil
}

type getLicenseOp struct {
	s                                *Service
	instanceID, eventID, fingerprint string
	effective                        time.Time
	expire                           *time.Time
	test                             bool
}

func (op *getLicenseOp) Name() string { return "getLicenseAsync" }

// Run returns the event's license, creating it on the first call. A repeat of the
// event (same eventId and deviceFingerprint) never makes a new license: the unique
// key decides between concurrent first calls, and every call answers for the one
// license stored. 000004 means the worker is still making or uploading it; 000000
// that the marketplace has it (for a debug event, that it is made).
func (op *getLicenseOp) Run(ctx context.Context) (marketplace.Reply, error) {
	st := op.s.Store
	look, err := st.LookupLicense(ctx, op.eventID, op.fingerprint, op.instanceID)
	if err != nil {
		return nil, err
	}
	if look.License != nil {
		return op.s.answerRepeat(ctx, *look.License, look.JobID, look.JobState)
	}
	if op.s.DeviceBound && op.fingerprint == "" {
		return marketplace.NewResult(CodeFingerprintMissing, "deviceFingerprint is required for this product"), nil
	}
	if look.Instance == nil {
		return marketplace.NewResult(marketplace.InstanceNotFound, "instance does not exist"), nil
	}
	if refusal := op.checkOrder(*look.Instance, look.Details); refusal != nil {
		return refusal, nil
	}
	res, err := st.CreateLicense(ctx, store.License{
		EventID: op.eventID, DeviceFingerprint: op.fingerprint, InstanceID: op.instanceID,
		EffectiveTime: op.effective, ExpireTime: op.expire, TestFlag: op.test,
	}, op.s.Quota, JobIssue)
	if errors.Is(err, store.ErrLicenseQuota) {
		return marketplace.NewResult(CodeQuotaExhausted, "not enough license quota left on the instance's order"), nil
	}
	if err != nil {
		return nil, err
	}
	if !res.New {
		// A concurrent call created it first; its job is not known here.
		return op.s.answerRepeat(ctx, res.License, 0, "")
	}
	lic := res.License
	if op.s.fulfil(ctx, res.JobID) {
		if fresh, err := st.License(ctx, lic.ID); err == nil {
			lic = fresh
		}
	}
	return answer(lic), nil
}

// fulfil hands a job on and reports whether it ran in the request, so that what
// it changed is read again only then.
func (s *Service) fulfil(ctx context.Context, jobID int64) bool {
	return s.Fulfil != nil && jobID != 0 && s.Fulfil(ctx, jobID)
}

// checkOrder applies the rules that depend on the instance's order: its expiry
// (set by a renewal, or recorded from Query Order, details) bounds the license,
// and a period order requires expireTime. Rules whose facts are not known yet are
// not applied. A frozen or released instance gets no new license, except in a
// debug call: the marketplace replays its saved debug cases in any order, so the
// debug instance may have been frozen or released by an earlier case, and every
// case must pass.
func (op *getLicenseOp) checkOrder(inst marketplace.Instance, d *store.OrderDetails) marketplace.Reply {
	if !op.test && (inst.Status == marketplace.Released || inst.Status == marketplace.Frozen) {
		return marketplace.NewResult(CodeOutsideValidity, "the instance is "+strings.ToLower(string(inst.Status)))
	}
	var orderExpiry *time.Time
	period := inst.ExpireTime != nil
	if inst.ExpireTime != nil {
		orderExpiry = inst.ExpireTime
	}
	if d != nil {
		period = period || d.ChargingMode == "PERIOD"
		if orderExpiry == nil && d.ExpireTime.Valid {
			orderExpiry = &d.ExpireTime.Time
		}
	}
	if period && op.expire == nil {
		return marketplace.NewResult(CodeExpireRequired, "expireTime is required for a period license")
	}
	if orderExpiry != nil {
		if op.effective.After(*orderExpiry) || (op.expire != nil && op.expire.After(orderExpiry.Add(expireSlack))) {
			return marketplace.NewResult(CodeOutsideValidity, "the license is outside the order's validity window")
		}
	}
	return nil
}

// answerRepeat answers for a license that exists, whose job (jobID, in jobState;
// 0 when not known) was read with it. A license whose job gave up is given a new
// start: the marketplace's retries are what keep it going. A license already
// uploaded is uploaded again, the same stored document under the same eventId:
// the marketplace resends a request when it did not get the license, and the
// guide asks for the license created before ("返回之前成功创建的License即可").
func (s *Service) answerRepeat(ctx context.Context, lic store.License, jobID int64, jobState string) (marketplace.Reply, error) {
	states := []string{store.JobDead}
	if lic.State == store.LicenseUploaded {
		states = append(states, store.JobDone)
	}
	var rerun bool
	var err error
	switch {
	case jobID == 0:
		jobID, rerun, err = s.Store.RerunJob(ctx, store.LicenseJobKey(lic.ID), states...)
	case slices.Contains(states, jobState):
		rerun, err = s.Store.RerunJobID(ctx, jobID, states...)
	}
	if err != nil {
		return nil, err
	}
	if rerun && s.fulfil(ctx, jobID) {
		if fresh, err := s.Store.License(ctx, lic.ID); err == nil {
			lic = fresh
		}
	}
	return answer(lic), nil
}

func answer(lic store.License) marketplace.Result {
	if lic.State == store.LicenseUploaded || (lic.TestFlag && lic.Document != nil) {
		return marketplace.NewResult(marketplace.Success, "")
	}
	return marketplace.NewResult(marketplace.Processing, "the license is being issued")
}

type refreshCodeOp struct {
	s *Service
	r store.CodeRefresh
}

func (op *refreshCodeOp) Name() string { return "refreshLicenseCode" }

// Run sets the code's expiry for the order; repeats and released codes answer
// 000000 without changing anything.
func (op *refreshCodeOp) Run(ctx context.Context) (marketplace.Reply, error) {
	if err := op.s.Store.RefreshLicenseCode(ctx, op.r); err != nil {
		return nil, err
	}
	return marketplace.NewResult(marketplace.Success, ""), nil
}

type codeStatusOp struct {
	s      *Service
	code   string
	target string
	test   bool
}

func (op *codeStatusOp) Name() string { return "updateLicenseCodeStatus" }

func (op *codeStatusOp) Run(ctx context.Context) (marketplace.Reply, error) {
	if err := op.s.Store.SetLicenseCodeStatus(ctx, op.code, op.target, op.test); err != nil {
		return nil, err
	}
	return marketplace.NewResult(marketplace.Success, ""), nil
}

type releaseCodeOp struct {
	s                          *Service
	code, orderID, orderLineID string
	test                       bool
}

func (op *releaseCodeOp) Name() string { return "releaseLicenseCode" }

func (op *releaseCodeOp) Run(ctx context.Context) (marketplace.Reply, error) {
	if err := op.s.Store.ReleaseLicenseCode(ctx, op.code, op.orderID, op.orderLineID, op.test); err != nil {
		return nil, err
	}
	return marketplace.NewResult(marketplace.Success, ""), nil
}

// ParseTime reads a License time. The documented example is "2023-10-27 10:30:15 z"
// (sic); also accepted are a "Z", "UTC" or "GMT" suffix or none (UTC), fractional
// seconds, RFC 3339, and 14 or 17 digits (yyyyMMddHHmmss[SSS], UTC).
func ParseTime(s string) (time.Time, error) {
	v := strings.TrimSpace(s)
	if t, err := time.Parse(time.RFC3339Nano, v); err == nil {
		return t.UTC(), nil
	}
	if allDigits(v) && (len(v) == 14 || len(v) == 17) {
		return reqbody.ParseExpireTime(v)
	}
	upper := strings.ToUpper(v)
	for _, suffix := range []string{" UTC", " GMT", " Z", "Z"} {
		if strings.HasSuffix(upper, suffix) {
			v = strings.TrimSpace(v[:len(v)-len(suffix)])
			break
		}
	}
	for _, layout := range []string{"2006-01-02 15:04:05.999999999", "2006-01-02T15:04:05.999999999"} {
		if t, err := time.ParseInLocation(layout, v, time.UTC); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("%q is not a time such as \"2023-10-27 10:30:15 z\"", marketplace.Clip(s, 40))
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

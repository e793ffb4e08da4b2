package license

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/kgseller/kgseller/shared/fulfil"
	"github.com/kgseller/kgseller/shared/licensefile"
	"github.com/kgseller/kgseller/shared/marketplace"
	"github.com/kgseller/kgseller/shared/openapi"
	"github.com/kgseller/kgseller/shared/provision"
	"github.com/kgseller/kgseller/shared/store"
)

// JobIssue is the job kind that makes and uploads the license of an event.
const JobIssue = "license.issue"

// Jobs runs the license jobs.
type Jobs struct {
	Store *store.Store
	// Orders answers Query Order for the product and customer of the license; nil
	// makes licenses without them.
	Orders fulfil.OrderSource
	// Signer signs documents with the seller's key; without one the jobs wait
	// (retry) until it is configured.
	Signer *licensefile.Signer
	// Uploader delivers documents; without one the jobs wait until it is configured.
	Uploader Uploader
	// Features maps a skuCode or productId (or "*" for any) to the features a
	// license grants.
	Features map[string][]string
}

// Handlers returns the handler of JobIssue. The document is made once and stored
// before it is uploaded, so every retry, and every upload a repeated request asks
// for, sends identical bytes; the first upload is recorded together with the job's
// end, so a license has at most one recorded upload however often the job runs.
func (j Jobs) Handlers() map[string]fulfil.Handler {
	return map[string]fulfil.Handler{JobIssue: {Run: j.issue}}
}

func permanent(reason string) error {
	return &provision.Permanent{Code: marketplace.InternalError, Reason: reason}
}

func (j Jobs) issue(ctx context.Context, job store.Job) (store.Effect, error) {
	var ref struct {
		LicenseID int64 `json:"licenseId"`
	}
	if err := json.Unmarshal([]byte(job.Payload.String), &ref); err != nil || ref.LicenseID == 0 {
		return nil, permanent("license job without a license id")
	}
	lic, err := j.Store.License(ctx, ref.LicenseID)
	if errors.Is(err, store.ErrNotFound) {
		return nil, permanent(fmt.Sprintf("license %d does not exist", ref.LicenseID))
	}
	if err != nil {
		return nil, err
	}
	// An uploaded license runs again only when a repeated getLicenseAsync asked for
	// it: its stored document is uploaded again, never remade.
	var effect store.Effect
	if lic.Document == nil {
		if lic, effect, err = j.makeDocument(ctx, lic); err != nil {
			return nil, err
		}
	}
	if j.Uploader == nil {
		return nil, errors.New("no open-API credentials to upload licenses with (HUAWEICLOUD_SDK_AK/SK)")
	}
	up, err := j.Uploader.Upload(ctx, lic.EventID, fileName(lic.EventID), lic.Document)
	if err != nil {
		if temporary(err) {
			return nil, fmt.Errorf("uploading license %d: %w", lic.ID, err)
		}
		return nil, permanent(fmt.Sprintf("uploading license %d: %v", lic.ID, err))
	}
	return append(effect, store.RecordLicenseUpload(store.LicenseUpload{
		LicenseID: lic.ID, EventID: lic.EventID, FileName: up.FileName, SHA256: up.SHA256, AnswerCode: up.AnswerCode,
	})...), nil
}

// makeDocument builds, signs and stores the license document; the stored one wins
// if another run stored it first. It also returns the order details to record.
func (j Jobs) makeDocument(ctx context.Context, lic store.License) (store.License, store.Effect, error) {
	if j.Signer == nil {
		return lic, nil, errors.New("KG_LICENSE_SIGNING_KEY is not configured")
	}
	inst, err := j.Store.Instance(ctx, lic.InstanceID)
	if errors.Is(err, store.ErrNotFound) {
		return lic, nil, permanent("instance " + lic.InstanceID + " does not exist")
	}
	if err != nil {
		return lic, nil, err
	}
	p := licensefile.Payload{
		LicenseID: LicenseID(lic), EventID: lic.EventID, InstanceID: inst.InstanceID,
		OrderID: inst.OrderID, OrderLineID: inst.OrderLineID,
		EffectiveTime: lic.EffectiveTime.UTC(), DeviceFingerprint: lic.DeviceFingerprint,
		Test: lic.TestFlag, IssuedAt: lic.CreatedAt.UTC().Truncate(time.Second),
	}
	if lic.ExpireTime != nil {
		t := lic.ExpireTime.UTC()
		p.ExpireTime = &t
	}
	var details store.Effect
	if j.Orders != nil {
		o, err := j.Orders.QueryOrder(ctx, inst.OrderID, inst.OrderLineID)
		if err != nil {
			if openapi.Temporary(err) {
				return lic, nil, fmt.Errorf("querying order %s: %w", inst.OrderID, err)
			}
			return lic, nil, permanent("querying order " + inst.OrderID + ": " + err.Error())
		}
		d := fulfil.OrderDetailsOf(o, inst.OrderLineID)
		d.OrderID, d.OrderLineID = inst.OrderID, inst.OrderLineID
		p.Product = licensefile.Product{ProductID: d.ProductID, SKUCode: d.SKUCode, ProductName: d.ProductName, Quantity: d.LinearValue}
		p.Customer = licensefile.Customer{CustomerID: d.CustomerID, CustomerName: d.CustomerName}
		details = store.RecordOrderDetails(d)
	}
	p.Features = j.features(p.Product)
	doc, err := j.Signer.Sign(p)
	if err != nil {
		return lic, nil, permanent(err.Error())
	}
	stored, err := j.Store.SetLicenseDocument(ctx, lic.ID, doc, j.Signer.KeyID())
	if err != nil {
		return lic, nil, err
	}
	return stored, details, nil
}

func (j Jobs) features(p licensefile.Product) []string {
	for _, k := range []string{p.SKUCode, p.ProductID, "*"} {
		if f, ok := j.Features[k]; ok && k != "" {
			return append([]string{}, f...)
		}
	}
	return []string{}
}

// LicenseID is the public identifier of a license, derived from its event and
// fingerprint so that it reveals nothing about the seller's other licenses.
func LicenseID(lic store.License) string {
	sum := sha256.Sum256([]byte(lic.EventID + "\x00" + lic.FingerprintKey))
	return "LIC-" + hex.EncodeToString(sum[:12])
}

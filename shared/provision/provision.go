// Package provision is the seam between the production interface and the seller's
// own application: it creates the application side of an instance and hears about
// renewals, freezes and releases. The built-in Static provisioner completes every
// instance at once with URLs from a template, for demos, debug cases and the local
// run.
package provision

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"

	"github.com/kgseller/kgseller/shared/marketplace"
)

// Product is the target of a spec change, as changeInstanceCheck carries it.
type Product struct {
	ProductID   string
	SKUCode     string
	ProductName string
	LinearValue *int64
}

// Provisioner is implemented by the seller's application adapter.
type Provisioner interface {
	// Provision creates the application side of an instance and returns how the
	// buyer reaches it. A *Permanent error fails the instance at once; any other
	// error is retried with backoff.
	Provision(ctx context.Context, inst marketplace.Instance) (marketplace.AppInfo, error)
	// Notify tells the application about a lifecycle event (refresh, freeze,
	// unfreeze, release, upgrade). payload is the job's JSON detail.
	Notify(ctx context.Context, kind string, inst marketplace.Instance, payload []byte) error
	// CheckChange answers changeInstanceCheck: nil allows the change, a *Permanent
	// error rejects it with its code and reason.
	CheckChange(ctx context.Context, inst marketplace.Instance, target Product) error
}

// Permanent is a failure that retrying cannot fix; Code is what the marketplace is
// told (000100–000107 for creation, 000005 otherwise).
type Permanent struct {
	Code   marketplace.Code
	Reason string
}

func (p *Permanent) Error() string { return fmt.Sprintf("%s: %s", p.Code, p.Reason) }

// IsPermanent reports whether err is a *Permanent and returns it.
func IsPermanent(err error) (*Permanent, bool) {
	var p *Permanent
	ok := errors.As(err, &p)
	return p, ok
}

// Static completes every instance immediately. FrontEndURL and AdminURL are
// templates in which {instanceId}, {orderId} and {orderLineId} are replaced with the
// URL-escaped values.
type Static struct {
	FrontEndURL string
	AdminURL    string
	Memo        string
}

// Provision implements Provisioner.
func (s Static) Provision(_ context.Context, inst marketplace.Instance) (marketplace.AppInfo, error) {
	front := expand(s.FrontEndURL, inst)
	if front == "" {
		return marketplace.AppInfo{}, &Permanent{Code: marketplace.InternalError, Reason: "no front-end URL template configured"}
	}
	return marketplace.AppInfo{FrontEndURL: front, AdminURL: expand(s.AdminURL, inst), Memo: s.Memo}, nil
}

// Notify implements Provisioner; the static application has nothing to change.
func (Static) Notify(context.Context, string, marketplace.Instance, []byte) error { return nil }

// CheckChange implements Provisioner; every change is allowed.
func (Static) CheckChange(context.Context, marketplace.Instance, Product) error { return nil }

func expand(tmpl string, inst marketplace.Instance) string {
	if tmpl == "" {
		return ""
	}
	return strings.NewReplacer(
		"{instanceId}", url.PathEscape(inst.InstanceID),
		"{orderId}", url.PathEscape(inst.OrderID),
		"{orderLineId}", url.PathEscape(inst.OrderLineID),
	).Replace(tmpl)
}

// Package provision is the seam between the production interface and the seller's
// own application: it creates the application side of an instance and tells it about
// renewals, freezes, releases and upgrades. Two provisioners are built in: Static,
// which completes every instance at once with URLs from a template (demos, debug
// cases, the local run), and Webhook, which calls the seller's application over a
// signed HTTPS webhook.
package provision

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"

	"github.com/kgseller/kgseller/shared/marketplace"
	"github.com/kgseller/kgseller/shared/openapi"
)

// Product is the target of a spec change, as changeInstanceCheck carries it.
type Product struct {
	ProductID   string `json:"productId"`
	SKUCode     string `json:"skuCode"`
	ProductName string `json:"productName"`
	// LinearValue is the quantity as the marketplace sent it: documented as an
	// integer, accepted as any decimal number; "" when absent.
	LinearValue json.Number `json:"linearValue,omitempty"`
}

// Request is one event for the application.
type Request struct {
	// Kind is the job kind: provision, refresh, freeze, unfreeze, release, upgrade.
	Kind string
	// Key identifies the event; a receiver that sees a key twice must not act twice.
	Key      string
	Instance marketplace.Instance
	// Order is the marketplace order behind the event (Query Order), when one was
	// queried: the purchase for provision, the upgrade order for upgrade.
	Order *openapi.Order
	// Payload is the event's detail as JSON (refresh: scene, expireTime, productId).
	Payload json.RawMessage
}

// Provisioner is implemented by the seller's application adapter.
type Provisioner interface {
	// Provision creates the application side of an instance and returns how the
	// buyer reaches it, or nil when the application accepted the request and will
	// report completion through the provisioning callback. A *Permanent error fails
	// the instance at once; any other error is retried with backoff.
	Provision(ctx context.Context, req Request) (*marketplace.AppInfo, error)
	// Notify delivers a lifecycle event (refresh, freeze, unfreeze, release, upgrade).
	Notify(ctx context.Context, req Request) error
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
func (s Static) Provision(_ context.Context, req Request) (*marketplace.AppInfo, error) {
	front := expand(s.FrontEndURL, req.Instance)
	if front == "" {
		return nil, &Permanent{Code: marketplace.InternalError, Reason: "no front-end URL template configured"}
	}
	return &marketplace.AppInfo{FrontEndURL: front, AdminURL: expand(s.AdminURL, req.Instance), Memo: s.Memo}, nil
}

// Notify implements Provisioner; the static application has nothing to change.
func (Static) Notify(context.Context, Request) error { return nil }

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

package provision

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"time"

	"github.com/kgseller/kgseller/shared/marketplace"
	"github.com/kgseller/kgseller/shared/openapi"
	"github.com/kgseller/kgseller/shared/sellerhook"
)

// Webhook calls the seller's application over HTTPS with signed JSON events (see
// docs/webhook.md for the contract).
type Webhook struct {
	URL     string
	Secrets sellerhook.Secrets
	HTTP    *http.Client
	Now     func() time.Time
	// AllowHTTP accepts http URLs, for the webhook and in the application's
	// answers (local runs and tests only).
	AllowHTTP bool
}

// NewWebhook checks the URL (https unless allowHTTP, which only the local run and
// tests set) and builds a webhook provisioner with strict TLS and a 10 s timeout.
func NewWebhook(rawURL string, secrets sellerhook.Secrets, allowHTTP bool) (*Webhook, error) {
	u, err := url.Parse(rawURL)
	if err != nil || u.Host == "" || (u.Scheme != "https" && !(allowHTTP && u.Scheme == "http")) {
		return nil, errors.New("provision: the webhook URL must be an absolute https URL")
	}
	return &Webhook{
		URL:       rawURL,
		Secrets:   secrets,
		AllowHTTP: allowHTTP,
		HTTP: &http.Client{
			Timeout: 10 * time.Second,
			Transport: &http.Transport{
				DialContext:           (&net.Dialer{Timeout: 5 * time.Second}).DialContext,
				TLSClientConfig:       &tls.Config{MinVersion: tls.VersionTLS12},
				TLSHandshakeTimeout:   5 * time.Second,
				ResponseHeaderTimeout: 10 * time.Second,
				MaxIdleConnsPerHost:   2,
			},
			// A provisioning call must reach the configured application, not
			// wherever a redirect points.
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		},
	}, nil
}

// CheckURL checks a URL the application hands over (frontEndUrl, adminUrl,
// dashboardUrl), which buyers will open from the marketplace: it must be an
// absolute https URL (http only with allowHTTP), without user information or
// control characters. The error names the field, for the application to read.
func CheckURL(field, raw string, allowHTTP bool) error {
	u, err := url.Parse(raw)
	want := "an absolute https URL"
	if allowHTTP {
		want = "an absolute https or http URL"
	}
	if err != nil || u.Host == "" || u.User != nil || marketplace.SafeText(raw, 0) != raw ||
		(u.Scheme != "https" && !(allowHTTP && u.Scheme == "http")) {
		return fmt.Errorf("%s must be %s", field, want)
	}
	return nil
}

// CheckAppURLs applies CheckURL to the URLs of an application's access information;
// adminUrl may be empty.
func CheckAppURLs(app marketplace.AppInfo, allowHTTP bool) error {
	if err := CheckURL("frontEndUrl", app.FrontEndURL, allowHTTP); err != nil {
		return err
	}
	if app.AdminURL != "" {
		return CheckURL("adminUrl", app.AdminURL, allowHTTP)
	}
	return nil
}

// Event is the JSON body of a webhook call.
type Event struct {
	ID        string          `json:"id"`
	Type      string          `json:"type"`
	CreatedAt string          `json:"createdAt"`
	TestFlag  bool            `json:"testFlag"`
	Instance  EventInstance   `json:"instance"`
	Order     *openapi.Order  `json:"order,omitempty"`
	Buyer     *openapi.Buyer  `json:"buyer,omitempty"`
	Product   *Product        `json:"product,omitempty"`
	Period    *EventPeriod    `json:"period,omitempty"`
	Detail    json.RawMessage `json:"detail,omitempty"`
}

// EventInstance is the instance part of an Event.
type EventInstance struct {
	InstanceID  string `json:"instanceId"`
	OrderID     string `json:"orderId"`
	OrderLineID string `json:"orderLineId"`
	Status      string `json:"status"`
	ExpireTime  string `json:"expireTime,omitempty"`
}

// EventPeriod is the billing period of the order line.
type EventPeriod struct {
	ChargingMode string `json:"chargingMode"`
	PeriodType   string `json:"periodType,omitempty"`
	PeriodNumber string `json:"periodNumber,omitempty"`
	ExpireTime   string `json:"expireTime,omitempty"`
}

// event builds the body for a request.
func (w *Webhook) event(typ string, req Request) Event {
	now := time.Now
	if w.Now != nil {
		now = w.Now
	}
	inst := req.Instance
	ev := Event{
		ID: req.Key, Type: typ, CreatedAt: now().UTC().Format(time.RFC3339), TestFlag: inst.TestFlag,
		Instance: EventInstance{InstanceID: inst.InstanceID, OrderID: inst.OrderID, OrderLineID: inst.OrderLineID, Status: string(inst.Status)},
		Order:    req.Order, Detail: req.Payload,
	}
	if inst.ExpireTime != nil {
		ev.Instance.ExpireTime = inst.ExpireTime.UTC().Format("20060102150405")
	}
	if req.Order != nil {
		ev.Buyer = req.Order.BuyerInfo
		lineID := inst.OrderLineID
		if req.Kind != marketplace.JobProvision {
			lineID = ""
		}
		if line, ok := req.Order.Line(lineID); ok {
			ev.Period = &EventPeriod{ChargingMode: string(line.ChargingMode), PeriodType: string(line.PeriodType), PeriodNumber: string(line.PeriodNumber), ExpireTime: string(line.ExpireTime)}
			if len(line.ProductInfo) > 0 {
				p := line.ProductInfo[0]
				ev.Product = &Product{ProductID: string(p.ProductID), SKUCode: string(p.SKUCode), ProductName: string(p.ProductName)}
			}
		}
	}
	return ev
}

// answer is what the application may send back.
type answer struct {
	marketplace.AppInfo
	Allowed    *bool  `json:"allowed"`
	ResultCode string `json:"resultCode"`
	Reason     string `json:"reason"`
}

// post sends a signed event and classifies the outcome.
func (w *Webhook) post(ctx context.Context, ev Event) (int, answer, error) {
	body, err := json.Marshal(ev)
	if err != nil {
		return 0, answer{}, fmt.Errorf("provision: encoding event: %w", err)
	}
	now := time.Now
	if w.Now != nil {
		now = w.Now
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, w.URL, bytes.NewReader(body))
	if err != nil {
		return 0, answer{}, fmt.Errorf("provision: webhook request: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("KG-Event-Id", ev.ID)
	req.Header.Set("KG-Event-Type", ev.Type)
	req.Header.Set(sellerhook.Header, w.Secrets.Sign(body, now()))
	resp, err := w.HTTP.Do(req)
	if err != nil {
		return 0, answer{}, fmt.Errorf("provision: webhook %s: %w", ev.Type, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if err != nil {
		return 0, answer{}, fmt.Errorf("provision: reading webhook answer: %w", err)
	}
	var a answer
	if len(bytes.TrimSpace(raw)) > 0 {
		_ = json.Unmarshal(raw, &a)
	}
	switch {
	case resp.StatusCode >= 200 && resp.StatusCode < 300:
		return resp.StatusCode, a, nil
	case resp.StatusCode >= 500 || resp.StatusCode == http.StatusRequestTimeout || resp.StatusCode == http.StatusTooManyRequests:
		return resp.StatusCode, a, fmt.Errorf("provision: webhook %s answered HTTP %d", ev.Type, resp.StatusCode)
	}
	code := marketplace.Code(a.ResultCode)
	if !code.Valid() || code == marketplace.Success {
		code = marketplace.InternalError
	}
	reason := marketplace.SafeText(a.Reason, marketplace.MaxMessageLen)
	if reason == "" {
		reason = fmt.Sprintf("webhook %s answered HTTP %d", ev.Type, resp.StatusCode)
	}
	return resp.StatusCode, a, &Permanent{Code: code, Reason: reason}
}

// Provision implements Provisioner: 200 with the access information completes the
// instance, 202 means the application will call back.
func (w *Webhook) Provision(ctx context.Context, req Request) (*marketplace.AppInfo, error) {
	status, a, err := w.post(ctx, w.event("instance.provision", req))
	if err != nil {
		return nil, err
	}
	if status == http.StatusAccepted {
		return nil, nil
	}
	app := a.AppInfo
	if err := CheckAppURLs(app, w.AllowHTTP); err != nil {
		return nil, &Permanent{Code: marketplace.InternalError, Reason: "the application's answer: " + err.Error()}
	}
	return &app, nil
}

// Notify implements Provisioner.
func (w *Webhook) Notify(ctx context.Context, req Request) error {
	_, _, err := w.post(ctx, w.event("instance."+req.Kind, req))
	return err
}

// CheckChange implements Provisioner: {"allowed": false, "reason": "..."} or HTTP
// 409 rejects the change.
func (w *Webhook) CheckChange(ctx context.Context, inst marketplace.Instance, target Product) error {
	detail, _ := json.Marshal(target)
	ev := w.event("instance.change_check", Request{Kind: "change_check", Key: "change_check:" + inst.InstanceID, Instance: inst, Payload: detail})
	_, a, err := w.post(ctx, ev)
	if err != nil {
		return err
	}
	if a.Allowed != nil && !*a.Allowed {
		reason := marketplace.SafeText(a.Reason, marketplace.MaxMessageLen)
		if reason == "" {
			reason = "the application does not allow this change"
		}
		return &Permanent{Code: marketplace.InternalError, Reason: reason}
	}
	return nil
}

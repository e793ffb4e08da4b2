package provision

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/kgseller/kgseller/shared/marketplace"
	"github.com/kgseller/kgseller/shared/openapi"
	"github.com/kgseller/kgseller/shared/sellerhook"
)

// receiver is a seller application that checks signatures and answers as told.
type receiver struct {
	secrets sellerhook.Secrets
	status  int
	body    string
	events  []Event
	badSig  int
}

func (r *receiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	body, _ := io.ReadAll(req.Body)
	if err := r.secrets.Verify(req.Header.Get(sellerhook.Header), body, time.Now(), 0); err != nil {
		r.badSig++
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	var ev Event
	_ = json.Unmarshal(body, &ev)
	if req.Header.Get("KG-Event-Id") != ev.ID || req.Header.Get("KG-Event-Type") != ev.Type {
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	r.events = append(r.events, ev)
	w.WriteHeader(r.status)
	_, _ = io.WriteString(w, r.body)
}

func newWebhook(t *testing.T, rec *receiver) *Webhook {
	t.Helper()
	srv := httptest.NewServer(rec)
	t.Cleanup(srv.Close)
	w, err := NewWebhook(srv.URL, rec.secrets, true)
	if err != nil {
		t.Fatal(err)
	}
	return w
}

func request() Request {
	exp := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	return Request{
		Kind: marketplace.JobProvision, Key: "provision:i-1",
		Instance: marketplace.Instance{InstanceID: "i-1", OrderID: "CS1", OrderLineID: "CS1-1", Status: marketplace.Normal, TestFlag: true, ExpireTime: &exp},
		Order: &openapi.Order{OrderID: "CS1", OrderType: "NEW", OrderLine: []openapi.OrderLine{{
			OrderLineID: "CS1-1", ChargingMode: "PERIOD", PeriodType: "month", PeriodNumber: "1",
			ProductInfo: []openapi.Product{{ProductID: "P1", SKUCode: "S1", ProductName: "Basic"}},
		}}, BuyerInfo: &openapi.Buyer{CustomerID: "cust-1"}},
	}
}

func TestWebhookProvision(t *testing.T) {
	secrets, _ := sellerhook.NewSecrets("hook-secret")
	rec := &receiver{secrets: secrets, status: 200, body: `{"frontEndUrl":"https://app/i-1","userName":"admin","password":"pw","ignored":1}`}
	w := newWebhook(t, rec)
	app, err := w.Provision(context.Background(), request())
	if err != nil {
		t.Fatal(err)
	}
	if app == nil || app.FrontEndURL != "https://app/i-1" || app.UserName != "admin" || app.Password != "pw" {
		t.Fatalf("app %+v", app)
	}
	ev := rec.events[0]
	if ev.ID != "provision:i-1" || ev.Type != "instance.provision" || !ev.TestFlag || ev.Instance.ExpireTime != "20300102030405" ||
		ev.Product == nil || ev.Product.ProductID != "P1" || ev.Period == nil || ev.Period.PeriodType != "month" || ev.Buyer == nil || ev.Buyer.CustomerID != "cust-1" {
		t.Fatalf("event %+v", ev)
	}
}

func TestWebhookOutcomes(t *testing.T) {
	secrets, _ := sellerhook.NewSecrets("s")
	cases := []struct {
		status    int
		body      string
		wantApp   bool
		permanent bool
		code      marketplace.Code
		fails     bool
	}{
		{status: 202, wantApp: false},
		{status: 503, fails: true},
		{status: 429, fails: true},
		{status: 400, body: `{"resultCode":"000106","reason":"sold out"}`, fails: true, permanent: true, code: marketplace.SoldOut},
		{status: 422, body: `not json`, fails: true, permanent: true, code: marketplace.InternalError},
	}
	for _, c := range cases {
		rec := &receiver{secrets: secrets, status: c.status, body: c.body}
		app, err := newWebhook(t, rec).Provision(context.Background(), request())
		if (err != nil) != c.fails {
			t.Fatalf("status %d: err %v", c.status, err)
		}
		p, perm := IsPermanent(err)
		if perm != c.permanent || (perm && p.Code != c.code) {
			t.Fatalf("status %d: permanent=%v %+v", c.status, perm, p)
		}
		if !c.fails && (app != nil) != c.wantApp {
			t.Fatalf("status %d: app %+v", c.status, app)
		}
	}
}

func TestWebhookChangeCheckAndNotify(t *testing.T) {
	secrets, _ := sellerhook.NewSecrets("s")
	rec := &receiver{secrets: secrets, status: 200, body: `{"allowed":false,"reason":"usage exceeds the smaller plan"}`}
	w := newWebhook(t, rec)
	err := w.CheckChange(context.Background(), request().Instance, Product{ProductID: "P2"})
	if p, ok := IsPermanent(err); !ok || p.Reason != "usage exceeds the smaller plan" {
		t.Fatalf("rejection: %v", err)
	}
	rec.body = `{"allowed":true}`
	if err := w.CheckChange(context.Background(), request().Instance, Product{ProductID: "P2"}); err != nil {
		t.Fatalf("allowed: %v", err)
	}
	req := request()
	req.Kind, req.Key, req.Payload = marketplace.JobRelease, "release:i-1", json.RawMessage(`{"orderId":"U1"}`)
	rec.body = ``
	if err := w.Notify(context.Background(), req); err != nil {
		t.Fatal(err)
	}
	last := rec.events[len(rec.events)-1]
	if last.Type != "instance.release" || string(last.Detail) != `{"orderId":"U1"}` {
		t.Fatalf("notify event %+v", last)
	}
	if rec.badSig != 0 {
		t.Fatalf("%d calls failed signature verification", rec.badSig)
	}
}

func TestWebhookURLRules(t *testing.T) {
	secrets, _ := sellerhook.NewSecrets("s")
	for _, u := range []string{"http://app.example.com/hook", "ftp://x", "/relative", ""} {
		if _, err := NewWebhook(u, secrets, false); err == nil {
			t.Errorf("%q accepted", u)
		}
	}
	if _, err := NewWebhook("https://app.example.com/hook", secrets, false); err != nil {
		t.Errorf("https rejected: %v", err)
	}
	// Redirects are not followed.
	redirect := httptest.NewServer(http.RedirectHandler("https://elsewhere.example.com/", http.StatusFound))
	defer redirect.Close()
	w, _ := NewWebhook(redirect.URL, secrets, true)
	if _, err := w.Provision(context.Background(), request()); err == nil {
		t.Fatalf("a redirect answer was treated as success")
	} else if _, ok := IsPermanent(err); !ok {
		t.Fatalf("redirect: %v, want a permanent failure", err)
	}
}

// hostile is text an application might pass on: a terminal escape that clears the
// screen, a C1 control, a right-to-left override and a newline.
const hostile = "sold\x1b[2J\x1b]0;owned\x07 out\u009b31m \u202Eevil\u202C\nnext"

// inert reports a control character, an escape sequence's ESC or a bidi
// override left in s.
func inert(t *testing.T, what, s string) {
	t.Helper()
	if strings.ContainsAny(s, "\x1b\a\r\n\u009b\u202e\u202c") {
		t.Errorf("%s keeps control characters: %q", what, s)
	}
}

// TestWebhookReasonsAreInert: the reasons an application gives (a 4xx answer's
// reason, a refused change) reach operators and the marketplace without control
// characters.
func TestWebhookReasonsAreInert(t *testing.T) {
	secrets, _ := sellerhook.NewSecrets("s")
	reason, _ := json.Marshal(hostile)
	rec := &receiver{secrets: secrets, status: 409, body: `{"resultCode":"000106","reason":` + string(reason) + `}`}
	_, err := newWebhook(t, rec).Provision(context.Background(), request())
	p, ok := IsPermanent(err)
	if !ok {
		t.Fatalf("4xx answer: %v", err)
	}
	inert(t, "4xx reason", p.Reason)
	if !strings.Contains(p.Reason, "sold") || !strings.Contains(p.Reason, "out") {
		t.Errorf("reason lost its text: %q", p.Reason)
	}
	rec.status, rec.body = 200, `{"allowed":false,"reason":`+string(reason)+`}`
	if p, ok := IsPermanent(newWebhook(t, rec).CheckChange(context.Background(), request().Instance, Product{ProductID: "P2"})); !ok {
		t.Fatal("change refusal is not permanent")
	} else {
		inert(t, "change refusal", p.Reason)
	}
}

// TestWebhookAnswerURLs: the URLs an application returns must be absolute https
// URLs (http only where the webhook itself may be http, the local run); anything
// else fails the provisioning with a reason that names the field.
func TestWebhookAnswerURLs(t *testing.T) {
	secrets, _ := sellerhook.NewSecrets("s")
	for _, c := range []struct {
		body      string
		allowHTTP bool
		field     string
	}{
		{`{"frontEndUrl":"javascript:alert(1)"}`, true, "frontEndUrl"},
		{`{"frontEndUrl":"/relative/path"}`, true, "frontEndUrl"},
		{`{"frontEndUrl":"https://app.example.com/","adminUrl":"data:text/html,x"}`, true, "adminUrl"},
		{`{"frontEndUrl":"http://app.example.com/"}`, false, "frontEndUrl"},
		{`{"frontEndUrl":"https://app.example.com/\u202Egpj.exe"}`, true, "frontEndUrl"},
	} {
		rec := &receiver{secrets: secrets, status: 200, body: c.body}
		w := newWebhook(t, rec)
		w.AllowHTTP = c.allowHTTP
		app, err := w.Provision(context.Background(), request())
		p, ok := IsPermanent(err)
		if !ok || !strings.Contains(p.Reason, c.field) || !strings.Contains(p.Reason, "https") {
			t.Errorf("%s: app %+v, err %v; want a permanent failure naming %s", c.body, app, err, c.field)
		}
	}
	rec := &receiver{secrets: secrets, status: 200, body: `{"frontEndUrl":"http://127.0.0.1:9000/t/1","adminUrl":"https://admin.example.com/"}`}
	if app, err := newWebhook(t, rec).Provision(context.Background(), request()); err != nil || app == nil {
		t.Fatalf("http where allowed: %+v, %v", app, err)
	}
}

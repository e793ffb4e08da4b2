package localrun

import (
	"context"
	"errors"
	"html/template"
	"net/http"
	"time"

	"github.com/kgseller/kgseller/shared/store"
	"github.com/kgseller/kgseller/shared/tools/ops"
)

// The instance page stands in for the seller's application: the static
// provisioner points every instance's frontEndUrl here. It shows what the
// application could know of the instance in the configured mode: the row the
// interface keeps (state, status, expiry) and each lifecycle job with what it
// delivered, so a seller sees a freeze or a release land without reading logs.
type appPage struct {
	ops         *ops.Ops
	provisioner string // PROVISIONER as the functions read it: static or webhook
	webhookURL  string
}

func newAppPage(dsn, provisioner, webhookURL string) (*appPage, func(), error) {
	st, err := store.Open(dsn, store.Options{})
	if err != nil {
		return nil, nil, err
	}
	if provisioner == "" {
		provisioner = "static"
	}
	return &appPage{ops: &ops.Ops{Store: st}, provisioner: provisioner, webhookURL: webhookURL}, func() { st.Close() }, nil
}

type appJob struct {
	Kind, State, Delivered, LastError string
	Attempts                          int
	Created                           string
}

type appView struct {
	ID, Provisioner, WebhookURL string
	Found                       bool
	Instance                    ops.InstanceView
	Expire                      string
	Orders                      []ops.OrderView
	Jobs                        []appJob
}

// delivered says what a job of this kind did for the application in each mode.
func (p *appPage) delivered(kind, state string) string {
	if p.provisioner != "webhook" {
		if kind == "provision" {
			return "frontEndUrl from PROVISION_FRONTEND_URL"
		}
		return "nothing sent: the static provisioner only changes the instance's row"
	}
	if state != "DONE" {
		return "instance." + kind + " not yet accepted by the application"
	}
	return "instance." + kind + " delivered to the webhook"
}

func (p *appPage) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 5*time.Second)
	defer cancel()
	v := appView{ID: r.PathValue("instance"), Provisioner: p.provisioner, WebhookURL: p.webhookURL}
	h, err := p.ops.History(ctx, ops.HistoryQuery{InstanceID: v.ID})
	switch {
	case errors.Is(err, ops.ErrNoHistory):
	case err != nil:
		http.Error(w, "reading the instance: "+err.Error(), http.StatusInternalServerError)
		return
	case len(h.Instances) > 0:
		ih := h.Instances[0]
		v.Found, v.Instance, v.Orders = true, ih.Instance, ih.Orders
		if t := ih.Instance.ExpireTime; t != nil {
			v.Expire = t.UTC().Format(time.RFC3339)
		}
		for _, j := range ih.Jobs {
			v.Jobs = append(v.Jobs, appJob{Kind: j.Kind, State: j.State, Attempts: j.Attempts, LastError: j.LastError,
				Created: j.CreatedAt.UTC().Format(time.RFC3339), Delivered: p.delivered(j.Kind, j.State)})
		}
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Content-Security-Policy", "default-src 'none'")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("Cache-Control", "no-store")
	if !v.Found {
		w.WriteHeader(http.StatusNotFound)
	}
	_ = appTmpl.Execute(w, v)
}

var appTmpl = template.Must(template.New("app").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Instance {{.ID}}</title></head>
<body><h1>Instance {{.ID}}</h1>
<p>This page stands in for the seller's application in the local run.</p>
{{if not .Found}}<p>No instance with this ID is stored.</p>{{else}}{{with .Instance}}
<table>
<tr><th>status</th><td id="status">{{.Status}}</td></tr>
<tr><th>provisioning</th><td id="state">{{.State}}{{if .FailCode}} ({{.FailCode}} {{.FailReason}}){{end}}</td></tr>
<tr><th>expires</th><td>{{$.Expire}}</td></tr>
<tr><th>order</th><td>{{.OrderID}} / {{.OrderLineID}}</td></tr>
<tr><th>product</th><td>{{.ProductID}}</td></tr>
<tr><th>test</th><td>{{.Test}}</td></tr>
</table>{{end}}
<h2>How the application learns of each change</h2>
{{if eq .Provisioner "webhook"}}<p>PROVISIONER=webhook: every job below is an event POSTed to {{.WebhookURL}}
(instance.provision, instance.refresh, instance.freeze, instance.unfreeze, instance.release, instance.upgrade),
retried until the application answers 2xx.</p>
{{else}}<p>PROVISIONER={{.Provisioner}}: the application is told nothing. A renewal, freeze, unfreeze,
release or upgrade changes only the instance's row (the status above, which queryInstance and
<code>go run ./scripts/ops instances</code> show); its job completes without a call. Use
PROVISIONER=webhook when the application must act on them.</p>{{end}}
<h2>Lifecycle jobs</h2>
<table><tr><th>job</th><th>state</th><th>attempts</th><th>created</th><th>what reached the application</th></tr>
{{range .Jobs}}<tr><td>{{.Kind}}</td><td>{{.State}}</td><td>{{.Attempts}}</td><td>{{.Created}}</td><td>{{.Delivered}}{{if .LastError}} (last error: {{.LastError}}){{end}}</td></tr>
{{end}}</table>
<h2>Orders applied</h2>
<table><tr><th>kind</th><th>order</th><th>line</th></tr>
{{range .Orders}}<tr><td>{{.Kind}}</td><td>{{.OrderID}}</td><td>{{.OrderLineID}}</td></tr>
{{end}}</table>{{end}}
</body></html>
`))

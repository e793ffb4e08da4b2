package main

import (
	"context"
	"encoding/json"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/kgseller/kgseller/shared/marketplace"
	"github.com/kgseller/kgseller/shared/provision"
	"github.com/kgseller/kgseller/shared/sellerhook"
)

// TestDemoAgainstTheWebhookProvisioner checks the demo receiver against the real
// webhook provisioner: signed events are answered, unsigned ones refused.
func TestDemoAgainstTheWebhookProvisioner(t *testing.T) {
	log.SetOutput(io.Discard)
	secrets, _ := sellerhook.NewSecrets("demo")
	srv := httptest.NewServer(Handler(secrets, false, ""))
	defer srv.Close()
	w, err := provision.NewWebhook(srv.URL, secrets, true)
	if err != nil {
		t.Fatal(err)
	}
	app, err := w.Provision(context.Background(), provision.Request{Kind: "provision", Key: "provision:i-123456789", Instance: marketplace.Instance{InstanceID: "i-123456789"}})
	if err != nil || app == nil || app.FrontEndURL != "https://app.example.com/t/i-123456789" || app.Password == "" {
		t.Fatalf("provision: %+v %v", app, err)
	}
	if err := w.Notify(context.Background(), provision.Request{Kind: "freeze", Key: "freeze:i-1:2", Instance: marketplace.Instance{InstanceID: "i-1"}}); err != nil {
		t.Fatalf("notify: %v", err)
	}
	resp, err := http.Post(srv.URL, "application/json", nil)
	if err != nil || resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("unsigned event: %v %v", resp, err)
	}
	resp.Body.Close()

	// With -accept the demo answers 202 and calls back.
	got := make(chan map[string]any, 1)
	cb := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if secrets.Verify(r.Header.Get(sellerhook.Header), body, time.Now(), 0) != nil {
			rw.WriteHeader(http.StatusUnauthorized)
			return
		}
		var m map[string]any
		_ = json.Unmarshal(body, &m)
		got <- m
	}))
	defer cb.Close()
	acc := httptest.NewServer(Handler(secrets, true, cb.URL))
	defer acc.Close()
	w2, _ := provision.NewWebhook(acc.URL, secrets, true)
	if app, err := w2.Provision(context.Background(), provision.Request{Kind: "provision", Key: "k", Instance: marketplace.Instance{InstanceID: "i-2"}}); err != nil || app != nil {
		t.Fatalf("accepted provision: %+v %v", app, err)
	}
	select {
	case m := <-got:
		if m["instanceId"] != "i-2" {
			t.Fatalf("callback %v", m)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no callback")
	}
}

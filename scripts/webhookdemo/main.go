// Command webhookdemo is a minimal seller application for the provisioning webhook:
// it verifies each event's KG-Signature and answers provisioning events with access
// information (or, with -accept, with 202 and a later callback). Use it with the
// local run:
//
//	PROVISIONER=webhook PROVISION_WEBHOOK_URL=http://127.0.0.1:9000/hook \
//	PROVISION_WEBHOOK_ALLOW_HTTP=true PROVISION_WEBHOOK_SECRET=demo-secret \
//	KG_DATA_KEY=$(openssl rand -base64 32) go run ./scripts/local
//	go run ./scripts/webhookdemo -secret demo-secret
package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log"
	"net/http"
	"os"
	"time"

	"github.com/kgseller/kgseller/shared/sellerhook"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:9000", "listen address")
	secret := flag.String("secret", os.Getenv("PROVISION_WEBHOOK_SECRET"), "webhook secret")
	accept := flag.Bool("accept", false, "answer 202 and complete through the callback 2 s later")
	callback := flag.String("callback", "http://127.0.0.1:8080/seller/provision-callback", "provisioning callback URL (with -accept)")
	flag.Parse()
	secrets, err := sellerhook.NewSecrets(*secret)
	if err != nil {
		log.Fatal("webhookdemo: -secret or PROVISION_WEBHOOK_SECRET is required")
	}
	log.Printf("webhookdemo: listening on http://%s/hook", *addr)
	log.Fatal(http.ListenAndServe(*addr, Handler(secrets, *accept, *callback)))
}

// Event is the part of a webhook event this demo reads.
type Event struct {
	ID       string `json:"id"`
	Type     string `json:"type"`
	Instance struct {
		InstanceID string `json:"instanceId"`
	} `json:"instance"`
}

// Handler verifies and answers webhook events.
func Handler(secrets sellerhook.Secrets, accept bool, callback string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
		if err != nil {
			http.Error(w, "unreadable body", http.StatusBadRequest)
			return
		}
		// Verify before trusting anything in the body.
		if err := secrets.Verify(r.Header.Get(sellerhook.Header), body, time.Now(), 0); err != nil {
			http.Error(w, "bad signature", http.StatusUnauthorized)
			return
		}
		var ev Event
		if err := json.Unmarshal(body, &ev); err != nil {
			http.Error(w, "bad event", http.StatusBadRequest)
			return
		}
		log.Printf("event %s %s for %s", ev.ID, ev.Type, ev.Instance.InstanceID)
		if ev.Type != "instance.provision" {
			w.WriteHeader(http.StatusNoContent) // lifecycle notice acknowledged
			return
		}
		app := map[string]string{
			"frontEndUrl": "https://app.example.com/t/" + ev.Instance.InstanceID,
			"adminUrl":    "https://app.example.com/admin/" + ev.Instance.InstanceID,
			"userName":    "admin",
			"password":    "change-me-" + ev.Instance.InstanceID[:min(8, len(ev.Instance.InstanceID))],
		}
		if accept {
			go func() {
				time.Sleep(2 * time.Second)
				if err := Callback(callback, secrets, ev.Instance.InstanceID, app); err != nil {
					log.Printf("callback for %s: %v", ev.Instance.InstanceID, err)
				}
			}()
			w.WriteHeader(http.StatusAccepted)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(app)
	})
}

// Callback completes an accepted instance through POST /seller/provision-callback.
func Callback(url string, secrets sellerhook.Secrets, instanceID string, app map[string]string) error {
	body, _ := json.Marshal(map[string]any{"instanceId": instanceID, "appInfo": app})
	req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(sellerhook.Header, secrets.Sign(body, time.Now()))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("callback answered HTTP %d", resp.StatusCode)
	}
	return nil
}

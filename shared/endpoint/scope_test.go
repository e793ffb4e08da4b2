package endpoint

import (
	"context"
	"log/slog"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"github.com/kgseller/kgseller/shared/kgsign"
	"github.com/kgseller/kgseller/shared/marketplace"
)

// scopedHandler is an endpoint of interface type label verifying with keys, that
// counts the operations it runs.
func scopedHandler(label string, nonces *memNonces, runs *atomic.Int32, keys ...string) func(events.APIGatewayProxyRequest) string {
	h := Handler(Config{
		Scope: label, Verifier: &kgsign.Verifier{Keys: kgsign.MustKeySet(keys...)}, Nonces: nonces,
		Decode: func([]byte) (Operation, error) {
			return fakeOp{run: func(context.Context) (marketplace.Reply, error) {
				runs.Add(1)
				return marketplace.NewResult(marketplace.Success, ""), nil
			}}, nil
		},
		Logger: slog.New(slog.DiscardHandler),
	})
	return func(req events.APIGatewayProxyRequest) string {
		resp, err := h(context.Background(), req)
		if err != nil {
			panic(err)
		}
		return resp.Body
	}
}

// TestNonceScopeFollowsTheKey: a signed call accepted by one endpoint and replayed
// on another that verifies with the same key (another route, another function,
// another interface type sharing KG_ACCESS_KEY) answers 000001 and runs nothing;
// the same nonce under another key is another request.
func TestNonceScopeFollowsTheKey(t *testing.T) {
	nonces := &memNonces{seen: map[string]bool{}}
	var runs atomic.Int32
	basic := scopedHandler("basic", nonces, &runs, key)
	license := scopedHandler("license", nonces, &runs, key)
	other := scopedHandler("license", nonces, &runs, "another-key")

	req := signed(`{}`, false)
	if body := basic(req); !strings.Contains(body, `"000000"`) {
		t.Fatalf("first call: %s", body)
	}
	if body := license(req); !strings.Contains(body, `"000001"`) {
		t.Fatalf("replayed on an endpoint with the same key: %s", body)
	}
	if runs.Load() != 1 {
		t.Fatalf("%d operations ran, want 1", runs.Load())
	}

	// The same nonce signed with another key is not a replay of the first call.
	again := signed(`{}`, false)
	ts, nonce := again.QueryStringParameters["timestamp"], again.QueryStringParameters["nonce"]
	again.QueryStringParameters["signature"] = kgsign.V2Signature(kgsign.NewKey([]byte("another-key"), "t"), nonce, ts, []byte(`{}`))
	if body := other(again); !strings.Contains(body, `"000000"`) {
		t.Fatalf("another key: %s", body)
	}
	if body := basic(signed(`{}`, false)); !strings.Contains(body, `"000000"`) {
		t.Fatalf("fresh call: %s", body)
	}
}

// TestNonceScopeDuringAKeyChange: during a key change a call signed with the
// previous key keeps its scope whichever endpoint's key set holds that key.
func TestNonceScopeDuringAKeyChange(t *testing.T) {
	nonces := &memNonces{seen: map[string]bool{}}
	var runs atomic.Int32
	old := scopedHandler("basic", nonces, &runs, "new-key", key) // key is the previous one here
	current := scopedHandler("license", nonces, &runs, key)      // and the primary one here
	req := signed(`{}`, false)
	if body := old(req); !strings.Contains(body, `"000000"`) {
		t.Fatalf("first call: %s", body)
	}
	if body := current(req); !strings.Contains(body, `"000001"`) {
		t.Fatalf("replay: %s", body)
	}
}

// TestNonceScopeIsAFingerprint: the scope fits the nonces table (16 characters),
// differs between keys, is stable for one key, and holds nothing of the key.
func TestNonceScopeIsAFingerprint(t *testing.T) {
	a := NonceScope(kgsign.NewKey([]byte(key), "primary"))
	b := NonceScope(kgsign.NewKey([]byte(key), "previous"))
	c := NonceScope(kgsign.NewKey([]byte(key+"x"), "primary"))
	if a != b || a == c || len(a) != 16 || len(c) != 16 {
		t.Fatalf("scopes %q %q %q", a, b, c)
	}
	if strings.Contains(a, key) || strings.Contains(strings.ToLower(a), "656e64706f696e74") { // hex of "endpoint"
		t.Fatalf("scope %q discloses the key", a)
	}
}

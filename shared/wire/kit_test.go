package wire_test

import (
	"context"
	"encoding/json"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/kgseller/kgseller/shared/config"
	"github.com/kgseller/kgseller/shared/kgsign"
	"github.com/kgseller/kgseller/shared/tools/dbtest"
	"github.com/kgseller/kgseller/shared/wire/kitfn"
)

func TestKitApplicationSyncMisconfigured(t *testing.T) {
	h := kitfn.ApplicationSync(config.Map(map[string]string{"KG_ACCESS_KEY": "k", "DB_DSN": "u@tcp(127.0.0.1:1)/d", "LOG_LEVEL": "error"}))
	resp, err := h(context.Background(), events.APIGatewayProxyRequest{Body: "{}"})
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != 200 || !strings.Contains(resp.Body, `"000005"`) || resp.Headers["Body-Sign"] == "" {
		t.Fatalf("answer %+v", resp)
	}
}

// TestKitFunctionUsesKitKey: with KG_ACCESS_KEY_KIT set, calls signed with the
// basic key are refused and calls signed with the Kit key are served.
func TestKitFunctionUsesKitKey(t *testing.T) {
	dsn := dbtest.NewDatabase(t)
	h := kitfn.TenantSync(config.Map(map[string]string{
		"KG_ACCESS_KEY": "basic-key", "KG_ACCESS_KEY_KIT": "kit-key", "DB_DSN": dsn, "LOG_LEVEL": "error",
	}))
	body := `{"instanceId":"","orderId":"","tenantId":"t","tenantCode":"c","name":"n","domainName":"https://d.example.com","flag":1,"testFlag":1,"timeStamp":"20220413093539534"}`
	call := func(key, nonce string) string {
		ts := strconv.FormatInt(time.Now().UnixMilli(), 10)
		resp, err := h(context.Background(), events.APIGatewayProxyRequest{Body: body, Headers: map[string]string{
			"x-sign": kgsign.KitSignature(kgsign.NewKey([]byte(key), "t"), nonce, ts, []byte(body), false), "x-timestamp": ts, "x-nonce": nonce,
		}})
		if err != nil {
			t.Fatal(err)
		}
		var m map[string]string
		_ = json.Unmarshal([]byte(resp.Body), &m)
		return m["resultCode"]
	}
	if got := call("basic-key", "n1"); got != "000001" {
		t.Fatalf("basic key: %s", got)
	}
	if got := call("kit-key", "n2"); got != "000000" {
		t.Fatalf("kit key: %s", got)
	}
}

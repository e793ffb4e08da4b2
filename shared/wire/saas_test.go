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
	"github.com/kgseller/kgseller/shared/wire/saasfn"
)

func TestMisconfiguredFunctionStillAnswersInShape(t *testing.T) {
	// The access key is known but DB_DSN and the front-end URL are missing.
	h := saasfn.SaaSProduce(config.Map(map[string]string{"KG_ACCESS_KEY": "k", "LOG_LEVEL": "error"}))
	resp, err := h(context.Background(), events.APIGatewayProxyRequest{Body: "{}"})
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]string
	if err := json.Unmarshal([]byte(resp.Body), &m); err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != 200 || m["resultCode"] != "000005" || !strings.HasPrefix(resp.Headers["Body-Sign"], `sign_type="HMAC-SHA256"`) {
		t.Fatalf("answer %+v", resp)
	}
}

func TestUnknownProvisionerIsAConfigurationError(t *testing.T) {
	h := saasfn.SaaSProduce(config.Map(map[string]string{"KG_ACCESS_KEY": "k", "DB_DSN": "u@tcp(127.0.0.1:1)/d", "PROVISIONER": "magic", "LOG_LEVEL": "error"}))
	resp, _ := h(context.Background(), events.APIGatewayProxyRequest{Body: "{}"})
	if !strings.Contains(resp.Body, `"000005"`) {
		t.Fatalf("answer %s", resp.Body)
	}
}

// TestFulfilModes: with FULFIL_MODE=inline the first newInstance is provisioned in
// the request (000000); with timer it is left to the worker (000004).
func TestFulfilModes(t *testing.T) {
	for mode, want := range map[string]string{"inline": "000000", "timer": "000004"} {
		dsn := dbtest.NewDatabase(t)
		h := saasfn.SaaSProduce(config.Map(map[string]string{
			"KG_ACCESS_KEY": "k", "DB_DSN": dsn, "LOG_LEVEL": "error", "FULFIL_MODE": mode,
			"PROVISION_FRONTEND_URL": "https://app/{instanceId}", "KG_QUERY_ORDERS": "false",
		}))
		body := `{"activity":"newInstance","businessId":"b-` + mode + `","orderId":"CS-` + mode + `","orderLineId":"CS-` + mode + `-1"}`
		ts := strconv.FormatInt(time.Now().UnixMilli(), 10)
		resp, err := h(context.Background(), events.APIGatewayProxyRequest{Body: body, QueryStringParameters: map[string]string{
			"signature": kgsign.V2Signature(kgsign.NewKey([]byte("k"), ""), "n-"+mode, ts, []byte(body)), "timestamp": ts, "nonce": "n-" + mode,
		}})
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(resp.Body, `"resultCode":"`+want+`"`) {
			t.Errorf("FULFIL_MODE=%s: %s, want %s", mode, resp.Body, want)
		}
	}
}

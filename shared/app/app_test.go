package app

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"github.com/kgseller/kgseller/shared/config"
)

func TestMisconfiguredFunctionStillAnswersInShape(t *testing.T) {
	// The access key is known but DB_DSN and the front-end URL are missing.
	h := SaaSProduce(config.Map(map[string]string{"KG_ACCESS_KEY": "k", "LOG_LEVEL": "error"}))
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
	h := SaaSProduce(config.Map(map[string]string{"KG_ACCESS_KEY": "k", "DB_DSN": "u@tcp(127.0.0.1:1)/d", "PROVISIONER": "magic", "LOG_LEVEL": "error"}))
	resp, _ := h(context.Background(), events.APIGatewayProxyRequest{Body: "{}"})
	if !strings.Contains(resp.Body, `"000005"`) {
		t.Fatalf("answer %s", resp.Body)
	}
}

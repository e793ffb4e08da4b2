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
	"github.com/kgseller/kgseller/shared/sellerhook"
	"github.com/kgseller/kgseller/shared/tools/dbtest"
	"github.com/kgseller/kgseller/shared/wire/kitfn"
	"github.com/kgseller/kgseller/shared/wire/saasfn"
	"github.com/kgseller/kgseller/shared/wire/sellerfn"
	"github.com/kgseller/kgseller/shared/wire/workerfn"
)

// TestDatabaseAtItsConnectionLimit: with the database refusing every connection
// (Too many connections), each family answers in its own documented shape and
// never quotes the refusal: the marketplace endpoints 000005 signed, the seller API
// 500 with its JSON error, the worker its result with the error.
func TestDatabaseAtItsConnectionLimit(t *testing.T) {
	dsn := dbtest.RefusingServer(t)
	ctx := context.Background()
	key := kgsign.NewKey([]byte("k"), "t")
	ts := strconv.FormatInt(time.Now().UnixMilli(), 10)
	quiet := map[string]string{"KG_ACCESS_KEY": "k", "DB_DSN": dsn, "LOG_LEVEL": "error", "PROVISION_FRONTEND_URL": "https://app/{instanceId}"}

	marketplace := func(name string, resp events.APIGatewayProxyResponse, err error) {
		t.Helper()
		var m map[string]string
		if err != nil || resp.StatusCode != 200 || json.Unmarshal([]byte(resp.Body), &m) != nil || m["resultCode"] != "000005" ||
			resp.Headers["Body-Sign"] != kgsign.BodySignHeader(key, []byte(resp.Body)) || strings.Contains(resp.Body, "1040") {
			t.Errorf("%s: %v %+v", name, err, resp)
		}
	}
	body := `{"activity":"queryInstance","instanceId":"i-1"}`
	resp, err := saasfn.SaaSProduce(config.Map(quiet))(ctx, events.APIGatewayProxyRequest{Body: body, QueryStringParameters: map[string]string{
		"signature": kgsign.V2Signature(key, "n-saas", ts, []byte(body)), "timestamp": ts, "nonce": "n-saas",
	}})
	marketplace("saas-produce", resp, err)

	body = `{"instanceId":"i-1","orderId":"","tenantId":"t","tenantCode":"c","name":"n","domainName":"https://d.example.com","flag":1,"testFlag":1,"timeStamp":"20220413093539534"}`
	resp, err = kitfn.TenantSync(config.Map(quiet))(ctx, events.APIGatewayProxyRequest{Body: body, Headers: map[string]string{
		"x-sign": kgsign.KitSignature(key, "n-kit", ts, []byte(body), false), "x-timestamp": ts, "x-nonce": "n-kit",
	}})
	marketplace("kit-tenant-sync", resp, err)

	seller := map[string]string{"PROVISION_WEBHOOK_SECRET": "webhook-secret-for-tests-0123456789"}
	for k, v := range quiet {
		seller[k] = v
	}
	body = `{"instanceId":"i-1","failed":{"reason":"no capacity"}}`
	resp, err = sellerfn.ProvisionCallback(config.Map(seller))(ctx, events.APIGatewayProxyRequest{Body: body, Headers: map[string]string{
		sellerhook.Header: sellerhook.Sign([]byte(seller["PROVISION_WEBHOOK_SECRET"]), []byte(body), time.Now()),
	}})
	var problem map[string]string
	if err != nil || resp.StatusCode != 500 || json.Unmarshal([]byte(resp.Body), &problem) != nil || problem["error"] == "" || strings.Contains(resp.Body, "1040") {
		t.Errorf("provision-callback: %v %+v", err, resp)
	}

	quiet["KG_QUERY_ORDERS"] = "false"
	out, err := workerfn.FulfilWorker(config.Map(quiet))(ctx, []byte(`{"jobId":1}`))
	var res workerfn.WorkerResult
	if err != nil || json.Unmarshal(out, &res) != nil || !strings.Contains(res.Error, "busy") {
		t.Errorf("fulfil-worker: %v %s", err, out)
	}
}

package app

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/kgseller/kgseller/shared/config"
	"github.com/kgseller/kgseller/shared/dbtest"
	"github.com/kgseller/kgseller/shared/fgruntime"
	"github.com/kgseller/kgseller/shared/kgsign"
	"github.com/kgseller/kgseller/shared/kit/clientsecret"
)

func TestKitRSASettingErrorsNameTheSetting(t *testing.T) {
	small, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	smallPEM, _ := clientsecret.PrivatePEM(small)
	for name, value := range map[string]string{"garbage": "secret-garbage-value", "2048 bits": string(smallPEM)} {
		l := config.New(config.Map(map[string]string{SettingKitRSAKey: value}))
		if d := loadKitRSA(l); d != nil {
			t.Fatalf("%s accepted", name)
		}
		msg := l.Err().Error()
		if !strings.Contains(msg, SettingKitRSAKey) || strings.Contains(msg, "secret-garbage-value") || strings.Contains(msg, "PRIVATE KEY") {
			t.Fatalf("%s: %q", name, msg)
		}
	}
	l := config.New(config.Map(nil))
	loadKitRSA(l)
	loadDataKey(l)
	if msg := l.Err().Error(); !strings.Contains(msg, SettingKitRSAKey) || !strings.Contains(msg, SettingDataKey) {
		t.Fatalf("missing settings not named: %q", msg)
	}
	l = config.New(config.Map(map[string]string{SettingDataKey: "dG9vIHNob3J0"}))
	if loadDataKey(l) != nil || !strings.Contains(l.Err().Error(), SettingDataKey) {
		t.Fatal("a short data key was accepted")
	}
}

func TestKitApplicationSyncMisconfigured(t *testing.T) {
	h := KitApplicationSync(config.Map(map[string]string{"KG_ACCESS_KEY": "k", "DB_DSN": "u@tcp(127.0.0.1:1)/d", "LOG_LEVEL": "error"}))
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
	h := KitTenantSync(config.Map(map[string]string{
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

func TestSSOMisconfiguredPage(t *testing.T) {
	for name, h := range map[string]func(config.Source) fgruntime.Handler{
		"login": SSOLogin, "callback": SSOCallback, "logout": SSOLogout,
	} {
		resp, err := h(config.Map(map[string]string{"SSO_SESSION_KEY": "short", "LOG_LEVEL": "error"}))(context.Background(), events.APIGatewayProxyRequest{})
		if err != nil {
			t.Fatal(err)
		}
		if resp.StatusCode != 500 || resp.Headers["X-Frame-Options"] != "DENY" || !strings.Contains(resp.Headers["Content-Security-Policy"], "default-src 'none'") ||
			!strings.Contains(resp.Body, "not configured") {
			t.Fatalf("%s: %+v", name, resp)
		}
	}
}

func TestSSOSettings(t *testing.T) {
	key := base64.StdEncoding.EncodeToString(make([]byte, 32))
	ok := map[string]string{SettingSSOAppID: "app", SettingSSOAppURL: "https://app.example.com/", SettingSSOSessionKey: key,
		SettingSSOAllowedHosts: "docs.example.com, other.example.com", SettingSSOLogoutURL: "https://bye.example.com/"}
	l := config.New(config.Map(ok))
	svc := loadSSO(l, ssoLogin)
	if err := l.Err(); err != nil {
		t.Fatal(err)
	}
	for _, u := range []string{"https://app.example.com/x", "https://docs.example.com/", "https://bye.example.com/"} {
		if _, allowed := svc.Redirects.Check(u); !allowed {
			t.Errorf("%s refused", u)
		}
	}
	if svc.RequireState || svc.AllowHTTP {
		t.Fatal("production defaults: unsolicited sign-ins accepted (the documented unified login returns no state), http refused")
	}
	optIn := map[string]string{SettingSSORequireState: "true"}
	for k, v := range ok {
		optIn[k] = v
	}
	l = config.New(config.Map(optIn))
	if svc := loadSSO(l, ssoCallback); !svc.RequireState || l.Err() != nil {
		t.Fatalf("SSO_REQUIRE_STATE=true: %v %v", svc.RequireState, l.Err())
	}
	bad := map[string]string{SettingSSOAppID: "app", SettingSSOAppURL: "http://app.example.com/", SettingSSOSessionKey: key}
	l = config.New(config.Map(bad))
	loadSSO(l, ssoCallback)
	if err := l.Err(); err == nil || !strings.Contains(err.Error(), SettingSSOAppURL) {
		t.Fatalf("http app URL in production: %v", err)
	}
}

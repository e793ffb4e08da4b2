package ssofn

import (
	"context"
	"encoding/base64"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"github.com/kgseller/kgseller/shared/config"
	"github.com/kgseller/kgseller/shared/fgruntime"
)

func TestSSOMisconfiguredPage(t *testing.T) {
	for name, h := range map[string]func(config.Source) fgruntime.Handler{
		"login": Login, "callback": Callback, "logout": Logout,
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
	ok := map[string]string{config.SSOAppID: "app", config.SSOAppURL: "https://app.example.com/", config.SSOSessionKey: key,
		config.SSOAllowedHosts: "docs.example.com, other.example.com", config.SSOLogoutURL: "https://bye.example.com/"}
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
	optIn := map[string]string{config.SSORequireState: "true"}
	for k, v := range ok {
		optIn[k] = v
	}
	l = config.New(config.Map(optIn))
	if svc := loadSSO(l, ssoCallback); !svc.RequireState || l.Err() != nil {
		t.Fatalf("SSO_REQUIRE_STATE=true: %v %v", svc.RequireState, l.Err())
	}
	bad := map[string]string{config.SSOAppID: "app", config.SSOAppURL: "http://app.example.com/", config.SSOSessionKey: key}
	l = config.New(config.Map(bad))
	loadSSO(l, ssoCallback)
	if err := l.Err(); err == nil || !strings.Contains(err.Error(), config.SSOAppURL) {
		t.Fatalf("http app URL in production: %v", err)
	}
}

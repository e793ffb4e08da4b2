package alert_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/huaweicloud/huaweicloud-sdk-go-v3/services/smn/v2/model"

	"github.com/kgseller/kgseller/shared/aksk"
	"github.com/kgseller/kgseller/shared/alert"
	"github.com/kgseller/kgseller/shared/config"
	"github.com/kgseller/kgseller/shared/fakes/fakealert"
	"github.com/kgseller/kgseller/shared/fgruntime"
)

const (
	project = "0f1e2d3c4b5a69788796a5b4c3d2e1f0"
	topic   = "urn:smn:cn-north-4:" + project + ":kgseller-alerts"
	ak      = "ALERTTESTAK000000000"
	sk      = "alert-test-sk"
)

func notice(kind alert.Kind) alert.Notice {
	since := time.Date(2025, 3, 1, 10, 0, 0, 0, time.UTC)
	return alert.Notice{Kind: kind, Check: "interface", Service: "kgseller", Failures: 3, Since: since,
		At: since.Add(10 * time.Minute), Detail: "saas.queryInstance: HTTP 502, want 200", Advice: "check the logs"}
}

func TestSMNPublishIsSignedAndHasTheSDKShape(t *testing.T) {
	var out bytes.Buffer
	fake := fakealert.NewSMN(project, ak, sk, &out)
	srv := httptest.NewServer(fake)
	defer srv.Close()
	s := &alert.SMN{Endpoint: srv.URL, ProjectID: project, TopicURN: topic, Credentials: aksk.Credentials{AK: ak, SK: sk}}
	if err := s.Send(context.Background(), notice(alert.KindAlert)); err != nil {
		t.Fatalf("send: %v (refused: %q)", err, fake.Refused())
	}
	msgs := fake.Messages()
	if len(msgs) != 1 || msgs[0].TopicURN != topic || msgs[0].AccessKey != ak {
		t.Fatalf("messages %+v", msgs)
	}
	// The body decodes into the SDK's own request model with the expected fields.
	var req model.PublishMessageRequest
	req.TopicUrn = msgs[0].TopicURN
	dec := json.NewDecoder(bytes.NewReader(msgs[0].Body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req.Body); err != nil {
		t.Fatalf("the body does not decode into PublishMessageRequestBody: %v", err)
	}
	b := req.Body
	if b == nil || b.Subject == nil || *b.Subject != "[kgseller] ALERT: interface" || b.Message == nil ||
		!strings.Contains(*b.Message, "HTTP 502") || !strings.Contains(*b.Message, "failed 3 run(s)") ||
		b.TimeToLive == nil || *b.TimeToLive != "3600" || b.MessageStructure != nil || b.MessageTemplateName != nil {
		t.Fatalf("request %s", req.String())
	}
	if !strings.Contains(out.String(), "fake SMN: topic "+topic) {
		t.Fatalf("the fake printed %q", out.String())
	}
}

func TestSMNRefusesAWrongSignature(t *testing.T) {
	fake := fakealert.NewSMN(project, ak, sk, nil)
	srv := httptest.NewServer(fake)
	defer srv.Close()
	s := &alert.SMN{Endpoint: srv.URL, ProjectID: project, TopicURN: topic, Credentials: aksk.Credentials{AK: ak, SK: "wrong"}}
	err := s.Send(context.Background(), notice(alert.KindAlert))
	if err == nil || !strings.Contains(err.Error(), "HTTP 401") || len(fake.Messages()) != 0 {
		t.Fatalf("a wrongly signed publication: %v, %d messages", err, len(fake.Messages()))
	}
	if strings.Contains(err.Error(), "wrong") {
		t.Fatalf("the error shows the secret key: %v", err)
	}
}

// TestSMNPrefersAgencyCredentials: a FunctionGraph invocation's agency
// credentials sign the call, with their security token.
func TestSMNPrefersAgencyCredentials(t *testing.T) {
	fake := fakealert.NewSMN(project, "AGENCYAK", "agency-sk", nil)
	srv := httptest.NewServer(fake)
	defer srv.Close()
	s := &alert.SMN{Endpoint: srv.URL, ProjectID: project, TopicURN: topic, Credentials: aksk.Credentials{AK: ak, SK: sk}}
	ctx := fgruntime.WithInvocation(context.Background(), fgruntime.Invocation{
		Agency: fgruntime.AgencyCredentials{AccessKey: "AGENCYAK", SecretKey: "agency-sk", SecurityToken: "token"}})
	if err := s.Send(ctx, notice(alert.KindRecovery)); err != nil {
		t.Fatal(err)
	}
	if m := fake.Messages(); len(m) != 1 || m[0].AccessKey != "AGENCYAK" || !strings.HasPrefix(m[0].Subject, "[kgseller] RECOVERED") {
		t.Fatalf("%+v", m)
	}
}

func TestRobotFormats(t *testing.T) {
	for _, c := range []struct {
		format, secret string
		wantBody       string
	}{
		{alert.FormatWeCom, "", `"msgtype":"text","text":{"content":`},
		{alert.FormatDingTalk, "", `"msgtype":"text","text":{"content":`},
		{alert.FormatDingTalk, "SECdingtalk-secret", `"msgtype":"text","text":{"content":`},
		{alert.FormatFeishu, "", `"content":{"text":`},
		{alert.FormatFeishu, "feishu-secret", `"msg_type":"text"`},
	} {
		name := c.format
		if c.secret != "" {
			name += " signed"
		}
		t.Run(name, func(t *testing.T) {
			var out bytes.Buffer
			fake := fakealert.NewRobot(c.format, c.secret, &out)
			srv := httptest.NewServer(fake)
			defer srv.Close()
			r := &alert.Robot{URL: srv.URL + "/send?access_token=robot-token", Format: c.format, Secret: c.secret}
			if err := r.Send(context.Background(), notice(alert.KindAlert)); err != nil {
				t.Fatalf("send: %v (refused %q)", err, fake.Refused())
			}
			m := fake.Messages()
			if len(m) != 1 || !strings.HasPrefix(m[0].Text, "[kgseller] ALERT: interface") || !strings.Contains(string(m[0].Body), c.wantBody) {
				t.Fatalf("messages %+v", m)
			}
			u, _ := url.Parse(m[0].URL)
			if u.Query().Get("access_token") != "robot-token" {
				t.Fatalf("the webhook's own query was lost: %s", m[0].URL)
			}
			if c.format == alert.FormatDingTalk && c.secret != "" && (u.Query().Get("timestamp") == "" || u.Query().Get("sign") == "") {
				t.Fatalf("DingTalk signing parameters missing: %s", m[0].URL)
			}
			if !strings.Contains(out.String(), "fake "+c.format+" robot received") {
				t.Fatalf("the fake printed %q", out.String())
			}
			// A wrong secret is refused by the robot, and the sender says so.
			if c.secret != "" {
				bad := *r
				bad.Secret = "another-secret"
				if err := bad.Send(context.Background(), notice(alert.KindAlert)); err == nil {
					t.Fatal("a message signed with another secret was taken")
				}
				if len(fake.Messages()) != 1 {
					t.Fatal("the refused message was recorded")
				}
			}
		})
	}
}

// TestRobotSignaturesMatchThePublishedRecipes: the signatures computed by hand
// from the robots' documented recipes (the values come from their Python
// samples: hmac.new(key, msg, sha256), base64).
func TestRobotSignaturesMatchThePublishedRecipes(t *testing.T) {
	// DingTalk: Base64(HMAC-SHA256(key=secret, "1700000000000\nSECx")).
	if got, want := alert.DingTalkSign("SECx", "1700000000000"), "rgcjbH+yFyES+S0llX+cAPCwVRpsr7sbiX5Lnyo/ocU="; got != want {
		t.Fatalf("DingTalk sign %s, want %s", got, want)
	}
	// Feishu: Base64(HMAC-SHA256(key="1700000000\nx", "")).
	if got, want := alert.FeishuSign("x", "1700000000"), "t2WKLO/e84QnCSsgE16ZiT4RlU8enB7yv0kH7MEVm98="; got != want {
		t.Fatalf("Feishu sign %s, want %s", got, want)
	}
}

func TestRobotErrorKeepsTheTokenOut(t *testing.T) {
	r := &alert.Robot{URL: "http://127.0.0.1:1/send?key=secret-token-value", Format: alert.FormatWeCom}
	err := r.Send(context.Background(), notice(alert.KindAlert))
	if err == nil || strings.Contains(err.Error(), "secret-token-value") {
		t.Fatalf("error %v", err)
	}
}

func TestLoad(t *testing.T) {
	l := config.New(config.Map(map[string]string{
		config.MonitorSMNTopicURN: topic, config.MonitorWebhookURL: "https://qyapi.example.com/cgi-bin/webhook/send?key=k",
		config.MonitorWebhookFormat: "dingtalk", config.MonitorWebhookSecret: "SEC1",
	}))
	f := alert.Load(l)
	if l.Err() != nil || len(f) != 2 {
		t.Fatalf("%v %d", l.Err(), len(f))
	}
	smn := f[0].(*alert.SMN)
	if smn.Endpoint != "https://smn.cn-north-4.myhuaweicloud.com" || smn.ProjectID != project || f[1].Name() != "webhook:dingtalk" {
		t.Fatalf("%+v %s", smn, f[1].Name())
	}
	for _, bad := range []map[string]string{
		{config.MonitorSMNTopicURN: "kgseller-alerts"},
		{config.MonitorWebhookURL: "http://robot.example.com/send"},
		{config.MonitorWebhookURL: "https://robot.example.com/send", config.MonitorWebhookFormat: "slack"},
	} {
		l := config.New(config.Map(bad))
		alert.Load(l)
		if l.Err() == nil {
			t.Errorf("%v accepted", bad)
		}
	}
}

package alert

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"time"
)

// Robot formats.
const (
	FormatWeCom    = "wecom"
	FormatDingTalk = "dingtalk"
	FormatFeishu   = "feishu"
)

// Formats lists the robot formats by setting value.
var Formats = []string{FormatWeCom, FormatDingTalk, FormatFeishu}

// Robot posts notices to a group robot's webhook as a JSON text message:
//
//   - WeCom (企业微信) group robot, https://developer.work.weixin.qq.com/document/path/91770:
//     {"msgtype":"text","text":{"content":"…"}}, content at most 2048 bytes; the
//     webhook URL's key is the only credential.
//   - DingTalk (钉钉) custom robot, https://open.dingtalk.com/document/orgapp/custom-robot-access:
//     {"msgtype":"text","text":{"content":"…"}}; with 加签 (a secret starting SEC),
//     sign = urlencode(base64(HMAC-SHA256(key=secret, timestamp+"\n"+secret))) with
//     the timestamp in milliseconds, both appended to the URL as
//     &timestamp=…&sign=….
//   - Feishu/Lark (飞书) custom bot, https://open.feishu.cn/document/client-docs/bot-v3/add-custom-bot:
//     {"msg_type":"text","content":{"text":"…"}}; with 签名校验, "timestamp"
//     (seconds) and "sign" = base64(HMAC-SHA256(key=timestamp+"\n"+secret, empty
//     message)) in the body.
//
// Each answers HTTP 200 with an error code in the body (errcode, or code for
// Feishu) that must be 0.
type Robot struct {
	URL    string
	Format string
	// Secret is the DingTalk or Feishu signing secret; empty sends unsigned.
	Secret string
	HTTP   *http.Client
	Now    func() time.Time
}

// robotMaxText keeps a message within WeCom's 2048 bytes (the smallest limit of
// the three).
const robotMaxText = 2000

// Name implements Sender.
func (r *Robot) Name() string { return "webhook:" + r.Format }

// Request builds the webhook call for n.
func (r *Robot) Request(ctx context.Context, n Notice) (*http.Request, error) {
	now := time.Now
	if r.Now != nil {
		now = r.Now
	}
	text := clipBytes(n.Text(), robotMaxText)
	target := r.URL
	var body any
	switch r.Format {
	case FormatWeCom:
		body = map[string]any{"msgtype": "text", "text": map[string]string{"content": text}}
	case FormatDingTalk:
		body = map[string]any{"msgtype": "text", "text": map[string]string{"content": text}}
		if r.Secret != "" {
			ts := strconv.FormatInt(now().UnixMilli(), 10)
			u, err := url.Parse(r.URL)
			if err != nil {
				return nil, fmt.Errorf("webhook URL: %w", err)
			}
			q := u.Query()
			q.Set("timestamp", ts)
			q.Set("sign", DingTalkSign(r.Secret, ts))
			u.RawQuery = q.Encode()
			target = u.String()
		}
	case FormatFeishu:
		m := map[string]any{"msg_type": "text", "content": map[string]string{"text": text}}
		if r.Secret != "" {
			ts := strconv.FormatInt(now().Unix(), 10)
			m["timestamp"], m["sign"] = ts, FeishuSign(r.Secret, ts)
		}
		body = m
	default:
		return nil, fmt.Errorf("unknown robot format %q", r.Format)
	}
	b, err := json.Marshal(body)
	if err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, target, bytes.NewReader(b))
	if err != nil {
		return nil, fmt.Errorf("webhook URL: %w", err)
	}
	req.Header.Set("Content-Type", "application/json; charset=utf-8")
	return req, nil
}

// Send implements Sender.
func (r *Robot) Send(ctx context.Context, n Notice) error {
	req, err := r.Request(ctx, n)
	if err != nil {
		return err
	}
	hc := r.HTTP
	if hc == nil {
		hc = defaultHTTP
	}
	resp, err := hc.Do(req)
	if err != nil {
		// The error quotes the URL, whose query holds the robot's token.
		return fmt.Errorf("posting: %w", redactURL(err))
	}
	defer resp.Body.Close()
	answer, _ := io.ReadAll(io.LimitReader(resp.Body, 4<<10))
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("posting: HTTP %d", resp.StatusCode)
	}
	var res struct {
		ErrCode *int   `json:"errcode"`
		ErrMsg  string `json:"errmsg"`
		Code    *int   `json:"code"`
		Msg     string `json:"msg"`
	}
	if err := json.Unmarshal(answer, &res); err != nil {
		return fmt.Errorf("posting: the answer is not JSON")
	}
	switch {
	case res.ErrCode != nil && *res.ErrCode != 0:
		return fmt.Errorf("refused: errcode %d %s", *res.ErrCode, clipBytes(res.ErrMsg, 200))
	case res.Code != nil && *res.Code != 0:
		return fmt.Errorf("refused: code %d %s", *res.Code, clipBytes(res.Msg, 200))
	}
	return nil
}

// DingTalkSign is the DingTalk robot signature of a millisecond timestamp (the
// URL-encoding is left to the query encoder).
func DingTalkSign(secret, timestamp string) string {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(timestamp + "\n" + secret))
	return base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

// FeishuSign is the Feishu bot signature of a timestamp in seconds: the HMAC key is
// timestamp+"\n"+secret and the message is empty.
func FeishuSign(secret, timestamp string) string {
	mac := hmac.New(sha256.New, []byte(timestamp+"\n"+secret))
	return base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

// redactURL drops the URL from a client error, keeping what went wrong.
func redactURL(err error) error {
	if ue, ok := err.(*url.Error); ok {
		return fmt.Errorf("%s: %w", ue.Op, ue.Err)
	}
	return err
}

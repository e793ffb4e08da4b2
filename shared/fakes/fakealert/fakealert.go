// Package fakealert stands in for the monitor's alert channels: Huawei Cloud SMN's
// PublishMessage API (SMN) and a WeCom, DingTalk or Feishu group robot's webhook
// (Robot). Each checks a request the way the real service does (the AK/SK
// signature and the SDK's request model; the robot's message format and
// signature), records what it accepted and prints it, so the local run shows
// where alerts go and tests assert exactly what was sent.
package fakealert

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/huaweicloud/huaweicloud-sdk-go-v3/services/smn/v2/model"

	"github.com/kgseller/kgseller/shared/alert"
	"github.com/kgseller/kgseller/shared/apigsign"
)

// SMNMessage is one accepted publication.
type SMNMessage struct {
	TopicURN  string
	AccessKey string
	Subject   string
	Message   string
	Body      []byte
}

// SMN is a fake of POST /v2/{project_id}/notifications/topics/{topic_urn}/publish.
type SMN struct {
	ProjectID string
	// Out receives a line per accepted message (nil: nothing printed).
	Out io.Writer
	Now func() time.Time

	mu       sync.Mutex
	keys     map[string][]byte
	messages []SMNMessage
	refused  []string
}

// NewSMN returns a fake SMN of one project that accepts one key pair.
func NewSMN(projectID, ak, sk string, out io.Writer) *SMN {
	return &SMN{ProjectID: projectID, Out: out, keys: map[string][]byte{ak: []byte(sk)}}
}

// Messages returns the accepted publications.
func (s *SMN) Messages() []SMNMessage {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]SMNMessage(nil), s.messages...)
}

// Refused returns why each refused request was refused.
func (s *SMN) Refused() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.refused...)
}

func (s *SMN) refuse(w http.ResponseWriter, status int, code, msg string) {
	s.mu.Lock()
	s.refused = append(s.refused, code+" "+msg)
	s.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"error_code": code, "error_msg": msg})
}

// ServeHTTP implements the API.
func (s *SMN) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	rest, ok := strings.CutPrefix(r.URL.Path, "/v2/"+s.ProjectID+"/notifications/topics/")
	urn, ok2 := strings.CutSuffix(rest, "/publish")
	if r.Method != http.MethodPost || !ok || !ok2 || urn == "" || strings.Contains(urn, "/") {
		s.refuse(w, http.StatusNotFound, "SMN.0404", "no such API: "+r.Method+" "+r.URL.Path)
		return
	}
	s.mu.Lock()
	keys := s.keys
	s.mu.Unlock()
	v := apigsign.Verifier{Secret: func(ak string) ([]byte, bool) { sk, ok := keys[ak]; return sk, ok }, RequireHost: true, Now: s.Now}
	ak, err := v.VerifyHTTP(r, body)
	if err != nil {
		s.refuse(w, http.StatusUnauthorized, "APIGW.0301", "Incorrect IAM authentication information: "+err.Error())
		return
	}
	// The body must be what the SDK's model can carry, and nothing else.
	var req model.PublishMessageRequestBody
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		s.refuse(w, http.StatusBadRequest, "SMN.0002", "invalid request body: "+err.Error())
		return
	}
	if req.Message == nil || *req.Message == "" {
		s.refuse(w, http.StatusBadRequest, "SMN.0003", "message is required")
		return
	}
	if req.Subject != nil && len(*req.Subject) > 512 {
		s.refuse(w, http.StatusBadRequest, "SMN.0004", "subject longer than 512 bytes")
		return
	}
	m := SMNMessage{TopicURN: urn, AccessKey: ak, Message: *req.Message, Body: body}
	if req.Subject != nil {
		m.Subject = *req.Subject
	}
	s.mu.Lock()
	s.messages = append(s.messages, m)
	n := len(s.messages)
	s.mu.Unlock()
	if s.Out != nil {
		fmt.Fprintf(s.Out, "fake SMN: topic %s received %q:\n%s\n", urn, m.Subject, indent(m.Message))
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]string{
		"request_id": fmt.Sprintf("fake-smn-request-%d", n), "message_id": fmt.Sprintf("fake-smn-message-%d", n),
	})
}

// RobotMessage is one accepted robot message.
type RobotMessage struct {
	Text string
	Body []byte
	URL  string
}

// Robot is a fake group robot webhook of one format (alert.FormatWeCom,
// FormatDingTalk, FormatFeishu), signed with Secret when it is set.
type Robot struct {
	Format string
	Secret string
	Out    io.Writer
	Now    func() time.Time

	mu       sync.Mutex
	messages []RobotMessage
	refused  []string
}

// NewRobot returns a fake robot.
func NewRobot(format, secret string, out io.Writer) *Robot {
	return &Robot{Format: format, Secret: secret, Out: out}
}

// Messages returns the accepted messages.
func (b *Robot) Messages() []RobotMessage {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]RobotMessage(nil), b.messages...)
}

// Refused returns why each refused request was refused.
func (b *Robot) Refused() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]string(nil), b.refused...)
}

func (b *Robot) now() time.Time {
	if b.Now != nil {
		return b.Now()
	}
	return time.Now()
}

// answer writes the robot's JSON answer: HTTP 200 with the service's error code.
func (b *Robot) answer(w http.ResponseWriter, code int, msg string) {
	if code != 0 {
		b.mu.Lock()
		b.refused = append(b.refused, fmt.Sprintf("%d %s", code, msg))
		b.mu.Unlock()
	}
	w.Header().Set("Content-Type", "application/json")
	if b.Format == alert.FormatFeishu {
		_ = json.NewEncoder(w).Encode(map[string]any{"code": code, "msg": msg, "data": map[string]any{}})
		return
	}
	_ = json.NewEncoder(w).Encode(map[string]any{"errcode": code, "errmsg": msg})
}

// withinHour checks a robot timestamp (DingTalk: milliseconds; Feishu: seconds),
// which both services accept up to an hour off.
func (b *Robot) withinHour(ts string, unit time.Duration) bool {
	var n int64
	if _, err := fmt.Sscan(ts, &n); err != nil || ts == "" {
		return false
	}
	d := b.now().Sub(time.Unix(0, n*int64(unit)))
	return d < time.Hour && d > -time.Hour
}

// ServeHTTP implements the webhook.
func (b *Robot) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if r.Method != http.MethodPost || !strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
		b.answer(w, 40008, "invalid request: want POST application/json")
		return
	}
	var text string
	switch b.Format {
	case alert.FormatWeCom, alert.FormatDingTalk:
		var m struct {
			MsgType string `json:"msgtype"`
			Text    *struct {
				Content string `json:"content"`
			} `json:"text"`
		}
		if err := strictJSON(body, &m); err != nil || m.MsgType != "text" || m.Text == nil || m.Text.Content == "" {
			b.answer(w, 40008, "invalid message type or content")
			return
		}
		text = m.Text.Content
		if b.Format == alert.FormatWeCom && len(text) > 2048 {
			b.answer(w, 40058, "content exceeds 2048 bytes")
			return
		}
		if b.Format == alert.FormatDingTalk && b.Secret != "" {
			ts, sign := r.URL.Query().Get("timestamp"), r.URL.Query().Get("sign")
			if !b.withinHour(ts, time.Millisecond) || !validSign(sign, []byte(b.Secret), ts+"\n"+b.Secret) {
				b.answer(w, 310000, "sign not match")
				return
			}
		}
	case alert.FormatFeishu:
		var m struct {
			MsgType   string `json:"msg_type"`
			Timestamp string `json:"timestamp"`
			Sign      string `json:"sign"`
			Content   *struct {
				Text string `json:"text"`
			} `json:"content"`
		}
		if err := strictJSON(body, &m); err != nil || m.MsgType != "text" || m.Content == nil || m.Content.Text == "" {
			b.answer(w, 9499, "Bad Request")
			return
		}
		if b.Secret != "" && (!b.withinHour(m.Timestamp, time.Second) || !validSign(m.Sign, []byte(m.Timestamp+"\n"+b.Secret), "")) {
			b.answer(w, 19021, "sign match fail or timestamp is not within one hour from current time")
			return
		}
		text = m.Content.Text
	default:
		b.answer(w, 40008, "unknown robot format "+b.Format)
		return
	}
	b.mu.Lock()
	b.messages = append(b.messages, RobotMessage{Text: text, Body: body, URL: r.URL.String()})
	b.mu.Unlock()
	if b.Out != nil {
		fmt.Fprintf(b.Out, "fake %s robot received:\n%s\n", b.Format, indent(text))
	}
	if b.Format == alert.FormatFeishu {
		b.answer(w, 0, "success")
		return
	}
	b.answer(w, 0, "ok")
}

// validSign checks a Base64 HMAC-SHA256 of message under key, computed here on
// its own so the fake does not trust the sender's code: DingTalk signs
// timestamp+"\n"+secret with the secret; Feishu signs an empty message with the
// key timestamp+"\n"+secret.
func validSign(got string, key []byte, message string) bool {
	raw, err := base64.StdEncoding.DecodeString(got)
	if err != nil {
		return false
	}
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(message))
	return hmac.Equal(raw, mac.Sum(nil))
}

func strictJSON(body []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	return dec.Decode(v)
}

func indent(s string) string { return "    " + strings.ReplaceAll(s, "\n", "\n    ") }

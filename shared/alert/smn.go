package alert

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/kgseller/kgseller/shared/aksk"
)

// SMN publishes notices to a Simple Message Notification topic with the
// PublishMessage API, POST /v2/{project_id}/notifications/topics/{topic_urn}/publish,
// in the request shape of the Huawei SDK's model
// (services/smn/v2/model.PublishMessageRequestBody: subject, message,
// time_to_live), signed with SDK-HMAC-SHA256 by shared/aksk. The SDK's client is
// not linked: it would make the function several times larger.
type SMN struct {
	// Endpoint is the SMN API base URL (https://smn.{region}.myhuaweicloud.com).
	Endpoint  string
	ProjectID string
	TopicURN  string
	// Credentials are used when the invocation carries no agency credentials.
	Credentials aksk.Credentials
	HTTP        *http.Client
	Now         func() time.Time
}

// TopicURN is a parsed SMN topic URN, urn:smn:{region}:{project_id}:{topic_name}.
type TopicURN struct {
	Region, ProjectID, Name string
}

// ParseTopicURN reads an SMN topic URN.
func ParseTopicURN(s string) (TopicURN, error) {
	p := strings.Split(s, ":")
	if len(p) != 5 || p[0] != "urn" || p[1] != "smn" || p[2] == "" || p[3] == "" || p[4] == "" {
		return TopicURN{}, errors.New("alert: not an SMN topic URN (urn:smn:region:project_id:topic)")
	}
	return TopicURN{Region: p[2], ProjectID: p[3], Name: p[4]}, nil
}

// Limits of PublishMessageRequestBody: a subject of at most 512 bytes; the message
// at most 256 KB (an SMS subscriber gets 490 characters of it).
const (
	smnMaxSubject = 512
	smnMaxMessage = 16 << 10
	// smnTTL is time_to_live: a notice older than an hour is not worth sending.
	smnTTL = "3600"
)

// PublishBody is the JSON body sent (PublishMessageRequestBody's fields).
type PublishBody struct {
	Subject    string `json:"subject"`
	Message    string `json:"message"`
	TimeToLive string `json:"time_to_live"`
}

// Name implements Sender.
func (s *SMN) Name() string { return "smn" }

// Send implements Sender.
func (s *SMN) Send(ctx context.Context, n Notice) error {
	cred := aksk.ForInvocation(ctx, s.Credentials)
	body, err := json.Marshal(PublishBody{
		Subject: clipBytes(n.Subject(), smnMaxSubject), Message: clipBytes(n.Text(), smnMaxMessage), TimeToLive: smnTTL,
	})
	if err != nil {
		return err
	}
	now := time.Now
	if s.Now != nil {
		now = s.Now
	}
	req, err := aksk.Request(cred, s.Endpoint, now().UTC().Format(aksk.Date), aksk.Call{
		Method: http.MethodPost,
		Path:   "/v2/" + s.ProjectID + "/notifications/topics/" + s.TopicURN + "/publish",
		// The SDK's content type for PublishMessage (smn_meta.go).
		ContentType: "application/json;charset=UTF-8",
		Body:        body,
	})
	if err != nil {
		return err
	}
	hc := s.HTTP
	if hc == nil {
		hc = defaultHTTP
	}
	resp, err := hc.Do(req.WithContext(ctx))
	if err != nil {
		return fmt.Errorf("publishing: %w", err)
	}
	defer resp.Body.Close()
	answer, _ := io.ReadAll(io.LimitReader(resp.Body, 4<<10))
	if resp.StatusCode/100 != 2 {
		var e struct {
			Code string `json:"error_code"`
			Msg  string `json:"error_msg"`
		}
		_ = json.Unmarshal(answer, &e)
		return fmt.Errorf("publishing: HTTP %d %s %s", resp.StatusCode, e.Code, clipBytes(e.Msg, 200))
	}
	return nil
}

// defaultHTTP bounds every alert call: a notice must not hold the monitor up.
var defaultHTTP = &http.Client{Timeout: 5 * time.Second}

// clipBytes cuts s to at most n bytes on a character boundary.
func clipBytes(s string, n int) string {
	if len(s) <= n {
		return s
	}
	cut := n
	for cut > 0 && !utf8RuneStart(s[cut]) {
		cut--
	}
	return s[:cut]
}

func utf8RuneStart(b byte) bool { return b&0xC0 != 0x80 }

// Package licensecode is a client of the KooGallery license-code (授权码 2.0) open
// APIs that the seller's software calls (docs/protocol.md#license-code-apis): activate a
// code (v1 single, v2 batch of at most 100), query it on the first use each day
// (formerly "heartbeat"), and report software usage daily. Calls are signed with
// Huawei AK/SK; answers other than 92020000 become *Error values that match the
// package's sentinel errors with errors.Is.
package licensecode

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/kgseller/kgseller/shared/openapi"
)

// Paths of the license-code open APIs.
const (
	PathActivateV1  = "/api/mkp-openapi-public/global/v1/license/activate"
	PathActivateV2  = "/api/mkp-openapi-public/global/v2/license/activate"
	PathHeartbeatV1 = "/api/mkp-openapi-public/global/v1/license/heartbeat"
	PathUsage       = "/api/mkp-openapi-public/global/v2/license/software-usage-info"
)

// Limits from docs/protocol.md#license-code-apis.
const (
	MaxCodeLen   = 64
	MaxBatch     = 100 // codes per v2 activation, licenses per usage report
	MaxUsageItem = 100 // usage items per license
	MaxIDLen     = 256
)

// SuccessCode is the error_code of a successful call.
const SuccessCode = "92020000"

// TimeLayout is real_effect_time's format (UTC).
const TimeLayout = "20060102150405"

// Error is an answer other than success. Code is the marketplace's error_code
// (92020001…, 95000001…, or an API Gateway code such as APIGW.0301).
type Error struct {
	HTTPStatus int
	Code       string
	Message    string
}

func (e *Error) Error() string {
	return fmt.Sprintf("licensecode: HTTP %d, error_code %s: %s", e.HTTPStatus, e.Code, e.Message)
}

// Is matches the sentinels by code; ErrUnauthorized also matches an HTTP 401/403
// or an API Gateway authentication error.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	if !ok {
		return false
	}
	if t == ErrUnauthorized {
		return e.HTTPStatus == http.StatusUnauthorized || e.HTTPStatus == http.StatusForbidden || strings.HasPrefix(e.Code, "APIGW.03")
	}
	return t.Code != "" && t.Code == e.Code
}

// Sentinel errors (docs/protocol.md#license-code-errors).
var (
	ErrInternal        = &Error{Code: "92020001", Message: "internal error"}
	ErrInvalidParam    = &Error{Code: "92020002", Message: "invalid param"}
	ErrIllegalState    = &Error{Code: "92020003", Message: "illegal state (do not activate twice)"}
	ErrNotReceived     = &Error{Code: "92020004", Message: "can not active before user received"}
	ErrNotExist        = &Error{Code: "92020005", Message: "license code does not exist"}
	ErrNotActivated    = &Error{Code: "92020011", Message: "license code has not been activated"}
	ErrInvalidInBatch  = &Error{Code: "92020020", Message: "invalid license code exists"}
	ErrReqParamInvalid = &Error{Code: "95000001", Message: "req param is invalid"}
	ErrNotReadable     = &Error{Code: "95000004", Message: "req message is not readable"}
	ErrUnauthorized    = &Error{Code: "APIGW.0301", Message: "AK/SK authentication failed"}
)

// Temporary reports whether retrying later may help: transport failures, server
// errors, throttling and the marketplace's own internal error.
func Temporary(err error) bool {
	var e *Error
	if errors.As(err, &e) {
		return e.HTTPStatus >= 500 || e.HTTPStatus == http.StatusTooManyRequests || e.Code == ErrInternal.Code
	}
	return err != nil && !errors.Is(err, errInput)
}

// errInput marks requests refused before sending (bad arguments).
var errInput = errors.New("licensecode: invalid argument")

func inputErr(format string, args ...any) error {
	return fmt.Errorf("%w: %s", errInput, fmt.Sprintf(format, args...))
}

// Info is a license code as the marketplace describes it. Fields beyond these are
// kept in Raw (the response is documented as extensible).
type Info struct {
	LicenseCode  string `json:"license_code"`
	Status       string `json:"status"` // ALIVE, EXPIRED, RELEASED
	ActivateTime string `json:"activate_time"`
	ExpireTime   string `json:"expire_time"`
	Raw          json.RawMessage
}

// Client calls the license-code APIs.
type Client struct {
	c *openapi.Client
}

// New builds a client (AK/SK of the seller's Huawei Cloud account; region or
// endpoint as for every open API).
func New(o openapi.Options) (*Client, error) {
	c, err := openapi.New(o)
	if err != nil {
		return nil, err
	}
	return &Client{c: c}, nil
}

// call posts body and returns the data of a successful answer.
func (c *Client) call(ctx context.Context, path string, body any) (json.RawMessage, error) {
	raw, err := json.Marshal(body)
	if err != nil {
		return nil, fmt.Errorf("licensecode: encoding request: %w", err)
	}
	resp, err := c.c.Send(ctx, openapi.Call{Method: http.MethodPost, Path: path, Body: raw})
	if err != nil {
		return nil, fmt.Errorf("licensecode: %w", err)
	}
	env := openapi.DecodeEnvelope(resp.Body)
	if resp.Status == http.StatusOK && env.Code() == SuccessCode {
		return env.Data, nil
	}
	msg := env.Message()
	if msg == "" {
		msg = strings.TrimSpace(string(resp.Body))
		if len(msg) > 200 {
			msg = msg[:200]
		}
	}
	return nil, &Error{HTTPStatus: resp.Status, Code: env.Code(), Message: msg}
}

func checkCode(code string) error {
	if code == "" || utf8.RuneCountInString(code) > MaxCodeLen {
		return inputErr("a license code must have 1 to %d characters", MaxCodeLen)
	}
	return nil
}

func effectTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(TimeLayout)
}

// Activate activates one code (v1). realEffect, when not zero, is when the
// software actually took effect for the buyer; it must not precede the order.
func (c *Client) Activate(ctx context.Context, code string, realEffect time.Time) (Info, error) {
	if err := checkCode(code); err != nil {
		return Info{}, err
	}
	req := struct {
		License        string `json:"license"`
		RealEffectTime string `json:"real_effect_time,omitempty"`
	}{code, effectTime(realEffect)}
	data, err := c.call(ctx, PathActivateV1, req)
	if err != nil {
		return Info{}, err
	}
	var d struct {
		Info json.RawMessage `json:"license_code_info"`
	}
	_ = json.Unmarshal(data, &d)
	info, err := decodeInfo(d.Info)
	if err != nil {
		return Info{}, err
	}
	if info.LicenseCode == "" {
		info.LicenseCode = code
	}
	return info, nil
}

// ActivateBatch activates up to 100 codes at once (v2) and returns the answer's
// data, whose shape the documentation does not give.
func (c *Client) ActivateBatch(ctx context.Context, codes []string, realEffect time.Time) (json.RawMessage, error) {
	if len(codes) == 0 || len(codes) > MaxBatch {
		return nil, inputErr("a batch holds 1 to %d codes, not %d", MaxBatch, len(codes))
	}
	for _, code := range codes {
		if err := checkCode(code); err != nil {
			return nil, err
		}
	}
	req := struct {
		LicenseList    []string `json:"license_list"`
		RealEffectTime string   `json:"real_effect_time,omitempty"`
	}{codes, effectTime(realEffect)}
	return c.call(ctx, PathActivateV2, req)
}

// Query returns a code's state (v1 heartbeat). The seller's software calls it on
// the buyer's first use each day.
func (c *Client) Query(ctx context.Context, code string) (Info, error) {
	if err := checkCode(code); err != nil {
		return Info{}, err
	}
	data, err := c.call(ctx, PathHeartbeatV1, map[string]string{"license": code})
	if err != nil {
		return Info{}, err
	}
	return decodeInfo(data)
}

// decodeInfo reads LicenseInfo, which arrives as an object or as a JSON string
// holding the object (license_code_info).
func decodeInfo(raw json.RawMessage) (Info, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) > 0 && raw[0] == '"' {
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return Info{}, fmt.Errorf("licensecode: license info: %w", err)
		}
		raw = json.RawMessage(s)
	}
	var info Info
	if len(raw) == 0 || string(raw) == "null" {
		return info, nil
	}
	if err := json.Unmarshal(raw, &info); err != nil {
		return Info{}, fmt.Errorf("licensecode: license info: %w", err)
	}
	info.Raw = append(json.RawMessage(nil), raw...)
	return info, nil
}

// UsageItem is one client of the software: exactly one of ID (an account or
// device identity) and ActiveNum (today's number of active clients).
type UsageItem struct {
	ID        string `json:"id,omitempty"`
	ActiveNum *int   `json:"active_num,omitempty"`
}

// Usage is the usage of one license code.
type Usage struct {
	License string      `json:"license"`
	Items   []UsageItem `json:"software_usage_Info"` // sic: capital I, as documented
}

// ReportUsage reports software usage (v2 software-usage-info), once a day after
// activation when the software was used, and returns the answer's data.
func (c *Client) ReportUsage(ctx context.Context, usage []Usage) (json.RawMessage, error) {
	if len(usage) == 0 || len(usage) > MaxBatch {
		return nil, inputErr("a report holds 1 to %d licenses, not %d", MaxBatch, len(usage))
	}
	for _, u := range usage {
		if err := checkCode(u.License); err != nil {
			return nil, err
		}
		if len(u.Items) == 0 || len(u.Items) > MaxUsageItem {
			return nil, inputErr("license %s: 1 to %d usage items, not %d", u.License, MaxUsageItem, len(u.Items))
		}
		for _, it := range u.Items {
			if (it.ID == "") == (it.ActiveNum == nil) {
				return nil, inputErr("license %s: each usage item has exactly one of id and active_num", u.License)
			}
			if utf8.RuneCountInString(it.ID) > MaxIDLen {
				return nil, inputErr("license %s: id longer than %d characters", u.License, MaxIDLen)
			}
			if it.ActiveNum != nil && *it.ActiveNum < 0 {
				return nil, inputErr("license %s: active_num is negative", u.License)
			}
		}
	}
	return c.call(ctx, PathUsage, map[string]any{"usage_info": usage})
}

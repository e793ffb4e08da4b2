package openapi

import "encoding/json"

// The market-event file upload and the license-code APIs do not use the Query
// Order envelope: they answer {"error_code","error_msg","data"} (some with
// resultCode/resultMsg).

// Envelope is the head of an error_code answer. Some answers use resultCode /
// resultMsg instead; Code and Message read whichever is present.
type Envelope struct {
	ErrorCode  string          `json:"error_code"`
	ErrorMsg   string          `json:"error_msg"`
	ResultCode string          `json:"resultCode"`
	ResultMsg  string          `json:"resultMsg"`
	Data       json.RawMessage `json:"data"`
}

// Code returns error_code, or resultCode when error_code is absent.
func (e Envelope) Code() string {
	if e.ErrorCode != "" {
		return e.ErrorCode
	}
	return e.ResultCode
}

// Message returns error_msg, or resultMsg.
func (e Envelope) Message() string {
	if e.ErrorMsg != "" {
		return e.ErrorMsg
	}
	return e.ResultMsg
}

// DecodeEnvelope reads the head of an answer; a body that is not JSON gives an
// empty envelope.
func DecodeEnvelope(body []byte) Envelope {
	var e Envelope
	_ = json.Unmarshal(body, &e)
	return e
}

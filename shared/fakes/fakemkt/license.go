package fakemkt

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"strings"
	"sync"
	"time"
	"unicode/utf8"
)

// Open-API paths of the License products (docs/protocol.md#license-upload, docs/protocol.md#license-code-apis).
const (
	EventFilePattern = "/api/mkp-openapi-public/global/v1/market-event/{event_id}/file"
	ActivateV1Path   = "/api/mkp-openapi-public/global/v1/license/activate"
	ActivateV2Path   = "/api/mkp-openapi-public/global/v2/license/activate"
	HeartbeatV1Path  = "/api/mkp-openapi-public/global/v1/license/heartbeat"
	UsageInfoPath    = "/api/mkp-openapi-public/global/v2/license/software-usage-info"
)

// EventFilePath is the upload path of one event.
func EventFilePath(eventID string) string {
	return strings.Replace(EventFilePattern, "{event_id}", eventID, 1)
}

// Test license codes. The Seller Console's "apply for a test license code" gives
// the seller codes that its software activates and queries over the same APIs; the
// fake knows codes by prefix, so every test can use fresh ones:
//
//	PLTEST…      claimed by the buyer, not yet activated: activate, then query
//	PLUNCLAIMED… not yet claimed: activation answers 92020004
//	PLEXPIRED…   activated earlier, now EXPIRED: activation answers 92020003
//	PLRELEASED…  activated earlier, now RELEASED: activation answers 92020003
//
// Any other code is unknown (92020005).
const (
	TestCodePrefix      = "PLTEST"
	UnclaimedCodePrefix = "PLUNCLAIMED"
	ExpiredCodePrefix   = "PLEXPIRED"
	ReleasedCodePrefix  = "PLRELEASED"
)

// Upload is one market-event file upload the fake accepted.
type Upload struct {
	EventID    string
	Type       string // FILE or CHARACTERS
	FileName   string
	SHA256     string
	Content    []byte
	Characters string
	AccessKey  string
	Time       time.Time
}

// LicenseCodeState is a license code as the fake keeps it.
type LicenseCodeState struct {
	Code           string
	Claimed        bool
	Activated      bool // the console's 已激活
	Checked        bool // queried after activation: the console's 已检测
	Status         string
	ActivateTime   time.Time
	ExpireTime     time.Time
	RealEffectTime string
	UsageReports   int
}

type licenseFake struct {
	mu      sync.Mutex
	uploads []Upload
	codes   map[string]*LicenseCodeState
}

// registerLicense adds the upload and license-code endpoints.
func (s *Server) registerLicense() {
	s.lic = &licenseFake{codes: map[string]*LicenseCodeState{}}
	s.Handle("POST "+EventFilePattern, s.eventFile)
	s.Handle("POST "+ActivateV1Path, s.licenseJSON(s.activateV1))
	s.Handle("POST "+ActivateV2Path, s.licenseJSON(s.activateV2))
	s.Handle("POST "+HeartbeatV1Path, s.licenseJSON(s.heartbeatV1))
	s.Handle("POST "+UsageInfoPath, s.licenseJSON(s.usageInfo))
}

// Uploads returns the accepted uploads, oldest first.
func (s *Server) Uploads() []Upload {
	s.lic.mu.Lock()
	defer s.lic.mu.Unlock()
	return append([]Upload(nil), s.lic.uploads...)
}

// UploadsFor returns the accepted uploads of one event.
func (s *Server) UploadsFor(eventID string) []Upload {
	var out []Upload
	for _, u := range s.Uploads() {
		if u.EventID == eventID {
			out = append(out, u)
		}
	}
	return out
}

// LicenseCode returns the state of a code the fake has seen or was given.
func (s *Server) LicenseCode(code string) (LicenseCodeState, bool) {
	s.lic.mu.Lock()
	defer s.lic.mu.Unlock()
	c, ok := s.lic.code(code, s.now())
	if !ok {
		return LicenseCodeState{}, false
	}
	return *c, true
}

// code finds a code, creating the prefixed test codes on first use; mu is held.
func (l *licenseFake) code(code string, now time.Time) (*LicenseCodeState, bool) {
	if c, ok := l.codes[code]; ok {
		return c, true
	}
	c := &LicenseCodeState{Code: code, ExpireTime: now.UTC().AddDate(1, 0, 0)}
	switch {
	case strings.HasPrefix(code, TestCodePrefix):
		c.Claimed = true
	case strings.HasPrefix(code, UnclaimedCodePrefix):
	case strings.HasPrefix(code, ExpiredCodePrefix):
		c.Claimed, c.Activated, c.Status, c.ActivateTime = true, true, "EXPIRED", now.UTC().AddDate(-1, 0, 0)
		c.ExpireTime = now.UTC().AddDate(0, 0, -1)
	case strings.HasPrefix(code, ReleasedCodePrefix):
		c.Claimed, c.Activated, c.Status, c.ActivateTime = true, true, "RELEASED", now.UTC().AddDate(-1, 0, 0)
	default:
		return nil, false
	}
	l.codes[code] = c
	return c, true
}

func writeUploadError(w http.ResponseWriter, status int, code, msg string) {
	writeJSON(w, status, map[string]string{"error_code": code, "error_msg": msg})
}

// eventFile is the market-event file upload: multipart, with the file, its name
// and type, and the SHA-256 of the file, which must match. The fields are read
// from the isvUpdateFileReq JSON part of the documented example and, where that
// part lacks them, from plain form fields as the field table lists them.
func (s *Server) eventFile(w http.ResponseWriter, r *http.Request, body []byte) {
	eventID := r.PathValue("event_id")
	if eventID == "" || utf8.RuneCountInString(eventID) > 64 {
		writeUploadError(w, http.StatusBadRequest, "MKT.0100", "event_id is invalid")
		return
	}
	mt, params, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "multipart/form-data" || params["boundary"] == "" {
		writeUploadError(w, http.StatusBadRequest, "MKT.0100", "multipart/form-data is required")
		return
	}
	var req struct {
		Type       string `json:"type"`
		FileName   string `json:"file_name"`
		SHA256     string `json:"sha256"`
		Characters string `json:"characters"`
	}
	fields := map[string]string{}
	var file []byte
	var partName string
	mr := multipart.NewReader(bytes.NewReader(body), params["boundary"])
	for {
		p, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			writeUploadError(w, http.StatusBadRequest, "MKT.0100", "multipart body is malformed")
			return
		}
		data, err := io.ReadAll(io.LimitReader(p, 32<<20))
		if err != nil {
			writeUploadError(w, http.StatusBadRequest, "MKT.0100", "multipart body is malformed")
			return
		}
		switch p.FormName() {
		case "file":
			file, partName = data, p.FileName()
		case "isvUpdateFileReq":
			if err := json.Unmarshal(data, &req); err != nil {
				writeUploadError(w, http.StatusBadRequest, "MKT.0100", "isvUpdateFileReq is not JSON")
				return
			}
		default:
			fields[p.FormName()] = string(data)
		}
	}
	fill := func(dst *string, name string) {
		if *dst == "" {
			*dst = fields[name]
		}
	}
	fill(&req.Type, "type")
	fill(&req.FileName, "file_name")
	fill(&req.SHA256, "sha256")
	fill(&req.Characters, "characters")
	if req.FileName == "" {
		req.FileName = partName
	}
	up := Upload{EventID: eventID, Type: req.Type, FileName: req.FileName, Time: s.now()}
	switch req.Type {
	case "FILE":
		sum := sha256.Sum256(file)
		switch {
		case file == nil || req.FileName == "":
			writeUploadError(w, http.StatusBadRequest, "MKT.0100", "file and file_name are required for type FILE")
			return
		case req.SHA256 == "":
			writeUploadError(w, http.StatusBadRequest, "MKT.0100", "sha256 is required for type FILE")
			return
		case !strings.EqualFold(req.SHA256, hex.EncodeToString(sum[:])):
			writeUploadError(w, http.StatusBadRequest, "MKT.0101", "sha256 does not match the file")
			return
		}
		up.SHA256, up.Content = strings.ToLower(req.SHA256), file
	case "CHARACTERS":
		if req.Characters == "" || utf8.RuneCountInString(req.Characters) > 1024 {
			writeUploadError(w, http.StatusBadRequest, "MKT.0100", "characters must have 1 to 1024 characters")
			return
		}
		up.Characters = req.Characters
	default:
		writeUploadError(w, http.StatusBadRequest, "MKT.0100", "type must be FILE or CHARACTERS")
		return
	}
	if auth := r.Header.Get("Authorization"); auth != "" {
		if _, rest, ok := strings.Cut(auth, "Access="); ok {
			up.AccessKey, _, _ = strings.Cut(rest, ",")
		}
	}
	s.lic.mu.Lock()
	s.lic.uploads = append(s.lic.uploads, up)
	s.lic.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]string{"error_code": "MKT.0000", "error_msg": "success"})
}

// licenseJSON checks what every license-code API checks before its own rules: a
// JSON content type and a JSON object body.
func (s *Server) licenseJSON(h func(w http.ResponseWriter, req map[string]json.RawMessage)) func(http.ResponseWriter, *http.Request, []byte) {
	return func(w http.ResponseWriter, r *http.Request, body []byte) {
		if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != "application/json" {
			codeAnswer(w, http.StatusUnsupportedMediaType, "95000003", "Content type not supported", nil)
			return
		}
		var req map[string]json.RawMessage
		if err := json.Unmarshal(body, &req); err != nil || req == nil {
			codeAnswer(w, http.StatusBadRequest, "95000004", "req message is not readable", nil)
			return
		}
		s.lic.mu.Lock()
		defer s.lic.mu.Unlock()
		h(w, req)
	}
}

func codeAnswer(w http.ResponseWriter, status int, code, msg string, data any) {
	out := map[string]any{"error_code": code, "error_msg": msg}
	if data != nil {
		out["data"] = data
	}
	writeJSON(w, status, out)
}

func paramInvalid(w http.ResponseWriter) {
	codeAnswer(w, http.StatusBadRequest, "95000001", "req param is invalid", nil)
}

// codeParam reads a license code field: a string of 1 to 64 characters.
func codeParam(raw json.RawMessage) (string, bool) {
	var code string
	if json.Unmarshal(raw, &code) != nil || code == "" || utf8.RuneCountInString(code) > 64 {
		return "", false
	}
	return code, true
}

// effectParam reads the optional real_effect_time (14 digits, UTC).
func effectParam(req map[string]json.RawMessage) (string, bool) {
	raw, ok := req["real_effect_time"]
	if !ok || string(raw) == "null" {
		return "", true
	}
	var v string
	if json.Unmarshal(raw, &v) != nil {
		return "", false
	}
	if _, err := time.Parse("20060102150405", v); v != "" && (len(v) != 14 || err != nil) {
		return "", false
	}
	return v, true
}

func (c *LicenseCodeState) info() map[string]string {
	m := map[string]string{"license_code": c.Code, "status": c.Status, "expire_time": c.ExpireTime.Format("20060102150405")}
	if !c.ActivateTime.IsZero() {
		m["activate_time"] = c.ActivateTime.Format("20060102150405")
	}
	return m
}

// activate applies the activation rules to one code; mu is held. It returns the
// failing code and message, or "" on success (without changing anything when
// dryRun).
func (l *licenseFake) activate(code, effect string, now time.Time, dryRun bool) (string, string) {
	c, ok := l.code(code, now)
	switch {
	case !ok:
		return "92020005", "license code notexist"
	case !c.Claimed:
		return "92020004", "can not active before user received."
	case c.Activated:
		return "92020003", "illegal state"
	}
	if !dryRun {
		c.Activated, c.Status, c.ActivateTime, c.RealEffectTime = true, "ALIVE", now.UTC(), effect
	}
	return "", ""
}

func (s *Server) activateV1(w http.ResponseWriter, req map[string]json.RawMessage) {
	code, ok := codeParam(req["license"])
	effect, eok := effectParam(req)
	if !ok || !eok {
		paramInvalid(w)
		return
	}
	if ec, msg := s.lic.activate(code, effect, s.now(), false); ec != "" {
		codeAnswer(w, http.StatusOK, ec, msg, nil)
		return
	}
	info, _ := json.Marshal(s.lic.codes[code].info())
	codeAnswer(w, http.StatusOK, "92020000", "success", map[string]string{"license_code_info": string(info)})
}

// activateV2 activates a batch of at most 100 codes: all of them, or none when any
// is invalid (92020020).
func (s *Server) activateV2(w http.ResponseWriter, req map[string]json.RawMessage) {
	var list []json.RawMessage
	effect, eok := effectParam(req)
	if json.Unmarshal(req["license_list"], &list) != nil || len(list) == 0 || len(list) > 100 || !eok {
		paramInvalid(w)
		return
	}
	codes := make([]string, len(list))
	for i, raw := range list {
		code, ok := codeParam(raw)
		if !ok {
			paramInvalid(w)
			return
		}
		codes[i] = code
	}
	now := s.now()
	for _, code := range codes {
		if ec, _ := s.lic.activate(code, effect, now, true); ec != "" {
			codeAnswer(w, http.StatusOK, "92020020", "Invalid license code exists.", nil)
			return
		}
	}
	infos := make([]map[string]string, 0, len(codes))
	for _, code := range codes {
		s.lic.activate(code, effect, now, false)
		infos = append(infos, s.lic.codes[code].info())
	}
	codeAnswer(w, http.StatusOK, "92020000", "success", map[string]any{"license_code_info_list": infos})
}

func (s *Server) heartbeatV1(w http.ResponseWriter, req map[string]json.RawMessage) {
	code, ok := codeParam(req["license"])
	if !ok {
		paramInvalid(w)
		return
	}
	c, ok := s.lic.code(code, s.now())
	switch {
	case !ok:
		codeAnswer(w, http.StatusOK, "92020005", "license code notexist", nil)
	case !c.Activated:
		codeAnswer(w, http.StatusOK, "92020011", "license code has been not activated.", nil)
	default:
		c.Checked = true
		codeAnswer(w, http.StatusOK, "92020000", "success", c.info())
	}
}

// usageInfo accepts a daily usage report: up to 100 licenses, each with up to 100
// items carrying exactly one of id and active_num.
func (s *Server) usageInfo(w http.ResponseWriter, req map[string]json.RawMessage) {
	var usage []struct {
		License json.RawMessage              `json:"license"`
		Items   []map[string]json.RawMessage `json:"software_usage_Info"`
	}
	if json.Unmarshal(req["usage_info"], &usage) != nil || len(usage) == 0 || len(usage) > 100 {
		paramInvalid(w)
		return
	}
	var codes []*LicenseCodeState
	for _, u := range usage {
		code, ok := codeParam(u.License)
		if !ok || len(u.Items) == 0 || len(u.Items) > 100 {
			paramInvalid(w)
			return
		}
		for _, it := range u.Items {
			_, hasID := it["id"]
			_, hasNum := it["active_num"]
			if hasID == hasNum {
				paramInvalid(w)
				return
			}
		}
		c, ok := s.lic.code(code, s.now())
		switch {
		case !ok:
			codeAnswer(w, http.StatusOK, "92020005", "license code notexist", nil)
			return
		case !c.Activated:
			codeAnswer(w, http.StatusOK, "92020011", "license code has been not activated.", nil)
			return
		}
		codes = append(codes, c)
	}
	for _, c := range codes {
		c.UsageReports++
	}
	codeAnswer(w, http.StatusOK, "92020000", "success", map[string]any{})
}

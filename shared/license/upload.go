package license

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"strings"

	"github.com/kgseller/kgseller/shared/openapi"
)

// EventFilePath is the market-event file upload API of one event
// (docs/protocol.md#license-upload).
func EventFilePath(eventID string) string {
	return "/api/mkp-openapi-public/global/v1/market-event/" + eventID + "/file"
}

// Uploaded is a successful upload.
type Uploaded struct {
	FileName   string
	SHA256     string
	AnswerCode string
}

// Uploader delivers a license file for an event.
type Uploader interface {
	Upload(ctx context.Context, eventID, fileName string, content []byte) (Uploaded, error)
}

// UploadError is an upload the marketplace refused.
type UploadError struct {
	Status  int
	Code    string
	Message string
}

func (e *UploadError) Error() string {
	return fmt.Sprintf("license upload: HTTP %d, error_code %q: %s", e.Status, e.Code, e.Message)
}

// Temporary reports whether retrying may help: server errors, throttling, and
// answers whose code is not a success (the marketplace documents none of them);
// other client errors are final.
func (e *UploadError) Temporary() bool {
	return e.Status >= 500 || e.Status == http.StatusTooManyRequests || e.Status == http.StatusRequestTimeout || e.Status/100 == 2
}

// EventFiles uploads licenses with the market-event file API.
type EventFiles struct {
	Client *openapi.Client
}

// Upload sends content as a FILE upload: multipart/form-data with the file, its
// name and its SHA-256. The documented example carries type and sha256 in a JSON
// part named isvUpdateFileReq while the field table lists them as form fields; both
// are sent, with the same values. The SDK signer signs a multipart body as
// UNSIGNED-PAYLOAD (X-Sdk-Content-Sha256), so the sha256 field is what binds the
// file. The boundary derives from the content, so a retry sends identical bytes.
func (u EventFiles) Upload(ctx context.Context, eventID, fileName string, content []byte) (Uploaded, error) {
	if !pathSafe(eventID) {
		return Uploaded{}, &UploadError{Status: http.StatusBadRequest, Message: "eventId cannot be used in the upload path"}
	}
	sum := sha256.Sum256(content)
	digest := hex.EncodeToString(sum[:])
	body, contentType, err := multipartBody(fileName, digest, content)
	if err != nil {
		return Uploaded{}, err
	}
	resp, err := u.Client.Send(ctx, openapi.Call{Method: http.MethodPost, Path: EventFilePath(eventID), ContentType: contentType, Body: body})
	if err != nil {
		return Uploaded{}, err
	}
	env := openapi.DecodeEnvelope(resp.Body)
	if resp.Status/100 == 2 && uploadSucceeded(env.Code()) {
		return Uploaded{FileName: fileName, SHA256: digest, AnswerCode: env.Code()}, nil
	}
	msg := env.Message()
	if msg == "" {
		msg = strings.TrimSpace(string(resp.Body))
		if len(msg) > 200 {
			msg = msg[:200]
		}
	}
	return Uploaded{}, &UploadError{Status: resp.Status, Code: env.Code(), Message: msg}
}

// uploadSucceeded reads the answer code. The success code of this API is not
// documented; the sibling open APIs answer MKT.0000 or CBC.0000, so an empty code
// or any "<family>.0000" counts as success.
func uploadSucceeded(code string) bool {
	return code == "" || strings.HasSuffix(code, ".0000")
}

func multipartBody(fileName, digest string, content []byte) ([]byte, string, error) {
	var b bytes.Buffer
	w := multipart.NewWriter(&b)
	if err := w.SetBoundary("kgseller-" + digest[:40]); err != nil {
		return nil, "", err
	}
	req, _ := json.Marshal(map[string]string{"type": "FILE", "file_name": fileName, "sha256": digest})
	h := textproto.MIMEHeader{}
	h.Set("Content-Disposition", `form-data; name="isvUpdateFileReq"`)
	h.Set("Content-Type", "application/json")
	part, err := w.CreatePart(h)
	if err != nil {
		return nil, "", err
	}
	_, _ = part.Write(req)
	for _, f := range [][2]string{{"type", "FILE"}, {"file_name", fileName}, {"sha256", digest}} {
		if err := w.WriteField(f[0], f[1]); err != nil {
			return nil, "", err
		}
	}
	h = textproto.MIMEHeader{}
	h.Set("Content-Disposition", fmt.Sprintf(`form-data; name="file"; filename=%q`, fileName))
	h.Set("Content-Type", "application/octet-stream")
	if part, err = w.CreatePart(h); err != nil {
		return nil, "", err
	}
	_, _ = part.Write(content)
	if err := w.Close(); err != nil {
		return nil, "", err
	}
	return b.Bytes(), w.FormDataContentType(), nil
}

// pathSafe reports whether an event ID is made of URL-unreserved characters only,
// so the signed path and the sent path cannot differ.
func pathSafe(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '_' || c == '.' || c == '~') {
			return false
		}
	}
	return true
}

// fileName is the name a license is uploaded under.
func fileName(eventID string) string {
	return "license-" + eventID + ".json"
}

// temporary reports whether an upload error may pass on retry.
func temporary(err error) bool {
	var ue *UploadError
	if errors.As(err, &ue) {
		return ue.Temporary()
	}
	return true
}

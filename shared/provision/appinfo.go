package provision

import (
	"fmt"
	"unicode/utf8"

	"github.com/kgseller/kgseller/shared/marketplace"
	"github.com/kgseller/kgseller/shared/secretbox"
)

// SealAppInfo checks what a provisioner returned and seals its password. Both the
// worker and the provisioning callback use it.
func SealAppInfo(box *secretbox.Box, instanceID string, app marketplace.AppInfo, encrypted bool) (string, error) {
	if err := CheckAppInfo(app, encrypted); err != nil {
		return "", err
	}
	if app.Password == "" {
		return "", nil
	}
	if box == nil {
		return "", &Permanent{Code: marketplace.InternalError, Reason: "a password was returned but KG_DATA_KEY is not configured to keep it sealed"}
	}
	return box.Seal(app.Password, marketplace.PasswordContext(instanceID))
}

// maxEncryptedPlain is the longest userName/password whose encrypted form (16-char
// IV + base64 of the padded AES-CBC ciphertext) fits the 128-character field.
const maxEncryptedPlain = 79

// CheckAppInfo enforces the documented field lengths on what a provisioner returns,
// so an over-long value fails the job visibly instead of failing the marketplace's
// field-length check later. With encrypted, userName and password must fit the
// field once encrypted.
func CheckAppInfo(a marketplace.AppInfo, encrypted bool) error {
	credMax := 128
	if encrypted {
		credMax = maxEncryptedPlain
	}
	for _, f := range []struct {
		name, v string
		max     int
		bytes   bool
	}{
		{"frontEndUrl", a.FrontEndURL, 512, false}, {"adminUrl", a.AdminURL, 512, false},
		{"userName", a.UserName, credMax, encrypted}, {"password", a.Password, credMax, encrypted}, {"memo", a.Memo, 1024, false},
	} {
		n := utf8.RuneCountInString(f.v)
		if f.bytes {
			n = len(f.v)
		}
		if n > f.max {
			return &Permanent{Code: marketplace.InternalError, Reason: fmt.Sprintf("provisioner returned a %s longer than %d characters", f.name, f.max)}
		}
	}
	if a.FrontEndURL == "" {
		return &Permanent{Code: marketplace.InternalError, Reason: "provisioner returned no frontEndUrl"}
	}
	return nil
}

package kit

import (
	"encoding/json"
	"net/url"
	"strings"

	"github.com/kgseller/kgseller/shared/marketplace"
	"github.com/kgseller/kgseller/shared/reqbody"
)

// Field lengths from the Kit tables (docs/protocol.md#kit).
const (
	lenID         = 64
	lenTenantName = 255
	lenDomain     = 255
	lenUserName   = 64
	lenName       = 64
	lenRole       = 32
	lenEnable     = 8
	lenMobile     = 32
	lenEmail      = 128
	lenWorkPlace  = 256
	lenEntryDate  = 20
	lenOrgName    = 128
	lenTimeStamp  = 32
	// lenSecret bounds the base64 ciphertext: an 8192-bit key gives 1368 characters.
	lenSecret = 2048
	// MaxUsers is the documented limit of one authSync call.
	MaxUsers = 500
	// MaxOrgs bounds one allOrgSync call (the protocol gives no number; a body within
	// the 1 MiB limit holds about this many departments).
	MaxOrgs = 10000
)

func bad(format string, args ...any) error {
	return marketplace.Errorf(marketplace.BadRequest, "invalid request parameter: "+format, args...)
}

// Flag is the operation a Kit call asks for.
type Flag int

// Flag values (V2).
const (
	FlagDelete Flag = 0
	FlagAdd    Flag = 1
	FlagModify Flag = 2
	FlagRevoke Flag = 3 // authSync only: cancel the users' authorisation
)

func (f Flag) String() string {
	switch f {
	case FlagDelete:
		return "delete"
	case FlagAdd:
		return "add"
	case FlagModify:
		return "modify"
	case FlagRevoke:
		return "revoke"
	}
	return "unknown"
}

// common holds the fields every Kit call carries.
type common struct {
	instanceID string
	tenantID   string
	test       bool
	syncTime   string
}

// readCommon reads instanceId (may be empty: credentials requested in the Seller
// Console carry none), tenantId, testFlag and timeStamp.
func readCommon(o reqbody.Object) (common, error) {
	var c common
	var err error
	if c.instanceID, err = o.ID("instanceId", lenID, false); err != nil {
		return c, err
	}
	if c.tenantID, err = o.ID("tenantId", lenID, true); err != nil {
		return c, err
	}
	if c.test, err = testFlag(o); err != nil {
		return c, err
	}
	if c.syncTime, err = text(o, "timeStamp", lenTimeStamp); err != nil {
		return c, err
	}
	return c, nil
}

// testFlag reads testFlag, an integer in the Kit (a string elsewhere): 0 or 1, as a
// number or a string; absent or "" means 0.
func testFlag(o reqbody.Object) (bool, error) {
	if string(o["testFlag"]) == `""` {
		return false, nil
	}
	n, ok, err := o.Int("testFlag", false)
	if err != nil {
		return false, err
	}
	if ok && n != 0 && n != 1 {
		return false, bad("testFlag must be 0 or 1")
	}
	return n == 1, nil
}

// readFlag reads the required flag, as a number or a string, among allowed values.
func readFlag(o reqbody.Object, allowed ...Flag) (Flag, error) {
	n, _, err := o.Int("flag", true)
	if err != nil {
		return 0, err
	}
	for _, f := range allowed {
		if Flag(n) == f {
			return f, nil
		}
	}
	names := make([]string, len(allowed))
	for i, f := range allowed {
		names[i] = string(rune('0' + int(f)))
	}
	return 0, bad("flag must be one of %s", strings.Join(names, ", "))
}

// text reads an optional string that may also arrive as a number (timestamps).
func text(o reqbody.Object, name string, max int) (string, error) {
	r := o[name]
	if len(r) > 0 && r[0] != '"' && string(r) != "null" {
		var n json.Number
		if err := json.Unmarshal(r, &n); err != nil {
			return "", bad("%s must be a string", name)
		}
		if len(n.String()) > max {
			return "", bad("%s is longer than %d characters", name, max)
		}
		return n.String(), nil
	}
	s, err := o.String(name, max, false)
	if err != nil {
		return "", err
	}
	if !reqbody.ValidID(s) {
		return "", bad("%s contains control characters", name)
	}
	return s, nil
}

// name reads a display name: a string without control characters.
func name(o reqbody.Object, field string, max int, required bool) (string, error) {
	s, err := o.String(field, max, required)
	if err != nil {
		return "", err
	}
	if !reqbody.ValidID(s) {
		return "", bad("%s contains control characters", field)
	}
	return s, nil
}

// DomainName normalises tenantSync's domainName, the base URL of the tenant's auth
// centre: an absolute http(s) URL with a host and no credentials, query or
// fragment, without a trailing slash. A value without a scheme is taken as https.
func DomainName(s string) (string, error) {
	s = strings.TrimSpace(s)
	if s != "" && !strings.Contains(s, "://") {
		s = "https://" + s
	}
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.User != nil ||
		u.RawQuery != "" || u.Fragment != "" || u.Opaque != "" || strings.ContainsAny(u.Host, " \\") {
		return "", bad("domainName must be an http(s) URL such as https://example.tenantaccount.com")
	}
	return strings.TrimRight(u.Scheme+"://"+u.Host+u.EscapedPath(), "/"), nil
}

// boolText reads "true"/"false" (the documented string form) or a JSON boolean.
func boolText(o reqbody.Object, field string, required bool) (bool, error) {
	r := o[field]
	if len(r) == 0 || string(r) == "null" {
		if required {
			return false, bad("%s is required", field)
		}
		return true, nil
	}
	switch string(r) {
	case "true":
		return true, nil
	case "false":
		return false, nil
	}
	s, err := o.String(field, lenEnable, required)
	if err != nil {
		return false, bad("%s must be \"true\" or \"false\"", field)
	}
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "true", "1":
		return true, nil
	case "false", "0":
		return false, nil
	}
	return false, bad("%s must be \"true\" or \"false\"", field)
}

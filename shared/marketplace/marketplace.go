// Package marketplace holds the domain of a KooGallery seller: result codes, the
// answer envelope, instances and their states. It has no dependencies beyond the
// standard library, so every other package can share its vocabulary.
package marketplace

import (
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"
)

// Code is a 6-character KooGallery result code.
type Code string

// Result codes (docs/protocol.md#result-codes).
const (
	Success          Code = "000000"
	AuthFailed       Code = "000001"
	BadRequest       Code = "000002"
	InstanceNotFound Code = "000003"
	Processing       Code = "000004"
	InternalError    Code = "000005"
	NoResource       Code = "000100"
	PhoneConflict    Code = "000101"
	EmailConflict    Code = "000102"
	AlreadyPurchased Code = "000103"
	ProductInternal  Code = "000104"
	BenefitConflict  Code = "000105"
	SoldOut          Code = "000106"
	EmailDomainTaken Code = "000107"
)

// Valid reports whether c is a well-formed result code (six ASCII digits).
func (c Code) Valid() bool {
	if len(c) != 6 {
		return false
	}
	for i := 0; i < 6; i++ {
		if c[i] < '0' || c[i] > '9' {
			return false
		}
	}
	return true
}

// DefaultMessage is the resultMsg used when an answer gives none.
func (c Code) DefaultMessage() string {
	switch c {
	case Success:
		return "success."
	case AuthFailed:
		return "authentication failed"
	case BadRequest:
		return "invalid request parameter"
	case InstanceNotFound:
		return "instance does not exist"
	case Processing:
		return "request is being processed"
	case InternalError:
		return "internal service error"
	}
	return "failed"
}

// MaxMessageLen is the documented length of resultMsg, in characters.
const MaxMessageLen = 255

// Result is the common head of every answer. Concrete answers embed it first so
// resultCode and resultMsg lead the JSON object.
type Result struct {
	ResultCode Code   `json:"resultCode"`
	ResultMsg  string `json:"resultMsg"`
}

// Code returns the result code; it makes every answer a Reply.
func (r Result) Code() Code { return r.ResultCode }

// Reply is any answer value: a JSON object that starts with a Result.
type Reply interface{ Code() Code }

// NewResult builds a bare answer with a message (the default one when msg is empty).
func NewResult(c Code, msg string) Result {
	if msg == "" {
		msg = c.DefaultMessage()
	}
	return Result{ResultCode: c, ResultMsg: SafeText(msg, MaxMessageLen)}
}

// SafeText makes text from outside (an application's failure reason, a stored
// error) inert wherever it is stored, answered or printed: C0 and C1 control
// characters (ESC with them, so no terminal escape sequence survives), DEL and the
// bidirectional overrides, embeddings, isolates and marks are removed; tabs and
// line breaks become spaces; invalid UTF-8 becomes U+FFFD. The result is cut to
// max characters when max is positive. Storing and printing both use it, so text
// is inert whichever path it takes.
func SafeText(s string, max int) string {
	clean := true
	for _, r := range s {
		if r == utf8.RuneError || Unsafe(r) {
			clean = false
			break
		}
	}
	if clean && (max <= 0 || utf8.RuneCountInString(s) <= max) {
		return s
	}
	var b strings.Builder
	n := 0
	for _, r := range s {
		if max > 0 && n == max {
			break
		}
		switch {
		case r == '\t' || r == '\n' || r == '\r':
			r = ' '
		case Unsafe(r):
			continue
		}
		b.WriteRune(r)
		n++
	}
	return b.String()
}

// Clip shortens s to at most n characters, marking a cut with "…": for messages
// and tables that quote what they were given. It never cuts inside a character.
func Clip(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	i, count := 0, 0
	for i = range s {
		if count == n {
			break
		}
		count++
	}
	return s[:i] + "…"
}

// Unsafe reports whether r is a character SafeText removes: a C0 or C1 control
// character, DEL, or a bidirectional formatting character (which can make a
// terminal or a page show text in another order than it is stored).
func Unsafe(r rune) bool {
	switch {
	case r < 0x20, r >= 0x7f && r < 0xa0:
		return true
	case r == 0x061c, r == 0x200e, r == 0x200f, // Arabic letter mark, LRM, RLM
		r >= 0x202a && r <= 0x202e, // embeddings and overrides
		r >= 0x2066 && r <= 0x2069: // isolates
		return true
	}
	return false
}

// Error is a failure that maps to a specific result code, such as a bad parameter.
// Its message is safe to send to the marketplace.
type Error struct {
	Code Code
	Msg  string
}

func (e *Error) Error() string { return string(e.Code) + ": " + e.Msg }

// Errorf builds an *Error.
func Errorf(c Code, format string, args ...any) *Error {
	return &Error{Code: c, Msg: fmt.Sprintf(format, args...)}
}

// ResultFor turns any error into an answer: an *Error keeps its code and message,
// anything else is an internal error whose detail stays in the logs.
func ResultFor(err error) Result {
	var e *Error
	if errors.As(err, &e) {
		return NewResult(e.Code, e.Msg)
	}
	return NewResult(InternalError, "")
}

// ProvisionState is where an instance stands in provisioning.
type ProvisionState string

const (
	Provisioning ProvisionState = "PROVISIONING"
	Active       ProvisionState = "ACTIVE"
	Failed       ProvisionState = "FAILED"
)

// Status is the lifecycle status the marketplace drives.
type Status string

const (
	Normal   Status = "NORMAL"
	Frozen   Status = "FROZEN"
	Released Status = "RELEASED"
)

// AppInfo is the access information queryInstance returns (docs/protocol.md#queryinstance).
type AppInfo struct {
	FrontEndURL string `json:"frontEndUrl"`
	AdminURL    string `json:"adminUrl,omitempty"`
	UserName    string `json:"userName,omitempty"`
	Password    string `json:"password,omitempty"`
	Memo        string `json:"memo,omitempty"`
}

// Instance is a SaaS instance as the seller keeps it.
type Instance struct {
	InstanceID        string
	OrderID           string
	OrderLineID       string
	OnDemandProductID string // set only for pay-per-use instances, the second idempotency key
	BusinessID        string
	ProductID         string
	TestFlag          bool
	State             ProvisionState
	Status            Status
	FailCode          Code
	FailReason        string
	App               *AppInfo // without the password, which is kept sealed
	SealedSecret      string   // the provisioned password, sealed (shared/secretbox)
	ExpireTime        *time.Time
	Version           int
	CreatedAt         time.Time
	UpdatedAt         time.Time
	ReleasedAt        *time.Time
}

// ErrReplay reports a nonce (or a seller-API signature) already used within its
// lifetime: the request is a replay.
var ErrReplay = errors.New("nonce already used")

// ErrBusy reports a database at its connection limit: the server (or the
// account) refused a new connection. A request that meets it answers 000005 at
// once, and the marketplace's retry runs once load falls.
var ErrBusy = errors.New("database busy: no connection allowed")

// PasswordContext binds an instance's sealed password to the instance, so a sealed
// value copied to another row does not open.
func PasswordContext(instanceID string) string { return "instance-password:" + instanceID }

// KitSecretContext binds a sealed Kit client secret to its row (instance, tenant,
// application), so a value copied into another row does not open.
func KitSecretContext(instanceID, tenantID, appID string) string {
	return "kit_app\x00" + instanceID + "\x00" + tenantID + "\x00" + appID
}

// Usage is the pay-per-use usage of an instance (queryInstance usageInfo).
type Usage struct {
	InstanceID        string
	RelatedInstanceID string
	Value             string // decimal with at most 4 fraction digits
	StatisticalTime   time.Time
	DashboardURL      string
}

// Job kinds written to the outbox.
const (
	JobProvision = "provision"
	JobRefresh   = "refresh"
	JobFreeze    = "freeze"
	JobUnfreeze  = "unfreeze"
	JobRelease   = "release"
	JobUpgrade   = "upgrade"
)

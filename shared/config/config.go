// Package config reads function settings from the environment (FunctionGraph
// passes plain and encrypted variables as environment variables, and all of them as
// JSON in RUNTIME_USERDATA). Errors name the settings that are missing or invalid and
// never repeat a value, since many of them are secrets.
package config

import (
	"encoding/json"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/kgseller/kgseller/shared/kgsign"
)

// Source looks up one setting; "" means unset.
type Source func(name string) string

// Env reads the process environment, falling back to the RUNTIME_USERDATA JSON that
// FunctionGraph's custom runtime also provides.
func Env() Source {
	var userData map[string]string
	if raw := os.Getenv("RUNTIME_USERDATA"); raw != "" {
		_ = json.Unmarshal([]byte(raw), &userData)
	}
	return func(name string) string {
		if v, ok := os.LookupEnv(name); ok {
			return v
		}
		return userData[name]
	}
}

// Map is a Source over a fixed map (tests, tools).
func Map(m map[string]string) Source { return func(name string) string { return m[name] } }

// Error lists the settings that prevented a configuration from loading.
type Error struct {
	Missing []string
	Invalid []string
}

func (e *Error) Error() string {
	var parts []string
	if len(e.Missing) > 0 {
		parts = append(parts, "missing required setting(s): "+strings.Join(e.Missing, ", "))
	}
	if len(e.Invalid) > 0 {
		parts = append(parts, "invalid setting(s): "+strings.Join(e.Invalid, "; "))
	}
	return "configuration: " + strings.Join(parts, "; ")
}

// Loader accumulates errors while settings are read, so one error lists them all.
type Loader struct {
	get     Source
	missing map[string]bool
	invalid []string
}

// New returns a loader over src.
func New(src Source) *Loader { return &Loader{get: src, missing: map[string]bool{}} }

func (l *Loader) raw(name string) string { return strings.TrimSpace(l.get(name)) }

// String returns a setting or def.
func (l *Loader) String(name, def string) string {
	if v := l.raw(name); v != "" {
		return v
	}
	return def
}

// Required returns a setting and records it as missing when unset.
func (l *Loader) Required(name string) string {
	v := l.raw(name)
	if v == "" {
		l.missing[name] = true
	}
	return v
}

// Invalid records a setting whose value is unusable; why must not quote the value.
func (l *Loader) Invalid(name, why string) { l.invalid = append(l.invalid, name+" "+why) }

// Int returns an integer setting or def.
func (l *Loader) Int(name string, def int) int {
	v := l.raw(name)
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		l.Invalid(name, "must be an integer")
		return def
	}
	return n
}

// Duration returns a duration setting ("4s", "1m") or def.
func (l *Loader) Duration(name string, def time.Duration) time.Duration {
	v := l.raw(name)
	if v == "" {
		return def
	}
	d, err := time.ParseDuration(v)
	if err != nil || d < 0 {
		l.Invalid(name, "must be a duration such as 4s or 1m")
		return def
	}
	return d
}

// Bool returns a boolean setting or def.
func (l *Loader) Bool(name string, def bool) bool {
	v := l.raw(name)
	if v == "" {
		return def
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		l.Invalid(name, "must be true or false")
		return def
	}
	return b
}

// Interface types that each have their own access key in the Seller Console.
const (
	KeyBasic   = "BASIC"   // SaaS basic interfaces
	KeyKit     = "KIT"     // joint-operation Kit sync
	KeyLicense = "LICENSE" // License and license-code interfaces
	KeyNotify  = "NOTIFY"  // generic interfaces (order notification)
)

// Keys returns the key set of an interface type: KG_ACCESS_KEY_<TYPE> or, when that
// is unset, KG_ACCESS_KEY; the previous key of a key change comes from the same
// names with _PREVIOUS appended. KG_ACCESS_KEY_BASE64=true decodes both (the EU
// console shows keys base64-encoded).
func (l *Loader) Keys(kind string) kgsign.KeySet {
	specific := "KG_ACCESS_KEY_" + kind
	primary, name := l.raw(specific), specific
	if primary == "" {
		primary, name = l.raw("KG_ACCESS_KEY"), "KG_ACCESS_KEY"
	}
	previous := l.raw(name + "_PREVIOUS")
	if primary == "" {
		l.missing[specific+" or KG_ACCESS_KEY"] = true
		return kgsign.KeySet{}
	}
	ks, err := kgsign.NewKeySet(primary, previous, l.Bool("KG_ACCESS_KEY_BASE64", false))
	if err != nil {
		l.Invalid(name, "is not usable: "+err.Error())
		return kgsign.KeySet{}
	}
	return ks
}

// Err returns the accumulated *Error, or nil.
func (l *Loader) Err() error {
	if len(l.missing) == 0 && len(l.invalid) == 0 {
		return nil
	}
	e := &Error{Invalid: l.invalid}
	for name := range l.missing {
		e.Missing = append(e.Missing, name)
	}
	sort.Strings(e.Missing)
	return e
}

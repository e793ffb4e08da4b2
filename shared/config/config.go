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
	// audit is set when src is an Audit's Source: every recorded problem is
	// reported to it too.
	audit bool
}

// New returns a loader over src.
func New(src Source) *Loader {
	return &Loader{get: src, missing: map[string]bool{}, audit: audited(src)}
}

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
		l.Missing(name)
	}
	return v
}

// Invalid records a setting whose value is unusable; why must not quote the value.
func (l *Loader) Invalid(name, why string) {
	l.invalid = append(l.invalid, name+" "+why)
	if l.audit {
		l.get(auditInvalid + name + "\x00" + why)
	}
}

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

// Choice returns a setting that must be one of allowed (def when unset).
func (l *Loader) Choice(name, def string, allowed ...string) string {
	v := l.raw(name)
	if v == "" {
		return def
	}
	for _, a := range allowed {
		if v == a {
			return v
		}
	}
	l.Invalid(name, "must be one of "+strings.Join(quoted(allowed), ", "))
	return def
}

func quoted(vs []string) []string {
	out := make([]string, len(vs))
	for i, v := range vs {
		if v == "" {
			v = "empty"
		}
		out[i] = v
	}
	return out
}

// Missing records a setting as missing (a required one found unset by other
// means, or one of several alternatives).
func (l *Loader) Missing(name string) {
	l.missing[name] = true
	if l.audit {
		l.get(auditMissing + name)
	}
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

package config

import (
	"maps"
	"slices"
	"strings"
)

// An Audit asks a function's own assembly which of its settings are missing or
// invalid, so tools need no copy of the functions' rules: scripts/deploy builds
// each function of serverless.yml over an Audit's Source and reads the verdict
// (which settings a function requires, which values it refuses). A Loader made
// over that Source reports every setting it records as missing or invalid; over
// any other Source it reports nothing.
type Audit struct {
	values  map[string]string
	missing map[string]bool
	invalid map[string]bool
	asked   map[string]bool
}

// The handshake between an Audit's Source and New. No setting can have these
// names (settings are letters, digits and underscores), so every other Source
// answers "" and its Loaders report nothing.
const (
	auditHello   = "\x00audit"
	auditMissing = "\x00audit-missing\x00"
	auditInvalid = "\x00audit-invalid\x00"
)

// NewAudit returns an Audit over fixed values.
func NewAudit(values map[string]string) *Audit {
	return &Audit{values: values, missing: map[string]bool{}, invalid: map[string]bool{}, asked: map[string]bool{}}
}

// Source is the Source to build the function over.
func (a *Audit) Source() Source {
	return func(name string) string {
		switch {
		case name == auditHello:
			return auditHello
		case strings.HasPrefix(name, auditMissing):
			a.missing[strings.TrimPrefix(name, auditMissing)] = true
			return ""
		case strings.HasPrefix(name, auditInvalid):
			a.invalid[strings.Replace(strings.TrimPrefix(name, auditInvalid), "\x00", " ", 1)] = true
			return ""
		}
		a.asked[name] = true
		return a.values[name]
	}
}

// Missing lists the settings the function found missing, sorted. An entry may
// name alternatives ("KG_ACCESS_KEY_BASIC or KG_ACCESS_KEY").
func (a *Audit) Missing() []string { return slices.Sorted(maps.Keys(a.missing)) }

// Invalid lists the settings whose values the function refused, each with why
// (which never quotes the value), sorted.
func (a *Audit) Invalid() []string { return slices.Sorted(maps.Keys(a.invalid)) }

// Asked reports whether the function read the setting.
func (a *Audit) Asked(name string) bool { return a.asked[name] }

// audited reports whether src is an Audit's Source.
func audited(src Source) bool { return src(auditHello) == auditHello }

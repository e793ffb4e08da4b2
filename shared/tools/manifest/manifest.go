// Package manifest reads serverless.yml, the one list of functions, routes and
// settings that the build, the local emulator and the deploy tool share. The file
// follows the serverless-huawei-functions plugin schema, so the plugin can deploy it
// too; only the keys this project uses are modelled.
package manifest

import (
	"errors"
	"fmt"
	"os"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/goccy/go-yaml"
)

// Manifest is a parsed serverless.yml.
type Manifest struct {
	Service   string              `yaml:"service"`
	Provider  Provider            `yaml:"provider"`
	Functions map[string]Function `yaml:"functions"`
	Custom    struct {
		Production Production `yaml:"production"`
		Database   Database   `yaml:"database"`
		// Profiles name the sets of functions a product type needs (see
		// profile.go); Needs says which functions a function needs deployed
		// with it.
		Profiles map[string][]string `yaml:"profiles"`
		Needs    map[string][]string `yaml:"needs"`
	} `yaml:"custom"`
	// Profile is the profile (or comma-separated profiles) this manifest was
	// narrowed to by ForProfile; "" for the whole file.
	Profile string `yaml:"-"`
	// written holds each function's triggers as serverless.yml writes them,
	// before the production addresses expand them, so a narrowed manifest can
	// expand them over its own addresses.
	written map[string][]Event
}

// Database is custom.database: what the deployment's database allows. The plugin
// ignores custom:; the deploy tool reads it.
type Database struct {
	// ConnectionBudget is how many connections the functions may hold together:
	// the server's max_connections less what else connects to it. The deploy tool
	// refuses a deployment whose functions could open more (each function's
	// maxInstances times its pool).
	ConnectionBudget int `yaml:"connectionBudget"`
}

// Provider holds the defaults of every function.
type Provider struct {
	Name        string            `yaml:"name"`
	Region      string            `yaml:"region"`
	Runtime     string            `yaml:"runtime"`
	MemorySize  int               `yaml:"memorySize"`
	Timeout     int               `yaml:"timeout"`
	Package     string            `yaml:"package"`
	Xrole       string            `yaml:"xrole"`
	FuncVpc     map[string]string `yaml:"funcVpc"`
	Environment struct {
		Variables map[string]string `yaml:"variables"`
	} `yaml:"environment"`
}

// Function is one FunctionGraph function.
type Function struct {
	Name              string            `yaml:"-"`
	Handler           string            `yaml:"handler"`
	Runtime           string            `yaml:"runtime"`
	Description       string            `yaml:"description"`
	MemorySize        int               `yaml:"memorySize"`
	Timeout           int               `yaml:"timeout"`
	Code              Code              `yaml:"code"`
	UserData          map[string]string `yaml:"userData"`
	EncryptedUserData map[string]string `yaml:"encryptedUserData"`
	Events            []Event           `yaml:"events"`
	// MaxInstances is FunctionGraph's maximum instances of the function (its
	// strategy_config.concurrency, set with UpdateFunctionMaxInstanceConfig); nil
	// when not declared. The plugin ignores the key; the deploy tool applies it and
	// the local emulator enforces it.
	MaxInstances *int `yaml:"maxInstances"`
}

// Code points at the directory the plugin zips.
type Code struct {
	CodeURI string `yaml:"codeUri"`
}

// Event is a trigger.
type Event struct {
	TriggerTypeCode string         `yaml:"triggerTypeCode"`
	Status          string         `yaml:"status"`
	EventData       map[string]any `yaml:"eventData"`
	// BelowAddresses makes an APIG trigger's path a sub-path: the trigger is served
	// below every production address (see Production). The plugin ignores the key.
	BelowAddresses bool `yaml:"belowAddresses"`
	// Address is the production address an expanded trigger serves ("" for the
	// others); set by Parse, never read from the file.
	Address string `yaml:"-"`
}

// Trigger type codes used here.
const (
	TriggerAPIG          = "APIG"
	TriggerDedicatedAPIG = "DEDICATEDGATEWAY"
	TriggerTimer         = "TIMER"
)

// Route is an HTTP route served by a function through an APIG trigger.
type Route struct {
	Method   string
	Path     string
	Prefix   bool // matchMode SWA
	Function string
	// TimeoutMS is APIG's backend timeout.
	TimeoutMS int
	// Address is the production address the route belongs to ("" for routes that
	// are not part of one).
	Address string
}

// Load reads and validates a manifest. ${env:NAME} and ${env:NAME, 'default'}
// references are resolved from getenv; other variables are left as written.
func Load(path string, getenv func(string) string) (*Manifest, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("manifest: %w", err)
	}
	return Parse(raw, getenv)
}

// Parse is Load on bytes. References are resolved after the YAML is parsed, so a
// value (a multi-line PEM key, say) can neither break the document nor appear in
// a parse error.
func Parse(raw []byte, getenv func(string) string) (*Manifest, error) {
	if getenv == nil {
		getenv = func(string) string { return "" }
	}
	var tree any
	if err := yaml.Unmarshal(raw, &tree); err != nil {
		return nil, fmt.Errorf("manifest: %w", err)
	}
	resolved, err := yaml.Marshal(resolveRefs(tree, getenv))
	if err != nil {
		return nil, fmt.Errorf("manifest: re-encoding: %w", err)
	}
	m, err := decode(resolved)
	if errors.As(err, new(*decodeError)) {
		// The document parsed before substitution; only a substituted value of
		// the wrong shape can fail here, and the message must not show it.
		return nil, fmt.Errorf("manifest: a substituted ${env:...} value does not fit its field")
	}
	return m, err
}

// ParseTemplates parses serverless.yml without resolving its ${env:…}
// references: every value as written, for tools that resolve values one at a
// time (ResolveRefs) under many environments.
func ParseTemplates(raw []byte) (*Manifest, error) {
	return decode(raw)
}

// ResolveRefs resolves the ${env:…} references of one value, as Parse resolves
// every value.
func ResolveRefs(s string, getenv func(string) string) string {
	return resolveRefs(s, getenv).(string)
}

// decodeError is a document that does not fit the Manifest's fields.
type decodeError struct{ err error }

func (e *decodeError) Error() string { return "manifest: " + e.err.Error() }

func decode(doc []byte) (*Manifest, error) {
	var m Manifest
	if err := yaml.Unmarshal(doc, &m); err != nil {
		return nil, &decodeError{err}
	}
	m.written = map[string][]Event{}
	for name, fn := range m.Functions {
		fn.Name = name
		m.Functions[name] = fn
		m.written[name] = fn.Events
	}
	if err := m.expand(); err != nil {
		return nil, err
	}
	if err := m.validate(); err != nil {
		return nil, err
	}
	if err := m.validateProfiles(); err != nil {
		return nil, err
	}
	return &m, nil
}

// resolveRefs replaces ${env:...} references in every string of a parsed document.
func resolveRefs(v any, getenv func(string) string) any {
	switch x := v.(type) {
	case string:
		return envRef.ReplaceAllStringFunc(x, func(ref string) string {
			m := envRef.FindStringSubmatch(ref)
			if val := getenv(m[1]); val != "" {
				return val
			}
			return m[2]
		})
	case map[string]any:
		for k, e := range x {
			x[k] = resolveRefs(e, getenv)
		}
		return x
	case []any:
		for i, e := range x {
			x[i] = resolveRefs(e, getenv)
		}
		return x
	}
	return v
}

// envRef matches ${env:NAME} and ${env:NAME, 'default'} (or "default").
var envRef = regexp.MustCompile(`\$\{env:([A-Za-z_][A-Za-z0-9_]*)\s*(?:,\s*['"]([^'"]*)['"]\s*)?\}`)

var nameRule = regexp.MustCompile(`^[a-z][a-z0-9-]{0,59}$`)

func (m *Manifest) validate() error {
	if len(m.Functions) == 0 {
		return fmt.Errorf("manifest: no functions")
	}
	seen, names := map[string]string{}, map[string]string{}
	for _, name := range m.Names() {
		fn := m.Functions[name]
		if !nameRule.MatchString(name) {
			return fmt.Errorf("manifest: function name %q must be lower-case letters, digits and dashes", name)
		}
		for _, ev := range fn.Events {
			if !ev.IsHTTP() {
				continue
			}
			r := ev.route(name)
			if r.Path == "" || !strings.HasPrefix(r.Path, "/") {
				return fmt.Errorf("manifest: %s: APIG trigger without an absolute path", name)
			}
			key := r.Method + " " + r.Path
			if other, dup := seen[key]; dup {
				return fmt.Errorf("manifest: route %s is served by both %s and %s", key, other, name)
			}
			seen[key] = name
			if api := ev.String("name"); api != "" {
				if other, dup := names[api]; dup {
					return fmt.Errorf("manifest: API name %s is used by both %s and %s", api, other, name)
				}
				names[api] = name
			}
		}
	}
	return nil
}

// Names returns the function names in sorted order.
func (m *Manifest) Names() []string {
	names := make([]string, 0, len(m.Functions))
	for n := range m.Functions {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// IsHTTP reports whether the event is an APIG trigger.
func (e Event) IsHTTP() bool {
	return e.TriggerTypeCode == TriggerAPIG || e.TriggerTypeCode == TriggerDedicatedAPIG
}

// String returns an eventData value as text.
func (e Event) String(key string) string {
	switch v := e.EventData[key].(type) {
	case nil:
		return ""
	case string:
		return v
	default:
		return fmt.Sprint(v)
	}
}

func (e Event) route(fn string) Route {
	method := strings.ToUpper(e.String("reqMethod"))
	if method == "" {
		method = "ANY"
	}
	timeout, _ := strconv.Atoi(e.String("timeout"))
	return Route{
		Method: method, Path: e.String("path"), Prefix: strings.EqualFold(e.String("matchMode"), "SWA"),
		Function: fn, TimeoutMS: timeout, Address: e.Address,
	}
}

// Routes returns every HTTP route, sorted by path.
func (m *Manifest) Routes() []Route {
	var out []Route
	for _, name := range m.Names() {
		for _, ev := range m.Functions[name].Events {
			if ev.IsHTTP() {
				out = append(out, ev.route(name))
			}
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Path != out[j].Path {
			return out[i].Path < out[j].Path
		}
		return out[i].Method < out[j].Method
	})
	return out
}

// RoutesOf returns the HTTP routes of one function in the order of its triggers
// (a trigger expanded over the production addresses gives its path as written
// first).
func (m *Manifest) RoutesOf(name string) []Route {
	var out []Route
	for _, ev := range m.Functions[name].Events {
		if ev.IsHTTP() {
			out = append(out, ev.route(name))
		}
	}
	return out
}

// MemorySize returns the function's memory in MB, falling back to the provider's
// and then to 128.
func (m *Manifest) MemorySize(fn Function) int {
	switch {
	case fn.MemorySize > 0:
		return fn.MemorySize
	case m.Provider.MemorySize > 0:
		return m.Provider.MemorySize
	}
	return 128
}

// Timeout returns the function's timeout in seconds (provider default, then 10).
func (m *Manifest) Timeout(fn Function) int {
	switch {
	case fn.Timeout > 0:
		return fn.Timeout
	case m.Provider.Timeout > 0:
		return m.Provider.Timeout
	}
	return 10
}

// Env returns the function's plain settings: provider variables overlaid with the
// function's userData. Encrypted settings are not included.
func (m *Manifest) Env(fn Function) map[string]string {
	out := map[string]string{}
	for k, v := range m.Provider.Environment.Variables {
		out[k] = v
	}
	for k, v := range fn.UserData {
		out[k] = v
	}
	return out
}

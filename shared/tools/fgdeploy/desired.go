package fgdeploy

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"github.com/kgseller/kgseller/shared/marketplace"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/kgseller/kgseller/shared/fakes/fgcontract"
	"github.com/kgseller/kgseller/shared/tools/manifest"
)

// EnvLimit is FunctionGraph's limit on all environment variables of a function
// (plain and encrypted, as JSON).
const EnvLimit = 4096

// VariableLimit is how many variables user_data and encrypted_user_data each hold
// at most (SDK, CreateFunctionRequestBody: "最多定义20个，总长度不超过4KB").
const VariableLimit = 20

// DescriptionLimit is the longest function description FunctionGraph accepts.
const DescriptionLimit = 512

// TriggerLimit is the most triggers FunctionGraph allows on one function version.
const TriggerLimit = 10

// FuncVpc is the func_vpc of a function.
type FuncVpc struct {
	VpcID    string `json:"vpc_id"`
	SubnetID string `json:"subnet_id"`
}

// Config is the configuration FunctionGraph holds for one function, in the API's
// JSON names. EncryptedUserData is never logged and never part of a fingerprint.
type Config struct {
	FuncName          string   `json:"func_name"`
	Package           string   `json:"package,omitempty"`
	Runtime           string   `json:"runtime"`
	Handler           string   `json:"handler"`
	MemorySize        int      `json:"memory_size"`
	Timeout           int      `json:"timeout"`
	UserData          string   `json:"user_data,omitempty"`
	EncryptedUserData string   `json:"encrypted_user_data,omitempty"`
	Xrole             string   `json:"xrole,omitempty"`
	FuncVpc           *FuncVpc `json:"func_vpc,omitempty"`
	Description       string   `json:"description,omitempty"`
	// EnterpriseProjectID comes from the deployment's options, not serverless.yml,
	// and is not part of the fingerprint: it places a function, it does not
	// configure it.
	EnterpriseProjectID string `json:"enterprise_project_id,omitempty"`
}

// Trigger is one trigger of serverless.yml in the API's JSON names.
type Trigger struct {
	Type      string         `json:"trigger_type_code"`
	Status    string         `json:"trigger_status"`
	EventData map[string]any `json:"event_data"`
}

// Key identifies a trigger among a function's triggers: TIMER by name, APIG by
// method and path.
func (t Trigger) Key() string {
	switch t.Type {
	case manifest.TriggerTimer:
		return "TIMER " + str(t.EventData["name"])
	default:
		return t.Type + " " + strings.ToUpper(str(t.EventData["req_method"])) + " " + str(t.EventData["path"])
	}
}

// Desired is what one function should look like after a deployment.
type Desired struct {
	Name     string
	Config   Config
	Triggers []Trigger
	// Unset lists settings left out because their value is empty.
	Unset []string
	// CodeSHA256 is the zip's hash (filled by the caller).
	CodeSHA256 string
	// ConfigHash fingerprints the configuration without secret values.
	ConfigHash string
	// Human is the manifest description (before the deploy marker).
	Human string
	// MaxInstances is the function's maximum instances (-1: no limit), set with
	// UpdateFunctionMaxInstanceConfig and compared with the cloud's on every run
	// (not part of ConfigHash).
	MaxInstances int
}

var envName = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_]*$`)

// Desire computes the desired configuration and triggers of one function. region,
// project and package form its URN (for the APIG backends). It fails, naming the
// setting and never its value, on anything FunctionGraph would reject or that would
// deploy a broken function.
func Desire(m *manifest.Manifest, name, region, project string) (*Desired, error) {
	fn, ok := m.Functions[name]
	if !ok {
		return nil, fmt.Errorf("%s is not a function in serverless.yml", name)
	}
	d := &Desired{Name: name, Human: fn.Description}
	runtime := fn.Runtime
	if runtime == "" {
		runtime = m.Provider.Runtime
	}
	if runtime == "" {
		runtime = "Custom"
	}
	handler := fn.Handler
	if handler == "" {
		handler = "bootstrap"
	}
	pkg := m.Provider.Package
	if pkg == "" {
		pkg = "default"
	}
	mem, timeout := m.MemorySize(fn), m.Timeout(fn)
	if !fgcontract.MemorySizeOK(mem) {
		return nil, fmt.Errorf("%s: memorySize %d MB is not a FunctionGraph size (%s)", name, mem, fgcontract.MemorySizesText())
	}
	if timeout < fgcontract.TimeoutMin || timeout > fgcontract.TimeoutMax {
		return nil, fmt.Errorf("%s: timeout %d s is outside FunctionGraph's %d–%d", name, timeout, fgcontract.TimeoutMin, fgcontract.TimeoutMax)
	}
	if !fgcontract.OneOf(runtime, fgcontract.Runtimes()) {
		return nil, fmt.Errorf("%s: runtime %q is not a FunctionGraph runtime (%s)", name, runtime, strings.Join(fgcontract.Runtimes(), ", "))
	}
	var err error
	if d.MaxInstances, err = maxInstances(fn); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if _, err := databasePool(m, fn); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	plain, unsetPlain, err := env(name, "userData", m.Env(fn))
	if err != nil {
		return nil, err
	}
	secret, unsetSecret, err := env(name, "encryptedUserData", fn.EncryptedUserData)
	if err != nil {
		return nil, err
	}
	for k := range secret {
		if _, dup := plain[k]; dup {
			return nil, fmt.Errorf("%s: %s is both a plain and an encrypted setting", name, k)
		}
	}
	d.Unset = append(unsetPlain, unsetSecret...)
	sort.Strings(d.Unset)
	userData, _ := json.Marshal(plain)
	encrypted := []byte{}
	if len(secret) > 0 {
		encrypted, _ = json.Marshal(secret)
	}
	if total := len(userData) + len(encrypted); total > EnvLimit {
		return nil, fmt.Errorf("%s: environment variables take %d characters, FunctionGraph allows %d", name, total, EnvLimit)
	}
	if len(plain) > VariableLimit || len(secret) > VariableLimit {
		return nil, fmt.Errorf("%s: %d plain and %d encrypted variables, FunctionGraph allows %d of each", name, len(plain), len(secret), VariableLimit)
	}
	d.Config = Config{
		FuncName: name, Package: pkg, Runtime: runtime, Handler: handler, MemorySize: mem, Timeout: timeout,
		UserData: string(userData), EncryptedUserData: string(encrypted),
	}
	vpc, subnet := m.Provider.FuncVpc["vpcId"], m.Provider.FuncVpc["subnetId"]
	switch {
	case vpc != "" && subnet != "":
		d.Config.FuncVpc = &FuncVpc{VpcID: vpc, SubnetID: subnet}
		if m.Provider.Xrole == "" {
			return nil, fmt.Errorf("%s: funcVpc needs an agency (provider.xrole)", name)
		}
	case vpc != "" || subnet != "":
		return nil, fmt.Errorf("%s: funcVpc needs both vpcId and subnetId", name)
	}
	d.Config.Xrole = m.Provider.Xrole
	for _, v := range []string{runtime, handler, pkg, m.Provider.Xrole, vpc, subnet} {
		if strings.Contains(v, "${") {
			return nil, fmt.Errorf("%s: an unresolved ${…} variable in runtime, handler, package, xrole or funcVpc", name)
		}
	}

	if len(fn.Events) > TriggerLimit {
		return nil, fmt.Errorf("%s: %d triggers (one per route: production addresses times sub-paths), FunctionGraph allows %d", name, len(fn.Events), TriggerLimit)
	}
	urn := FunctionURN(region, project, pkg, name)
	for i, ev := range fn.Events {
		t, err := trigger(ev, urn)
		if err == nil {
			err = checkTrigger(t)
		}
		if err != nil {
			return nil, fmt.Errorf("%s: events[%d]: %w", name, i, err)
		}
		d.Triggers = append(d.Triggers, t)
	}
	d.ConfigHash = fingerprint(d)
	return d, nil
}

// env drops empty values (an empty setting is an unset one to config.Loader),
// rejects bad names and unresolved variables, and reports the dropped names.
func env(fn, where string, in map[string]string) (map[string]string, []string, error) {
	out := map[string]string{}
	var unset []string
	for k, v := range in {
		if !envName.MatchString(k) {
			return nil, nil, fmt.Errorf("%s: %s: %q is not a valid variable name (letters, digits, _; a letter first)", fn, where, k)
		}
		if strings.Contains(v, "${") {
			return nil, nil, fmt.Errorf("%s: %s: %s holds an unresolved ${…} variable", fn, where, k)
		}
		if v == "" {
			unset = append(unset, k)
			continue
		}
		out[k] = v
	}
	return out, unset, nil
}

func trigger(ev manifest.Event, urn string) (Trigger, error) {
	status := strings.ToUpper(ev.Status)
	if status == "" {
		status = "ACTIVE"
	}
	if status != "ACTIVE" && status != "DISABLED" {
		return Trigger{}, fmt.Errorf("status %q is not ACTIVE or DISABLED", ev.Status)
	}
	t := Trigger{Type: ev.TriggerTypeCode, Status: status, EventData: map[string]any{}}
	set := func(key, val string) {
		if val != "" {
			t.EventData[key] = val
		}
	}
	switch ev.TriggerTypeCode {
	case manifest.TriggerTimer:
		set("name", ev.String("name"))
		set("schedule_type", ev.String("scheduleType"))
		set("schedule", ev.String("schedule"))
		set("user_event", ev.String("userEvent"))
		if t.EventData["schedule_type"] == nil {
			t.EventData["schedule_type"] = "Rate"
		}
		if t.EventData["name"] == nil || t.EventData["schedule"] == nil {
			return Trigger{}, fmt.Errorf("a TIMER trigger needs eventData.name and eventData.schedule")
		}
	case manifest.TriggerAPIG, manifest.TriggerDedicatedAPIG:
		method := strings.ToUpper(ev.String("reqMethod"))
		if method == "" {
			method = "ANY"
		}
		set("name", ev.String("name"))
		set("group_id", ev.String("groupId"))
		set("instance_id", ev.String("instanceId"))
		set("sl_domain", ev.String("slDomain"))
		set("path", ev.String("path"))
		t.EventData["req_method"] = method
		t.EventData["env_name"] = orDefault(ev.String("envName"), "RELEASE")
		t.EventData["env_id"] = orDefault(ev.String("envId"), "DEFAULT_ENVIRONMENT_RELEASE_ID")
		t.EventData["protocol"] = strings.ToUpper(orDefault(ev.String("protocol"), "HTTPS"))
		t.EventData["match_mode"] = strings.ToUpper(orDefault(ev.String("matchMode"), "NORMAL"))
		t.EventData["auth"] = strings.ToUpper(ev.String("auth"))
		t.EventData["type"] = 1 // public API
		t.EventData["backend_type"] = "FUNCTION"
		timeout := 5000
		if s := ev.String("timeout"); s != "" {
			n, err := strconv.Atoi(s)
			if err != nil || n < 1 || n > 60000 {
				return Trigger{}, fmt.Errorf("eventData.timeout must be 1–60000 ms")
			}
			timeout = n
		}
		// The URN without its version, and the version apart: the form of the API
		// reference's trigger listing (function_urn …:function:default:test_triggers,
		// version latest).
		t.EventData["func_info"] = map[string]any{"function_urn": unversioned(urn), "invocation_type": "sync", "timeout": timeout, "version": "latest"}
		switch {
		case t.EventData["name"] == nil:
			return Trigger{}, fmt.Errorf("an APIG trigger needs eventData.name (the API name)")
		case t.EventData["group_id"] == nil:
			return Trigger{}, fmt.Errorf("eventData.groupId is empty (the API group; serverless.yml takes it from the environment)")
		case ev.TriggerTypeCode == manifest.TriggerDedicatedAPIG && t.EventData["instance_id"] == nil:
			return Trigger{}, fmt.Errorf("eventData.instanceId is empty (the dedicated gateway; serverless.yml takes it from the environment)")
		}
		switch t.EventData["auth"] {
		case "NONE", "IAM", "APP":
		default:
			return Trigger{}, fmt.Errorf("eventData.auth must be NONE, IAM or APP")
		}
		for _, k := range []string{"name", "group_id", "instance_id", "path"} {
			if strings.Contains(str(t.EventData[k]), "${") {
				return Trigger{}, fmt.Errorf("eventData holds an unresolved ${…} variable")
			}
		}
	default:
		return Trigger{}, fmt.Errorf("trigger type %q is not supported by the deploy tool (TIMER, APIG, DEDICATEDGATEWAY)", ev.TriggerTypeCode)
	}
	return t, nil
}

func orDefault(v, def string) string {
	if v == "" {
		return def
	}
	return v
}

func str(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	default:
		return fmt.Sprint(x)
	}
}

// FunctionURN returns urn:fss:{region}:{project}:function:{package}:{name}:latest.
func FunctionURN(region, project, pkg, name string) string {
	return "urn:fss:" + region + ":" + project + ":function:" + pkg + ":" + name + ":latest"
}

// unversioned drops the version from an 8-field function URN.
func unversioned(urn string) string {
	if strings.Count(urn, ":") == 7 {
		return urn[:strings.LastIndex(urn, ":")]
	}
	return urn
}

// fingerprint hashes the configuration, leaving out secret values (their names are
// in) so the hash can sit in the function's description. Triggers are not part of
// it: they are compared with the cloud's on every run.
func fingerprint(d *Desired) string {
	c := d.Config
	c.EncryptedUserData = ""
	var secretNames []string
	if d.Config.EncryptedUserData != "" {
		var m map[string]string
		_ = json.Unmarshal([]byte(d.Config.EncryptedUserData), &m)
		for k := range m {
			secretNames = append(secretNames, k)
		}
		sort.Strings(secretNames)
	}
	c.Description = d.Human
	b, _ := json.Marshal(struct {
		Config  Config
		Secrets []string
	}{c, secretNames})
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:8])
}

// Summary describes the configuration in one line, with the names of the
// variables and never their values.
func (d *Desired) Summary() string {
	c := d.Config
	s := fmt.Sprintf("%s runtime, %d MB, timeout %d s, package %s", c.Runtime, c.MemorySize, c.Timeout, c.Package)
	if c.FuncVpc != nil {
		s += fmt.Sprintf(", VPC %s subnet %s", c.FuncVpc.VpcID, c.FuncVpc.SubnetID)
	}
	if c.Xrole != "" {
		s += ", agency " + c.Xrole
	}
	names := func(js string) string {
		var m map[string]string
		_ = json.Unmarshal([]byte(js), &m)
		keys := make([]string, 0, len(m))
		for k := range m {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		if len(keys) == 0 {
			return "none"
		}
		return strings.Join(keys, ", ")
	}
	return s + "; variables: " + names(c.UserData) + "; encrypted: " + names(c.EncryptedUserData)
}

// marker is appended to the description: the zip's SHA-256 and the configuration
// fingerprint of the last successful deployment.
var markerRE = regexp.MustCompile(`\[kgseller-deploy code=([0-9a-f]{64}) cfg=([0-9a-f]{16})\]$`)

// Description returns the description to store: the human text (cut to fit) and
// the marker.
func (d *Desired) Description() string {
	marker := "[kgseller-deploy code=" + d.CodeSHA256 + " cfg=" + d.ConfigHash + "]"
	human := strings.TrimSpace(d.Human)
	room := DescriptionLimit - utf8.RuneCountInString(marker) - 1
	human = marketplace.Clip(human, room-1)
	if human == "" {
		return marker
	}
	return human + " " + marker
}

// ParseMarker reads the code hash and configuration fingerprint from a stored
// description ("" when it has none).
func ParseMarker(description string) (code, cfg string) {
	m := markerRE.FindStringSubmatch(strings.TrimSpace(description))
	if m == nil {
		return "", ""
	}
	return m[1], m[2]
}

package kgsim

import (
	"bytes"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"
)

// Activity is one call the marketplace makes, by name, with a realistic default
// body: the body of one of the suites' own cases, so that a by-hand trigger
// (scripts/sign <activity>) sends what kgsim sends.
type Activity struct {
	Name string
	// Type is the interface type whose production address and key it uses:
	// saas, license, notify or kit.
	Type string
	// Path is appended to the production address: /produceAPI/v2/<name> for the
	// Kit, empty otherwise.
	Path string
	// Kit calls are signed with x-sign headers.
	Kit bool
	// NeedsInstance: the body names an existing instance, which the caller must
	// give (a made-up one answers 000003).
	NeedsInstance bool
	// caseName is the suite case whose body is the default.
	caseName string
}

// activities are every activity, in the order of docs/protocol.md.
var activities = []Activity{
	{Name: "newInstance", Type: "saas", caseName: "newInstance " + mockPeriodNew},
	{Name: "queryInstance", Type: "saas", NeedsInstance: true, caseName: "queryInstance " + mockPeriodNew},
	{Name: "refreshInstance", Type: "saas", NeedsInstance: true, caseName: "refreshInstance RENEWAL " + mockRenew},
	{Name: "updateInstanceStatus", Type: "saas", NeedsInstance: true, caseName: "updateInstanceStatus FREEZE"},
	{Name: "releaseInstance", Type: "saas", NeedsInstance: true, caseName: "releaseInstance " + mockOneTimeNew},
	{Name: "upgradeInstance", Type: "saas", NeedsInstance: true, caseName: "upgradeInstance " + mockChange},
	{Name: "changeInstanceCheck", Type: "saas", NeedsInstance: true, caseName: "changeInstanceCheck"},
	{Name: "getLicenseAsync", Type: "license", NeedsInstance: true, caseName: "getLicenseAsync"},
	{Name: "refreshLicenseCode", Type: "license", caseName: "refreshLicenseCode RENEWAL " + mockRenew},
	{Name: "updateLicenseCodeStatus", Type: "license", caseName: "updateLicenseCodeStatus FREEZE"},
	{Name: "releaseLicenseCode", Type: "license", caseName: "releaseLicenseCode"},
	{Name: "orderNotify", Type: "notify", caseName: "orderNotify " + mockPeriodNew},
	{Name: "tenantSync", Type: "kit", Kit: true, Path: kitPath + "tenantSync", caseName: "tenantSync add"},
	{Name: "applicationSync", Type: "kit", Kit: true, Path: kitPath + "applicationSync", caseName: "applicationSync add"},
	{Name: "authSync", Type: "kit", Kit: true, Path: kitPath + "authSync", caseName: "authSync add"},
	{Name: "singleOrgSync", Type: "kit", Kit: true, Path: kitPath + "singleOrgSync", caseName: "singleOrgSync add root"},
	{Name: "allOrgSync", Type: "kit", Kit: true, Path: kitPath + "allOrgSync", caseName: "allOrgSync orgInfoList as an array"},
}

// Activities lists every activity a production interface answers, in the order
// of docs/protocol.md.
func Activities() []Activity { return slices.Clone(activities) }

// LookupActivity finds an activity by name (case-insensitive).
func LookupActivity(name string) (Activity, bool) {
	for _, a := range activities {
		if strings.EqualFold(a.Name, name) {
			return a, true
		}
	}
	return Activity{}, false
}

// BodyOptions shape an activity's body.
type BodyOptions struct {
	// Instance is the instanceId (required when the activity NeedsInstance, unless
	// Set names instanceId).
	Instance string
	// Order replaces orderId, and orderLineId with the order's line <order>-000001.
	Order string
	// Set are top-level fields as key=value, applied last, one by one: a value
	// replaces a string field as text, anything else as JSON when it parses.
	Set []string
	// KitPublicKey encrypts applicationSync's clientSecret; without it the body
	// fails, unless SecretPlaceholder stands in for the ciphertext.
	KitPublicKey      *rsa.PublicKey
	SecretPlaceholder string
	// Now is the clock of timestamps; nil means time.Now. NewID makes businessIds;
	// nil means random UUIDs.
	Now   func() time.Time
	NewID func() string
}

// SecretPlaceholder stands for applicationSync's encrypted clientSecret in
// bodies shown without the Kit app's public key.
const SecretPlaceholder = "(Base64 of clientSecret encrypted by RSA-OAEP with the Kit app public key)"

// ErrNeedsInstance says the activity names an instance and none was given.
var ErrNeedsInstance = errors.New("needs an instance")

// Body builds the activity's request body.
func (a Activity) Body(o BodyOptions) ([]byte, error) {
	setInstance := false
	for _, kv := range o.Set {
		if k, _, _ := strings.Cut(kv, "="); k == "instanceId" {
			setInstance = true
		}
	}
	if a.NeedsInstance && o.Instance == "" && !setInstance {
		return nil, fmt.Errorf("%s %w: pass -instance <instanceId> (list them: go run ./scripts/ops instances; create one: go run ./scripts/sign newInstance)",
			a.Name, ErrNeedsInstance)
	}
	c, err := a.suiteCase(o)
	if err != nil {
		return nil, err
	}
	e := newEnv(o.Now)
	if o.NewID != nil {
		e.newID = o.NewID
	}
	inst := o.Instance
	if inst == "" {
		inst = "set-by-instanceId" // replaced by Set below
	}
	for _, m := range mockOrders {
		e.Learn(instanceKey(m), inst)
	}
	body, err := c.Body(e)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", a.Name, err)
	}
	if o.Instance == "" && o.Order == "" && len(o.Set) == 0 {
		return body, nil
	}
	return override(a.Name, body, o)
}

// suiteCase finds the case whose body is the activity's default.
func (a Activity) suiteCase(o BodyOptions) (Case, error) {
	var p *Product
	switch a.Type {
	case "saas":
		p = saasProduct()
	case "license":
		p = licenseProduct()
	case "notify":
		p = notifyProduct()
	case "kit":
		if o.KitPublicKey != nil {
			p = kitProduct(o.KitPublicKey, false)
		} else if o.SecretPlaceholder != "" {
			p = kitProductSealed(func() (string, error) { return o.SecretPlaceholder, nil }, false, false)
		} else {
			p = kitProduct(nil, false)
		}
	}
	if p != nil {
		for _, c := range append(slices.Clone(p.Setup), p.Cases...) {
			if c.Name == a.caseName {
				return c, nil
			}
		}
	}
	return Case{}, fmt.Errorf("kgsim: no case %q for activity %s", a.caseName, a.Name)
}

// override applies BodyOptions' field changes to a JSON object body.
func override(activity string, body []byte, o BodyOptions) ([]byte, error) {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var f map[string]any
	if err := dec.Decode(&f); err != nil {
		return nil, fmt.Errorf("%s: %w", activity, err)
	}
	if o.Instance != "" {
		if _, ok := f["instanceId"]; !ok {
			return nil, fmt.Errorf("%s has no instanceId: drop -instance", activity)
		}
		f["instanceId"] = o.Instance
	}
	if o.Order != "" {
		if _, ok := f["orderId"]; !ok {
			return nil, fmt.Errorf("%s has no orderId: drop -order", activity)
		}
		f["orderId"] = o.Order
		if _, ok := f["orderLineId"]; ok {
			f["orderLineId"] = line(o.Order)
		}
	}
	for _, kv := range o.Set {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || k == "" {
			return nil, fmt.Errorf("-set %q: want key=value", kv)
		}
		f[k] = setValue(f[k], v)
	}
	return jsonBody(f)
}

// setValue is the new value of a field: text where the field is text (or the
// value is not JSON), else the value's JSON (numbers, objects, arrays, booleans).
func setValue(old any, v string) any {
	if _, isText := old.(string); isText {
		return v
	}
	dec := json.NewDecoder(strings.NewReader(v))
	dec.UseNumber()
	var x any
	if err := dec.Decode(&x); err == nil && !dec.More() {
		return x
	}
	return v
}

// Values of the documented example bodies, fixed so the table is stable.
const (
	ExampleInstance   = "10e758d0-31ad-4c4b-8f1b-81d03469a10e"
	exampleBusinessID = "3f2b8c1e-5d4a-4c6b-9e7f-0a1b2c3d4e5f"
)

// exampleTime is the clock of the example bodies.
var exampleTime = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

// WriteExamples writes the Markdown table of every activity's sign command and
// default body, as README.md shows it.
func WriteExamples(w io.Writer) error {
	fmt.Fprintln(w, "| Activity | Command | Body sent |")
	fmt.Fprintln(w, "|---|---|---|")
	for _, a := range activities {
		o := BodyOptions{SecretPlaceholder: SecretPlaceholder, Now: func() time.Time { return exampleTime },
			NewID: func() string { return exampleBusinessID }}
		cmd := "go run ./scripts/sign " + a.Name
		if a.NeedsInstance {
			o.Instance = ExampleInstance
			cmd += " -instance " + ExampleInstance
		}
		body, err := a.Body(o)
		if err != nil {
			return err
		}
		if _, err := fmt.Fprintf(w, "| %s | `%s` | `%s` |\n", a.Name, cmd, body); err != nil {
			return err
		}
	}
	return nil
}

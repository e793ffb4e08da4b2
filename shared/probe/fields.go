package probe

import (
	"encoding/json"
	"fmt"
	"github.com/kgseller/kgseller/shared/marketplace"
	"strings"
	"unicode/utf8"
)

// Kind is the JSON type of a documented answer field.
type Kind int

// Field kinds.
const (
	KString Kind = iota
	KNumber
	KObject
	KArray // of objects described by Field.Of
)

func (k Kind) String() string {
	return [...]string{"a string", "a number", "an object", "an array"}[k]
}

// Field is one row of a documented response table.
type Field struct {
	Name string
	Kind Kind
	Max  int  // strings: characters
	Req  bool // mandatory (M)
	Of   []Field
	// Check is an extra rule on a present value; it returns "" when the value is fine.
	Check func(v any) string
}

// Documented answer fields of the SaaS instance activities (docs/protocol.md#newinstance,
// docs/protocol.md#queryinstance), as the debugging tool checks them.
var (
	NewInstanceFields = []Field{{Name: "instanceId", Kind: KString, Max: 64, Req: true}}
	AppInfoFields     = []Field{
		{Name: "frontEndUrl", Kind: KString, Max: 512, Req: true},
		{Name: "adminUrl", Kind: KString, Max: 512},
		{Name: "userName", Kind: KString, Max: 128},
		{Name: "password", Kind: KString, Max: 128},
		{Name: "memo", Kind: KString, Max: 1024},
	}
	UsageInfoFields = []Field{
		{Name: "relatedInstanceId", Kind: KString, Max: 64},
		{Name: "usageValue", Kind: KNumber, Req: true, Check: MaxDecimals(4)},
		{Name: "statisticalTime", Kind: KString, Max: 20, Req: true, Check: DigitsTime(17)},
		{Name: "dashboardUrl", Kind: KString, Max: 512},
	}
	QueryInstanceFields = []Field{
		{Name: "encryptType", Kind: KString, Max: 3},
		{Name: "info", Kind: KArray, Of: []Field{
			{Name: "instanceId", Kind: KString, Max: 64, Req: true},
			{Name: "appInfo", Kind: KObject, Of: AppInfoFields},
			{Name: "usageInfo", Kind: KArray, Of: UsageInfoFields},
		}},
	}
)

// CheckFields checks obj against the documented table fs and lists every problem,
// naming each field by its path (info[0].appInfo.frontEndUrl). Numbers must have
// been decoded as json.Number (DecodeObject).
func CheckFields(path string, obj map[string]any, fs []Field) []string {
	var p []string
	for _, f := range fs {
		name := f.Name
		if path != "" {
			name = path + "." + f.Name
		}
		v, present := obj[f.Name]
		if !present || v == nil {
			if f.Req {
				p = append(p, fmt.Sprintf("%s missing (mandatory)", name))
			}
			continue
		}
		switch f.Kind {
		case KString:
			s, ok := v.(string)
			if !ok {
				p = append(p, fmt.Sprintf("%s is not a string", name))
				continue
			}
			if f.Req && s == "" {
				p = append(p, fmt.Sprintf("%s is empty (mandatory)", name))
			}
			if n := utf8.RuneCountInString(s); f.Max > 0 && n > f.Max {
				p = append(p, fmt.Sprintf("%s has %d characters, at most %d allowed", name, n, f.Max))
			}
		case KNumber:
			if _, ok := v.(json.Number); !ok {
				p = append(p, fmt.Sprintf("%s is not a number", name))
				continue
			}
		case KObject:
			o, ok := v.(map[string]any)
			if !ok {
				p = append(p, fmt.Sprintf("%s is not an object", name))
				continue
			}
			p = append(p, CheckFields(name, o, f.Of)...)
		case KArray:
			arr, ok := v.([]any)
			if !ok {
				p = append(p, fmt.Sprintf("%s is not an array", name))
				continue
			}
			for i, el := range arr {
				elName := fmt.Sprintf("%s[%d]", name, i)
				o, ok := el.(map[string]any)
				if !ok {
					p = append(p, fmt.Sprintf("%s is not an object", elName))
					continue
				}
				p = append(p, CheckFields(elName, o, f.Of)...)
			}
		}
		if f.Check != nil {
			if msg := f.Check(v); msg != "" {
				p = append(p, name+" "+msg)
			}
		}
	}
	return p
}

// MissingInstances lists the instance IDs a queryInstance answer's info has no
// entry for (the debugging tool requires each asked-for instanceId).
func MissingInstances(obj map[string]any, ids ...string) []string {
	found := map[string]bool{}
	if info, ok := obj["info"].([]any); ok {
		for _, el := range info {
			if m, ok := el.(map[string]any); ok {
				id, _ := m["instanceId"].(string)
				found[id] = true
			}
		}
	}
	var p []string
	for _, id := range ids {
		if !found[id] {
			p = append(p, fmt.Sprintf("info has no entry for instanceId %q (the debug tool requires instanceId)", marketplace.Clip(id, 64)))
		}
	}
	return p
}

// MaxDecimals returns a check that a number has at most n decimals.
func MaxDecimals(n int) func(v any) string {
	return func(v any) string {
		num, ok := v.(json.Number)
		if !ok {
			return ""
		}
		s := strings.ToLower(num.String())
		if strings.ContainsAny(s, "e") {
			return fmt.Sprintf("%s is in exponent form; at most %d decimals are allowed", s, n)
		}
		if _, frac, ok := strings.Cut(s, "."); ok && len(frac) > n {
			return fmt.Sprintf("%s has %d decimals, at most %d allowed", s, len(frac), n)
		}
		return ""
	}
}

// DigitsTime returns a check that a string is a UTC time of exactly n digits
// (17: yyyyMMddHHmmssSSS).
func DigitsTime(n int) func(v any) string {
	return func(v any) string {
		s, ok := v.(string)
		if !ok {
			return ""
		}
		if len(s) != n || strings.Trim(s, "0123456789") != "" {
			return fmt.Sprintf("%q is not a %d-digit UTC time", marketplace.Clip(s, 30), n)
		}
		return ""
	}
}

package fakecloud

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"

	"github.com/kgseller/kgseller/shared/fakes/fgcontract"
)

// object is a request body as raw JSON members.
type object map[string]json.RawMessage

// decodeStrict decodes body into model, the SDK's request model, the way a strict
// server would: body must be a JSON object; a member the model does not define,
// or of another type than the model's field, is an error; and every required
// field of the model (fgcontract.Required: no omitempty in the SDK's json tag),
// in nested objects too, must be present and not null. The SDK serialises
// requests from these same models, so anything the SDK can send decodes, and a
// hand-built body that the SDK could not produce does not.
func decodeStrict(body []byte, model any) (object, error) {
	var raw object
	if err := json.Unmarshal(body, &raw); err != nil || raw == nil {
		return nil, errors.New("the body is not a JSON object")
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(model); err != nil {
		return nil, errors.New(strings.TrimPrefix(err.Error(), "json: "))
	}
	if err := missing(raw, reflect.TypeOf(model), ""); err != nil {
		return nil, err
	}
	return raw, nil
}

// missing reports the first required field of t absent from raw, descending
// into nested model structs that are present.
func missing(raw object, t reflect.Type, prefix string) error {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t.Kind() != reflect.Struct {
		return nil
	}
	for _, name := range fgcontract.Required(reflect.New(t).Interface()) {
		if v, ok := raw[name]; !ok || string(v) == "null" {
			return fmt.Errorf("%s%s is required", prefix, name)
		}
	}
	for i := range t.NumField() {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		ft := f.Type
		for ft.Kind() == reflect.Pointer {
			ft = ft.Elem()
		}
		if name == "" || name == "-" || ft.Kind() != reflect.Struct {
			continue
		}
		v, ok := raw[name]
		if !ok || string(v) == "null" {
			continue
		}
		var sub object
		if json.Unmarshal(v, &sub) != nil {
			continue
		}
		if err := missing(sub, ft, prefix+name+"."); err != nil {
			return err
		}
	}
	return nil
}

// str returns a member as a string ("" when absent or not a string).
func (o object) str(name string) string {
	var s string
	_ = json.Unmarshal(o[name], &s)
	return s
}

// has reports whether a member is present and not null.
func (o object) has(name string) bool {
	v, ok := o[name]
	return ok && string(v) != "null"
}

// num returns a member as an integer (0 when absent or not a number).
func (o object) num(name string) int64 {
	var n int64
	_ = json.Unmarshal(o[name], &n)
	return n
}

// sub returns a member that is an object (nil otherwise).
func (o object) sub(name string) object {
	var s object
	_ = json.Unmarshal(o[name], &s)
	return s
}

// plain converts the body to ordinary values for storage and display.
func (o object) plain() map[string]any {
	out := map[string]any{}
	for k, v := range o {
		var x any
		_ = json.Unmarshal(v, &x)
		out[k] = x
	}
	return out
}

package reqbody

import (
	"errors"
	"strings"
	"testing"

	"github.com/kgseller/kgseller/shared/marketplace"
)

func is000002(err error) bool {
	var me *marketplace.Error
	return errors.As(err, &me) && me.Code == marketplace.BadRequest
}

func TestStringRules(t *testing.T) {
	o, err := Parse([]byte(`{"a":"x","n":1,"e":"","z":null,"long":"` + strings.Repeat("é", 65) + `","dup":"1","dup":"2"}`))
	if err != nil {
		t.Fatal(err)
	}
	if v, err := o.String("a", 64, true); v != "x" || err != nil {
		t.Errorf("a = %q, %v", v, err)
	}
	if v, _ := o.String("dup", 64, true); v != "2" {
		t.Errorf("a repeated key must keep its last value, got %q", v)
	}
	for _, name := range []string{"n", "e", "z", "missing", "long"} {
		if _, err := o.String(name, 64, true); !is000002(err) {
			t.Errorf("%s: err = %v, want 000002", name, err)
		}
	}
	if v, err := o.String("z", 64, false); v != "" || err != nil {
		t.Errorf("optional null: %q %v", v, err)
	}
	// Length counts characters, not bytes: 64 two-byte characters fit.
	o2, _ := Parse([]byte(`{"s":"` + strings.Repeat("é", 64) + `"}`))
	if _, err := o2.String("s", 64, true); err != nil {
		t.Errorf("64 characters rejected: %v", err)
	}
}

func TestFlagAndInt(t *testing.T) {
	o, _ := Parse([]byte(`{"a":"1","b":1,"c":0,"d":true,"e":"12","f":12.5,"g":"x"}`))
	for name, want := range map[string]string{"a": "1", "b": "1", "c": "0", "missing": ""} {
		if v, err := o.Flag(name, 2); v != want || err != nil {
			t.Errorf("Flag(%s) = %q, %v", name, v, err)
		}
	}
	if _, err := o.Flag("d", 2); !is000002(err) {
		t.Errorf("boolean flag accepted")
	}
	if n, ok, err := o.Int("e", true); n != 12 || !ok || err != nil {
		t.Errorf("Int(e) = %d %v %v", n, ok, err)
	}
	for _, name := range []string{"f", "g", "d"} {
		if _, _, err := o.Int(name, true); !is000002(err) {
			t.Errorf("Int(%s) accepted", name)
		}
	}
}

func TestParseRejections(t *testing.T) {
	for name, body := range map[string]string{
		"invalid utf-8": "{\"a\":\"\xc3\x28\"}",
		"array":         `[]`,
		"string":        `"x"`,
		"truncated":     `{"a":`,
		"deep":          strings.Repeat(`{"a":`, MaxDepth+1) + `1` + strings.Repeat(`}`, MaxDepth+1),
		"empty":         ``,
	} {
		if _, err := Parse([]byte(body)); !is000002(err) {
			t.Errorf("%s: err = %v, want 000002", name, err)
		}
	}
	// Brackets inside strings do not count towards depth.
	if _, err := Parse([]byte(`{"a":"` + strings.Repeat("[{", 100) + `"}`)); err != nil {
		t.Errorf("brackets in a string: %v", err)
	}
}

func TestID(t *testing.T) {
	o, _ := Parse([]byte(`{"ok":"x'; DROP TABLE t; --","ctl":"a\u0007b","c1":"a\u0085b"}`))
	if _, err := o.ID("ok", 64, true); err != nil {
		t.Errorf("SQL meta-characters rejected: %v", err)
	}
	for _, name := range []string{"ctl", "c1"} {
		if _, err := o.ID(name, 64, true); !is000002(err) {
			t.Errorf("%s: control character accepted", name)
		}
	}
}

// FuzzParse checks Parse never panics and only returns 000002 errors.
func FuzzParse(f *testing.F) {
	f.Add([]byte(`{"a":"b","c":[1,{"d":null}]}`))
	f.Add([]byte("\xff"))
	f.Add([]byte(`{"a":"\"\\[{"}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		o, err := Parse(b)
		if err != nil {
			if !is000002(err) {
				t.Fatalf("error %v is not 000002", err)
			}
			return
		}
		for name := range o {
			_, _ = o.String(name, 64, false)
			_, _ = o.Flag(name, 2)
			_, _, _ = o.Int(name, false)
			_, _ = o.Object(name, false)
		}
	})
}

func TestNumber(t *testing.T) {
	o, err := Parse([]byte(`{"a":2.5,"b":"7.50","c":-3,"d":"ten","e":"","f":true,"g":"1e400","h":null,"i":"\"2\"","j":12345678901234567890123456789012345}`))
	if err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]string{"a": "2.5", "b": "7.50", "c": "-3", "h": ""} {
		if got, err := o.Number(name, 32, false); err != nil || string(got) != want {
			t.Errorf("%s: %q, %v; want %q", name, got, err, want)
		}
	}
	for _, name := range []string{"d", "e", "f", "g", "i", "j"} {
		if got, err := o.Number(name, 32, false); err == nil {
			t.Errorf("%s accepted as %q", name, got)
		}
	}
	if _, err := o.Number("missing", 32, true); err == nil {
		t.Error("missing required number accepted")
	}
}

package config

import (
	"slices"
	"testing"
)

// TestAuditReportsTheLoadersVerdict: a Loader over an Audit's Source reports what
// it records as missing or invalid, whichever way it records it; over any other
// Source the same reads report nothing and behave as before.
func TestAuditReportsTheLoadersVerdict(t *testing.T) {
	read := func(l *Loader) {
		l.Required("NEEDED")
		l.Required("PRESENT")
		l.Int("NUMBER", 0)
		l.Missing("A or B")
		l.String("OPTIONAL", "")
	}
	a := NewAudit(map[string]string{"PRESENT": "x", "NUMBER": "not a number"})
	l := New(a.Source())
	read(l)
	if got := a.Missing(); !slices.Equal(got, []string{"A or B", "NEEDED"}) {
		t.Errorf("missing %v", got)
	}
	if got := a.Invalid(); !slices.Equal(got, []string{"NUMBER must be an integer"}) {
		t.Errorf("invalid %v", got)
	}
	if !a.Asked("OPTIONAL") || a.Asked("NEVER") {
		t.Error("Asked does not follow the reads")
	}
	if l.Err() == nil {
		t.Error("the loader lost its own verdict")
	}

	var asked []string
	plain := New(func(name string) string {
		asked = append(asked, name)
		return map[string]string{"PRESENT": "x", "NUMBER": "not a number"}[name]
	})
	read(plain)
	for _, n := range asked {
		if !slices.Contains([]string{auditHello, "NEEDED", "PRESENT", "NUMBER", "OPTIONAL"}, n) {
			t.Errorf("an ordinary source was asked %q", n)
		}
	}
	if err, ok := plain.Err().(*Error); !ok || !slices.Equal(err.Missing, []string{"A or B", "NEEDED"}) || len(err.Invalid) != 1 {
		t.Errorf("plain loader: %v", plain.Err())
	}
}

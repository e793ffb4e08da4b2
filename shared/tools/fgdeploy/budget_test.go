package fgdeploy

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/kgseller/kgseller/shared/tools/manifest"
)

// TestConnectionBudgetRefusesBeforeAnyCall: when the functions could open more
// connections than custom.database.connectionBudget allows (Σ maxInstances ×
// pool over the functions with DB_DSN), the deployment, dry run included, is
// refused before any call to the cloud, and the output gives the sum and each
// term.
func TestConnectionBudgetRefusesBeforeAnyCall(t *testing.T) {
	t.Parallel()
	for name, c := range map[string]struct {
		from, to string
		want     []string
	}{
		"over":             {"connectionBudget: 30", "connectionBudget: 24", []string{"= 25 of 24", "api-a", "20 instances × 1 connection = 20", "api-b", "5 instances × 1 connection = 5", "REFUSED"}},
		"pool of two":      {"MODE: ${env:MODE, 'async'}", "MODE: ${env:MODE, 'async'}\n      DB_MAX_OPEN: \"2\"", []string{"= 45 of 30", "20 instances × 2 connections = 40"}},
		"unlimited":        {"maxInstances: 20", "maxInstances: -1", []string{"= unlimited of 30", "unlimited instances", "no limit"}},
		"no budget":        {"connectionBudget: 30", "connectionBudget: 0", []string{"not set"}},
		"undeclared":       {"    maxInstances: 5\n", "", []string{"maxInstances is not declared"}},
		"worker not in it": {"connectionBudget: 30", "connectionBudget: 24", []string{"REFUSED"}},
	} {
		t.Run(name, func(t *testing.T) {
			for _, dry := range []bool{true, false} {
				f := newFixture(t)
				m, err := manifest.Parse([]byte(strings.Replace(testManifest, c.from, c.to, 1)), f.env.get)
				if err != nil {
					t.Fatal(err)
				}
				_, err = f.deploy(func(o *Options) { o.Manifest, o.DryRun = m, dry })
				if err == nil {
					t.Fatalf("dry run %v: deployed\n%s", dry, f.out.String())
				}
				if n := len(f.cloud.Calls()); n != 0 {
					t.Fatalf("dry run %v: %d calls to the cloud before refusing", dry, n)
				}
				for _, w := range c.want {
					if !strings.Contains(f.out.String()+err.Error(), w) {
						t.Errorf("dry run %v: output lacks %q:\n%s%v", dry, w, f.out.String(), err)
					}
				}
				if name == "worker not in it" && strings.Contains(f.out.String(), "worker") {
					t.Errorf("the worker, without DB_DSN, is counted:\n%s", f.out.String())
				}
			}
		})
	}
	b := Budget{Allowed: 10, Terms: []Term{{"a", 5, 1}, {"b", 5, 2}}}
	if err := b.Check(); !errors.Is(err, ErrOverBudget) {
		t.Errorf("15 of 10: %v", err)
	}
	b.Allowed = 15
	if err := b.Check(); err != nil {
		t.Errorf("15 of 15: %v", err)
	}
}

// TestMaxInstancesFollowServerlessYml: a function whose maximum instances differ
// from serverless.yml (changed in the file, or in the console) gets them set, and
// only that is written; the dry run shows the change and writes nothing.
func TestMaxInstancesFollowServerlessYml(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	if _, err := f.deploy(); err != nil {
		t.Fatalf("%v\n%s", err, f.out.String())
	}
	m, err := manifest.Parse([]byte(strings.Replace(testManifest, "maxInstances: 5", "maxInstances: 7", 1)), f.env.get)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.deploy(func(o *Options) { o.Manifest, o.DryRun = m, true }); err != nil {
		t.Fatal(err)
	}
	if got := f.writes(); len(got) != 0 || !strings.Contains(f.out.String(), "max instances: 5 -> 7: would set") {
		t.Fatalf("dry run wrote %q:\n%s", got, f.out.String())
	}
	rep, err := f.deploy(func(o *Options) { o.Manifest = m })
	if err != nil {
		t.Fatal(err)
	}
	if got := f.writes(); !slices.Equal(got, []string{"UpdateFunctionMaxInstanceConfig api-b"}) {
		t.Fatalf("wrote %q:\n%s", got, f.out.String())
	}
	if b, _ := f.cloud.Function("api-b"); b.MaxInstances != 7 {
		t.Fatalf("api-b max instances %d", b.MaxInstances)
	}
	for _, r := range rep.Results {
		if r.Function == "api-b" && r.Action != "max instances set" {
			t.Errorf("api-b action %q", r.Action)
		}
	}
	// The cloud's value is compared on every run, so a change made in the console
	// is put back.
	if _, err := f.deploy(); err != nil {
		t.Fatal(err)
	}
	if got := f.writes(); !slices.Equal(got, []string{"UpdateFunctionMaxInstanceConfig api-b"}) {
		t.Fatalf("wrote %q", got)
	}
	if b, _ := f.cloud.Function("api-b"); b.MaxInstances != 5 {
		t.Fatalf("api-b max instances %d, want 5 again", b.MaxInstances)
	}
}

// TestProjectManifestFitsItsBudget: every function of serverless.yml declares its
// maximum instances, and their connections fit custom.database.connectionBudget.
func TestProjectManifestFitsItsBudget(t *testing.T) {
	t.Parallel()
	m, err := manifest.Load("../../../serverless.yml", nil)
	if err != nil {
		t.Fatal(err)
	}
	b, err := ConnectionBudget(m)
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Check(); err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	b.Write(&out)
	t.Logf("\n%s", out.String())
	for _, name := range m.Names() {
		if m.Functions[name].MaxInstances == nil {
			t.Errorf("%s declares no maxInstances", name)
		}
	}
	if len(b.Terms) == 0 || !slices.ContainsFunc(b.Terms, func(t Term) bool { return t.Function == "saas-produce" }) ||
		slices.ContainsFunc(b.Terms, func(t Term) bool { return t.Function == "api-backend" }) {
		t.Errorf("terms %+v: saas-produce uses the database, api-backend does not", b.Terms)
	}
}

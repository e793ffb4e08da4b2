package localrun

import (
	"slices"
	"strings"

	"github.com/kgseller/kgseller/shared/tools/deployenv"
	"github.com/kgseller/kgseller/shared/tools/fglocal"
	"github.com/kgseller/kgseller/shared/tools/manifest"
)

// SettingProblem is a setting that functions of the local run find missing or
// invalid in the environment they start with. It names the setting, never its
// value.
type SettingProblem struct {
	// Name is the setting ("A or B" when either would do).
	Name string
	// Kind is "missing" or "invalid".
	Kind string
	// Why says what is wrong (for invalid: what the function accepts), or, for a
	// note, what the setting is for.
	Why       string
	Functions []string
	// Note: the local run cannot supply it and only an optional feature needs
	// it; the rest of the run works without it.
	Note bool
}

// optionalSettings are settings the local run leaves to the seller because they
// are shared with the seller's own application, with what needs them.
var optionalSettings = map[string]string{
	"PROVISION_WEBHOOK_SECRET": "only the seller API of a webhook provisioner needs it (docs/webhook.md)",
}

// checkSettings builds every function of m over the environment its instances
// start with (the emulator's) and collects what each function's own assembly
// finds missing or invalid, as scripts/deploy does before a deployment.
func checkSettings(m *manifest.Manifest, e *fglocal.Emulator) []SettingProblem {
	var out []SettingProblem
	add := func(p SettingProblem, fn string) {
		for i := range out {
			if out[i].Kind == p.Kind && out[i].Name == p.Name && out[i].Why == p.Why {
				out[i].Functions = append(out[i].Functions, fn)
				return
			}
		}
		p.Functions = []string{fn}
		out = append(out, p)
	}
	for _, fn := range m.Names() {
		if _, ok := deployenv.Assemblies[fn]; !ok {
			continue
		}
		settings := map[string]string{}
		for _, kv := range e.FunctionEnv(fn) {
			k, v, _ := strings.Cut(kv, "=")
			settings[k] = v
		}
		a, err := deployenv.Audit(fn, settings)
		if err != nil {
			continue
		}
		for _, name := range a.Missing() {
			why, note := optionalSettings[name]
			add(SettingProblem{Name: name, Kind: "missing", Why: why, Note: note}, fn)
		}
		for _, entry := range a.Invalid() {
			name, why, _ := strings.Cut(entry, " ")
			add(SettingProblem{Name: name, Kind: "invalid", Why: why}, fn)
		}
	}
	for i := range out {
		slices.Sort(out[i].Functions)
	}
	slices.SortStableFunc(out, func(a, b SettingProblem) int {
		if a.Note != b.Note {
			if a.Note {
				return 1
			}
			return -1
		}
		return strings.Compare(a.Name, b.Name)
	})
	return out
}

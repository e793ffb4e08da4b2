// Package deployenv says, for the functions a deployment selects (a profile of
// serverless.yml), which environment variables the deployment reads, which of
// them each function requires, and what is missing or invalid in the
// environment at hand, all at once. It has no table of its own: it builds each
// function with its real assembly (shared/wire, over a config.Audit) and asks
// the deploy tool's own plan (fgdeploy.Desire), once with a variable set and once
// without, so it cannot drift from what the functions and the tool require.
package deployenv

import (
	"encoding/json"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"sort"
	"strings"

	"github.com/kgseller/kgseller/shared/config"
	"github.com/kgseller/kgseller/shared/tools/fgdeploy"
	"github.com/kgseller/kgseller/shared/tools/manifest"
)

// Name is one environment variable of serverless.yml's ${env:…} that the
// selected functions read.
type Name struct {
	Name string
	// Functions are the selected functions whose settings or triggers use it.
	Functions []string
	// RequiredBy are the functions that cannot work without it: their assembly
	// reports a setting missing or invalid, or the deploy tool cannot plan them
	// (a trigger's gateway or group), when it is unset. Empty: optional.
	RequiredBy []string
	// Secret: it reaches a function as an encrypted variable, or is a secret
	// setting (config.Settings).
	Secret bool
	// Set: the environment at hand gives it a value.
	Set bool
	// Defaulted: serverless.yml gives a default wherever it names it.
	Defaulted bool
}

// Required reports whether some selected function requires it.
func (n Name) Required() bool { return len(n.RequiredBy) > 0 }

// Problem is one thing wrong with the environment at hand.
type Problem struct {
	// Name is the environment variable (missing), or the function's setting
	// (invalid, unmet).
	Name string
	// Kind is "missing", "invalid" (a value the function or the tool refuses),
	// or "unmet" (a setting the function requires that serverless.yml does not
	// give it).
	Kind string
	// Functions concerned; Why says what is wrong, never quoting a value.
	Functions []string
	Why       string
}

func (p Problem) String() string {
	s := p.Kind + ": " + p.Name
	if p.Why != "" {
		s += " " + p.Why
	}
	return s + " (" + strings.Join(p.Functions, ", ") + ")"
}

// Report is the analysis of one profile.
type Report struct {
	Profile   string
	Functions []string
	Names     []Name
	Problems  []Problem
}

// Name returns the entry of one variable.
func (r *Report) Name(n string) (Name, bool) {
	for _, x := range r.Names {
		if x.Name == n {
			return x, true
		}
	}
	return Name{}, false
}

// envRef matches ${env:NAME…} in serverless.yml; withDefault those that give a
// default.
var (
	envRef      = regexp.MustCompile(`\$\{env:([A-Za-z_][A-Za-z0-9_]*)`)
	withDefault = regexp.MustCompile(`\$\{env:([A-Za-z_][A-Za-z0-9_]*)\s*,\s*['"][^'"]*['"]\s*\}`)
)

// defaulted lists the variables serverless.yml gives a default wherever it
// names them (comments aside).
func defaulted(raw []byte) map[string]bool {
	raw = regexp.MustCompile(`(?m)^\s*#.*$`).ReplaceAll(raw, nil)
	all, with := map[string]int{}, map[string]int{}
	for _, m := range envRef.FindAllSubmatch(raw, -1) {
		all[string(m[1])]++
	}
	for _, m := range withDefault.FindAllSubmatch(raw, -1) {
		with[string(m[1])]++
	}
	out := map[string]bool{}
	for n, c := range all {
		out[n] = with[n] == c
	}
	return out
}

type analysis struct {
	raw []byte
	// rawRefs are the variables serverless.yml names, in order of appearance:
	// what a parse of it reads from the environment.
	rawRefs []string
	profile string
	getenv  func(string) string
	// tmpl is serverless.yml narrowed to the profile with every value as
	// written: a function's settings are resolved from it under each
	// environment probed, without parsing the file again.
	tmpl *manifest.Manifest
	// settingRefs and planRefs are, per function, the variables its settings
	// name, and those its triggers and the provider's placement name (what
	// the deploy tool's plan reads).
	settingRefs, planRefs map[string]map[string]bool
	parsed                map[string]*manifest.Manifest
	verdicts              map[string][]string
	plans                 map[*manifest.Manifest]map[string]error
}

// Analyze reads serverless.yml (raw) for a profile ("" is all) with the
// variables of getenv.
func Analyze(raw []byte, profile string, getenv func(string) string) (*Report, error) {
	if getenv == nil {
		getenv = func(string) string { return "" }
	}
	all, err := manifest.ParseTemplates(raw)
	if err != nil {
		return nil, fmt.Errorf("deployenv: serverless.yml: %w", err)
	}
	tmpl, err := all.ForProfile(profile)
	if err != nil {
		return nil, fmt.Errorf("deployenv: %w", err)
	}
	a := &analysis{raw: raw, rawRefs: names(raw), profile: profile, getenv: getenv, tmpl: tmpl,
		settingRefs: map[string]map[string]bool{}, planRefs: map[string]map[string]bool{},
		parsed: map[string]*manifest.Manifest{}, verdicts: map[string][]string{}, plans: map[*manifest.Manifest]map[string]error{}}
	rep := &Report{Profile: profile, Functions: tmpl.Names()}
	uses := map[string]map[string]bool{} // variable -> functions
	secret := map[string]bool{}
	for _, s := range config.SecretNames() {
		secret[s] = true
	}
	placement := tmpl.Provider
	placement.Environment.Variables = nil
	for _, fn := range rep.Functions {
		f := tmpl.Functions[fn]
		a.settingRefs[fn], a.planRefs[fn] = map[string]bool{}, map[string]bool{}
		for _, v := range tmpl.Env(f) {
			for _, n := range refs(v) {
				a.settingRefs[fn][n] = true
			}
		}
		for _, v := range f.EncryptedUserData {
			for _, n := range refs(v) {
				a.settingRefs[fn][n], secret[n] = true, true
			}
		}
		for _, n := range append(refs(placement), refs(f.Events)...) {
			a.planRefs[fn][n] = true
		}
		for n := range a.settingRefs[fn] {
			addUse(uses, n, fn)
		}
		for n := range a.planRefs[fn] {
			addUse(uses, n, fn)
		}
	}
	unset := map[string]string{}
	for n := range uses {
		if strings.TrimSpace(getenv(n)) == "" {
			unset[n] = placeholder(n)
		}
	}
	defaults := defaulted(raw)
	for _, n := range slices.Sorted(maps.Keys(uses)) {
		fns := slices.Sorted(maps.Keys(uses[n]))
		by, err := a.requiredBy(n, fns, unset)
		if err != nil {
			return nil, err
		}
		rep.Names = append(rep.Names, Name{Name: n, Functions: fns, RequiredBy: by, Secret: secret[n], Set: unset[n] == "", Defaulted: defaults[n]})
		if len(by) > 0 && unset[n] != "" {
			rep.Problems = append(rep.Problems, Problem{Name: n, Kind: "missing", Functions: by})
		}
	}
	if err := a.settingProblems(rep, unset); err != nil {
		return nil, err
	}
	return rep, nil
}

func addUse(uses map[string]map[string]bool, n, fn string) {
	if uses[n] == nil {
		uses[n] = map[string]bool{}
	}
	uses[n][fn] = true
}

// placeholder stands in for a variable that is not set: any non-empty value
// (the assemblies and the plan may refuse it, never report it missing).
func placeholder(n string) string { return "<" + n + ">" }

// refs lists the variables a part of the manifest (as written) names.
func refs(v any) []string {
	b, _ := json.Marshal(v)
	return names(b)
}

// names lists the variables text names, in order of appearance.
func names(b []byte) []string {
	var out []string
	for _, m := range envRef.FindAllSubmatch(b, -1) {
		out = append(out, string(m[1]))
	}
	return out
}

// settings are what function fn receives under env (see Settings).
func (a *analysis) settings(fn string, env func(string) string) map[string]string {
	f := a.tmpl.Functions[fn]
	out := map[string]string{}
	for _, vars := range []map[string]string{a.tmpl.Env(f), f.EncryptedUserData} {
		for k, v := range vars {
			if v = manifest.ResolveRefs(v, env); strings.TrimSpace(v) != "" {
				out[k] = v
			}
		}
	}
	return out
}

// manifest parses serverless.yml with env and narrows it to the profile, for
// the deploy tool's plan; cached by the values env gives the variables the
// file names.
func (a *analysis) manifest(env func(string) string) (*manifest.Manifest, error) {
	var key strings.Builder
	for _, n := range a.rawRefs {
		key.WriteString(n + "=" + env(n) + "\x00")
	}
	if m, ok := a.parsed[key.String()]; ok {
		return m, nil
	}
	m, err := manifest.Parse(a.raw, env)
	if err != nil {
		return nil, fmt.Errorf("deployenv: serverless.yml: %w", err)
	}
	if m, err = m.ForProfile(a.profile); err != nil {
		return nil, fmt.Errorf("deployenv: %w", err)
	}
	a.parsed[key.String()] = m
	return m, nil
}

// with is getenv with some variables replaced.
func (a *analysis) with(over ...map[string]string) func(string) string {
	return func(n string) string {
		for i := len(over) - 1; i >= 0; i-- {
			if v, ok := over[i][n]; ok {
				return v
			}
		}
		return a.getenv(n)
	}
}

// requiredBy lists the functions among fns that need variable n: their
// assembly's verdict, or the deploy tool's plan of them, gains a problem when n
// is unset. The other variables keep their values for the assemblies (the
// verdict lists every problem, so one unset variable does not hide another);
// for the plan, which stops at its first problem, every unset variable is given
// a placeholder.
func (a *analysis) requiredBy(n string, fns []string, unset map[string]string) ([]string, error) {
	value := a.getenv(n)
	if strings.TrimSpace(value) == "" {
		value = placeholder(n)
	}
	without, with := a.with(map[string]string{n: ""}), a.with(map[string]string{n: value})
	var by []string
	for _, fn := range fns {
		var gained []string
		if a.settingRefs[fn][n] {
			if sw, so := a.settings(fn, with), a.settings(fn, without); !maps.Equal(sw, so) {
				gained = difference(a.verdict(fn, so), a.verdict(fn, sw))
			}
		}
		if len(gained) == 0 && a.planRefs[fn][n] {
			planWithout, err := a.manifest(a.with(unset, map[string]string{n: ""}))
			if err != nil {
				return nil, err
			}
			planWith, err := a.manifest(a.with(unset, map[string]string{n: value}))
			if err != nil {
				return nil, err
			}
			if a.plan(planWithout, fn) != nil && a.plan(planWith, fn) == nil {
				gained = []string{"plan"}
			}
		}
		if len(gained) > 0 {
			by = append(by, fn)
		}
	}
	return by, nil
}

// settingProblems adds what the functions and the plan refuse in the
// environment at hand: values a function finds invalid, settings a function
// requires that serverless.yml does not give it, and the plan's own refusals
// (unset variables are reported missing above, so they get placeholders here,
// and a verdict is kept only when it does not go away with them).
func (a *analysis) settingProblems(rep *Report, unset map[string]string) error {
	filled, err := a.manifest(a.with(unset))
	if err != nil {
		return err
	}
	type key struct{ kind, name, why string }
	found := map[key][]string{}
	var order []key
	add := func(k key, fn string) {
		if found[k] == nil {
			order = append(order, k)
		}
		found[k] = append(found[k], fn)
	}
	for _, fn := range rep.Functions {
		asIs := a.settings(fn, a.getenv)
		for _, name := range slices.Sorted(maps.Keys(asIs)) {
			if _, ok, err := config.ParseSecretRef(asIs[name]); ok && err != nil {
				add(key{"invalid", name, err.Error()}, fn)
			}
		}
		kept := intersection(a.verdict(fn, asIs), a.verdict(fn, a.settings(fn, a.with(unset))))
		for _, e := range kept {
			kind, rest, _ := strings.Cut(e, ": ")
			name, why, _ := strings.Cut(rest, " ")
			if kind == "missing" {
				kind, name, why = "unmet", rest, "is required by the function and serverless.yml does not set it"
			}
			add(key{kind, name, why}, fn)
		}
		if err := a.plan(filled, fn); err != nil {
			add(key{"invalid", fn, err.Error()}, fn)
		}
	}
	for _, k := range order {
		rep.Problems = append(rep.Problems, Problem{Kind: k.kind, Name: k.name, Why: k.why, Functions: found[k]})
	}
	sort.SliceStable(rep.Problems, func(i, j int) bool {
		return kindOrder(rep.Problems[i].Kind) < kindOrder(rep.Problems[j].Kind)
	})
	return nil
}

func kindOrder(k string) int { return strings.Index("missing unmet invalid", k) }

// Settings returns what a function of m receives: its plain and encrypted
// variables, without the empty ones (which the deploy tool leaves out).
func Settings(m *manifest.Manifest, fn string) map[string]string {
	f := m.Functions[fn]
	out := map[string]string{}
	for k, v := range m.Env(f) {
		if strings.TrimSpace(v) != "" {
			out[k] = v
		}
	}
	for k, v := range f.EncryptedUserData {
		if strings.TrimSpace(v) != "" {
			out[k] = v
		}
	}
	return out
}

// Audit builds function fn over settings and returns the audit of its reads and
// its verdict. It fails for a function without an assembly.
func Audit(fn string, settings map[string]string) (*config.Audit, error) {
	asm, ok := Assemblies[fn]
	if !ok {
		return nil, fmt.Errorf("deployenv: %s has no assembly in deployenv.Assemblies", fn)
	}
	// The function may log while it is built (a warning about an optional
	// setting); those lines are for its own log, not the tool's output.
	quiet := maps.Clone(settings)
	quiet[config.LogLevel] = "error"
	a := config.NewAudit(quiet)
	asm.Build(a.Source())
	return a, nil
}

// verdict is what function fn of m reports about its settings, as "missing: X"
// and "invalid: X why" entries.
func verdict(m *manifest.Manifest, fn string) []string { return verdictOf(fn, Settings(m, fn)) }

// verdictOf builds fn over settings. A setting whose value is a csms:
// reference is resolved only at the function's cold start, so nothing is said
// about it here.
func verdictOf(fn string, settings map[string]string) []string {
	a, err := Audit(fn, settings)
	if err != nil {
		return []string{"missing: " + err.Error()}
	}
	deferred := func(entry string) bool {
		for _, word := range strings.Fields(entry) {
			if _, ok, _ := config.ParseSecretRef(settings[word]); ok {
				return true
			}
		}
		return false
	}
	var out []string
	for _, e := range a.Missing() {
		if !deferred(e) {
			out = append(out, "missing: "+e)
		}
	}
	for _, e := range a.Invalid() {
		if !deferred(e) {
			out = append(out, "invalid: "+e)
		}
	}
	return out
}

func (a *analysis) verdict(fn string, settings map[string]string) []string {
	var key strings.Builder
	key.WriteString(fn)
	for _, k := range slices.Sorted(maps.Keys(settings)) {
		key.WriteString("\x00" + k + "=" + settings[k])
	}
	v, ok := a.verdicts[key.String()]
	if !ok {
		v = verdictOf(fn, settings)
		a.verdicts[key.String()] = v
	}
	return v
}

func (a *analysis) plan(m *manifest.Manifest, fn string) error {
	if a.plans[m] == nil {
		a.plans[m] = map[string]error{}
	}
	err, ok := a.plans[m][fn]
	if !ok {
		err = plan(m, fn)
		a.plans[m][fn] = err
	}
	return err
}

// plan is the deploy tool's refusal of function fn of m, if any.
func plan(m *manifest.Manifest, fn string) error {
	_, err := fgdeploy.Desire(m, fn, "xx-region-1", "project")
	return err
}

func difference(a, b []string) []string {
	var out []string
	for _, x := range a {
		if !slices.Contains(b, x) {
			out = append(out, x)
		}
	}
	return out
}

func intersection(a, b []string) []string {
	var out []string
	for _, x := range a {
		if slices.Contains(b, x) {
			out = append(out, x)
		}
	}
	return out
}

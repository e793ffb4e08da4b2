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

// envRef matches ${env:NAME…} in serverless.yml.
var envRef = regexp.MustCompile(`\$\{env:([A-Za-z_][A-Za-z0-9_]*)`)

// token stands in for a variable while finding which functions use it.
func token(n string) string { return "@@env:" + n + "@@" }

var tokenRE = regexp.MustCompile(`@@env:([A-Za-z_][A-Za-z0-9_]*)@@`)

type analysis struct {
	raw     []byte
	profile string
	getenv  func(string) string
	parsed  map[string]*manifest.Manifest
}

// Analyze reads serverless.yml (raw) for a profile ("" is all) with the
// variables of getenv.
func Analyze(raw []byte, profile string, getenv func(string) string) (*Report, error) {
	if getenv == nil {
		getenv = func(string) string { return "" }
	}
	a := &analysis{raw: raw, profile: profile, getenv: getenv, parsed: map[string]*manifest.Manifest{}}
	tokens, err := a.manifest(func(n string) string { return token(n) })
	if err != nil {
		return nil, err
	}
	rep := &Report{Profile: profile, Functions: tokens.Names()}
	uses := map[string]map[string]bool{} // variable -> functions
	secret := map[string]bool{}
	for _, s := range config.SecretNames() {
		secret[s] = true
	}
	providerRefs := refs(tokens.Provider)
	for _, fn := range rep.Functions {
		f := tokens.Functions[fn]
		for _, n := range append(refs(f), providerRefs...) {
			if uses[n] == nil {
				uses[n] = map[string]bool{}
			}
			uses[n][fn] = true
		}
		for _, n := range refs(f.EncryptedUserData) {
			secret[n] = true
		}
	}
	unset := map[string]string{}
	for n := range uses {
		if strings.TrimSpace(getenv(n)) == "" {
			unset[n] = placeholder(n)
		}
	}
	for _, n := range slices.Sorted(maps.Keys(uses)) {
		fns := slices.Sorted(maps.Keys(uses[n]))
		by, err := a.requiredBy(n, fns, unset)
		if err != nil {
			return nil, err
		}
		rep.Names = append(rep.Names, Name{Name: n, Functions: fns, RequiredBy: by, Secret: secret[n], Set: unset[n] == ""})
		if len(by) > 0 && unset[n] != "" {
			rep.Problems = append(rep.Problems, Problem{Name: n, Kind: "missing", Functions: by})
		}
	}
	if err := a.settingProblems(rep, unset); err != nil {
		return nil, err
	}
	return rep, nil
}

// placeholder stands in for a variable that is not set: any non-empty value
// (the assemblies and the plan may refuse it, never report it missing).
func placeholder(n string) string { return "<" + n + ">" }

// refs lists the variables a parsed part of the manifest names through tokens.
func refs(v any) []string {
	b, _ := json.Marshal(v)
	var out []string
	for _, m := range tokenRE.FindAllSubmatch(b, -1) {
		out = append(out, string(m[1]))
	}
	return out
}

// manifest parses serverless.yml with env and narrows it to the profile; the
// result is cached by the values env gives the variables the file names.
func (a *analysis) manifest(env func(string) string) (*manifest.Manifest, error) {
	var key strings.Builder
	for _, m := range envRef.FindAllSubmatch(a.raw, -1) {
		key.WriteString(string(m[1]) + "=" + env(string(m[1])) + "\x00")
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
	without, err := a.manifest(a.with(map[string]string{n: ""}))
	if err != nil {
		return nil, err
	}
	with, err := a.manifest(a.with(map[string]string{n: value}))
	if err != nil {
		return nil, err
	}
	planWithout, err := a.manifest(a.with(unset, map[string]string{n: ""}))
	if err != nil {
		return nil, err
	}
	planWith, err := a.manifest(a.with(unset, map[string]string{n: value}))
	if err != nil {
		return nil, err
	}
	var by []string
	for _, fn := range fns {
		gained := difference(verdict(without, fn), verdict(with, fn))
		if len(gained) == 0 && plan(planWithout, fn) != nil && plan(planWith, fn) == nil {
			gained = []string{"plan"}
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
	asIs, err := a.manifest(a.getenv)
	if err != nil {
		return err
	}
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
		settings := Settings(asIs, fn)
		for _, name := range slices.Sorted(maps.Keys(settings)) {
			if _, ok, err := config.ParseSecretRef(settings[name]); ok && err != nil {
				add(key{"invalid", name, err.Error()}, fn)
			}
		}
		kept := intersection(verdict(asIs, fn), verdict(filled, fn))
		for _, e := range kept {
			kind, rest, _ := strings.Cut(e, ": ")
			name, why, _ := strings.Cut(rest, " ")
			if kind == "missing" {
				kind, name, why = "unmet", rest, "is required by the function and serverless.yml does not set it"
			}
			add(key{kind, name, why}, fn)
		}
		if err := plan(filled, fn); err != nil {
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
	a := config.NewAudit(settings)
	asm.Build(a.Source())
	return a, nil
}

// verdict is what function fn of m reports about its settings, as "missing: X"
// and "invalid: X why" entries. A setting whose value is a csms: reference is
// resolved only at the function's cold start, so nothing is said about it here.
func verdict(m *manifest.Manifest, fn string) []string {
	settings := Settings(m, fn)
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

package manifest

import (
	"fmt"
	"maps"
	"regexp"
	"slices"
	"sort"
	"strings"
)

// AllProfile is the profile of every function. serverless.yml may list it (and
// then must list every function); a file without it still has it.
const AllProfile = "all"

var profileRule = regexp.MustCompile(`^[a-z][a-z0-9-]{0,39}$`)

// ProfileNames returns the profiles of custom.profiles, and "all", sorted.
func (m *Manifest) ProfileNames() []string {
	names := slices.Collect(maps.Keys(m.Custom.Profiles))
	if _, ok := m.Custom.Profiles[AllProfile]; !ok {
		names = append(names, AllProfile)
	}
	sort.Strings(names)
	return names
}

// ProfileFunctions returns the functions of one or more profiles (spec is a
// comma-separated list; "" is "all"), sorted and without repeats.
func (m *Manifest) ProfileFunctions(spec string) ([]string, error) {
	seen := map[string]bool{}
	for _, p := range splitProfiles(spec) {
		fns, ok := m.Custom.Profiles[p]
		switch {
		case p == AllProfile:
			fns = m.Names()
		case !ok:
			return nil, fmt.Errorf("manifest: no profile %q in custom.profiles (profiles: %s)", p, strings.Join(m.ProfileNames(), ", "))
		}
		for _, f := range fns {
			seen[f] = true
		}
	}
	out := slices.Collect(maps.Keys(seen))
	sort.Strings(out)
	return out, nil
}

func splitProfiles(spec string) []string {
	var out []string
	for _, p := range strings.Split(spec, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	if len(out) == 0 {
		out = []string{AllProfile}
	}
	return out
}

// ForProfile returns the manifest narrowed to the functions of spec (see
// ProfileFunctions): only their triggers, and the production addresses only of
// the functions deployed, so no route (and no Kit path below an address) leads
// to a function the profile leaves out. The deploy tool, the gateway definition
// and the local run read the same narrowed routes.
func (m *Manifest) ForProfile(spec string) (*Manifest, error) {
	fns, err := m.ProfileFunctions(spec)
	if err != nil {
		return nil, err
	}
	n, err := m.Select(fns)
	if err != nil {
		return nil, fmt.Errorf("manifest: profile %s: %w", spec, err)
	}
	n.Profile = strings.Join(splitProfiles(spec), ",")
	return n, nil
}

// Select returns the manifest narrowed to the named functions, its production
// addresses to those they answer, and every trigger expanded again over them.
func (m *Manifest) Select(functions []string) (*Manifest, error) {
	n := *m
	n.Functions = map[string]Function{}
	n.Custom.Production.Addresses = map[string]string{}
	for _, name := range functions {
		fn, ok := m.Functions[name]
		if !ok {
			return nil, fmt.Errorf("%s is not a function in serverless.yml", name)
		}
		fn.Events = slices.Clone(m.written[name])
		n.Functions[name] = fn
	}
	for path, fn := range m.Custom.Production.Addresses {
		if _, ok := n.Functions[fn]; ok {
			n.Custom.Production.Addresses[path] = fn
		}
	}
	if err := n.expand(); err != nil {
		return nil, err
	}
	if err := n.validate(); err != nil {
		return nil, err
	}
	return &n, nil
}

// validateProfiles checks custom.profiles and custom.needs: every name is a
// function, "all" (when listed) lists every function, every profile includes
// what its functions need, and each profile's routes expand (a Kit function
// needs a production address to be served below).
func (m *Manifest) validateProfiles() error {
	for fn, needs := range m.Custom.Needs {
		if _, ok := m.Functions[fn]; !ok {
			return fmt.Errorf("manifest: custom.needs: %q is not a function", fn)
		}
		for _, n := range needs {
			if _, ok := m.Functions[n]; !ok {
				return fmt.Errorf("manifest: custom.needs: %s needs %q, which is not a function", fn, n)
			}
		}
	}
	for _, p := range slices.Sorted(maps.Keys(m.Custom.Profiles)) {
		fns := m.Custom.Profiles[p]
		if !profileRule.MatchString(p) {
			return fmt.Errorf("manifest: custom.profiles: %q must be lower-case letters, digits and dashes", p)
		}
		in := map[string]bool{}
		for _, f := range fns {
			if _, ok := m.Functions[f]; !ok {
				return fmt.Errorf("manifest: custom.profiles.%s: %q is not a function", p, f)
			}
			if in[f] {
				return fmt.Errorf("manifest: custom.profiles.%s lists %s twice", p, f)
			}
			in[f] = true
		}
		if p == AllProfile {
			for _, f := range m.Names() {
				if !in[f] {
					return fmt.Errorf("manifest: custom.profiles.all lacks %s: it lists every function", f)
				}
			}
		}
		for _, f := range fns {
			for _, need := range m.Custom.Needs[f] {
				if !in[need] {
					return fmt.Errorf("manifest: custom.profiles.%s: %s needs %s (custom.needs), which the profile lacks", p, f, need)
				}
			}
		}
		if _, err := m.Select(fns); err != nil {
			return fmt.Errorf("manifest: custom.profiles.%s: %w", p, err)
		}
	}
	return nil
}

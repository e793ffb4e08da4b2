package manifest

import (
	"fmt"
	"maps"
	"regexp"
	"slices"
	"sort"
	"strings"
)

// Production is custom.production of serverless.yml: the production addresses
// (生产接口地址) the deployment offers. The Seller Console binds one address to a
// product, and the marketplace calls every interface type of that product relative
// to it: the basic (or License) interface at POST {address}, the joint-operation Kit
// at {address}/produceAPI/v2/<name>. So each address gets the basic trigger of the
// function it names, and every trigger marked belowAddresses is served below it.
type Production struct {
	// Addresses maps each address (a path on the API group's domain; "/" is the
	// domain itself) to the function answering POST {address}.
	Addresses map[string]string `yaml:"addresses"`
}

// Address is one production address and the function answering POST {address}.
type Address struct {
	Path     string
	Function string
}

// Addresses returns the production addresses, sorted by path.
func (m *Manifest) Addresses() []Address {
	out := make([]Address, 0, len(m.Custom.Production.Addresses))
	for p, fn := range m.Custom.Production.Addresses {
		out = append(out, Address{Path: p, Function: fn})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	return out
}

// MaxAPINameLen is the longest API name API Gateway accepts.
const MaxAPINameLen = 64

// addressRule admits "/" and paths of plain segments, without a trailing slash.
var addressRule = regexp.MustCompile(`^/(?:[A-Za-z0-9._~-]+(?:/[A-Za-z0-9._~-]+)*)?$`)

// JoinAddress returns the path of sub (which starts with a slash) below address.
func JoinAddress(address, sub string) string {
	if address == "/" {
		return sub
	}
	return address + sub
}

// addressSlug names an address inside an API name: "/" is "root".
func addressSlug(address string) string {
	s := strings.Trim(address, "/")
	if s == "" {
		return "root"
	}
	return strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' {
			return r
		}
		return '_'
	}, s)
}

// expand completes the triggers that custom.production governs, one per address,
// so that every consumer of the manifest (the local emulator, the deploy tool, the
// gateway definition) sees the same routes:
//   - a function's APIG triggers whose path is one of that function's addresses are
//     its basic interface there; each of its other addresses gets a copy of the
//     first;
//   - an APIG trigger marked belowAddresses is served at {address}{path} for every
//     address.
//
// A copy takes the template's settings and its API name plus the address
// (…_saas_produce, …_root), so names stay unique in the API group; the trigger at
// the path written keeps its name.
func (m *Manifest) expand() error {
	addrs := m.Addresses()
	of := map[string][]string{}
	for _, a := range addrs {
		if !addressRule.MatchString(a.Path) {
			return fmt.Errorf("manifest: custom.production.addresses: %q is not a path such as /saas/produce (or / for the domain itself)", a.Path)
		}
		if _, ok := m.Functions[a.Function]; !ok {
			return fmt.Errorf("manifest: custom.production.addresses: %s names %q, which is not a function", a.Path, a.Function)
		}
		of[a.Function] = append(of[a.Function], a.Path)
	}
	for _, name := range m.Names() {
		fn := m.Functions[name]
		// The function's triggers at its own addresses, written out.
		written := map[string]bool{}
		for _, ev := range fn.Events {
			if ev.IsHTTP() && !ev.BelowAddresses && slices.Contains(of[name], ev.String("path")) {
				written[ev.String("path")] = true
			}
		}
		if len(of[name]) > 0 && len(written) == 0 {
			return fmt.Errorf("manifest: %s answers the production address %s but has no APIG trigger at one of its addresses to take the trigger settings from", name, of[name][0])
		}
		var out []Event
		templated := false
		for _, ev := range fn.Events {
			path := ev.String("path")
			switch {
			case !ev.IsHTTP():
				if ev.BelowAddresses {
					return fmt.Errorf("manifest: %s: belowAddresses applies to APIG triggers only", name)
				}
				out = append(out, ev)
			case ev.BelowAddresses:
				if len(addrs) == 0 {
					return fmt.Errorf("manifest: %s %s: belowAddresses, but custom.production.addresses lists no address", name, path)
				}
				if path == "/" || !strings.HasPrefix(path, "/") {
					return fmt.Errorf("manifest: %s: a belowAddresses trigger needs a sub-path such as /produceAPI/v2/tenantSync", name)
				}
				var below []string
				for _, a := range addrs {
					below = append(below, a.Path)
				}
				copies, err := deriveAll(name, ev, below, func(a string) string { return JoinAddress(a, path) })
				if err != nil {
					return err
				}
				out = append(out, copies...)
			case written[path]:
				// As written; the first also stands in for the addresses without one.
				ev.Address = path
				out = append(out, ev)
				if templated {
					continue
				}
				templated = true
				var missing []string
				for _, a := range of[name] {
					if !written[a] {
						missing = append(missing, a)
					}
				}
				copies, err := deriveAll(name, ev, missing, func(a string) string { return a })
				if err != nil {
					return err
				}
				out = append(out, copies...)
			default:
				out = append(out, ev)
			}
		}
		fn.Events = out
		m.Functions[name] = fn
	}
	return nil
}

// deriveAll copies a template trigger for each address, the copy at the path
// written in serverless.yml first (it stays the function's first route).
func deriveAll(fn string, ev Event, addresses []string, pathAt func(address string) string) ([]Event, error) {
	var written, others []Event
	for _, a := range addresses {
		d, err := derive(fn, ev, a, pathAt(a))
		if err != nil {
			return nil, err
		}
		if d.String("path") == ev.String("path") {
			written = append(written, d)
		} else {
			others = append(others, d)
		}
	}
	return append(written, others...), nil
}

// derive copies a template trigger for one address.
func derive(fn string, ev Event, address, path string) (Event, error) {
	name := ev.String("name")
	if name == "" {
		return Event{}, fmt.Errorf("manifest: %s %s: a trigger served at the production addresses needs eventData.name", fn, ev.String("path"))
	}
	if path != ev.String("path") {
		name += "_" + addressSlug(address)
	}
	if len(name) > MaxAPINameLen {
		return Event{}, fmt.Errorf("manifest: %s: the API name %s for %s is longer than API Gateway's %d characters; shorten eventData.name", fn, name, path, MaxAPINameLen)
	}
	d := ev
	d.EventData = maps.Clone(ev.EventData)
	d.EventData["path"], d.EventData["name"] = path, name
	d.Address = address
	return d, nil
}

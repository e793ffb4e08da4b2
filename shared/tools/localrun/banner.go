package localrun

import (
	"fmt"
	"io"
	"strings"
	"unicode"

	"github.com/kgseller/kgseller/shared/tools/localstate"
	"github.com/kgseller/kgseller/shared/tools/manifest"
)

// Banner is what the local run prints once it listens: where everything is and
// what to do next. It is plain data (Stack.Banner fills it) so that its rendering
// is tested with fixed values.
type Banner struct {
	URL      string // http://host:port
	Manifest *manifest.Manifest
	// AccessKey is the key of every interface type; AccessKeyDefault says it is
	// DefaultAccessKey because KG_ACCESS_KEY is unset.
	AccessKey        string
	AccessKeyDefault bool
	// Database describes the database (Stack.DatabaseLabel); OpsDSN is its DSN
	// when printing it reveals nothing (the embedded engine: root, no password).
	Database string
	OpsDSN   string
	// MarketURL is the fake KooGallery open API ("" when KG_MKT_ENDPOINT points
	// elsewhere).
	MarketURL string
	Alerts    []string
	// KitPublicKey is the PEM file of the Kit app's public key.
	KitPublicKey string
	// StateFile is where the other tools find this run.
	StateFile string
	Settings  []SettingProblem
}

// bannerWidth is the widest line the banner aims for.
const bannerWidth = 100

// WriteBanner renders b.
func WriteBanner(w io.Writer, b Banner) {
	p := func(format string, a ...any) { fmt.Fprintf(w, format+"\n", a...) }
	p("KooGallery seller interface: local run at %s", b.URL)
	p("")
	if b.Manifest != nil {
		p("Routes (API Gateway -> function)")
		for _, r := range b.Manifest.Routes() {
			p("  %-6s %-50s %s", r.Method, r.Path, r.Function)
		}
		p("")
		p("Production addresses and the Seller Console (in production: your API group's domain)")
		WriteSellerConsole(w, b.Manifest, b.URL)
		p("")
	}
	p("Pages to open")
	for _, pg := range [][2]string{
		{"/sso-demo/app", "demo app: sign in as alice or bob (carol is refused)"},
		{"/sso/login", "SSO sign-in, as the demo app starts it"},
		{"/fake-idp", "fake unified login: what it offers, tenants, users"},
		{"/fake-idp/workbench", "fake marketplace workbench: open the app as a user"},
		{"/app/{instanceId}", "an instance's front-end page (its frontEndUrl)"},
	} {
		p("  %-42s %s", b.URL+pg[0], pg[1])
	}
	p("")
	p("Keys and data")
	note := ""
	if b.AccessKeyDefault {
		note = " (default; set KG_ACCESS_KEY to change)"
	}
	p("  %-12s %s%s", "access key", b.AccessKey, note)
	p("  %-12s %s", "database", b.Database)
	if b.OpsDSN != "" {
		p("  %-12s %s", "DB_DSN", b.OpsDSN)
	}
	if b.KitPublicKey != "" {
		p("  %-12s %s", "Kit key", b.KitPublicKey)
		p("  %-12s %s", "", "(public key of the Kit app: kgsim encrypts applicationSync's clientSecret with it)")
	}
	if b.MarketURL != "" {
		p("  %-12s %s (fake KooGallery open API: Query Order, mock orders)", "open API", b.MarketURL)
	}
	for i, l := range b.Alerts {
		label := ""
		if i == 0 {
			label = "alerts"
		}
		fmt.Fprint(w, wrap(l, fmt.Sprintf("  %-12s ", label), strings.Repeat(" ", 15), bannerWidth))
	}
	if len(b.Alerts) > 0 {
		p("  %-12s %s", "", "interface-monitor runs every 5 minutes; its alerts and recoveries print here")
	}
	if b.StateFile != "" {
		p("  %-12s %s", "state file", b.StateFile)
		p("  %-12s %s", "", "(sign, kgsim and ops find this run through it: no flags needed)")
	}
	p("")
	p("Settings of the functions")
	writeSettings(w, b.Settings)
	p("")
	p("Try it")
	for _, c := range [][2]string{
		{"go run ./scripts/sign newInstance", "send a signed newInstance"},
		{"go run ./scripts/sign queryInstance -instance <id>", "the instanceId it answered"},
		{"go run ./scripts/sign -list", "every activity sign sends by name"},
		{"go run ./scripts/kgsim", "the marketplace's test cases"},
		{"go run ./scripts/kgsim -type kit", "the Kit's test cases (also license, notify)"},
		{"go run ./scripts/ops summary", "instances, jobs, monitor"},
	} {
		if c[1] == "" {
			p("  %s", c[0])
			continue
		}
		p("  %-50s # %s", c[0], c[1])
	}
	if b.OpsDSN != "" {
		p("  DB_DSN='%s' go run ./scripts/ops summary", b.OpsDSN)
	}
	p("")
	p("Press Ctrl-C to stop.")
}

// writeSettings lists the setting problems, errors first, each with the
// functions concerned on the next line.
func writeSettings(w io.Writer, problems []SettingProblem) {
	errors := 0
	for _, sp := range problems {
		if !sp.Note {
			errors++
		}
	}
	if errors == 0 {
		fmt.Fprintln(w, "  ok     every function finds the settings it requires")
	}
	for _, sp := range problems {
		label, text := "error", sp.Name+" is "+sp.Kind
		if sp.Kind == "invalid" && sp.Why != "" {
			text = sp.Name + " " + sp.Why
		}
		if sp.Note {
			label, text = "note", sp.Name+" is not set"
			if sp.Why != "" {
				text += ": " + sp.Why
			}
		}
		fmt.Fprint(w, wrap(text, fmt.Sprintf("  %-6s ", label), "         ", bannerWidth))
		fmt.Fprint(w, wrap("in "+strings.Join(sp.Functions, ", "), "         ", "         ", bannerWidth))
	}
}

// wrap breaks s at spaces into lines of at most width columns, the first
// starting with first, the others with indent.
func wrap(s, first, indent string, width int) string {
	var b strings.Builder
	line, empty := first, true
	for _, word := range strings.Fields(s) {
		if !empty && columns(line)+1+columns(word) > width {
			b.WriteString(line + "\n")
			line, empty = indent, true
		}
		if !empty {
			line += " "
		}
		line += word
		empty = false
	}
	b.WriteString(line + "\n")
	return b.String()
}

// columns is how many terminal columns s takes: CJK characters take two.
func columns(s string) int {
	n := 0
	for _, r := range s {
		n++
		if unicode.In(r, unicode.Han, unicode.Hangul, unicode.Hiragana, unicode.Katakana) {
			n++
		}
	}
	return n
}

// padColumns pads s with spaces to n columns.
func padColumns(s string, n int) string {
	if c := columns(s); c < n {
		return s + strings.Repeat(" ", n-c)
	}
	return s
}

// Banner describes the running stack served at url.
func (s *Stack) Banner(url string) Banner {
	b := Banner{URL: strings.TrimRight(url, "/"), Manifest: s.Manifest, AccessKey: s.AccessKey,
		AccessKeyDefault: s.AccessKey == DefaultAccessKey, Database: s.DatabaseLabel(),
		MarketURL: s.MarketURL, Alerts: s.AlertsLabel(), KitPublicKey: s.KitPublicKey, Settings: s.Settings}
	if s.Embedded {
		b.OpsDSN = s.DSN
	}
	return b
}

// Addresses are the production addresses by the interface type the marketplace
// calls there (the Kit answers below the SaaS address), and the route of the
// generic orderNotify, for the state file.
func (s *Stack) Addresses() map[string]string {
	out := map[string]string{}
	set := func(kind, path string) {
		if path != "" {
			out[kind] = path
		}
	}
	set("saas", productionAddress(s.Manifest, "saas-produce"))
	set("kit", productionAddress(s.Manifest, "saas-produce"))
	set("license", productionAddress(s.Manifest, "license-produce"))
	if rs := s.Manifest.RoutesOf("order-notify"); len(rs) > 0 {
		set("notify", rs[0].Path)
	}
	return out
}

// State is what the state file says of the stack served at url.
func (s *Stack) State(url string) localstate.State {
	return localstate.State{URL: strings.TrimRight(url, "/"), AccessKey: s.AccessKey, DSN: s.DSN,
		Addresses: s.Addresses(), KitPublicKey: s.KitPublicKey, MarketURL: s.MarketURL}
}

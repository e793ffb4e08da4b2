package localrun

import (
	"fmt"
	"io"
	"strings"

	"github.com/kgseller/kgseller/shared/tools/manifest"
)

// ConsoleEntry is one URL a seller enters in the Seller Console for a product type.
type ConsoleEntry struct {
	Product string // product type
	Field   string // the console field
	URL     string
	Calls   string // what the marketplace calls there, and with which key
}

// Seller Console fields.
const (
	FieldProductionAddress = "生产接口地址 (production address)"
	FieldLoginAddress      = "应用登录地址 (application login address)"
)

// SellerConsole lists, per product type, the URL to enter in each Seller Console
// field for a deployment whose API group answers at base (https://<domain>, or the
// local run's address). It is derived from serverless.yml, so the local run's
// banner and docs/deploy.md (held to it by a test) say what the routes are.
func SellerConsole(m *manifest.Manifest, base string) []ConsoleEntry {
	base = strings.TrimRight(base, "/")
	address := func(fn string) string { return productionAddress(m, fn) }
	url := func(path string) string {
		if path == "/" {
			return base
		}
		return base + path
	}
	route := func(fn string) string {
		if rs := m.RoutesOf(fn); len(rs) > 0 {
			return rs[0].Path
		}
		return ""
	}
	var out []ConsoleEntry
	add := func(path string, e ConsoleEntry) {
		if path != "" {
			e.URL = url(path)
			out = append(out, e)
		}
	}
	saas := address("saas-produce")
	add(saas, ConsoleEntry{Product: "SaaS", Field: FieldProductionAddress,
		Calls: "basic interface and orderNotify at the address (basic key; orderNotify: generic key)"})
	add(saas, ConsoleEntry{Product: "Joint-operation SaaS (联营)", Field: FieldProductionAddress,
		Calls: "the same, plus the Kit at {address}/produceAPI/v2/<name> (Kit key)"})
	add(route("sso-callback"), ConsoleEntry{Product: "Joint-operation SaaS (联营)", Field: FieldLoginAddress,
		Calls: "the unified login sends the user here with code and tenant"})
	add(address("license-produce"), ConsoleEntry{Product: "License", Field: FieldProductionAddress,
		Calls: "License and instance activities and orderNotify at the address (License key; orderNotify: generic key)"})
	add(route("order-notify"), ConsoleEntry{Product: "API, hardware, manual service", Field: FieldProductionAddress,
		Calls: "orderNotify (generic key)"})
	return out
}

// productionAddress is function fn's first named production address; the domain
// root only when it has no other.
func productionAddress(m *manifest.Manifest, fn string) string {
	path := ""
	for _, a := range m.Addresses() {
		if a.Function == fn && (path == "" || path == "/") {
			path = a.Path
		}
	}
	return path
}

// WriteSellerConsole prints, for the local run's banner, every production address
// and the Seller Console entries of SellerConsole, in 100 columns.
func WriteSellerConsole(w io.Writer, m *manifest.Manifest, base string) {
	base = strings.TrimRight(base, "/")
	for _, a := range m.Addresses() {
		u := base + a.Path
		if a.Path == "/" {
			u = base
		}
		fmt.Fprintf(w, "  address  %-40s POST -> %s\n", u, a.Function)
	}
	fmt.Fprintln(w, "           the Kit answers below each: {address}/produceAPI/v2/<name> and /produceAPI/<name>")
	fmt.Fprintf(w, "  %s %s\n", padColumns("product type", 30), "console field (生产接口地址 production, 应用登录地址 login) and URL")
	for _, e := range SellerConsole(m, base) {
		field, _, _ := strings.Cut(e.Field, " (")
		fmt.Fprintf(w, "  %s %s  %s\n", padColumns(e.Product, 30), field, e.URL)
	}
}

package localrun

import (
	"bytes"
	"os"
	"strings"
	"testing"

	"github.com/kgseller/kgseller/shared/tools/manifest"
)

func projectManifest(t *testing.T) *manifest.Manifest {
	t.Helper()
	m, err := manifest.Load("../../../serverless.yml", nil)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// TestSellerConsoleEntries: one URL per product type and console field, from the
// routes of serverless.yml.
func TestSellerConsoleEntries(t *testing.T) {
	t.Parallel()
	var got []string
	for _, e := range SellerConsole(projectManifest(t), "https://<domain>/") {
		got = append(got, e.Product+" | "+e.Field+" | "+e.URL)
	}
	want := []string{
		"SaaS | " + FieldProductionAddress + " | https://<domain>/saas/produce",
		"Joint-operation SaaS (联营) | " + FieldProductionAddress + " | https://<domain>/saas/produce",
		"Joint-operation SaaS (联营) | " + FieldLoginAddress + " | https://<domain>/sso/callback",
		"License | " + FieldProductionAddress + " | https://<domain>/license/produce",
		"API, hardware, manual service | " + FieldProductionAddress + " | https://<domain>/order/notify",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("entries:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// TestSellerConsoleTableInDocs holds docs/deploy.md's Seller Console table to
// SellerConsole, which the local run's banner prints: every entry is a row, in
// order, and the table has no other rows.
func TestSellerConsoleTableInDocs(t *testing.T) {
	t.Parallel()
	raw, err := os.ReadFile("../../../docs/deploy.md")
	if err != nil {
		t.Fatal(err)
	}
	const head = "| Product type | Seller Console field | Enter | What the marketplace calls there |"
	doc := string(raw)
	i := strings.Index(doc, head)
	if i < 0 {
		t.Fatalf("docs/deploy.md has no table headed %q", head)
	}
	var rows []string
	for _, line := range strings.Split(doc[i:], "\n")[2:] {
		line = strings.TrimSpace(line)
		if !strings.HasPrefix(line, "|") {
			break
		}
		rows = append(rows, line)
	}
	entries := SellerConsole(projectManifest(t), "https://<domain>")
	if len(rows) != len(entries) {
		t.Fatalf("the table has %d rows, SellerConsole %d:\n%s", len(rows), len(entries), strings.Join(rows, "\n"))
	}
	for n, e := range entries {
		if want := "| " + e.Product + " | " + e.Field + " | `" + e.URL + "` | " + e.Calls + " |"; rows[n] != want {
			t.Errorf("row %d:\n%s\nwant:\n%s", n+1, rows[n], want)
		}
	}
}

// TestBannerNamesEveryAddress: the local run prints every production address and
// the console entries with its own base URL.
func TestBannerNamesEveryAddress(t *testing.T) {
	t.Parallel()
	var b bytes.Buffer
	m := projectManifest(t)
	WriteSellerConsole(&b, m, "http://127.0.0.1:8080")
	out := b.String()
	for _, want := range []string{
		"http://127.0.0.1:8080/saas/produce ", "http://127.0.0.1:8080/license/produce ", "http://127.0.0.1:8080 ",
		"Joint-operation SaaS (联营)    应用登录地址  http://127.0.0.1:8080/sso/callback",
		"License                        生产接口地址  http://127.0.0.1:8080/license/produce",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("banner lacks %q:\n%s", want, out)
		}
	}
}

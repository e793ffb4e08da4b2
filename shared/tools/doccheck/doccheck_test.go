package doccheck

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

// repoRoot is the nearest directory above the test's with a go.mod.
func repoRoot(t *testing.T) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("no go.mod above the test directory")
		}
		dir = parent
	}
}

type textFile struct {
	rel  string // slash-separated, relative to the root
	data []byte
}

// repoFiles returns every text file of the repository: not .git, not the ignored
// build output, not binaries.
func repoFiles(t *testing.T, root string) []textFile {
	t.Helper()
	var out []textFile
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		rel = filepath.ToSlash(rel)
		if d.IsDir() {
			name := d.Name()
			if rel != "." && (strings.HasPrefix(name, ".") && name != ".github" && name != ".ci" || rel == "build" || name == "node_modules") {
				return filepath.SkipDir
			}
			return nil
		}
		if !d.Type().IsRegular() || strings.HasSuffix(rel, ".test") || strings.HasSuffix(rel, ".out") {
			return nil
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		if bytes.IndexByte(data[:min(len(data), 8000)], 0) >= 0 {
			return nil
		}
		out = append(out, textFile{rel: rel, data: data})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func readProtocol(t *testing.T, root string) []byte {
	t.Helper()
	md, err := os.ReadFile(filepath.Join(root, "docs", "protocol.md"))
	if err != nil {
		t.Fatalf("the protocol reference must be in the repository: %v", err)
	}
	return md
}

func TestAnchorsCitationsSelfLinks(t *testing.T) {
	md := []byte("# T\n<a id=\"one\"></a>\n## One\n<a id=\"two\"></a><a id=\"one\"></a>\nsee [x](#two) and [y](#three)\n")
	got := Anchors(md)
	if got["one"] != 2 || got["two"] != 1 || len(got) != 2 {
		t.Errorf("Anchors = %v", got)
	}
	self := SelfLinks(md)
	if len(self) != 2 || self[0] != (Ref{5, "two"}) || self[1] != (Ref{5, "three"}) {
		t.Errorf("SelfLinks = %v", self)
	}
	text := []byte("// Package p (docs/protocol.md#saas-basic): x\n" +
		"see [a](protocol.md#kit-paths), docs/protocol-decisions.md#signatures\n" +
		"docs/protocol.md and xprotocol.md#no\n")
	cites := Citations(text)
	want := []Ref{{1, "saas-basic"}, {2, "kit-paths"}}
	if fmt.Sprint(cites) != fmt.Sprint(want) {
		t.Errorf("Citations = %v, want %v", cites, want)
	}
}

// TestForeignDetected holds the detector to every form of citation of the notes
// outside the repository that this code base has used. The samples are written with
// placeholders and expanded at run time, so that this file cites nothing itself.
func TestForeignDetected(t *testing.T) {
	expand := strings.NewReplacer("{spec}", "spec", "{md}", ".md", "{p}", "\u00a7", "{digest}", "digest", "{work}", "/work/"+"shared").Replace
	none := func(string) bool { return false }
	foreign := []string{
		"// Result codes ({spec}/saas-basic{md} {p}5).",
		"// ({spec}/license-order-kit{md} {p}3): tenantSync, applicationSync",
		"`{spec}/signatures-and-crypto{md}` {p}4 and {p}8.",
		`"about": "see {spec}/signatures-and-crypto{md} section 10."`,
		"// Codes the probes expect ({spec} saas-basic {p}5).",
		"// Kit debug values ({spec} license-order-kit {p}3): one tenant",
		"// AppInfo is the access information queryInstance returns ({spec} {p}4.2).",
		"// must not fail ({spec} README #13).",
		"// Field lengths from the {spec} tables.",
		"// Field lengths from the {spec} table.",
		"// Limits from the {spec}.",
		"the protocol {digest} that accompanies the project",
		"see license-order-kit{md} for the Kit",
		"see functiongraph{md}",
		"(saas-basic {p}5)",
		"{work}/testdata/vectors.json",
	}
	for _, s := range foreign {
		s = expand(s)
		if got := Foreign([]byte(s), none); len(got) == 0 {
			t.Errorf("not detected: %q", s)
		}
	}
	clean := []string{
		"// Result codes (docs/protocol.md#result-codes).",
		"// Product is the target of a {spec} change, as changeInstanceCheck carries it.",
		"huaweicloud-sdk-go-v3/services/functiongraph/v2",
		"the protocol reference, docs/protocol.md",
		"an openapi specification",
	}
	for _, s := range clean {
		s = expand(s)
		if got := Foreign([]byte(s), none); len(got) != 0 {
			t.Errorf("false positive in %q: %v", s, got)
		}
	}
	// A path that is part of the repository is not foreign.
	inRepo := expand("see docs/{spec}/x{md}")
	if got := Foreign([]byte(inRepo), func(p string) bool { return p == expand("docs/{spec}/x{md}") }); len(got) != 0 {
		t.Errorf("an existing path was reported: %v", got)
	}
	if got := Foreign([]byte(inRepo), none); len(got) != 1 {
		t.Errorf("a missing path was not reported exactly once: %v", got)
	}
}

// TestNoForeignCitations: no file of the repository cites protocol notes that are
// not in the repository; protocol citations go to docs/protocol.md.
func TestNoForeignCitations(t *testing.T) {
	root := repoRoot(t)
	files := repoFiles(t, root)
	kinds := map[string]int{}
	var bad []string
	for _, f := range files {
		kinds[filepath.Ext(f.rel)]++
		dir := filepath.Dir(filepath.FromSlash(f.rel))
		exists := func(p string) bool {
			for _, base := range []string{root, filepath.Join(root, dir)} {
				if _, err := os.Stat(filepath.Join(base, filepath.FromSlash(p))); err == nil {
					return true
				}
			}
			return false
		}
		for _, r := range Foreign(f.data, exists) {
			bad = append(bad, fmt.Sprintf("%s:%d: %s", f.rel, r.Line, r.Text))
		}
	}
	// The walk must have seen the repository, not an empty or wrong directory.
	if len(files) < 100 || kinds[".go"] < 50 || kinds[".md"] < 5 || kinds[".json"] < 1 {
		t.Fatalf("scanned %d files (%v): not the repository", len(files), kinds)
	}
	if len(bad) > 0 {
		t.Errorf("%d citations of protocol notes outside the repository; cite docs/protocol.md#<anchor> instead:\n%s",
			len(bad), strings.Join(bad, "\n"))
	}
}

// TestProtocolCitationsResolve: every docs/protocol.md#<anchor> cited anywhere, and
// every link inside the page, names an anchor the page defines exactly once.
func TestProtocolCitationsResolve(t *testing.T) {
	root := repoRoot(t)
	md := readProtocol(t, root)
	anchors := Anchors(md)
	for id, n := range anchors {
		if n > 1 {
			t.Errorf("anchor %q is defined %d times in docs/protocol.md", id, n)
		}
	}
	if len(anchors) < 50 {
		t.Fatalf("docs/protocol.md defines %d anchors; every section needs one", len(anchors))
	}
	for _, r := range SelfLinks(md) {
		if anchors[r.Text] == 0 {
			t.Errorf("docs/protocol.md:%d links to #%s, which it does not define", r.Line, r.Text)
		}
	}
	citing := map[string]int{}
	total := 0
	for _, f := range repoFiles(t, root) {
		for _, r := range Citations(f.data) {
			total++
			citing[f.rel]++
			if anchors[r.Text] == 0 {
				t.Errorf("%s:%d cites docs/protocol.md#%s, which does not exist", f.rel, r.Line, r.Text)
			}
		}
	}
	// Code and documents must actually cite the page: an empty result would prove
	// nothing.
	goFiles, docFiles := 0, 0
	for rel := range citing {
		switch {
		case strings.HasSuffix(rel, ".go"):
			goFiles++
		case strings.HasSuffix(rel, ".md"):
			docFiles++
		}
	}
	if total < 30 || goFiles < 15 || docFiles < 2 {
		t.Errorf("%d citations in %d Go files and %d documents; the code's protocol comments should cite docs/protocol.md#<anchor>",
			total, goFiles, docFiles)
	}
	readme, err := os.ReadFile(filepath.Join(root, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(readme, []byte("docs/protocol.md")) {
		t.Errorf("README.md does not point to docs/protocol.md")
	}
}

// TestVectorsDocumented: every value of testdata/vectors.json, the vectors the
// tests assert, appears in docs/protocol.md, so the page cannot drift from them.
func TestVectorsDocumented(t *testing.T) {
	root := repoRoot(t)
	md := string(readProtocol(t, root))
	raw, err := os.ReadFile(filepath.Join(root, "testdata", "vectors.json"))
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Vectors []map[string]any `json:"vectors"`
	}
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	checked := 0
	var missing []string
	var walk func(name, key string, v any)
	walk = func(name, key string, v any) {
		switch v := v.(type) {
		case string:
			// scheme and provenance are labels of the file, not protocol values.
			if v == "" || key == "scheme" || key == "provenance" {
				return
			}
			checked++
			if !strings.Contains(md, v) {
				missing = append(missing, fmt.Sprintf("%s.%s = %q", name, key, v))
			}
		case map[string]any:
			keys := make([]string, 0, len(v))
			for k := range v {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			for _, k := range keys {
				walk(name, key+"."+k, v[k])
			}
		default:
			t.Errorf("%s.%s: unexpected value %v", name, key, v)
		}
	}
	for _, v := range doc.Vectors {
		name, _ := v["name"].(string)
		for k, val := range v {
			walk(name, k, val)
		}
	}
	if len(doc.Vectors) < 12 || checked < 70 {
		t.Fatalf("checked %d values of %d vectors: testdata/vectors.json was not read", checked, len(doc.Vectors))
	}
	sort.Strings(missing)
	for _, m := range missing {
		t.Errorf("docs/protocol.md lacks the vector value %s", m)
	}
}

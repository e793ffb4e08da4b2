package buildzip

import (
	"archive/zip"
	"bytes"
	"context"
	"debug/buildinfo"
	"debug/elf"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/kgseller/kgseller/shared/tools/manifest"
)

func TestEnvForcesTargetAndToolchain(t *testing.T) {
	env := Env([]string{"PATH=/bin", "GOOS=darwin", "GOARCH=arm64", "CGO_ENABLED=1", "GOAMD64=v3"})
	for _, want := range []string{"PATH=/bin", "GOOS=linux", "GOARCH=amd64", "CGO_ENABLED=0", "GOAMD64=v1", "GOTOOLCHAIN=" + Toolchain} {
		if !slices.Contains(env, want) {
			t.Errorf("env %v lacks %s", env, want)
		}
	}
	for _, unwanted := range []string{"GOOS=darwin", "GOARCH=arm64", "CGO_ENABLED=1", "GOAMD64=v3"} {
		if slices.Contains(env, unwanted) {
			t.Errorf("env keeps %s", unwanted)
		}
	}
	// A caller's own GOTOOLCHAIN wins; an empty one does not count.
	if env := Env([]string{"GOTOOLCHAIN=local"}); !slices.Contains(env, "GOTOOLCHAIN=local") || slices.Contains(env, "GOTOOLCHAIN="+Toolchain) {
		t.Errorf("caller's GOTOOLCHAIN overridden: %v", env)
	}
	if env := Env([]string{"GOTOOLCHAIN="}); !slices.Contains(env, "GOTOOLCHAIN="+Toolchain) {
		t.Errorf("empty GOTOOLCHAIN not defaulted: %v", env)
	}
}

func TestZipIsDeterministicAndExecutable(t *testing.T) {
	bin := bytes.Repeat([]byte("\x7fELF not really a binary "), 1000)
	a, err := Zip(bin)
	if err != nil {
		t.Fatal(err)
	}
	b, err := Zip(append([]byte(nil), bin...))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a, b) {
		t.Fatal("same binary, different zip bytes")
	}
	c, err := Zip(append(append([]byte(nil), bin...), 'x'))
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Equal(a, c) {
		t.Fatal("different binaries, same zip bytes")
	}
	zr, err := zip.NewReader(bytes.NewReader(a), int64(len(a)))
	if err != nil {
		t.Fatal(err)
	}
	if len(zr.File) != 1 {
		t.Fatalf("%d entries", len(zr.File))
	}
	f := zr.File[0]
	if f.Name != "bootstrap" || f.Mode().Perm() != 0o755 || !f.Modified.Equal(ZipTime) || f.CreatorVersion>>8 != 3 {
		t.Fatalf("entry %q mode %v modified %v creator %d", f.Name, f.Mode(), f.Modified, f.CreatorVersion>>8)
	}
	if f.UncompressedSize64 != uint64(len(bin)) || f.CompressedSize64 >= f.UncompressedSize64 {
		t.Fatalf("sizes %d/%d", f.CompressedSize64, f.UncompressedSize64)
	}
}

// TestBuildIsReproducible builds one real function twice, into two folders, and
// requires byte-identical zips. One function keeps it affordable; every function
// is checked by `go run ./scripts/build -verify` (see docs/deploy.md).
func TestBuildIsReproducible(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a function twice")
	}
	m, err := manifest.Load("../../../serverless.yml", nil)
	if err != nil {
		t.Fatal(err)
	}
	name := m.Names()[0]
	ctx := context.Background()
	var log bytes.Buffer
	build := func(dir string) Artifact {
		arts, err := Build(ctx, Options{ModuleDir: "../../..", OutDir: dir, Names: []string{name}, Log: &log})
		if err != nil {
			t.Fatalf("%v\n%s", err, log.String())
		}
		if len(arts) != 1 || arts[0].Name != name {
			t.Fatalf("artifacts %+v", arts)
		}
		return arts[0]
	}
	first, second := build(t.TempDir()), build(t.TempDir())
	za, err := os.ReadFile(first.Zip)
	if err != nil {
		t.Fatal(err)
	}
	zb, err := os.ReadFile(second.Zip)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(za, zb) || first.SHA256 != second.SHA256 || first.SHA256 != SHA256(za) {
		t.Fatalf("two builds of %s differ: %s vs %s", name, first.SHA256, second.SHA256)
	}
	if differ, err := Compare([]Artifact{first}, []Artifact{second}); err != nil || len(differ) != 0 {
		t.Fatalf("Compare: %v %v", differ, err)
	}

	// The zip holds the same executable as the plugin's folder, nothing else.
	bin, err := ReadBootstrap(first.Zip)
	if err != nil {
		t.Fatal(err)
	}
	entries, err := os.ReadDir(first.Dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 || entries[0].Name() != "bootstrap" {
		t.Fatalf("%s holds %v", first.Dir, entries)
	}
	onDisk, err := os.ReadFile(filepath.Join(first.Dir, "bootstrap"))
	if err != nil {
		t.Fatal(err)
	}
	if st, _ := os.Stat(filepath.Join(first.Dir, "bootstrap")); st.Mode().Perm()&0o111 == 0 {
		t.Fatalf("bootstrap not executable: %v", st.Mode())
	}
	if !bytes.Equal(bin, onDisk) || int64(len(bin)) != first.BinarySize {
		t.Fatal("zip entry and folder binary differ")
	}

	// A static linux/amd64 executable, stripped, built the documented way.
	ef, err := elf.NewFile(bytes.NewReader(bin))
	if err != nil {
		t.Fatalf("not an ELF executable: %v", err)
	}
	if ef.Machine != elf.EM_X86_64 || ef.Type != elf.ET_EXEC {
		t.Fatalf("ELF machine %v type %v", ef.Machine, ef.Type)
	}
	for _, p := range ef.Progs {
		if p.Type == elf.PT_INTERP {
			t.Fatal("dynamically linked (has an interpreter)")
		}
	}
	if ef.Section(".symtab") != nil || ef.Section(".debug_info") != nil {
		t.Fatal("symbol table or DWARF not stripped")
	}
	bi, err := buildinfo.Read(bytes.NewReader(bin))
	if err != nil {
		t.Fatal(err)
	}
	settings := map[string]string{}
	for _, s := range bi.Settings {
		settings[s.Key] = s.Value
	}
	for k, want := range map[string]string{"-trimpath": "true", "CGO_ENABLED": "0", "GOOS": "linux", "GOARCH": "amd64", "GOAMD64": "v1"} {
		if settings[k] != want {
			t.Errorf("build setting %s = %q, want %q", k, settings[k], want)
		}
	}
	// -trimpath keeps -ldflags out of the build settings; the empty build ID shows it applied.
	if id := elfNote(t, ef, ".note.go.buildid"); id != "" {
		t.Errorf("Go build ID %q, want empty", id)
	}
	if _, ok := settings["vcs.revision"]; ok {
		t.Error("binary carries a VCS stamp")
	}
	// The toolchain is go1.27.3 unless the caller chose one with GOTOOLCHAIN.
	if os.Getenv("GOTOOLCHAIN") == "" && bi.GoVersion != Toolchain {
		t.Errorf("built with %s, want %s", bi.GoVersion, Toolchain)
	}
	if first.GoVersion != bi.GoVersion {
		t.Errorf("artifact GoVersion %q, binary %q", first.GoVersion, bi.GoVersion)
	}
	if strings.Contains(string(bin), "/work/") || strings.Contains(string(bin), os.Getenv("HOME")+"/go/pkg/mod") {
		t.Error("binary contains build-machine paths")
	}
}

func TestBuildRejectsBadNames(t *testing.T) {
	for _, names := range [][]string{nil, {"local"}, {"../x"}, {"a", "a"}} {
		if _, err := Build(context.Background(), Options{ModuleDir: t.TempDir(), Names: names, GoCmd: "/nonexistent"}); err == nil {
			t.Errorf("names %q accepted", names)
		}
	}
}

// elfNote returns the description of the one note in an ELF section ("" if absent
// or empty).
func elfNote(t *testing.T, ef *elf.File, name string) string {
	t.Helper()
	sec := ef.Section(name)
	if sec == nil {
		return ""
	}
	data, err := sec.Data()
	if err != nil || len(data) < 12 {
		t.Fatalf("note %s unreadable: %v", name, err)
	}
	nameSize := ef.ByteOrder.Uint32(data[0:])
	descSize := ef.ByteOrder.Uint32(data[4:])
	off := 12 + int((nameSize+3)&^3)
	if off+int(descSize) > len(data) {
		t.Fatalf("note %s truncated", name)
	}
	return strings.TrimRight(string(data[off:off+int(descSize)]), "\x00")
}

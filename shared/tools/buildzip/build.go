// Package buildzip builds the FunctionGraph code packages: every function named in
// serverless.yml, compiled for linux/amd64 as a static executable named bootstrap
// (the custom runtime's entry point), zipped reproducibly. The same sources and
// toolchain give the same zip bytes, so a zip's SHA-256 identifies what is deployed.
package buildzip

import (
	"bytes"
	"context"
	"debug/buildinfo"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// Toolchain is the Go toolchain deployed binaries are built with (go.mod's
// toolchain line); it fixes standard-library vulnerabilities older ones have.
const Toolchain = "go1.27.3"

// LocalDir is the folder under the build directory that the local run uses for
// host binaries; no function may be named like it.
const LocalDir = "local"

// Options configure a build.
type Options struct {
	// ModuleDir is the module root (holding go.mod and functions/).
	ModuleDir string
	// OutDir receives <name>.zip and <name>/bootstrap; default <ModuleDir>/build.
	OutDir string
	// Names are the functions to build (folders under functions/).
	Names []string
	// Env is the environment the go command starts from; nil means os.Environ().
	Env []string
	// GoCmd is the go command; empty means the one on PATH (else $GOROOT/bin/go).
	GoCmd string
	// Log receives the go command's output.
	Log io.Writer
}

// Artifact is one built function.
type Artifact struct {
	Name       string
	Dir        string // <OutDir>/<name>: holds only bootstrap (the plugin's codeUri)
	Zip        string // <OutDir>/<name>.zip
	BinarySize int64
	ZipSize    int64
	SHA256     string // of the zip
	GoVersion  string // toolchain that built the binary
}

// BuildFlags are the go build flags of a deployed binary: no file system paths,
// no symbol table or DWARF, no VCS stamp, the fgonly tag (which leaves out the AWS
// Lambda runtime a FunctionGraph function never runs: 3.6 MB less to load at each
// cold start), and an empty Go build ID (the linker's build ID hashes the output
// path, which would make two identical builds differ).
var BuildFlags = []string{"-trimpath", "-buildvcs=false", "-tags=fgonly", "-ldflags=-s -w -buildid="}

// Env returns the environment for building deployed binaries: EnvFor(base, Deploy).
func Env(base []string) []string { return EnvFor(base, Deploy) }

// EnvFor returns the environment for the go command: base with the target platform
// forced (GOOS, GOARCH, GOAMD64=v1 on amd64, cgo off) and GOTOOLCHAIN set to
// Toolchain unless base already sets it.
func EnvFor(base []string, t Target) []string {
	forced := map[string]string{"GOOS": t.GOOS, "GOARCH": t.GOARCH, "CGO_ENABLED": "0"}
	if t.GOARCH == "amd64" {
		forced["GOAMD64"] = "v1"
	}
	out := make([]string, 0, len(base)+len(forced)+1)
	toolchainSet := false
	for _, kv := range base {
		k, v, _ := strings.Cut(kv, "=")
		if _, ok := forced[k]; ok || k == "GOAMD64" {
			continue
		}
		if k == "GOTOOLCHAIN" && v != "" {
			toolchainSet = true
		}
		out = append(out, kv)
	}
	keys := make([]string, 0, len(forced))
	for k := range forced {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		out = append(out, k+"="+forced[k])
	}
	if !toolchainSet {
		out = append(out, "GOTOOLCHAIN="+Toolchain)
	}
	return out
}

// Build compiles every named function with one go build invocation (shared
// packages compile once), then writes <OutDir>/<name>/bootstrap and
// <OutDir>/<name>.zip for each. Artifacts come back in the order of Names.
func Build(ctx context.Context, opt Options) ([]Artifact, error) {
	if len(opt.Names) == 0 {
		return nil, fmt.Errorf("buildzip: no functions to build")
	}
	if opt.ModuleDir == "" {
		opt.ModuleDir = "."
	}
	if opt.OutDir == "" {
		opt.OutDir = filepath.Join(opt.ModuleDir, "build")
	}
	if opt.Env == nil {
		opt.Env = os.Environ()
	}
	if opt.GoCmd == "" {
		opt.GoCmd = GoCommand()
	}
	if opt.Log == nil {
		opt.Log = io.Discard
	}
	if _, err := packages(BinOptions{Names: opt.Names}); err != nil {
		return nil, err
	}
	outDir, err := filepath.Abs(opt.OutDir)
	if err != nil {
		return nil, fmt.Errorf("buildzip: %w", err)
	}
	if err := os.MkdirAll(outDir, 0o755); err != nil {
		return nil, fmt.Errorf("buildzip: %w", err)
	}
	// Deployed zips are always built afresh, never taken from a cache.
	binDir, err := Binaries(ctx, BinOptions{ModuleDir: opt.ModuleDir, Names: opt.Names, Env: opt.Env, GoCmd: opt.GoCmd, Log: opt.Log, NoCache: true})
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(binDir)

	out := make([]Artifact, 0, len(opt.Names))
	for _, n := range opt.Names {
		a, err := pack(filepath.Join(binDir, n), outDir, n)
		if err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	return out, nil
}

// pack writes the function folder and zip of one built binary.
func pack(binPath, outDir, name string) (Artifact, error) {
	bin, err := os.ReadFile(binPath)
	if err != nil {
		return Artifact{}, fmt.Errorf("buildzip: %s: %w", name, err)
	}
	a := Artifact{
		Name: name, Dir: filepath.Join(outDir, name), Zip: filepath.Join(outDir, name+".zip"),
		BinarySize: int64(len(bin)),
	}
	if bi, err := buildinfo.Read(bytes.NewReader(bin)); err == nil {
		a.GoVersion = bi.GoVersion
	}
	// The plugin zips every file under codeUri, so the folder holds bootstrap only.
	if err := os.RemoveAll(a.Dir); err != nil {
		return Artifact{}, fmt.Errorf("buildzip: %w", err)
	}
	if err := os.MkdirAll(a.Dir, 0o755); err != nil {
		return Artifact{}, fmt.Errorf("buildzip: %w", err)
	}
	if err := writeFileAtomic(filepath.Join(a.Dir, EntryName), bin, 0o755); err != nil {
		return Artifact{}, fmt.Errorf("buildzip: %s: %w", name, err)
	}
	z, err := Zip(bin)
	if err != nil {
		return Artifact{}, fmt.Errorf("buildzip: %s: %w", name, err)
	}
	if err := writeFileAtomic(a.Zip, z, 0o644); err != nil {
		return Artifact{}, fmt.Errorf("buildzip: %s: %w", name, err)
	}
	a.ZipSize, a.SHA256 = int64(len(z)), SHA256(z)
	return a, nil
}

// Compare reports the first artifacts whose zips differ between two builds, by
// name; nil means every zip is byte-identical.
func Compare(a, b []Artifact) ([]string, error) {
	byName := map[string]Artifact{}
	for _, x := range b {
		byName[x.Name] = x
	}
	var differ []string
	for _, x := range a {
		y, ok := byName[x.Name]
		if !ok {
			differ = append(differ, x.Name)
			continue
		}
		za, err := os.ReadFile(x.Zip)
		if err != nil {
			return nil, err
		}
		zb, err := os.ReadFile(y.Zip)
		if err != nil {
			return nil, err
		}
		if !bytes.Equal(za, zb) {
			differ = append(differ, x.Name)
		}
	}
	return differ, nil
}

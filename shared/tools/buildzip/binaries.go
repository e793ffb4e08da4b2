package buildzip

import (
	"bytes"
	"context"
	"crypto/sha256"
	"debug/buildinfo"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"time"
)

// Target is the platform a binary is built for.
type Target struct{ GOOS, GOARCH string }

// Deploy is FunctionGraph's platform.
var Deploy = Target{GOOS: "linux", GOARCH: "amd64"}

// Host is this machine's platform: the local run builds for it (it is Deploy on a
// linux/amd64 machine, where the local run runs exactly the deployed binaries).
func Host() Target { return Target{GOOS: runtime.GOOS, GOARCH: runtime.GOARCH} }

// BinOptions configure Binaries.
type BinOptions struct {
	// ModuleDir is the module root (holding go.mod and functions/).
	ModuleDir string
	// Names are the functions to build (folders under functions/).
	Names []string
	// Extra are more commands to build the same way: name -> package path
	// relative to ModuleDir ("./shared/tools/bench/testdata/hello").
	Extra map[string]string
	// Target is the platform; the zero value is Deploy.
	Target Target
	// Env is the environment the go command starts from; nil means os.Environ().
	Env []string
	// GoCmd is the go command; empty means GoCommand().
	GoCmd string
	// Log receives the go command's output.
	Log io.Writer
	// Progress, when set, is called once per binary when it is ready, with the
	// time since the build started (zero when it came from the cache).
	Progress func(name string, took time.Duration)
	// CacheDir holds builds by content (the sources, go.mod, go.sum, the
	// toolchain, the flags and the target), so that the same sources are built
	// once; "" means DefaultCacheDir(), and NoCache builds into a fresh folder
	// every time (deployed zips are never taken from a cache).
	CacheDir string
	NoCache  bool
	// Tool builds for this machine with the go command's own settings (Env as
	// given, its toolchain, no BuildFlags): for programs that never ship, such as
	// the embedded engine. `go test ./...` compiles their packages with the same
	// settings, so the two share the go build cache instead of each compiling them.
	Tool bool
}

// DefaultCacheDir is where the local run, the bench command and the tests keep
// built binaries: $KG_BUILD_CACHE, else the user's cache folder.
func DefaultCacheDir() string {
	if d := os.Getenv("KG_BUILD_CACHE"); d != "" {
		return d
	}
	if d, err := os.UserCacheDir(); err == nil {
		return filepath.Join(d, "kgseller", "functions")
	}
	return filepath.Join(os.TempDir(), "kgseller-functions")
}

// keepBuilds is how many cached builds are kept; older ones are removed.
const keepBuilds = 8

// completeMark is written last into a cached build's folder.
const completeMark = ".complete"

// Binaries builds each function (and Extra command) with the deploy flags and tags
// (BuildFlags) for o.Target, or as a tool (o.Tool), and returns the folder holding
// one executable per name. With the cache, a folder built for the same content is
// returned as it is; concurrent callers (test packages run in parallel) build it
// once.
func Binaries(ctx context.Context, o BinOptions) (string, error) {
	pkgs, err := packages(o)
	if err != nil {
		return "", err
	}
	if o.ModuleDir == "" {
		o.ModuleDir = "."
	}
	if o.Target == (Target{}) {
		o.Target = Deploy
		if o.Tool {
			o.Target = Host()
		}
	}
	if o.Tool && o.Target != Host() {
		return "", fmt.Errorf("buildzip: a tool is built for this machine, not %s/%s", o.Target.GOOS, o.Target.GOARCH)
	}
	if o.Env == nil {
		o.Env = os.Environ()
	}
	if o.GoCmd == "" {
		o.GoCmd = GoCommand()
	}
	if o.Log == nil {
		o.Log = io.Discard
	}
	env := o.Env
	if !o.Tool {
		env = EnvFor(o.Env, o.Target)
	}
	if o.NoCache {
		dir, err := os.MkdirTemp("", "kgseller-bin-")
		if err != nil {
			return "", fmt.Errorf("buildzip: %w", err)
		}
		if err := compile(ctx, o, env, pkgs, dir); err != nil {
			os.RemoveAll(dir)
			return "", err
		}
		return dir, nil
	}
	cache := o.CacheDir
	if cache == "" {
		cache = DefaultCacheDir()
	}
	key, err := contentKey(ctx, o, env, pkgs)
	if err != nil {
		return "", err
	}
	dir := filepath.Join(cache, key)
	if ready(dir, pkgs) {
		cached(o, pkgs)
		return dir, nil
	}
	if err := os.MkdirAll(cache, 0o755); err != nil {
		return "", fmt.Errorf("buildzip: %w", err)
	}
	unlock, err := lockFile(filepath.Join(cache, key+".lock"))
	if err != nil {
		return "", fmt.Errorf("buildzip: %w", err)
	}
	defer unlock()
	if ready(dir, pkgs) { // built by another process while this one waited
		cached(o, pkgs)
		return dir, nil
	}
	tmp, err := os.MkdirTemp(cache, ".build-")
	if err != nil {
		return "", fmt.Errorf("buildzip: %w", err)
	}
	if err := compile(ctx, o, env, pkgs, tmp); err != nil {
		os.RemoveAll(tmp)
		return "", err
	}
	if err := os.WriteFile(filepath.Join(tmp, completeMark), nil, 0o644); err != nil {
		os.RemoveAll(tmp)
		return "", fmt.Errorf("buildzip: %w", err)
	}
	os.RemoveAll(dir) // an incomplete folder left by a killed build
	if err := os.Rename(tmp, dir); err != nil {
		os.RemoveAll(tmp)
		return "", fmt.Errorf("buildzip: %w", err)
	}
	prune(cache, key)
	return dir, nil
}

// packages maps each binary name to its package path.
func packages(o BinOptions) (map[string]string, error) {
	pkgs := map[string]string{}
	for _, n := range o.Names {
		if n == "" || n == LocalDir || strings.ContainsAny(n, `/\.`) || pkgs[n] != "" {
			return nil, fmt.Errorf("buildzip: bad or repeated function name %q", n)
		}
		pkgs[n] = "./functions/" + n
	}
	for n, p := range o.Extra {
		if n == "" || strings.ContainsAny(n, `/\`) || pkgs[n] != "" {
			return nil, fmt.Errorf("buildzip: bad or repeated name %q", n)
		}
		pkgs[n] = p
	}
	if len(pkgs) == 0 {
		return nil, errors.New("buildzip: nothing to build")
	}
	return pkgs, nil
}

func ready(dir string, pkgs map[string]string) bool {
	if _, err := os.Stat(filepath.Join(dir, completeMark)); err != nil {
		return false
	}
	for n := range pkgs {
		if _, err := os.Stat(filepath.Join(dir, n)); err != nil {
			return false
		}
	}
	return true
}

func cached(o BinOptions, pkgs map[string]string) {
	if o.Progress == nil {
		return
	}
	for _, n := range sortedNames(pkgs) {
		o.Progress(n, 0)
	}
}

// compile runs one go build for every package (shared packages compile once, and
// the go command links in parallel), reporting each binary as it appears.
func compile(ctx context.Context, o BinOptions, env []string, pkgs map[string]string, dir string) error {
	names := sortedNames(pkgs)
	args := append([]string{"build"}, o.flags()...)
	// go build -o dir/ names each binary after its package's folder; commands
	// whose folder is not their name are built one at a time.
	var together, alone []string
	for _, n := range names {
		if filepath.Base(pkgs[n]) == n {
			together = append(together, n)
		} else {
			alone = append(alone, n)
		}
	}
	start := time.Now()
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		watch(dir, names, start, o.Progress, stop)
	}()
	defer func() { close(stop); <-done }()
	run := func(extra ...string) error {
		cmd := exec.CommandContext(ctx, o.GoCmd, append(append([]string(nil), args...), extra...)...)
		cmd.Dir = o.ModuleDir
		cmd.Env = env
		cmd.Stdout, cmd.Stderr = o.Log, o.Log
		if err := cmd.Run(); err != nil {
			return fmt.Errorf("buildzip: go build: %w", err)
		}
		return nil
	}
	if len(together) > 0 {
		extra := []string{"-o", dir + string(filepath.Separator)}
		for _, n := range together {
			extra = append(extra, pkgs[n])
		}
		if err := run(extra...); err != nil {
			return err
		}
	}
	for _, n := range alone {
		if err := run("-o", filepath.Join(dir, n), pkgs[n]); err != nil {
			return err
		}
	}
	return nil
}

// watch reports each binary once it is in dir (the go command writes a binary
// when its link ends); on stop it reports those still unreported.
func watch(dir string, names []string, start time.Time, progress func(string, time.Duration), stop <-chan struct{}) {
	if progress == nil {
		return
	}
	seen := map[string]bool{}
	scan := func() {
		for _, n := range names {
			if !seen[n] {
				if _, err := os.Stat(filepath.Join(dir, n)); err == nil {
					seen[n] = true
					progress(n, time.Since(start))
				}
			}
		}
	}
	t := time.NewTicker(100 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-stop:
			scan()
			return
		case <-t.C:
			scan()
		}
	}
}

// contentKey names a build by everything that decides its bytes: the go.mod and
// go.sum, every non-test Go file of the functions and of the code they link (all
// of shared/ but the tools and the test doubles, which functions never import), the
// extra commands' folders, the toolchain, the flags and the target (and, for a
// tool, the go command's own settings).
func contentKey(ctx context.Context, o BinOptions, env []string, pkgs map[string]string) (string, error) {
	h := sha256.New()
	// The toolchain that will build; a tool's build also depends on the go
	// command's own settings, from the environment and go env.
	keys := []string{"GOVERSION"}
	if o.Tool {
		keys = append(keys, "CGO_ENABLED", "CC", "GOFLAGS", "GOAMD64", "GOEXPERIMENT")
	}
	settings, err := goEnv(ctx, o.GoCmd, o.ModuleDir, env, keys...)
	if err != nil {
		return "", err
	}
	fmt.Fprintf(h, "go %s\nflags %q tool %t\ntarget %s/%s\n", settings, o.flags(), o.Tool, o.Target.GOOS, o.Target.GOARCH)
	for _, n := range sortedNames(pkgs) {
		fmt.Fprintf(h, "pkg %s %s\n", n, pkgs[n])
	}
	roots := []string{"functions", "shared"}
	for _, p := range pkgs {
		if !strings.HasPrefix(p, "./functions/") {
			roots = append(roots, filepath.Clean(p))
		}
	}
	skip := map[string]bool{filepath.Join("shared", "tools"): true, filepath.Join("shared", "fakes"): true}
	var files []string
	for _, root := range roots {
		err := filepath.WalkDir(filepath.Join(o.ModuleDir, root), func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			rel, _ := filepath.Rel(o.ModuleDir, path)
			if d.IsDir() {
				if skip[rel] && !strings.HasPrefix(root, rel+string(filepath.Separator)) {
					return filepath.SkipDir
				}
				return nil
			}
			if strings.HasSuffix(rel, ".go") && !strings.HasSuffix(rel, "_test.go") {
				files = append(files, rel)
			}
			return nil
		})
		if err != nil {
			return "", fmt.Errorf("buildzip: %w", err)
		}
	}
	files = append(files, "go.mod", "go.sum")
	sort.Strings(files)
	for i, f := range files {
		if i > 0 && files[i-1] == f {
			continue
		}
		b, err := os.ReadFile(filepath.Join(o.ModuleDir, f))
		if err != nil {
			return "", fmt.Errorf("buildzip: %w", err)
		}
		sum := sha256.Sum256(b)
		fmt.Fprintf(h, "%s %x\n", filepath.ToSlash(f), sum)
	}
	return hex.EncodeToString(h.Sum(nil))[:24], nil
}

// goEnv asks the go command, with the build's environment (so the toolchain that
// will build), for the named settings, one per line.
func goEnv(ctx context.Context, goCmd, dir string, env []string, keys ...string) (string, error) {
	cmd := exec.CommandContext(ctx, goCmd, append([]string{"env"}, keys...)...)
	cmd.Dir, cmd.Env = dir, env
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("buildzip: go env %s: %w", strings.Join(keys, " "), err)
	}
	return strings.TrimSpace(string(out)), nil
}

// flags are the go build flags: BuildFlags, or none for a tool.
func (o BinOptions) flags() []string {
	if o.Tool {
		return nil
	}
	return BuildFlags
}

// prune removes cached builds beyond the newest keepBuilds, never keep itself.
func prune(cache, keep string) {
	entries, err := os.ReadDir(cache)
	if err != nil {
		return
	}
	type build struct {
		name string
		mod  time.Time
	}
	var builds []build
	for _, e := range entries {
		if !e.IsDir() || strings.HasPrefix(e.Name(), ".") || e.Name() == keep {
			continue
		}
		if info, err := e.Info(); err == nil {
			builds = append(builds, build{e.Name(), info.ModTime()})
		}
	}
	sort.Slice(builds, func(i, j int) bool { return builds[i].mod.After(builds[j].mod) })
	for i, b := range builds {
		if i >= keepBuilds-1 {
			os.RemoveAll(filepath.Join(cache, b.name))
			os.Remove(filepath.Join(cache, b.name+".lock"))
		}
	}
}

func sortedNames(pkgs map[string]string) []string {
	out := make([]string, 0, len(pkgs))
	for n := range pkgs {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// Measure reads a built binary and describes it as its zip would be deployed:
// binary and zip sizes, the zip's SHA-256 and the toolchain (Dir and Zip empty).
func Measure(dir, name string) (Artifact, error) {
	bin, err := os.ReadFile(filepath.Join(dir, name))
	if err != nil {
		return Artifact{}, fmt.Errorf("buildzip: %s: %w", name, err)
	}
	z, err := Zip(bin)
	if err != nil {
		return Artifact{}, fmt.Errorf("buildzip: %s: %w", name, err)
	}
	a := Artifact{Name: name, BinarySize: int64(len(bin)), ZipSize: int64(len(z)), SHA256: SHA256(z)}
	if bi, err := buildinfo.Read(bytes.NewReader(bin)); err == nil {
		a.GoVersion = bi.GoVersion
	}
	return a, nil
}

// GoCommand returns the go command to build with: the one on PATH, else the one
// under GOROOT.
func GoCommand() string {
	if p, err := exec.LookPath("go"); err == nil {
		return p
	}
	if root := os.Getenv("GOROOT"); root != "" {
		return filepath.Join(root, "bin", "go")
	}
	return "go"
}

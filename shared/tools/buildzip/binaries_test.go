package buildzip

import (
	"context"
	"debug/buildinfo"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// tinyModule writes a module with two functions and a shared package, and a go
// command that records each build it runs in log.
func tinyModule(t *testing.T) (dir, goCmd, log string) {
	t.Helper()
	dir = t.TempDir()
	files := map[string]string{
		"go.mod":                  "module example.com/tiny\n\ngo 1.22\n",
		"go.sum":                  "",
		"shared/lib/lib.go":       "package lib\n\nconst Greeting = \"hello\"\n",
		"shared/tools/t/t.go":     "package t\n\nconst Tool = 1\n",
		"functions/a/main.go":     "package main\n\nimport \"example.com/tiny/shared/lib\"\n\nfunc main() { println(lib.Greeting) }\n",
		"functions/b/main.go":     "package main\n\nfunc main() {}\n",
		"cmd/other/hello/main.go": "package main\n\nfunc main() {}\n",
	}
	for name, body := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	log = filepath.Join(dir, "builds.log")
	goCmd = filepath.Join(dir, "go-recording")
	script := "#!/bin/sh\nif [ \"$1\" = build ]; then echo build >> " + log + "; fi\nexec " + GoCommand() + " \"$@\"\n"
	if err := os.WriteFile(goCmd, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	return dir, goCmd, log
}

func builds(t *testing.T, log string) int {
	t.Helper()
	b, err := os.ReadFile(log)
	if os.IsNotExist(err) {
		return 0
	}
	if err != nil {
		t.Fatal(err)
	}
	return strings.Count(string(b), "build\n")
}

// TestBinariesAreBuiltOncePerContent: the same sources are built once, whoever
// asks and however many ask at once; a change to a source the functions link
// builds again, a change to a tool does not; each binary is reported once.
func TestBinariesAreBuiltOncePerContent(t *testing.T) {
	mod, goCmd, log := tinyModule(t)
	cache := t.TempDir()
	env := append(os.Environ(), "GOTOOLCHAIN=local", "GOFLAGS=-mod=mod")
	opts := BinOptions{ModuleDir: mod, Names: []string{"a", "b"}, Extra: map[string]string{"hi": "./cmd/other/hello"},
		Target: Host(), Env: env, GoCmd: goCmd, CacheDir: cache}
	ctx := context.Background()

	var mu sync.Mutex
	reported := map[string]int{}
	first := opts
	first.Progress = func(name string, _ time.Duration) { mu.Lock(); reported[name]++; mu.Unlock() }
	var wg sync.WaitGroup
	dirs := make([]string, 4)
	errs := make([]error, 4)
	for i := range dirs {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			o := opts
			if i == 0 {
				o = first
			}
			dirs[i], errs[i] = Binaries(ctx, o)
		}(i)
	}
	wg.Wait()
	for i := range dirs {
		if errs[i] != nil {
			t.Fatal(errs[i])
		}
		if dirs[i] != dirs[0] {
			t.Fatalf("concurrent callers got %q and %q", dirs[0], dirs[i])
		}
	}
	// a and b in one go build, hi (its folder is named otherwise) in another.
	if n := builds(t, log); n != 2 {
		t.Fatalf("%d go build runs for four concurrent callers, want 2", n)
	}
	for _, n := range []string{"a", "b", "hi"} {
		if _, err := os.Stat(filepath.Join(dirs[0], n)); err != nil {
			t.Errorf("binary %s: %v", n, err)
		}
		if reported[n] != 1 {
			t.Errorf("%s reported %d times", n, reported[n])
		}
	}

	// A tool's change does not reach the functions; a linked source's does.
	if err := os.WriteFile(filepath.Join(mod, "shared/tools/t/t.go"), []byte("package t\n\nconst Tool = 2\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if d, err := Binaries(ctx, opts); err != nil || d != dirs[0] || builds(t, log) != 2 {
		t.Fatalf("a tool's change rebuilt: %q %v (%d builds)", d, err, builds(t, log))
	}
	if err := os.WriteFile(filepath.Join(mod, "shared/lib/lib.go"), []byte("package lib\n\nconst Greeting = \"hi\"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	d, err := Binaries(ctx, opts)
	if err != nil || d == dirs[0] || builds(t, log) != 4 {
		t.Fatalf("a linked source's change not rebuilt: %q %v (%d builds)", d, err, builds(t, log))
	}

	// Without the cache every call builds, into a folder of its own.
	nc := opts
	nc.NoCache = true
	d1, err := Binaries(ctx, nc)
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(d1)
	if strings.HasPrefix(d1, cache) || builds(t, log) != 6 {
		t.Fatalf("NoCache build %q (%d builds)", d1, builds(t, log))
	}
}

// TestIncompleteBuildIsNotUsed: a cached folder without its completion mark (a
// build killed half way) is built again.
func TestIncompleteBuildIsNotUsed(t *testing.T) {
	mod, goCmd, log := tinyModule(t)
	cache := t.TempDir()
	opts := BinOptions{ModuleDir: mod, Names: []string{"b"}, Target: Host(), Env: append(os.Environ(), "GOTOOLCHAIN=local"), GoCmd: goCmd, CacheDir: cache}
	d, err := Binaries(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(filepath.Join(d, completeMark)); err != nil {
		t.Fatal(err)
	}
	if d2, err := Binaries(context.Background(), opts); err != nil || d2 != d || builds(t, log) != 2 {
		t.Fatalf("incomplete folder reused: %q %v (%d builds)", d2, err, builds(t, log))
	}
}

// TestToolIsBuiltWithTheGoCommandsOwnSettings: a tool is built without the deploy
// flags and tags, with the environment's settings (which are part of its cache
// key), and only for this machine.
func TestToolIsBuiltWithTheGoCommandsOwnSettings(t *testing.T) {
	mod, goCmd, log := tinyModule(t)
	cache := t.TempDir()
	env := append(os.Environ(), "GOTOOLCHAIN=local", "CGO_ENABLED=0")
	tool := BinOptions{ModuleDir: mod, Extra: map[string]string{"hi": "./cmd/other/hello"}, Tool: true, Env: env, GoCmd: goCmd, CacheDir: cache}
	ctx := context.Background()
	d, err := Binaries(ctx, tool)
	if err != nil {
		t.Fatal(err)
	}
	bi, err := buildinfo.ReadFile(filepath.Join(d, "hi"))
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range bi.Settings {
		if s.Key == "-trimpath" || s.Key == "-tags" || s.Key == "-ldflags" {
			t.Errorf("tool built with %s=%s", s.Key, s.Value)
		}
	}
	deployed := tool
	deployed.Tool, deployed.Target = false, Host()
	d2, err := Binaries(ctx, deployed)
	if err != nil {
		t.Fatal(err)
	}
	if d2 == d || builds(t, log) != 2 {
		t.Fatalf("tool and deploy builds share %q (%d builds)", d, builds(t, log))
	}
	// The go command's settings decide a tool's bytes, so they key its cache.
	withCgo := tool
	withCgo.Env = append(append([]string(nil), os.Environ()...), "GOTOOLCHAIN=local", "CGO_ENABLED=1")
	if d3, err := Binaries(ctx, withCgo); err != nil || d3 == d {
		t.Fatalf("a tool built with other settings reused %q: %v", d3, err)
	}

	other := tool
	other.Target = Target{GOOS: "plan9", GOARCH: "arm"}
	if _, err := Binaries(ctx, other); err == nil || !strings.Contains(err.Error(), "for this machine") {
		t.Fatalf("a tool for another platform: %v", err)
	}
}

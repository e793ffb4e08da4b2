package localstate

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

func TestWriteReadRemove(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sub", "local.json")
	if _, err := Read(path); !errors.Is(err, ErrNotRunning) {
		t.Fatalf("no file: %v, want ErrNotRunning", err)
	}
	want := State{URL: "http://127.0.0.1:9001", AccessKey: "k", DSN: "root@tcp(127.0.0.1:3307)/kgseller",
		Addresses: map[string]string{"saas": "/saas/produce"}}
	remove, err := Write(path, want)
	if err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("mode %v, want 0600: the file holds the access key", fi.Mode().Perm())
	}
	got, err := Read(path)
	if err != nil {
		t.Fatal(err)
	}
	if got.URL != want.URL || got.AccessKey != "k" || got.DSN != want.DSN || got.Addresses["saas"] != "/saas/produce" || got.PID != os.Getpid() {
		t.Errorf("read %+v, want %+v with this PID", got, want)
	}
	remove()
	if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("remove left the file: %v", err)
	}
}

func TestStaleFileIsNotARun(t *testing.T) {
	path := filepath.Join(t.TempDir(), "local.json")
	// A PID far above pid_max names no process.
	if _, err := Write(path, State{PID: 1 << 30, URL: "http://127.0.0.1:1"}); err != nil {
		t.Fatal(err)
	}
	if _, err := Read(path); !errors.Is(err, ErrNotRunning) {
		t.Errorf("a file of a gone process: %v, want ErrNotRunning", err)
	}
}

func TestRemoveKeepsANewerRunsFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "local.json")
	remove, err := Write(path, State{URL: "http://127.0.0.1:1"})
	if err != nil {
		t.Fatal(err)
	}
	// Another run (this test's parent process stands in for it) replaces the file.
	if _, err := Write(path, State{PID: os.Getppid(), URL: "http://127.0.0.1:2"}); err != nil {
		t.Fatal(err)
	}
	remove()
	got, err := Read(path)
	if err != nil || got.URL != "http://127.0.0.1:2" {
		t.Errorf("after the first run stopped: %+v, %v; want the second run's state", got, err)
	}
}

func TestPathFollowsTheVariable(t *testing.T) {
	p, err := Path(func(k string) string {
		if k == EnvPath {
			return "/x/state.json"
		}
		return ""
	})
	if err != nil || p != "/x/state.json" {
		t.Errorf("Path = %q, %v", p, err)
	}
}

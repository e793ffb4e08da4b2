// Package localstate is how the seller's tools find a running local run with no
// flag typed: scripts/local writes a small JSON file when it listens and removes
// it when it stops; sign, kgsim and ops read it when no flag or variable says
// otherwise. The file lives in the user's cache directory with mode 0600, since
// it holds the local run's access key and database DSN.
package localstate

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
)

// DefaultAccessKey is the access key of a local run when KG_ACCESS_KEY is unset.
// It is printed at start; it is not a secret and must never be used in production.
// It lives here, not in localrun, so that sign and kgsim know it without linking
// the local run's database engine.
const DefaultAccessKey = "local-dev-access-key"

// EnvPath names the variable that moves the state file (tests use it so that a
// test run never sees or replaces the seller's own local run).
const EnvPath = "KG_LOCAL_STATE"

// State is what a running local run tells the other tools.
type State struct {
	// PID of the local run, to tell a live run from a file left by a crash.
	PID int `json:"pid"`
	// URL is the base URL it listens on, e.g. http://127.0.0.1:8080.
	URL string `json:"url"`
	// AccessKey is the key of every interface type in the local run.
	AccessKey string `json:"accessKey"`
	// DSN is the local database, usable as is by scripts/ops.
	DSN string `json:"dsn"`
	// Addresses are the production addresses (paths such as /saas/produce), by
	// the name of the interface type bound to them (saas, license).
	Addresses map[string]string `json:"addresses,omitempty"`
	// KitPublicKey is the PEM file of the Kit app's public key, for kgsim's
	// applicationSync cases.
	KitPublicKey string `json:"kitPublicKey,omitempty"`
	// MarketURL is the fake KooGallery open API with the mock orders.
	MarketURL string `json:"marketUrl,omitempty"`
}

// ErrNotRunning says no local run was found.
var ErrNotRunning = errors.New("no local run found (start one with: go run ./scripts/local)")

// Path is the state file: $KG_LOCAL_STATE, else <user cache dir>/kgseller/local.json.
func Path(getenv func(string) string) (string, error) {
	if p := getenv(EnvPath); p != "" {
		return p, nil
	}
	dir, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("locate the local run's state file: %w", err)
	}
	return filepath.Join(dir, "kgseller", "local.json"), nil
}

// Write records s at path and returns a function that removes the file again,
// unless another local run has replaced it meanwhile.
func Write(path string, s State) (remove func(), err error) {
	if s.PID == 0 {
		s.PID = os.Getpid()
	}
	b, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("encode the local run's state: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("write the local run's state: %w", err)
	}
	tmp := path + fmt.Sprintf(".%d.tmp", os.Getpid())
	if err := os.WriteFile(tmp, append(b, '\n'), 0o600); err != nil {
		return nil, fmt.Errorf("write the local run's state: %w", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return nil, fmt.Errorf("write the local run's state: %w", err)
	}
	return func() {
		if cur, err := read(path); err == nil && cur.PID == s.PID {
			os.Remove(path)
		}
	}, nil
}

// Read returns the running local run's state, or ErrNotRunning when there is no
// file or the process that wrote it is gone.
func Read(path string) (State, error) {
	s, err := read(path)
	if errors.Is(err, fs.ErrNotExist) {
		return State{}, ErrNotRunning
	}
	if err != nil {
		return State{}, err
	}
	if !alive(s.PID) {
		return State{}, ErrNotRunning
	}
	return s, nil
}

// Find is Read at Path.
func Find(getenv func(string) string) (State, error) {
	p, err := Path(getenv)
	if err != nil {
		return State{}, err
	}
	return Read(p)
}

func read(path string) (State, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return State{}, err
	}
	var s State
	if err := json.Unmarshal(b, &s); err != nil {
		return State{}, fmt.Errorf("read the local run's state %s: %w", path, err)
	}
	if s.URL == "" {
		return State{}, fmt.Errorf("read the local run's state %s: no url", path)
	}
	return s, nil
}

// alive tells whether a process with this PID exists (signal 0 checks without
// sending anything; EPERM means it exists under another user).
func alive(pid int) bool {
	if pid <= 0 {
		return false
	}
	err := syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}

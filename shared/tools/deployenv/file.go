package deployenv

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/kgseller/kgseller/shared/config"
	"github.com/kgseller/kgseller/shared/tools/manifest"
)

// DefaultFile is the file `scripts/deploy -init` writes and later runs read.
const DefaultFile = "deploy.env"

// File is a deploy.env: NAME=value lines (# comments). A value is used as
// written, except $NAME (or ${NAME}), which reads that environment variable when
// the deployment runs. A secret is never written in it: its value must be such a
// reference or a csms:<secret> reference (which the function resolves at cold
// start).
type File struct {
	Path   string
	Values map[string]string
	// order keeps the names in the order they were read or set.
	order []string
}

var (
	nameRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
	refRE  = regexp.MustCompile(`^\$(?:\{([A-Za-z_][A-Za-z0-9_]*)\}|([A-Za-z_][A-Za-z0-9_]*))$`)
)

// EnvReference returns the variable a $NAME or ${NAME} value refers to.
func EnvReference(value string) (string, bool) {
	m := refRE.FindStringSubmatch(strings.TrimSpace(value))
	if m == nil {
		return "", false
	}
	return m[1] + m[2], true
}

// IsReference reports whether a value refers to a secret rather than holding one.
func IsReference(value string) bool {
	if _, ok := EnvReference(value); ok {
		return true
	}
	_, ok, err := config.ParseSecretRef(value)
	return ok && err == nil
}

// ReadFile reads a deploy.env; a file that does not exist is an empty one. A
// secret (see secret) holding anything but a reference is refused, by name.
func ReadFile(path string, secret func(string) bool) (*File, error) {
	f := &File{Path: path, Values: map[string]string{}}
	raw, err := os.ReadFile(path)
	if os.IsNotExist(err) {
		return f, nil
	}
	if err != nil {
		return nil, err
	}
	sc := bufio.NewScanner(bytes.NewReader(raw))
	for line := 1; sc.Scan(); line++ {
		text := strings.TrimSpace(sc.Text())
		if text == "" || strings.HasPrefix(text, "#") {
			continue
		}
		name, value, ok := strings.Cut(text, "=")
		name, value = strings.TrimSpace(name), unquote(strings.TrimSpace(value))
		if !ok || !nameRE.MatchString(name) {
			return nil, fmt.Errorf("%s:%d: not NAME=value", path, line)
		}
		if err := CheckValue(name, value, secret); err != nil {
			return nil, fmt.Errorf("%s:%d: %w", path, line, err)
		}
		f.Set(name, value)
	}
	return f, sc.Err()
}

func unquote(v string) string {
	if len(v) >= 2 && (v[0] == '"' || v[0] == '\'') && v[len(v)-1] == v[0] {
		return v[1 : len(v)-1]
	}
	return v
}

// CheckValue refuses a secret's value unless it is a reference, and a csms:
// reference where the deploy tool itself needs the value.
func CheckValue(name, value string, secret func(string) bool) error {
	if value == "" {
		return nil
	}
	if _, ok, err := config.ParseSecretRef(value); ok && err != nil {
		return fmt.Errorf("%s: the csms: reference %v", name, err)
	}
	_, isEnv := EnvReference(value)
	_, isCSMS, _ := config.ParseSecretRef(value)
	switch {
	case isCSMS && toolSecret[name]:
		return fmt.Errorf("%s: the deploy tool signs its own calls with it, so it cannot be a csms: reference; write $ENV_VAR_NAME", name)
	case secret(name) && !isEnv && !isCSMS:
		return fmt.Errorf("%s is a secret: deploy.env holds a reference to it, never the value: $ENV_VAR_NAME (read when the deployment runs) or csms:<secret-name>", name)
	}
	return nil
}

// toolSecret are the secrets the deploy tool uses itself.
var toolSecret = map[string]bool{config.CloudAK: true, config.CloudSK: true, config.CloudSecurityToken: true}

// Set sets a value (a name keeps its first position in the file).
func (f *File) Set(name, value string) {
	if _, ok := f.Values[name]; !ok {
		f.order = append(f.order, name)
	}
	f.Values[name] = value
}

// Getenv returns the variables a deployment reads: the environment's value,
// else the file's ($NAME read from the environment).
func (f *File) Getenv(environ func(string) string) func(string) string {
	return func(name string) string {
		if v := environ(name); v != "" {
			return v
		}
		v := f.Values[name]
		if ref, ok := EnvReference(v); ok {
			return environ(ref)
		}
		return v
	}
}

// Write writes the file (mode 0600: it names the account's gateway, network and
// where each secret is) with a heading, atomically.
func (f *File) Write(heading string) error {
	var b strings.Builder
	for _, line := range strings.Split(strings.TrimRight(heading, "\n"), "\n") {
		b.WriteString("# " + line + "\n")
	}
	for _, n := range f.order {
		if f.Values[n] != "" {
			b.WriteString(n + "=" + f.Values[n] + "\n")
		}
	}
	tmp, err := os.CreateTemp(filepath.Dir(f.Path), ".deploy.env-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.WriteString(b.String()); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), f.Path)
}

// SecretNames returns a test for the variables that hold secrets: those a
// function of serverless.yml (raw) receives as encrypted variables, and the
// secret settings of config.Settings.
func SecretNames(raw []byte) (func(string) bool, error) {
	m, err := manifest.ParseTemplates(raw)
	if err != nil {
		return nil, fmt.Errorf("deployenv: serverless.yml: %w", err)
	}
	secret := map[string]bool{}
	for _, s := range config.SecretNames() {
		secret[s] = true
	}
	for _, fn := range m.Functions {
		for _, n := range refs(fn.EncryptedUserData) {
			secret[n] = true
		}
	}
	return func(n string) bool { return secret[n] }, nil
}

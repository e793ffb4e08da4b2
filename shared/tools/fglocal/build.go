package fglocal

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
)

// Build compiles functions/<name> for each name into binDir/<name>, for the host
// platform, with one go build invocation (shared packages compile once).
func Build(ctx context.Context, moduleDir, binDir string, names []string, out io.Writer) error {
	if err := os.MkdirAll(binDir, 0o755); err != nil {
		return fmt.Errorf("fglocal: %w", err)
	}
	abs, err := filepath.Abs(binDir)
	if err != nil {
		return fmt.Errorf("fglocal: %w", err)
	}
	args := []string{"build", "-o", abs + string(filepath.Separator)}
	for _, n := range names {
		args = append(args, "./functions/"+n)
	}
	cmd := exec.CommandContext(ctx, GoCommand(), args...)
	cmd.Dir = moduleDir
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("fglocal: building functions: %w", err)
	}
	return nil
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

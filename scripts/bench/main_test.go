package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

func TestHelpExitsZero(t *testing.T) {
	var out, errOut bytes.Buffer
	if code := run(context.Background(), []string{"-h"}, &out, &errOut); code != 0 {
		t.Fatalf("-h exited %d, want 0; stderr:\n%s", code, errOut.String())
	}
	if !strings.Contains(out.String()+errOut.String(), "-reps") {
		t.Errorf("-h printed no usage:\n%s%s", out.String(), errOut.String())
	}
}

// TestNoPageByDefault: only -o writes the results page; the committed
// docs/bench-results.md is not a default.
func TestNoPageByDefault(t *testing.T) {
	var out, errOut bytes.Buffer
	run(context.Background(), []string{"-h"}, &out, &errOut)
	if help := errOut.String(); !strings.Contains(help, "-o string") || strings.Contains(help, `(default "docs`) {
		t.Fatalf("-o must default to no file:\n%s", help)
	}
}

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
	if !strings.Contains(out.String()+errOut.String(), "-fuzztime") {
		t.Errorf("-h printed no usage:\n%s%s", out.String(), errOut.String())
	}
}

package main

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

// TestHelpShowsOnlyOurFlags: -h exits 0 and lists the command's own flags, not
// those the embedded database registers on the global flag set.
func TestHelpShowsOnlyOurFlags(t *testing.T) {
	var errOut bytes.Buffer
	_, code := parseFlags([]string{"-h"}, &errOut)
	if code != 0 {
		t.Fatalf("-h: exit %d", code)
	}
	help := errOut.String()
	for _, want := range []string{"-addr", "-max-instances", "-json-logs", "-v"} {
		if !strings.Contains(help, want) {
			t.Errorf("-h lacks %s:\n%s", want, help)
		}
	}
	if strings.Contains(help, "mysql") {
		t.Errorf("-h shows a library's flags:\n%s", help)
	}
	if _, code := parseFlags([]string{"-mysql_auth_server_static_string", "x"}, &errOut); code != 2 {
		t.Errorf("a library's flag is accepted: exit %d", code)
	}
	o, code := parseFlags([]string{"-addr", "127.0.0.1:18080", "-json-logs"}, &errOut)
	if code != -1 || o.addr != "127.0.0.1:18080" || !o.jsonLogs {
		t.Errorf("flags: %+v, %d", o, code)
	}
}

func TestProgressLine(t *testing.T) {
	if got := progressLine("saas-produce", 12345*time.Millisecond); got != "  built  saas-produce            12.3s" {
		t.Errorf("built: %q", got)
	}
	if got := progressLine("saas-produce", 0); got != "  cached saas-produce" {
		t.Errorf("cached: %q", got)
	}
}

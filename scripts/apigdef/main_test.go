package main

import (
	"bytes"
	"os"
	"strings"
	"testing"
)

// TestProfileDefinition: -profile prints only the routes the profile deploys,
// every route of them; the committed template (every route) is what no
// -profile prints, and -write refuses a profile.
func TestProfileDefinition(t *testing.T) {
	gen := func(args ...string) (int, string) {
		var out, errOut bytes.Buffer
		code := run(append([]string{"-manifest", "../../serverless.yml"}, args...), func(string) string { return "" }, &out, &errOut)
		return code, out.String() + errOut.String()
	}
	code, saas := gen("-profile", "saas")
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, saas)
	}
	for _, want := range []string{"\n  \"/saas/produce\":", "\n  \"/\":"} {
		if !strings.Contains(saas, want) {
			t.Errorf("the saas definition lacks %q", want)
		}
	}
	for _, bad := range []string{"/license/produce", "produceAPI", "/order/notify", "/sso/", "license-produce", "kit-"} {
		if strings.Contains(saas, bad) {
			t.Errorf("the saas definition holds %q", bad)
		}
	}
	code, all := gen()
	committed, err := os.ReadFile("../../" + Template)
	if err != nil {
		t.Fatal(err)
	}
	if code != 0 || all != string(committed) {
		t.Errorf("without -profile: exit %d, and the output differs from %s", code, Template)
	}
	if code, out := gen("-write", "-profile", "saas"); code != 2 || !strings.Contains(out, "every route") {
		t.Errorf("-write -profile: exit %d\n%s", code, out)
	}
	if code, out := gen("-profile", "nope"); code != 1 || !strings.Contains(out, `no profile "nope"`) {
		t.Errorf("unknown profile: exit %d\n%s", code, out)
	}
}

func TestHelpExitsZero(t *testing.T) {
	var out, errOut bytes.Buffer
	if code := run([]string{"-h"}, func(string) string { return "" }, &out, &errOut); code != 0 {
		t.Fatalf("-h exited %d, want 0; stderr:\n%s", code, errOut.String())
	}
	if !strings.Contains(out.String()+errOut.String(), "-write") {
		t.Errorf("-h printed no usage:\n%s%s", out.String(), errOut.String())
	}
}

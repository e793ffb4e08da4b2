package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/kgseller/kgseller/shared/fakes/fakemkt"
)

func TestCommands(t *testing.T) {
	fake := fakemkt.New("CLIAK000000000000000", "cli-sk")
	srv := httptest.NewServer(fake)
	defer srv.Close()
	env := func(k string) string {
		return map[string]string{"HUAWEICLOUD_SDK_AK": "CLIAK000000000000000", "HUAWEICLOUD_SDK_SK": "cli-sk", "KG_MKT_ENDPOINT": srv.URL}[k]
	}
	code := fakemkt.TestCodePrefix + "CLI1"
	cases := []struct {
		args     []string
		exit     int
		contains string
	}{
		{[]string{"query", code}, exitFail, "92020011"},
		{[]string{"activate", "-effect", "20260102153555", code}, exitOK, `"status": "ALIVE"`},
		{[]string{"activate", code}, exitFail, "92020003"},
		{[]string{"query", code}, exitOK, `"license_code": "` + code + `"`},
		{[]string{"activate", "-v2", fakemkt.TestCodePrefix + "CLI2", fakemkt.TestCodePrefix + "CLI3"}, exitOK, "license_code_info_list"},
		{[]string{"usage", "-license", code, "-id", "dev-1", "-active", "4"}, exitOK, "{}"},
		{[]string{"activate", "PLNOSUCH"}, exitFail, "92020005"},
		{[]string{"activate", "-effect", "tomorrow", code}, exitUsage, "-effect"},
		{[]string{"usage", "-license", code}, exitUsage, "-id or -active"},
		{[]string{"frobnicate"}, exitUsage, "usage:"},
		{nil, exitUsage, "usage:"},
	}
	for _, c := range cases {
		var out, errOut bytes.Buffer
		got := run(context.Background(), c.args, &out, &errOut, env)
		if got != c.exit || !strings.Contains(out.String()+errOut.String(), c.contains) {
			t.Errorf("%v: exit %d, output %q %q; want exit %d with %q", c.args, got, out.String(), errOut.String(), c.exit, c.contains)
		}
		if got == exitOK && !json.Valid(out.Bytes()) {
			t.Errorf("%v: output is not JSON: %q", c.args, out.String())
		}
		if strings.Contains(out.String()+errOut.String(), "cli-sk") {
			t.Errorf("%v: the secret key was printed", c.args)
		}
	}
	if st, _ := fake.LicenseCode(code); !st.Activated || !st.Checked || st.UsageReports != 1 {
		t.Fatalf("fake state %+v", st)
	}
	var out, errOut bytes.Buffer
	if got := run(context.Background(), []string{"query", code}, &out, &errOut, func(string) string { return "" }); got != exitUsage {
		t.Fatalf("without credentials: exit %d", got)
	}
}

func TestHelpExitsZero(t *testing.T) {
	var out, errOut bytes.Buffer
	if code := run(context.Background(), []string{"-h"}, &out, &errOut, func(string) string { return "" }); code != 0 {
		t.Fatalf("-h exited %d, want 0; stderr:\n%s", code, errOut.String())
	}
	if !strings.Contains(out.String()+errOut.String(), "usage: licensecode") {
		t.Errorf("-h printed no usage:\n%s%s", out.String(), errOut.String())
	}
}

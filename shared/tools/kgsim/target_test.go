package kgsim_test

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/kgseller/kgseller/shared/tools/kgsim"
	"github.com/kgseller/kgseller/shared/tools/localstate"
)

func TestFindTarget(t *testing.T) {
	t.Parallel()
	statePath := filepath.Join(t.TempDir(), "local.json")
	remove, err := localstate.Write(statePath, localstate.State{URL: "http://127.0.0.1:18080", AccessKey: "state-key",
		Addresses: map[string]string{"saas": "/s/produce", "license": "/l/produce"}, KitPublicKey: "/tmp/kit.pub.pem"})
	if err != nil {
		t.Fatal(err)
	}
	defer remove()
	env := func(m map[string]string) func(string) string { return func(k string) string { return m[k] } }
	running := map[string]string{localstate.EnvPath: statePath}
	none := map[string]string{localstate.EnvPath: filepath.Join(t.TempDir(), "none.json")}
	with := func(base map[string]string, k, v string) map[string]string {
		m := map[string]string{k: v}
		for a, b := range base {
			m[a] = b
		}
		return m
	}
	for _, c := range []struct {
		name              string
		q                 kgsim.TargetQuery
		env               map[string]string
		url, key, keyFrom string
		note              string
		pub               string
	}{
		{"state file", kgsim.TargetQuery{Type: "saas"}, running, "http://127.0.0.1:18080/s/produce", "state-key", kgsim.FromStateFile,
			"sign: local run at http://127.0.0.1:18080 (state file " + statePath + "), key from the state file", "/tmp/kit.pub.pem"},
		{"state file, license", kgsim.TargetQuery{Type: "license"}, running, "http://127.0.0.1:18080/l/produce", "state-key", kgsim.FromStateFile, "", ""},
		{"state file, kit under the saas address", kgsim.TargetQuery{Type: "kit"}, running, "http://127.0.0.1:18080/s/produce", "state-key", kgsim.FromStateFile, "", ""},
		{"state file, notify default route", kgsim.TargetQuery{Type: "notify"}, running, "http://127.0.0.1:18080/order/notify", "state-key", kgsim.FromStateFile, "", ""},
		{"variable beats state file", kgsim.TargetQuery{Type: "saas", KeyVars: kgsim.KeyVars("saas")}, with(running, "KG_ACCESS_KEY", "env-key"),
			"http://127.0.0.1:18080/s/produce", "env-key", "KG_ACCESS_KEY", "", ""},
		{"type variable beats the shared one", kgsim.TargetQuery{Type: "saas", KeyVars: kgsim.KeyVars("saas")},
			with(with(running, "KG_ACCESS_KEY", "env-key"), "KG_ACCESS_KEY_BASIC", "basic-key"), "http://127.0.0.1:18080/s/produce", "basic-key", "KG_ACCESS_KEY_BASIC", "", ""},
		{"flags win", kgsim.TargetQuery{Type: "saas", URL: "https://x.example.com/p", Key: "flag-key", KeyVars: kgsim.KeyVars("saas")},
			with(running, "KG_ACCESS_KEY", "env-key"), "https://x.example.com/p", "flag-key", kgsim.FromFlag, "sign: target https://x.example.com/p (-url), key from -key", ""},
		{"-url elsewhere does not take the state file's key", kgsim.TargetQuery{Type: "saas", URL: "https://x.example.com/p"}, running,
			"https://x.example.com/p", "local-dev-access-key", kgsim.FromDefault, "", ""},
		{"-url of the local run takes its key", kgsim.TargetQuery{Type: "saas", URL: "http://127.0.0.1:18080/order/notify"}, running,
			"http://127.0.0.1:18080/order/notify", "state-key", kgsim.FromStateFile, "", ""},
		{"nothing: the old defaults", kgsim.TargetQuery{Type: "saas"}, none, "http://127.0.0.1:8080/saas/produce", "local-dev-access-key", kgsim.FromDefault,
			"sign: no local run in " + none[localstate.EnvPath] + "; trying http://127.0.0.1:8080, key from the local run's default key", ""},
		{"nothing, license", kgsim.TargetQuery{Type: "license"}, none, "http://127.0.0.1:8080/license/produce", "local-dev-access-key", kgsim.FromDefault, "", ""},
	} {
		c.q.Prog = "sign"
		got := kgsim.FindTarget(c.q, env(c.env))
		if got.URL != c.url || got.Key != c.key || got.KeyFrom != c.keyFrom || (c.note != "" && got.Note != c.note) || (c.pub != "" && got.KitPublicKey != c.pub) {
			t.Errorf("%s: got %+v\nwant url %s key %s from %s note %q", c.name, got, c.url, c.key, c.keyFrom, c.note)
		}
		if strings.Contains(got.Note, got.Key) {
			t.Errorf("%s: the note %q shows the key", c.name, got.Note)
		}
	}
}

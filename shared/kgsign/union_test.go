package kgsign

import (
	"testing"
	"time"
)

func TestUnionVerifiesWithEveryKeyOnce(t *testing.T) {
	notify := MustKeySet("notify-key", "shared-key").Named("notify")
	basic := MustKeySet("basic-key", "shared-key").Named("basic")
	u := Union(notify, basic, KeySet{})
	var labels []string
	for _, k := range u.Keys() {
		labels = append(labels, k.Label())
	}
	if got := len(labels); got != 3 || labels[0] != "notify primary" || labels[1] != "notify previous" || labels[2] != "basic primary" {
		t.Fatalf("labels %v", labels)
	}
	if u.Primary().Label() != "notify primary" {
		t.Fatalf("primary %s", u.Primary().Label())
	}
	now := time.UnixMilli(1_700_000_000_000)
	v := &Verifier{Keys: u, Now: func() time.Time { return now }}
	body := []byte(`{"activity":"orderNotify"}`)
	for key, want := range map[string]string{"notify-key": "notify primary", "shared-key": "notify previous", "basic-key": "basic primary", "other": ""} {
		sig := V2Signature(NewKey([]byte(key), ""), "n", "1700000000000", body)
		got, err := v.VerifyV2(sig, "1700000000000", "n", body)
		switch {
		case want == "" && err == nil:
			t.Errorf("%s verified", key)
		case want != "" && (err != nil || got.Key.Label() != want):
			t.Errorf("%s: %v %q, want %q", key, err, got.Key.Label(), want)
		}
	}
	if MustKeySet("k").Named("x").Keys()[0].Label() != "x primary" || MustKeySet("k").Keys()[0].Label() != "primary" {
		t.Error("Named changed the original set or mislabelled")
	}
}

package kgsim

import (
	"errors"
	"fmt"
	"strings"

	"github.com/kgseller/kgseller/shared/probe"
	"github.com/kgseller/kgseller/shared/tools/localstate"
)

// DefaultBase is the local run's usual address, tried when nothing names one.
const DefaultBase = "http://127.0.0.1:8080"

// Production addresses of the local run by interface type, used when the state
// file names none (serverless.yml's routes).
var defaultAddresses = map[string]string{"saas": "/saas/produce", "license": "/license/produce", "notify": "/order/notify"}

// Key sources named in messages instead of the key itself.
const (
	FromFlag      = "-key"
	FromStateFile = "the state file"
	FromDefault   = "the local run's default key"
)

// Target is where sign and kgsim send, with where each part came from, so that a
// failure can say which key was tried without printing it.
type Target struct {
	// URL is the production address of the type: the interface URL of saas,
	// license and notify, the address below which the Kit sub-paths lie for kit.
	URL string
	// Key is the access key; KeyFrom names its source (FromFlag, a variable's
	// name, FromStateFile, FromDefault).
	Key, KeyFrom string
	// KitPublicKey is the PEM file of the local run's Kit app key ("" when unknown).
	KitPublicKey string
	// Note is the one line that says where the target came from.
	Note string
}

// TargetQuery is what a command knows before it looks for a target.
type TargetQuery struct {
	// Prog prefixes Note ("sign", "kgsim").
	Prog string
	// Type is the interface type: saas, license, notify, kit or address.
	Type string
	// URL and Key are the flags (empty when not given).
	URL, Key string
	// KeyVars are the variables read for the key, in order, when no flag gives one.
	KeyVars []string
}

// FindTarget resolves a target: explicit flags win, then the key variables, then
// the state file of a running local run (localstate), then DefaultBase and the
// local run's default key. The state file's key is used only for its own URL.
func FindTarget(q TargetQuery, getenv func(string) string) Target {
	t := Target{Key: q.Key, KeyFrom: FromFlag}
	if strings.TrimSpace(t.Key) == "" {
		t.Key, t.KeyFrom = "", ""
		for _, v := range q.KeyVars {
			if strings.TrimSpace(getenv(v)) != "" {
				t.Key, t.KeyFrom = getenv(v), v
				break
			}
		}
	}
	path, _ := localstate.Path(getenv)
	st, stErr := localstate.Find(getenv)
	running := stErr == nil
	switch {
	case q.URL != "":
		t.URL = q.URL
		if running && t.Key == "" && strings.HasPrefix(q.URL, strings.TrimRight(st.URL, "/")) {
			t.Key, t.KeyFrom = st.AccessKey, FromStateFile
		}
		t.Note = fmt.Sprintf("%s: target %s (-url)", q.Prog, probe.StripSignature(q.URL))
	case running:
		t.URL = strings.TrimRight(st.URL, "/") + addressOf(q.Type, st.Addresses)
		if t.Key == "" && st.AccessKey != "" {
			t.Key, t.KeyFrom = st.AccessKey, FromStateFile
		}
		t.KitPublicKey = st.KitPublicKey
		t.Note = fmt.Sprintf("%s: local run at %s (state file %s)", q.Prog, st.URL, path)
	default:
		t.URL = DefaultBase + addressOf(q.Type, nil)
		why := "no local run found"
		if stErr != nil && !errors.Is(stErr, localstate.ErrNotRunning) {
			why = stErr.Error()
		} else if path != "" {
			why = "no local run in " + path
		}
		t.Note = fmt.Sprintf("%s: %s; trying %s", q.Prog, why, DefaultBase)
	}
	if t.Key == "" {
		t.Key, t.KeyFrom = localstate.DefaultAccessKey, FromDefault
	}
	t.Note += ", key from " + t.KeyFrom
	return t
}

// addressOf is the production address path of an interface type: the Kit lies
// below the SaaS address, as does the address type's first address.
func addressOf(typ string, addrs map[string]string) string {
	switch typ {
	case "kit", "address":
		if a := addrs[typ]; a != "" {
			return a
		}
		typ = "saas"
	}
	if a := addrs[typ]; a != "" {
		return a
	}
	if a, ok := defaultAddresses[typ]; ok {
		return a
	}
	return defaultAddresses["saas"]
}

// KeyVars are the variables holding the key of an interface type, as the
// functions read them: the type's own, then the shared KG_ACCESS_KEY.
func KeyVars(typ string) []string {
	own := map[string]string{"saas": "KG_ACCESS_KEY_BASIC", "license": "KG_ACCESS_KEY_LICENSE", "notify": "KG_ACCESS_KEY_NOTIFY",
		"kit": "KG_ACCESS_KEY_KIT", "address": "KG_ACCESS_KEY_BASIC"}[typ]
	if own == "" {
		return []string{"KG_ACCESS_KEY"}
	}
	return []string{own, "KG_ACCESS_KEY"}
}

// DefaultAddress is the local run's production address path of an interface type.
func DefaultAddress(typ string) string { return addressOf(typ, nil) }

package main

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kgseller/kgseller/shared/licensefile"
)

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

// TestAcceptsGenuineRejectsTampered runs the command on a genuine document, then
// on copies with a changed payload, a changed signature and another seller's key.
func TestAcceptsGenuineRejectsTampered(t *testing.T) {
	dir := t.TempDir()
	_, priv, _ := ed25519.GenerateKey(rand.Reader)
	s := licensefile.NewSigner(priv)
	now := time.Now().UTC()
	exp := now.AddDate(1, 0, 0)
	doc, err := s.Sign(licensefile.Payload{LicenseID: "LIC-1", EventID: "E1", InstanceID: "i-1", EffectiveTime: now.Add(-time.Hour),
		ExpireTime: &exp, DeviceFingerprint: "dev-1", Features: []string{"basic"}, IssuedAt: now})
	if err != nil {
		t.Fatal(err)
	}
	pubPEM, _ := licensefile.PublicPEM(s.Public())
	keyFile := filepath.Join(dir, "license.pub.pem")
	genuine := filepath.Join(dir, "license.json")
	_ = os.WriteFile(keyFile, pubPEM, 0o600)
	_ = os.WriteFile(genuine, doc, 0o600)

	var out, errOut bytes.Buffer
	if code := run([]string{"-key", keyFile, "-fingerprint", "dev-1", genuine}, nil, &out, &errOut, env(nil)); code != exitOK {
		t.Fatalf("genuine license: exit %d: %s", code, errOut.String())
	}
	var p licensefile.Payload
	if err := json.Unmarshal(out.Bytes(), &p); err != nil || p.LicenseID != "LIC-1" || p.DeviceFingerprint != "dev-1" {
		t.Fatalf("printed payload %q: %v", out.String(), err)
	}

	var env1 map[string]string
	_ = json.Unmarshal(doc, &env1)
	raw, _ := base64.RawURLEncoding.DecodeString(env1["payload"])
	forged := map[string]string{}
	for k, v := range env1 {
		forged[k] = v
	}
	forged["payload"] = base64.RawURLEncoding.EncodeToString(bytes.Replace(raw, []byte(`"basic"`), []byte(`"enterprise"`), 1))
	tamperedPayload, _ := json.Marshal(forged)
	sig, _ := base64.RawURLEncoding.DecodeString(env1["signature"])
	sig[0] ^= 1
	forged["payload"], forged["signature"] = env1["payload"], base64.RawURLEncoding.EncodeToString(sig)
	tamperedSig, _ := json.Marshal(forged)
	_, other, _ := ed25519.GenerateKey(rand.Reader)
	otherPub := base64.StdEncoding.EncodeToString(other.Public().(ed25519.PublicKey))

	for name, c := range map[string]struct {
		args []string
		doc  []byte
		want string
	}{
		"changed features":  {[]string{"-key", keyFile, "-fingerprint", "dev-1"}, tamperedPayload, "signature does not match"},
		"changed signature": {[]string{"-key", keyFile, "-fingerprint", "dev-1"}, tamperedSig, "signature does not match"},
		"another key":       {[]string{"-key", otherPub, "-fingerprint", "dev-1"}, doc, "not trusted"},
		"another device":    {[]string{"-key", keyFile, "-fingerprint", "dev-2"}, doc, "another device"},
		"after expiry":      {[]string{"-key", keyFile, "-fingerprint", "dev-1", "-at", exp.AddDate(0, 0, 1).Format(time.RFC3339)}, doc, "expired"},
	} {
		f := filepath.Join(dir, strings.ReplaceAll(name, " ", "-")+".json")
		_ = os.WriteFile(f, c.doc, 0o600)
		out.Reset()
		errOut.Reset()
		if code := run(append(c.args, f), nil, &out, &errOut, env(nil)); code != exitFail || !strings.Contains(errOut.String(), c.want) {
			t.Errorf("%s: exit %d, stderr %q, want exit 1 with %q", name, code, errOut.String(), c.want)
		}
		if out.Len() != 0 {
			t.Errorf("%s: a rejected license printed %q", name, out.String())
		}
	}

	// The document can come on stdin, and the key from the environment.
	out.Reset()
	if code := run([]string{"-fingerprint", "dev-1", "-"}, bytes.NewReader(doc), &out, &errOut,
		env(map[string]string{"KG_LICENSE_PUBLIC_KEY": string(pubPEM)})); code != exitOK {
		t.Fatalf("stdin: exit %d: %s", code, errOut.String())
	}
}

func TestGenkeyAndPublicOfEnv(t *testing.T) {
	var out, errOut bytes.Buffer
	if code := run([]string{"-genkey"}, nil, &out, &errOut, env(nil)); code != exitOK {
		t.Fatalf("genkey: exit %d", code)
	}
	lines := strings.Split(out.String(), "\n")
	priv, err := licensefile.ParsePrivateKey(lines[1])
	if err != nil {
		t.Fatalf("genkey printed an unusable key: %v", err)
	}
	printedPub := out.String()[strings.Index(out.String(), "-----BEGIN"):]
	out.Reset()
	if code := run([]string{"-public-of-env"}, nil, &out, &errOut, env(map[string]string{"KG_LICENSE_SIGNING_KEY": lines[1]})); code != exitOK {
		t.Fatalf("public-of-env: exit %d", code)
	}
	if out.String() != printedPub {
		t.Fatalf("public key of the generated private key differs:\n%s\n%s", out.String(), printedPub)
	}
	pub, err := licensefile.ParsePublicKey(out.String())
	if err != nil || !pub.Equal(priv.Public()) {
		t.Fatalf("public key: %v", err)
	}
	if code := run([]string{"license.json"}, nil, &out, &errOut, env(nil)); code != exitUsage {
		t.Fatalf("without a key: exit %d, want %d", code, exitUsage)
	}
}

func TestHelpExitsZero(t *testing.T) {
	var out, errOut bytes.Buffer
	if code := run([]string{"-h"}, strings.NewReader(""), &out, &errOut, func(string) string { return "" }); code != 0 {
		t.Fatalf("-h exited %d, want 0; stderr:\n%s", code, errOut.String())
	}
	if !strings.Contains(out.String()+errOut.String(), "-genkey") {
		t.Errorf("-h printed no usage:\n%s%s", out.String(), errOut.String())
	}
}

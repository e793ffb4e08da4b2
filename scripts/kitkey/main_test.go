package main

import (
	"bytes"
	"crypto"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kgseller/kgseller/shared/kit/clientsecret"
)

// TestKeyPairWorks generates a pair, encrypts with the printed public key as the
// marketplace would, and decrypts with the written private key as the function does.
func TestKeyPairWorks(t *testing.T) {
	for _, format := range []string{"pem", "base64"} {
		out := filepath.Join(t.TempDir(), "key")
		var stdout, stderr bytes.Buffer
		if err := run(&stdout, &stderr, 3072, out, format); err != nil {
			t.Fatal(err)
		}
		info, err := os.Stat(out)
		if err != nil {
			t.Fatal(err)
		}
		if info.Mode().Perm() != 0o600 {
			t.Fatalf("private key file mode %v", info.Mode().Perm())
		}
		if strings.Contains(stdout.String(), "PRIVATE") {
			t.Fatal("private key printed although -out names a file")
		}
		lines := strings.Split(strings.TrimSpace(stdout.String()), "\n")
		pub, err := clientsecret.ParsePublicKey(lines[len(lines)-1])
		if err != nil {
			t.Fatal(err)
		}
		if pub.N.BitLen() != 3072 {
			t.Fatalf("%d-bit key", pub.N.BitLen())
		}
		priv, _ := os.ReadFile(out)
		d, err := clientsecret.New(string(priv), "")
		if err != nil {
			t.Fatalf("%s private key not accepted: %v", format, err)
		}
		ct, _ := clientsecret.Encrypt(pub, "hello", crypto.SHA256)
		if got, err := d.Decrypt(ct); err != nil || got != "hello" {
			t.Fatalf("round trip: %q %v", got, err)
		}
		if err := run(&stdout, &stderr, 3072, out, format); err == nil {
			t.Fatal("an existing key file was overwritten")
		}
	}
	var stdout bytes.Buffer
	if err := run(&stdout, &stdout, 2048, "-", "pem"); err == nil {
		t.Fatal("a 2048-bit key was generated")
	}
}

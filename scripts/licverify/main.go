// Command licverify checks a license document offline, the way the seller's
// software does: the signature against the seller's public key, the validity window
// and the device binding. It prints the license's content and exits 0 when the
// license is genuine and valid, 1 when it is not, 2 on bad usage.
//
//	go run ./scripts/licverify -key license.pub.pem license.json
//	go run ./scripts/licverify -key license.pub.pem -fingerprint "$(hostid)" license.json
//	go run ./scripts/licverify -genkey            # a new key pair
//	KG_LICENSE_SIGNING_KEY=… go run ./scripts/licverify -public-of-env   # the public key to embed
//
// The logic is in shared/licensefile, which the seller's software can import.
package main

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/kgseller/kgseller/shared/licensefile"
)

const (
	exitOK    = 0
	exitFail  = 1
	exitUsage = 2
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr, os.Getenv))
}

// keyList collects repeated -key flags (several keys are trusted during a change).
type keyList []string

func (k *keyList) String() string     { return strings.Join(*k, ",") }
func (k *keyList) Set(v string) error { *k = append(*k, v); return nil }

func run(args []string, stdin io.Reader, stdout, stderr io.Writer, getenv func(string) string) int {
	fs := flag.NewFlagSet("licverify", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var keys keyList
	fs.Var(&keys, "key", "trusted public key: a file, or PEM/base64 text (repeatable; default $KG_LICENSE_PUBLIC_KEY)")
	fingerprint := fs.String("fingerprint", "", "this device's fingerprint (required for device-bound licenses)")
	at := fs.String("at", "", "check validity at this RFC 3339 time instead of now")
	noTime := fs.Bool("no-time", false, "skip the validity-window check")
	leeway := fs.Duration("leeway", 5*time.Minute, "tolerated clock difference")
	genkey := fs.Bool("genkey", false, "print a new key pair (KG_LICENSE_SIGNING_KEY value and public key PEM) and exit")
	publicOf := fs.Bool("public-of-env", false, "print the public key PEM of $KG_LICENSE_SIGNING_KEY and exit")
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: licverify [flags] license.json|-\n\nVerifies a license document offline.\n\n")
		fs.PrintDefaults()
		fmt.Fprintf(stderr, "\nExit status: 0 genuine and valid, 1 not, 2 bad usage.\n")
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return exitUsage
	}
	switch {
	case *genkey:
		return genKey(stdout, stderr)
	case *publicOf:
		return publicOfEnv(stdout, stderr, getenv)
	}
	if fs.NArg() != 1 {
		fs.Usage()
		return exitUsage
	}
	if len(keys) == 0 && getenv("KG_LICENSE_PUBLIC_KEY") != "" {
		keys = append(keys, getenv("KG_LICENSE_PUBLIC_KEY"))
	}
	if len(keys) == 0 {
		fmt.Fprintln(stderr, "licverify: no -key given")
		return exitUsage
	}
	var trusted []ed25519.PublicKey
	for _, k := range keys {
		pub, err := readKey(k)
		if err != nil {
			fmt.Fprintf(stderr, "licverify: -key %s: %v\n", shorten(k), err)
			return exitUsage
		}
		trusted = append(trusted, pub)
	}
	opts := licensefile.Options{Fingerprint: *fingerprint, Leeway: *leeway}
	if !*noTime {
		opts.Now = time.Now()
		if *at != "" {
			t, err := time.Parse(time.RFC3339, *at)
			if err != nil {
				fmt.Fprintln(stderr, "licverify: -at must be an RFC 3339 time")
				return exitUsage
			}
			opts.Now = t
		}
	}
	doc, err := readDoc(fs.Arg(0), stdin)
	if err != nil {
		fmt.Fprintf(stderr, "licverify: %v\n", err)
		return exitUsage
	}
	p, err := licensefile.Verify(doc, trusted, opts)
	if err != nil {
		fmt.Fprintf(stderr, "licverify: REJECTED: %v\n", err)
		return exitFail
	}
	out, _ := json.MarshalIndent(p, "", "  ")
	fmt.Fprintf(stdout, "%s\n", out)
	fmt.Fprintln(stderr, "licverify: OK: genuine license", p.LicenseID)
	return exitOK
}

// readKey reads a key from a file, or takes the flag value as the key itself.
func readKey(v string) (ed25519.PublicKey, error) {
	if b, err := os.ReadFile(v); err == nil {
		v = string(b)
	}
	return licensefile.ParsePublicKey(v)
}

func readDoc(name string, stdin io.Reader) ([]byte, error) {
	const max = 1 << 20
	var r io.Reader = stdin
	if name != "-" {
		f, err := os.Open(name)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		r = f
	}
	b, err := io.ReadAll(io.LimitReader(r, max+1))
	if err != nil {
		return nil, err
	}
	if len(b) > max {
		return nil, errors.New("license document larger than 1 MiB")
	}
	return b, nil
}

func genKey(stdout, stderr io.Writer) int {
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		fmt.Fprintf(stderr, "licverify: %v\n", err)
		return exitFail
	}
	pub, _ := licensefile.PublicPEM(priv.Public().(ed25519.PublicKey))
	fmt.Fprintf(stdout, "# KG_LICENSE_SIGNING_KEY (secret: an encrypted variable of fulfil-worker)\n%s\n\n", base64.StdEncoding.EncodeToString(priv.Seed()))
	fmt.Fprintf(stdout, "# public key (key id %s), embedded in the seller's software\n%s", licensefile.KeyID(priv.Public().(ed25519.PublicKey)), pub)
	return exitOK
}

func publicOfEnv(stdout, stderr io.Writer, getenv func(string) string) int {
	v := getenv("KG_LICENSE_SIGNING_KEY")
	if v == "" {
		fmt.Fprintln(stderr, "licverify: KG_LICENSE_SIGNING_KEY is not set")
		return exitUsage
	}
	priv, err := licensefile.ParsePrivateKey(v)
	if err != nil {
		fmt.Fprintln(stderr, "licverify: KG_LICENSE_SIGNING_KEY is not usable:", err)
		return exitUsage
	}
	pub, _ := licensefile.PublicPEM(priv.Public().(ed25519.PublicKey))
	fmt.Fprintf(stdout, "%s", pub)
	return exitOK
}

func shorten(s string) string {
	if len(s) > 24 {
		return s[:24] + "…"
	}
	return s
}

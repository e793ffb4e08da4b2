// Command kitkey generates the RSA key pair of a joint-operation (联营) Kit
// application. The public key is uploaded in the Seller Console when the
// application credential is created; the marketplace encrypts each clientSecret of
// applicationSync with it. The private key becomes the kit-application-sync
// setting KG_KIT_RSA_PRIVATE_KEY.
//
//	go run ./scripts/kitkey                         # writes kit-rsa-private.pem (0600), prints the public key
//	go run ./scripts/kitkey -out key.b64 -format base64
//	go run ./scripts/kitkey -out -                  # private key to stdout after the public key
//
// -bits sets the size (at least 3072, the marketplace's minimum). -format pem (the
// default) writes PKCS#8 PEM; -format base64 writes that PEM base64-encoded on one
// line, convenient for an encrypted environment variable. Both forms are accepted by
// KG_KIT_RSA_PRIVATE_KEY. An existing -out file is never overwritten.
package main

import (
	"encoding/base64"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/kgseller/kgseller/shared/kit/clientsecret"
)

func main() {
	bits := flag.Int("bits", clientsecret.MinBits, "key size in bits (at least 3072)")
	out := flag.String("out", "kit-rsa-private.pem", `where to write the private key ("-" for stdout)`)
	format := flag.String("format", "pem", "private key format: pem or base64 (base64 of the PEM, one line)")
	flag.Parse()
	if err := run(os.Stdout, os.Stderr, *bits, *out, *format); err != nil {
		fmt.Fprintln(os.Stderr, "kitkey:", err)
		os.Exit(1)
	}
}

func run(stdout, stderr io.Writer, bits int, out, format string) error {
	if format != "pem" && format != "base64" {
		return errors.New("-format must be pem or base64")
	}
	var f *os.File
	if out != "-" {
		// Created before the slow key generation, so a bad path fails at once.
		var err error
		f, err = os.OpenFile(out, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if err != nil {
			return fmt.Errorf("creating the private key file: %w", err)
		}
	}
	key, err := clientsecret.Generate(bits)
	if err != nil {
		if f != nil {
			f.Close()
			os.Remove(out)
		}
		return err
	}
	priv, err := clientsecret.PrivatePEM(key)
	if err != nil {
		return err
	}
	if format == "base64" {
		priv = []byte(base64.StdEncoding.EncodeToString(priv) + "\n")
	}
	pubPEM, err := clientsecret.PublicPEM(&key.PublicKey)
	if err != nil {
		return err
	}
	pubLine, err := clientsecret.PublicBase64(&key.PublicKey)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "# RSA-%d public key: upload it in the Seller Console when creating the Kit application credential.\n", bits)
	fmt.Fprintf(stdout, "%s\n# The same key on one line (PEM body without header and footer):\n%s\n", pubPEM, pubLine)
	if f == nil {
		fmt.Fprintf(stdout, "\n# Private key (%s) for KG_KIT_RSA_PRIVATE_KEY; keep it secret:\n%s", format, priv)
		return nil
	}
	if _, err := f.Write(priv); err != nil {
		f.Close()
		return fmt.Errorf("writing the private key: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("writing the private key: %w", err)
	}
	fmt.Fprintf(stderr, "kitkey: private key (%s) written to %s (mode 0600); set its content as the encrypted variable KG_KIT_RSA_PRIVATE_KEY of kit-application-sync\n", format, out)
	return nil
}

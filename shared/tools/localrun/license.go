package localrun

import (
	"crypto/ed25519"
	"encoding/base64"
)

// Local-run values of the License and API-backend settings, used when the
// environment does not set them. They are fixed, published and therefore NOT
// secrets: they exist so that the local run works without setup (and so that
// licenses it issues can be checked with the public key of LocalLicenseSigningKey),
// and must never be used anywhere else.
const (
	// LocalLicenseSigningKey is KG_LICENSE_SIGNING_KEY: base64 of an Ed25519 seed.
	LocalLicenseSigningKey = "a2dzZWxsZXItbG9jYWwtbGljZW5zZS1rZXktMDAwMDA=" // KG_LICENSE_SIGNING_KEY
	LocalAPIGSignatureKey  = "local-apig-signature-key"                     // APIG_SIGNATURE_KEY
	LocalAPIGSignatureSec  = "local-apig-signature-secret-not-a-secret"     // APIG_SIGNATURE_SECRET
)

// LocalLicensePublicKey is the public key of LocalLicenseSigningKey.
func LocalLicensePublicKey() ed25519.PublicKey {
	seed, _ := base64.StdEncoding.DecodeString(LocalLicenseSigningKey)
	return ed25519.NewKeyFromSeed(seed).Public().(ed25519.PublicKey)
}

// licenseEnv sets the License and API-backend settings the caller's environment
// lacks.
func licenseEnv(env []string, getenv func(string) string) []string {
	for _, kv := range [][2]string{
		{"KG_LICENSE_SIGNING_KEY", LocalLicenseSigningKey},
		{"APIG_SIGNATURE_KEY", LocalAPIGSignatureKey},
		{"APIG_SIGNATURE_SECRET", LocalAPIGSignatureSec},
	} {
		if getenv(kv[0]) == "" {
			env = setEnv(env, kv[0], kv[1])
		}
	}
	return env
}

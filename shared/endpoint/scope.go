package endpoint

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"

	"github.com/kgseller/kgseller/shared/kgsign"
)

// scopeLabel keys the fingerprint: the scope is an HMAC of this fixed text under
// the access key, which shows nothing of the key (as a signature does not).
const scopeLabel = "kgseller nonce scope v1"

// NonceScope is the replay scope of a request verified with k: 16 hex characters
// fingerprinting the key. Scoping nonces by the key that verified, not by the
// function or route that answered, makes a signed call captured on one route
// useless on every other route that trusts the same key.
func NonceScope(k kgsign.Key) string {
	mac := hmac.New(sha256.New, k.Bytes())
	mac.Write([]byte(scopeLabel))
	return hex.EncodeToString(mac.Sum(nil)[:8])
}

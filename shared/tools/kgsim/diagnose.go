package kgsim

import (
	"errors"
	"fmt"
	"syscall"

	"github.com/kgseller/kgseller/shared/probe"
)

// The causes sign and kgsim name first when a call, or every call, fails for one
// reason. Messages name the key's source, never the key.

// Refused reports whether a call failed because nothing listens at its address.
func Refused(err error) bool { return errors.Is(err, syscall.ECONNREFUSED) }

// NothingListens is the headline of a refused connection.
func NothingListens(url string) string {
	return fmt.Sprintf("nothing listens at %s: start the local run (go run ./scripts/local) or check -url", probe.StripSignature(url))
}

// AuthFailed is the headline of 000001 answers; every says all calls got it.
func AuthFailed(keyFrom string, every bool) string {
	what := "answered 000001"
	if every {
		what = "every call answered 000001"
	}
	return fmt.Sprintf("%s (authentication failed): the access key or the clock differs from the server's (key tried: %s)", what, keyFrom)
}

// NotFound is the headline of HTTP 404 answers; every says all calls got it.
func NotFound(url string, every bool) string {
	what := "answered 404"
	if every {
		what = "every call answered 404"
	}
	return fmt.Sprintf("%s: wrong path or the function is not deployed (%s)", what, probe.StripSignature(url))
}

// BodySignOtherKey explains a Body-Sign that does not verify.
func BodySignOtherKey(keyFrom string) string {
	return fmt.Sprintf("Body-Sign does not verify with the key from %s: the answer was signed with a different key (or over other bytes than those sent)", keyFrom)
}

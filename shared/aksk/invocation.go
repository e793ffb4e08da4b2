package aksk

import (
	"context"

	"github.com/kgseller/kgseller/shared/fgruntime"
)

// ForInvocation returns the temporary agency credentials FunctionGraph handed to
// the invocation in ctx, or fallback (the configured keys) when there are none.
func ForInvocation(ctx context.Context, fallback Credentials) Credentials {
	if inv, ok := fgruntime.InvocationFrom(ctx); ok && inv.Agency.Valid() {
		return Credentials{AK: inv.Agency.AccessKey, SK: inv.Agency.SecretKey, SecurityToken: inv.Agency.SecurityToken}
	}
	return fallback
}

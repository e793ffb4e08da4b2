package fgruntime

import "context"

// AgencyCredentials are the temporary credentials FunctionGraph passes with each
// invocation of a function that has an agency. They never print.
type AgencyCredentials struct {
	AccessKey, SecretKey, SecurityToken string
}

// Valid reports whether the credentials are usable.
func (c AgencyCredentials) Valid() bool { return c.AccessKey != "" && c.SecretKey != "" }

// String keeps the keys out of logs.
func (c AgencyCredentials) String() string { return "fgruntime.AgencyCredentials{[redacted]}" }

// GoString keeps the keys out of %#v.
func (c AgencyCredentials) GoString() string { return c.String() }

// Invocation describes the current invocation, as the runtime API announced it.
type Invocation struct {
	RequestID  string
	InvokeType string // sync or async
	Agency     AgencyCredentials
	// BodyDropped is the length of the top-level "body" the runtime dropped from
	// an event over its limit (zero otherwise); APIGInvoker marks the request.
	BodyDropped int64
}

type invocationKey struct{}

// WithInvocation returns ctx carrying inv.
func WithInvocation(ctx context.Context, inv Invocation) context.Context {
	return context.WithValue(ctx, invocationKey{}, inv)
}

// InvocationFrom returns the invocation carried by ctx.
func InvocationFrom(ctx context.Context) (Invocation, bool) {
	inv, ok := ctx.Value(invocationKey{}).(Invocation)
	return inv, ok
}

package endpoint

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"unicode/utf8"

	"github.com/aws/aws-lambda-go/events"

	"github.com/kgseller/kgseller/shared/fgruntime"
	"github.com/kgseller/kgseller/shared/kgsign"
	"github.com/kgseller/kgseller/shared/marketplace"
)

// internalErrorBody is sent if an answer cannot be encoded at all.
var internalErrorBody = []byte(`{"resultCode":"000005","resultMsg":"internal service error"}`)

// Respond encodes a reply once, signs exactly those bytes and returns the APIG
// answer. The JSON is pure ASCII (non-ASCII characters escaped as \uXXXX), which is
// what the marketplace asks for in memo fields and removes any charset ambiguity
// from every other field.
func Respond(key kgsign.Key, reply marketplace.Reply) events.APIGatewayProxyResponse {
	body, err := json.Marshal(reply)
	if err != nil {
		body = internalErrorBody
	}
	body = asciiJSON(body)
	headers := map[string]string{"Content-Type": "application/json"}
	if !key.IsZero() {
		headers["Body-Sign"] = kgsign.BodySignHeader(key, body)
	}
	return events.APIGatewayProxyResponse{StatusCode: 200, Headers: headers, Body: string(body)}
}

// asciiJSON rewrites every non-ASCII rune of encoded JSON as a \u escape (a
// surrogate pair above the BMP). Non-ASCII bytes can only occur inside strings, so a
// byte-level rewrite keeps the document equivalent.
func asciiJSON(b []byte) []byte {
	ascii := true
	for _, c := range b {
		if c >= utf8.RuneSelf {
			ascii = false
			break
		}
	}
	if ascii {
		return b
	}
	out := make([]byte, 0, len(b)+len(b)/2)
	for len(b) > 0 {
		r, size := utf8.DecodeRune(b)
		b = b[size:]
		switch {
		case r < utf8.RuneSelf:
			out = append(out, byte(r))
		case r > 0xFFFF:
			r -= 0x10000
			out = fmt.Appendf(out, `\u%04x\u%04x`, 0xD800+(r>>10), 0xDC00+(r&0x3FF))
		default:
			out = fmt.Appendf(out, `\u%04x`, r)
		}
	}
	return out
}

// Misconfigured returns a handler for a function whose configuration could not be
// loaded: it still answers every call in the documented shape (000005), signed when
// a key is known, and logs the configuration error once per call without values.
func Misconfigured(keys kgsign.KeySet, cause error, logger *slog.Logger) fgruntime.Handler {
	if logger == nil {
		logger = slog.Default()
	}
	return func(ctx context.Context, req events.APIGatewayProxyRequest) (events.APIGatewayProxyResponse, error) {
		logger.Error("function is misconfigured", "err", cause.Error(), "requestId", req.RequestContext.RequestID)
		return Respond(keys.Primary(), marketplace.NewResult(marketplace.InternalError, "")), nil
	}
}

package fgruntime

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/aws/aws-lambda-go/events"
)

// ErrBodyTooLarge is returned by RawBody and ReadBody for a request whose body is
// over the limit: the handler answers with its own documented error.
var ErrBodyTooLarge = errors.New("fgruntime: request body too large")

// bodyDroppedKey marks, under RequestContext.Authorizer (which a caller cannot
// set: APIG puts only user_data there), a request whose body the runtime dropped
// because the event was over its limit; the value is the dropped length.
const bodyDroppedKey = "fgruntime.bodyDropped"

// ReadBody is RawBody bounded by max bytes (no bound when max <= 0): a larger body,
// or one the runtime had to drop, is ErrBodyTooLarge.
func ReadBody(req events.APIGatewayProxyRequest, max int) ([]byte, error) {
	body, err := RawBody(req)
	if err != nil {
		return nil, err
	}
	if max > 0 && len(body) > max {
		return nil, fmt.Errorf("%w: %d bytes, at most %d", ErrBodyTooLarge, len(body), max)
	}
	return body, nil
}

func bodyDropped(req events.APIGatewayProxyRequest) (int64, bool) {
	n, ok := req.RequestContext.Authorizer[bodyDroppedKey].(int64)
	return n, ok
}

// MarkBodyDropped marks req as a request whose body of n bytes was not kept
// (over the runtime's limit): RawBody and ReadBody then answer ErrBodyTooLarge.
func MarkBodyDropped(req *events.APIGatewayProxyRequest, n int64) {
	if req.RequestContext.Authorizer == nil {
		req.RequestContext.Authorizer = map[string]interface{}{}
	}
	req.RequestContext.Authorizer[bodyDroppedKey] = n
}

// errEventTooLarge: an event that stays over the limit without its body.
var errEventTooLarge = errors.New("event over the runtime's limit even without its body")

// dropBody copies the JSON object read from r with the value of its top-level
// "body" string emptied, and reports how many bytes that value had. It keeps at
// most limit bytes and never holds the body, so an event of any size can still
// be answered from its path, headers and request context.
func dropBody(r io.Reader, limit int) ([]byte, int64, error) {
	br := bufio.NewReaderSize(r, 64<<10)
	var (
		out       bytes.Buffer
		dropped   int64
		depth     int
		inString  bool
		escaped   bool
		expectKey bool // the next string at depth 1 is a key
		inKey     bool
		key       []byte
		lastKey   string
		wantValue bool // after a depth-1 key's colon
		skipping  bool // inside the dropped body string
	)
	for {
		c, err := br.ReadByte()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, dropped, err
		}
		closing := inString && !escaped && c == '"'
		if inString {
			escaped = !escaped && c == '\\'
			if skipping && !closing {
				dropped++
				continue
			}
		}
		if out.Len() >= limit {
			return nil, dropped, errEventTooLarge
		}
		out.WriteByte(c)
		if inString {
			switch {
			case closing:
				inString, skipping = false, false
				if inKey {
					inKey, lastKey = false, string(key)
				}
			case inKey && len(key) < 16:
				key = append(key, c)
			}
			continue
		}
		switch c {
		case '"':
			switch {
			case depth == 1 && expectKey:
				inString, inKey, key, expectKey = true, true, key[:0], false
			case depth == 1 && wantValue && strings.EqualFold(lastKey, "body"):
				inString, skipping, wantValue = true, true, false
			default:
				inString, wantValue = true, false
			}
		case '{', '[':
			depth++
			expectKey = depth == 1 && c == '{'
			wantValue = false
		case '}', ']':
			depth--
		case ':':
			wantValue = depth == 1
		case ',':
			expectKey, wantValue = depth == 1, false
		case ' ', '\t', '\n', '\r':
		default:
			wantValue = false
		}
	}
	if inString || depth != 0 {
		return nil, dropped, errors.New("event is not a complete JSON object")
	}
	return out.Bytes(), dropped, nil
}

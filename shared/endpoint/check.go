package endpoint

import (
	"encoding/json"
	"fmt"
	"unicode/utf8"

	"github.com/aws/aws-lambda-go/events"

	"github.com/kgseller/kgseller/shared/kgsign"
)

// CheckAnswer is Respond's converse: it reports how an answer departs from the
// documented shape (HTTP 200, application/json, a Body-Sign that verifies under
// key, a JSON object with a 6-character resultCode and a resultMsg, pure ASCII)
// and returns its fields. Tests of every endpoint family use it.
func CheckAnswer(resp events.APIGatewayProxyResponse, key kgsign.Key) (map[string]any, error) {
	if resp.StatusCode != 200 {
		return nil, fmt.Errorf("status %d, want 200", resp.StatusCode)
	}
	if ct := resp.Headers["Content-Type"]; ct != "application/json" {
		return nil, fmt.Errorf("Content-Type %q, want application/json", ct)
	}
	if got, want := resp.Headers["Body-Sign"], kgsign.BodySignHeader(key, []byte(resp.Body)); got != want {
		return nil, fmt.Errorf("Body-Sign %q, want %q", got, want)
	}
	var m map[string]any
	if err := json.Unmarshal([]byte(resp.Body), &m); err != nil {
		return nil, fmt.Errorf("body %q is not a JSON object: %w", resp.Body, err)
	}
	if c, _ := m["resultCode"].(string); len(c) != 6 {
		return nil, fmt.Errorf("resultCode %q in %s", c, resp.Body)
	}
	if _, ok := m["resultMsg"].(string); !ok {
		return nil, fmt.Errorf("resultMsg missing in %s", resp.Body)
	}
	for i := 0; i < len(resp.Body); i++ {
		if resp.Body[i] >= utf8.RuneSelf {
			return nil, fmt.Errorf("non-ASCII byte in answer %s", resp.Body)
		}
	}
	return m, nil
}

package probe

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"unicode/utf8"

	"github.com/aws/aws-lambda-go/events"

	"github.com/kgseller/kgseller/shared/kgsign"
)

// EventAnswer is an in-process APIG response (what a handler returned) as an
// Answer, to be judged like one received over HTTP.
func EventAnswer(resp events.APIGatewayProxyResponse, key kgsign.Key) Answer {
	h := http.Header{}
	for k, v := range resp.Headers {
		h.Set(k, v)
	}
	for k, vs := range resp.MultiValueHeaders {
		for _, v := range vs {
			h.Add(k, v)
		}
	}
	body := []byte(resp.Body)
	return Answer{Status: resp.StatusCode, Header: h, Body: body, Fields: DecodeObject(body),
		ContentType: h.Get("Content-Type"), Key: key}
}

// CheckEvent judges an in-process answer of this project's endpoints: the
// marketplace's rules (Problems) and the one this implementation keeps beyond
// them, a body of pure ASCII (endpoint.Respond escapes everything else). It
// returns the answer's fields. Tests of every endpoint family use it.
func CheckEvent(resp events.APIGatewayProxyResponse, key kgsign.Key) (map[string]any, error) {
	a := EventAnswer(resp, key)
	if err := a.ShapeError(); err != nil {
		return nil, fmt.Errorf("%w (body %.200q)", err, resp.Body)
	}
	for i := 0; i < len(resp.Body); i++ {
		if resp.Body[i] >= utf8.RuneSelf {
			return nil, fmt.Errorf("non-ASCII byte in answer %s", resp.Body)
		}
	}
	return a.Fields, nil
}

// Event is the APIG trigger event a function receives for this request (a POST),
// for tests that call a handler in-process: the path and query of the URL, the
// headers (names lower-cased, as the gateway passes them) and the body.
func (s Signed) Event() events.APIGatewayProxyRequest {
	ev := events.APIGatewayProxyRequest{HTTPMethod: http.MethodPost, Body: string(s.Body),
		Headers: map[string]string{}, QueryStringParameters: map[string]string{}}
	if u, err := url.Parse(s.URL); err == nil {
		ev.Path = u.Path
		for k, vs := range u.Query() {
			if len(vs) > 0 {
				ev.QueryStringParameters[k] = vs[0]
			}
		}
	}
	for k, v := range s.Headers {
		ev.Headers[strings.ToLower(k)] = v
	}
	return ev
}

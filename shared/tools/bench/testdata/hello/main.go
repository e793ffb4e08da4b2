// Command hello is the baseline of the cold-start measurement (scripts/bench): the
// smallest Go FunctionGraph custom runtime, using the standard library alone. It
// polls the runtime API at RUNTIME_API_ADDR and answers every invocation with a
// fixed APIG response, doing nothing else.
package main

import (
	"io"
	"net/http"
	"os"
	"strings"
	"time"
)

const answer = `{"statusCode":200,"headers":{"Content-Type":"application/json"},"body":"{\"hello\":\"world\"}","isBase64Encoded":false}`

func main() {
	base := "http://" + os.Getenv("RUNTIME_API_ADDR") + "/v1/runtime/invocation/"
	failures := 0
	for {
		resp, err := http.Get(base + "request")
		if err != nil {
			if failures++; failures > 10 {
				os.Exit(1)
			}
			time.Sleep(100 * time.Millisecond)
			continue
		}
		failures = 0
		id := resp.Header.Get("X-Cff-Request-Id")
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || id == "" {
			continue
		}
		if r, err := http.Post(base+"response/"+id, "application/json", strings.NewReader(answer)); err == nil {
			_, _ = io.Copy(io.Discard, r.Body)
			r.Body.Close()
		}
	}
}

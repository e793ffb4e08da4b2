// Command echo is a test function for the emulator: it echoes requests and
// misbehaves on request, to exercise crash recovery and timeouts.
package main

import (
	"context"
	"errors"
	"os"
	"path"
	"strconv"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/kgseller/kgseller/shared/fgruntime"
)

func main() {
	fgruntime.Start(func(ctx context.Context, req events.APIGatewayProxyRequest) (events.APIGatewayProxyResponse, error) {
		// The last element decides, so several functions can share this binary
		// under their own routes (/one/sleep).
		switch path.Base(req.Path) {
		case "exit":
			os.Exit(3)
		case "panic":
			panic("requested panic")
		case "sleep":
			time.Sleep(3 * time.Second)
		case "hang":
			time.Sleep(time.Hour) // until the function's timeout ends the instance
		case "nap":
			time.Sleep(500 * time.Millisecond)
		}
		if _, err := fgruntime.RawBody(req); errors.Is(err, fgruntime.ErrBodyTooLarge) {
			return events.APIGatewayProxyResponse{StatusCode: 413, Headers: map[string]string{"X-Pid": strconv.Itoa(os.Getpid())}}, nil
		}
		return events.APIGatewayProxyResponse{
			StatusCode: 200,
			Headers: map[string]string{
				"X-Pid":    strconv.Itoa(os.Getpid()),
				"X-Method": req.HTTPMethod,
				"X-Query":  fgruntime.Query(req, "q"),
				"X-Header": fgruntime.Header(req, "X-Test"),
				"X-Source": req.RequestContext.Identity.SourceIP,
				"X-Env":    os.Getenv("FROM_MANIFEST") + "|" + os.Getenv("FROM_ENV"),
			},
			Body: req.Body,
		}, nil
	})
}

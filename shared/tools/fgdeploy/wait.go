package fgdeploy

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/huaweicloud/huaweicloud-sdk-go-v3/core/sdkerr"
)

// DefaultReadyTimeout is how long a write waits, by default, for a function that
// is still applying its previous change.
const DefaultReadyTimeout = 2 * time.Minute

// The first and the longest pause between two attempts of a refused write.
const (
	firstPause = 50 * time.Millisecond
	maxPause   = 5 * time.Second
)

// busy reports an answer that means "not now, try again": a function can refuse
// changes for a moment while it applies the last one. FunctionGraph's API
// reference documents neither a function state (ShowFunctionConfigResponse has
// none) nor a dedicated error code, so every answer its error table describes as
// transient counts: 428 FSS.0428 ("The preconditions have not been met"), 429
// FSS.0429 ("Too many concurrent requests. Please try again later.") and 503
// FSS.0503 ("Service unavailable").
func busy(err error) (string, bool) {
	var se *sdkerr.ServiceResponseError
	if !errors.As(err, &se) {
		return "", false
	}
	switch se.StatusCode {
	case http.StatusPreconditionRequired, http.StatusTooManyRequests, http.StatusServiceUnavailable:
		return fmt.Sprintf("HTTP %d %s", se.StatusCode, se.ErrorCode), true
	}
	return "", false
}

// whenReady runs call, and again after a growing pause while the answer is busy,
// until it is not or ReadyTimeout has passed. The last answer's error is returned
// with what the wait was about.
func (d *deployer) whenReady(ctx context.Context, name, what string, call func() error) error {
	deadline := time.Now().Add(d.o.ReadyTimeout)
	pause := firstPause
	told := false
	for {
		err := call()
		why, ok := busy(err)
		if !ok {
			return err
		}
		if time.Now().Add(pause).After(deadline) {
			return fmt.Errorf("%w: %s was still refused after %s (is %s still being updated?)", err, what, d.o.ReadyTimeout, name)
		}
		if !told {
			d.printf("  %s: %s refused (%s); waiting for %s to finish updating\n", name, what, why, name)
			told = true
		}
		t := time.NewTimer(pause)
		select {
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("%w (gave up waiting: %w)", err, ctx.Err())
		case <-t.C:
		}
		pause = min(2*pause, maxPause)
	}
}

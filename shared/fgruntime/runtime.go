package fgruntime

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/aws/aws-lambda-go/events"
)

// Handler is the aws-lambda-go handler shape every APIG-triggered function has.
type Handler func(context.Context, events.APIGatewayProxyRequest) (events.APIGatewayProxyResponse, error)

// InvokeFunc handles a raw invocation payload (timer and asynchronous triggers).
type InvokeFunc func(ctx context.Context, payload []byte) ([]byte, error)

// Mode is how the binary talks to its platform.
type Mode string

const (
	ModeCustom Mode = "custom" // FunctionGraph custom runtime (bootstrap polls RUNTIME_API_ADDR)
	ModeHTTP   Mode = "http"   // FunctionGraph HTTP function (net/http on 127.0.0.1:8000)
	ModeLambda Mode = "lambda" // AWS Lambda (lambda.Start)
)

const (
	// MaxEventBytes is the most of one invocation event the runtime holds.
	// FunctionGraph's synchronous request payload limit is 6 MB, but API Gateway
	// accepts request bodies up to 12 MB by default, which base64 makes larger
	// still: an event over this limit is read without its body and still answered
	// (the handler sees ErrBodyTooLarge), never dropped.
	MaxEventBytes = 8 << 20
)

// DetectMode picks the mode from the environment and arguments: AWS first (its
// variable is unambiguous), then an explicit -http flag or FG_RUNTIME_MODE=http (an
// HTTP function's bootstrap passes it), then RUNTIME_API_ADDR for the custom runtime,
// and HTTP otherwise so a bare binary can be run by hand.
func DetectMode(args []string, getenv func(string) string) Mode {
	if getenv("AWS_LAMBDA_RUNTIME_API") != "" {
		return ModeLambda
	}
	for _, a := range args {
		if a == "-http" || a == "--http" {
			return ModeHTTP
		}
	}
	if strings.EqualFold(getenv("FG_RUNTIME_MODE"), "http") {
		return ModeHTTP
	}
	if getenv("RUNTIME_API_ADDR") != "" {
		return ModeCustom
	}
	return ModeHTTP
}

// Start runs an APIG handler under whichever platform launched the binary and only
// returns when the platform stops it.
func Start(h Handler) {
	mode := DetectMode(os.Args[1:], os.Getenv)
	if mode == ModeLambda {
		startLambda(h)
		return
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	if mode == ModeHTTP {
		exit(errNoHTTP)
	}
	exit(RunCustom(ctx, os.Getenv("RUNTIME_API_ADDR"), APIGInvoker(h), invocationTimeout(os.Getenv)))
}

// errNoHTTP: the function was started as an HTTP function (or by hand, without
// the custom runtime's RUNTIME_API_ADDR) but was built without that mode, which
// only functions that can be deployed as HTTP functions link (package httpfn).
var errNoHTTP = errors.New("this function runs under FunctionGraph's custom runtime (RUNTIME_API_ADDR is not set): " +
	"run it with the local emulator (go run ./scripts/local), or build it with the HTTP-function mode (fgruntime/httpfn)")

// StartInvoke runs a raw-payload handler (timer or asynchronous invocations).
func StartInvoke(fn InvokeFunc) {
	mode := DetectMode(os.Args[1:], os.Getenv)
	if mode == ModeLambda {
		startLambdaInvoke(fn)
		return
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	if mode == ModeHTTP {
		exit(errNoHTTP)
	}
	exit(RunCustom(ctx, os.Getenv("RUNTIME_API_ADDR"), fn, invocationTimeout(os.Getenv)))
}

func exit(err error) {
	if err != nil && !errors.Is(err, context.Canceled) {
		slog.Error("runtime stopped", "err", err)
		os.Exit(1)
	}
}

// invocationTimeout reads RUNTIME_TIMEOUT (seconds) so handlers see a deadline a
// little before the platform kills the invocation.
func invocationTimeout(getenv func(string) string) time.Duration {
	n, err := strconv.Atoi(getenv("RUNTIME_TIMEOUT"))
	if err != nil || n <= 0 {
		return 0
	}
	d := time.Duration(n) * time.Second
	if d > 2*time.Second {
		d -= 500 * time.Millisecond
	}
	return d
}

// APIGInvoker adapts an APIG handler to raw payloads: event JSON in, FunctionGraph
// response JSON out.
func APIGInvoker(h Handler) InvokeFunc {
	return func(ctx context.Context, payload []byte) ([]byte, error) {
		var ev Event
		if err := json.Unmarshal(payload, &ev); err != nil {
			return nil, fmt.Errorf("decoding APIG event: %w", err)
		}
		if inv, ok := InvocationFrom(ctx); ok && inv.BodyDropped > 0 {
			ev.bodyDropped = inv.BodyDropped
		}
		resp, err := h(ctx, ev.Request())
		if err != nil {
			return nil, err
		}
		return json.Marshal(FromProxyResponse(resp))
	}
}

// RunCustom is the custom-runtime loop: fetch the next invocation, run it, post the
// result or the error, forever. It returns when ctx ends or the runtime API stays
// unreachable.
func RunCustom(ctx context.Context, addr string, fn InvokeFunc, timeout time.Duration) error {
	if addr == "" {
		return errors.New("fgruntime: RUNTIME_API_ADDR is empty")
	}
	base := "http://" + addr + "/v1/runtime/invocation/"
	client := &http.Client{Transport: &http.Transport{
		DialContext:         (&net.Dialer{Timeout: 5 * time.Second}).DialContext,
		MaxIdleConnsPerHost: 2,
	}}
	failures := 0
	for {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		inv, payload, err := nextInvocation(ctx, client, base)
		var unreadable *unreadableEvent
		if errors.As(err, &unreadable) {
			// The invocation is taken: answer it, so the caller is not left waiting
			// until the platform gives up on this instance.
			slog.Error("invocation event cannot be read", "requestId", unreadable.requestID, "err", unreadable.err)
			body, _ := json.Marshal(map[string]string{"errorMessage": unreadable.Error(), "errorType": "EventTooLarge"})
			if err := post(ctx, client, base+"error/"+unreadable.requestID, body); err != nil {
				slog.Error("posting invocation error", "requestId", unreadable.requestID, "err", err)
			}
			failures = 0
			continue
		}
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			failures++
			if failures >= 10 {
				return fmt.Errorf("fgruntime: runtime API unreachable: %w", err)
			}
			time.Sleep(time.Duration(failures) * 100 * time.Millisecond)
			continue
		}
		failures = 0
		id := inv.RequestID
		out, ierr := InvokeSafely(WithInvocation(ctx, inv), fn, payload, timeout)
		if ierr != nil {
			body, _ := json.Marshal(map[string]string{"errorMessage": ierr.Error(), "errorType": "FunctionError"})
			err = post(ctx, client, base+"error/"+id, body)
		} else {
			err = post(ctx, client, base+"response/"+id, out)
		}
		if err != nil {
			slog.Error("posting invocation result", "requestId", id, "err", err)
		}
	}
}

func nextInvocation(ctx context.Context, client *http.Client, base string) (Invocation, []byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"request", nil)
	if err != nil {
		return Invocation{}, nil, err
	}
	resp, err := client.Do(req)
	if err != nil {
		return Invocation{}, nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return Invocation{}, nil, fmt.Errorf("next invocation: HTTP %d", resp.StatusCode)
	}
	inv := Invocation{
		RequestID:  resp.Header.Get("X-Cff-Request-Id"),
		InvokeType: resp.Header.Get("X-Cff-Invoke-Type"),
		Agency: AgencyCredentials{
			AccessKey:     resp.Header.Get("X-Cff-Access-Key"),
			SecretKey:     resp.Header.Get("X-Cff-Secret-Key"),
			SecurityToken: resp.Header.Get("X-Cff-Security-Token"),
		},
	}
	if inv.RequestID == "" {
		return Invocation{}, nil, errors.New("next invocation: no X-Cff-Request-Id header")
	}
	payload, err := io.ReadAll(io.LimitReader(resp.Body, MaxEventBytes+1))
	if err != nil {
		return inv, nil, &unreadableEvent{requestID: inv.RequestID, err: err}
	}
	if len(payload) <= MaxEventBytes {
		return inv, payload, nil
	}
	// Too large to hold: keep everything but the body, which the handler answers
	// for (ErrBodyTooLarge).
	payload, dropped, err := dropBody(io.MultiReader(bytes.NewReader(payload), resp.Body), MaxEventBytes)
	if err != nil {
		return inv, nil, &unreadableEvent{requestID: inv.RequestID, err: err}
	}
	inv.BodyDropped = dropped
	return inv, payload, nil
}

// unreadableEvent is an invocation whose event could not be read: the runtime
// reports it as the invocation's error.
type unreadableEvent struct {
	requestID string
	err       error
}

func (u *unreadableEvent) Error() string {
	return fmt.Sprintf("invocation event over the runtime's limit of %d bytes or unreadable: %v", MaxEventBytes, u.err)
}

func post(ctx context.Context, client *http.Client, url string, body []byte) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode >= 300 {
		return fmt.Errorf("HTTP %d", resp.StatusCode)
	}
	return nil
}

// InvokeSafely runs one invocation with its deadline (when timeout is positive)
// and turns a panic into an error, so the caller's loop survives it.
func InvokeSafely(ctx context.Context, fn InvokeFunc, payload []byte, timeout time.Duration) (out []byte, err error) {
	if timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, timeout)
		defer cancel()
	}
	defer func() {
		if r := recover(); r != nil {
			slog.Error("handler panicked", "panic", fmt.Sprint(r))
			out, err = nil, errors.New("handler panicked")
		}
	}()
	return fn(ctx, payload)
}

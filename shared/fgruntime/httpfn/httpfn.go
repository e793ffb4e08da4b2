// Package httpfn is the FunctionGraph HTTP-function mode of the runtime adapter:
// the binary serves HTTP on 127.0.0.1:8000 (FG_HTTP_ADDR) and API Gateway or a
// person calls it directly. Only functions that may be deployed as HTTP functions
// link it (net/http's server adds 0.4 MB to a binary); the others run only under
// the custom runtime (shared/fgruntime). Tests and the local tools use its
// handlers to serve a function over plain HTTP.
package httpfn

import (
	"context"
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

	"github.com/kgseller/kgseller/shared/fgruntime"
)

// DefaultAddr is where FunctionGraph HTTP functions must listen.
const DefaultAddr = "127.0.0.1:8000"

// Start runs an APIG handler as an HTTP function when the binary was started as
// one (-http, FG_RUNTIME_MODE=http, or no custom runtime to poll), and under the
// custom runtime (or AWS Lambda) otherwise.
func Start(h fgruntime.Handler) {
	if fgruntime.DetectMode(os.Args[1:], os.Getenv) != fgruntime.ModeHTTP {
		fgruntime.Start(h)
		return
	}
	handler := HTTPHandler(h)
	if behindGateway(os.Args[1:], os.Getenv) {
		handler = GatewayHTTPHandler(h)
	}
	run(func(ctx context.Context) error { return serve(ctx, httpAddr(os.Getenv), handler) })
}

// StartInvoke is Start for a raw-payload handler (timer or asynchronous
// invocations): POST the event, get the function's result.
func StartInvoke(fn fgruntime.InvokeFunc) {
	if fgruntime.DetectMode(os.Args[1:], os.Getenv) != fgruntime.ModeHTTP {
		fgruntime.StartInvoke(fn)
		return
	}
	run(func(ctx context.Context) error { return serveInvokeHTTP(ctx, httpAddr(os.Getenv), fn) })
}

func run(serveUntil func(context.Context) error) {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	if err := serveUntil(ctx); err != nil && !errors.Is(err, context.Canceled) {
		slog.Error("runtime stopped", "err", err)
		os.Exit(1)
	}
}

func serveInvokeHTTP(ctx context.Context, addr string, fn fgruntime.InvokeFunc) error {
	return serve(ctx, addr, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		payload, err := io.ReadAll(io.LimitReader(r.Body, fgruntime.MaxEventBytes+1))
		if err != nil || len(payload) > fgruntime.MaxEventBytes {
			http.Error(w, "payload too large or unreadable", http.StatusRequestEntityTooLarge)
			return
		}
		out, err := fgruntime.InvokeSafely(r.Context(), fn, payload, 0)
		if err != nil {
			http.Error(w, "invocation failed", http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(out)
	}))
}

func serve(ctx context.Context, addr string, h http.Handler) error {
	srv := &http.Server{
		Addr:              addr,
		Handler:           h,
		ReadHeaderTimeout: 5 * time.Second,
		MaxHeaderBytes:    64 << 10,
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.ListenAndServe() }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
		shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(shutdown)
		return ctx.Err()
	}
}

// HTTPHandler translates plain HTTP requests into APIG-shaped requests and writes
// the handler's answer back. The source IP is the connection's: nothing in front
// vouches for an X-Apig-Source-Ip header, so it is an ordinary header here.
func HTTPHandler(h fgruntime.Handler) http.Handler { return httpHandler(h, false) }

// GatewayHTTPHandler is HTTPHandler for a FunctionGraph HTTP function, where API
// Gateway sets X-Apig-Source-Ip to the caller's address.
func GatewayHTTPHandler(h fgruntime.Handler) http.Handler { return httpHandler(h, true) }

func httpHandler(h fgruntime.Handler, fromGateway bool) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		req, err := RequestFromHTTP(r, fgruntime.MaxEventBytes, fromGateway)
		if err != nil {
			http.Error(w, "request body unreadable", http.StatusBadRequest)
			return
		}
		resp, err := func() (resp events.APIGatewayProxyResponse, err error) {
			defer func() {
				if p := recover(); p != nil {
					slog.Error("handler panicked", "panic", fmt.Sprint(p))
					err = errors.New("handler panicked")
				}
			}()
			return h(r.Context(), req)
		}()
		if err != nil {
			http.Error(w, "internal error", http.StatusInternalServerError)
			return
		}
		WriteHTTP(w, fgruntime.FromProxyResponse(resp))
	})
}

// RequestFromHTTP builds the APIG-shaped request for an HTTP request, reading at
// most limit body bytes: a longer body is left unread and the request marked, so
// the handler answers ErrBodyTooLarge in its own shape. fromGateway trusts the
// X-Apig-Source-Ip header API Gateway sets in front of an HTTP function.
func RequestFromHTTP(r *http.Request, limit int64, fromGateway bool) (events.APIGatewayProxyRequest, error) {
	body, err := io.ReadAll(io.LimitReader(r.Body, limit+1))
	if err != nil {
		return events.APIGatewayProxyRequest{}, err
	}
	var dropped int64
	if int64(len(body)) > limit {
		dropped, body = int64(len(body)), nil
	}
	headers := fgruntime.Values{}
	for k, vals := range r.Header {
		headers[strings.ToLower(k)] = vals
	}
	if r.Host != "" {
		headers["host"] = []string{r.Host}
	}
	query := fgruntime.Values{}
	for k, vals := range r.URL.Query() {
		query[k] = vals
	}
	ev := fgruntime.Event{
		Body:                  string(body),
		HTTPMethod:            r.Method,
		Path:                  r.URL.Path,
		Headers:               headers,
		QueryStringParameters: query,
		RequestContext:        fgruntime.RequestContext{SourceIP: sourceIP(r, fromGateway), RequestID: r.Header.Get("X-Cff-Request-Id")},
	}
	req := ev.Request()
	if dropped > 0 {
		fgruntime.MarkBodyDropped(&req, dropped)
	}
	return req, nil
}

func sourceIP(r *http.Request, fromGateway bool) string {
	if ip := r.Header.Get("X-Apig-Source-Ip"); fromGateway && ip != "" {
		return ip
	}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// WriteHTTP writes a FunctionGraph response to an http.ResponseWriter.
func WriteHTTP(w http.ResponseWriter, resp fgruntime.Response) {
	body, err := resp.BodyBytes()
	if err != nil {
		http.Error(w, "response body is flagged base64 but does not decode", http.StatusBadGateway)
		return
	}
	for k, v := range resp.Headers {
		w.Header().Set(k, v)
	}
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(resp.StatusCode)
	_, _ = w.Write(body)
}

// behindGateway reports whether the binary runs as a FunctionGraph HTTP function
// (its bootstrap passes -http or sets FG_RUNTIME_MODE=http), where API Gateway
// sets X-Apig-Source-Ip; a binary run by hand serves whoever connects.
func behindGateway(args []string, getenv func(string) string) bool {
	for _, a := range args {
		if a == "-http" || a == "--http" {
			return true
		}
	}
	return strings.EqualFold(getenv("FG_RUNTIME_MODE"), "http")
}

func httpAddr(getenv func(string) string) string {
	if a := getenv("FG_HTTP_ADDR"); a != "" {
		return a
	}
	return DefaultAddr
}

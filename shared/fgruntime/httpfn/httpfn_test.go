package httpfn

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"github.com/kgseller/kgseller/shared/fgruntime"
)

// sizeHandler answers 413 for a body over 1 MiB, echoing what it still knows.
func sizeHandler(ctx context.Context, req events.APIGatewayProxyRequest) (events.APIGatewayProxyResponse, error) {
	body, err := fgruntime.ReadBody(req, 1<<20)
	status := http.StatusOK
	if errors.Is(err, fgruntime.ErrBodyTooLarge) {
		status = http.StatusRequestEntityTooLarge
	}
	return events.APIGatewayProxyResponse{StatusCode: status, Headers: map[string]string{
		"X-Path": req.Path, "X-Query": fgruntime.Query(req, "q"), "X-Source": req.RequestContext.Identity.SourceIP,
		"X-Bytes": strconv.Itoa(len(body)),
	}}, nil
}

// TestHTTPFunctionOversizedBody: as an HTTP function the same handler answers an
// oversized body itself.
func TestHTTPFunctionOversizedBody(t *testing.T) {
	srv := httptest.NewServer(HTTPHandler(sizeHandler))
	defer srv.Close()
	resp, err := http.Post(srv.URL+"/big?q=1", "application/json", bytes.NewReader(bytes.Repeat([]byte("x"), fgruntime.MaxEventBytes+1)))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusRequestEntityTooLarge || resp.Header.Get("X-Path") != "/big" || resp.Header.Get("X-Query") != "1" {
		t.Fatalf("status %d headers %v", resp.StatusCode, resp.Header)
	}
}

// TestSourceIPHeaderTrustedOnlyBehindGateway: X-Apig-Source-Ip is API Gateway's
// only in front of an HTTP function; anywhere else a caller could set it.
func TestSourceIPHeaderTrustedOnlyBehindGateway(t *testing.T) {
	for _, c := range []struct {
		h    http.Handler
		want string
	}{{HTTPHandler(sizeHandler), "127.0.0.1"}, {GatewayHTTPHandler(sizeHandler), "203.0.113.9"}} {
		srv := httptest.NewServer(c.h)
		req, _ := http.NewRequest(http.MethodPost, srv.URL+"/x", strings.NewReader("{}"))
		req.Header.Set("X-Apig-Source-Ip", "203.0.113.9")
		resp, err := http.DefaultClient.Do(req)
		srv.Close()
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if got := resp.Header.Get("X-Source"); got != c.want {
			t.Errorf("source IP %q, want %q", got, c.want)
		}
	}
	for _, c := range []struct {
		args []string
		env  map[string]string
		want bool
	}{
		{[]string{"-http"}, nil, true},
		{nil, map[string]string{"FG_RUNTIME_MODE": "http"}, true},
		{nil, nil, false}, // a binary run by hand
	} {
		if got := behindGateway(c.args, func(k string) string { return c.env[k] }); got != c.want {
			t.Errorf("behindGateway(%v, %v) = %v, want %v", c.args, c.env, got, c.want)
		}
	}
}

func TestHTTPHandler(t *testing.T) {
	h := func(ctx context.Context, req events.APIGatewayProxyRequest) (events.APIGatewayProxyResponse, error) {
		return events.APIGatewayProxyResponse{
			StatusCode: 201,
			Headers:    map[string]string{"X-Echo": fgruntime.Query(req, "q") + "|" + fgruntime.Header(req, "X-Test") + "|" + req.Body},
			Body:       "ok",
		}, nil
	}
	srv := httptest.NewServer(HTTPHandler(h))
	defer srv.Close()
	req, _ := http.NewRequest(http.MethodPost, srv.URL+"/x?q=1", strings.NewReader("payload"))
	req.Header.Set("X-Test", "t")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 201 || string(b) != "ok" || resp.Header.Get("X-Echo") != "1|t|payload" {
		t.Errorf("got %d %q %q", resp.StatusCode, b, resp.Header.Get("X-Echo"))
	}
}

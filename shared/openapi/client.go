// Package openapi calls the KooGallery open APIs (Query Order, license upload,
// license codes) with Huawei AK/SK "SDK-HMAC-SHA256" signing done by the
// huaweicloud-sdk-go-v3 signer. It picks the region's host (with the .cn fallback in
// China), verifies TLS strictly, bounds every call with timeouts, and decodes
// answers tolerantly: unknown fields are ignored and success is resultCode MKT.0000.
package openapi

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"time"

	"github.com/kgseller/kgseller/shared/aksk"
)

// Region hosts (docs/protocol.md#open-api-hosts).
var regionHosts = map[string][]string{
	"cn":   {"https://mkt.myhuaweicloud.com", "https://mkt.myhuaweicloud.cn"},
	"intl": {"https://mkt-intl.myhuaweicloud.com"},
	"eu":   {"https://mkt.myhuaweicloud.eu"},
}

// Regions lists the region names New accepts.
func Regions() []string {
	out := make([]string, 0, len(regionHosts))
	for r := range regionHosts {
		out = append(out, r)
	}
	sort.Strings(out)
	return out
}

// SuccessCode is the marketplace's success resultCode.
const SuccessCode = "MKT.0000"

// Options configure a client.
type Options struct {
	Region string // cn (default), intl or eu
	// Endpoint overrides the region's hosts with one base URL (tests, the local
	// run's fake marketplace). http:// is accepted only here.
	Endpoint string
	AK, SK   string
	// Timeout bounds one call (default 10s).
	Timeout time.Duration
	// HTTP replaces the transport (tests); strict TLS is the default.
	HTTP *http.Client
	// Now is the signing clock (tests).
	Now func() time.Time
}

// Client is a signed open-API client. Its credentials are never printed.
type Client struct {
	endpoints []string
	ak, sk    string
	http      *http.Client
	timeout   time.Duration
	now       func() time.Time
}

// ErrNoCredentials is returned when AK or SK is missing.
var ErrNoCredentials = errors.New("openapi: HUAWEICLOUD_SDK_AK and HUAWEICLOUD_SDK_SK are required")

// New builds a client.
func New(o Options) (*Client, error) {
	if o.AK == "" || o.SK == "" {
		return nil, ErrNoCredentials
	}
	c := &Client{ak: o.AK, sk: o.SK, http: o.HTTP, timeout: o.Timeout, now: o.Now}
	if c.timeout <= 0 {
		c.timeout = 10 * time.Second
	}
	if c.now == nil {
		c.now = time.Now
	}
	if o.Endpoint != "" {
		u, err := url.Parse(o.Endpoint)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			return nil, fmt.Errorf("openapi: endpoint must be an absolute http(s) URL")
		}
		c.endpoints = []string{strings.TrimSuffix(o.Endpoint, "/")}
	} else {
		region := o.Region
		if region == "" {
			region = "cn"
		}
		hosts, ok := regionHosts[region]
		if !ok {
			return nil, fmt.Errorf("openapi: unknown region %q (want one of %s)", region, strings.Join(Regions(), ", "))
		}
		c.endpoints = hosts
	}
	if c.http == nil {
		c.http = &http.Client{Transport: &http.Transport{
			Proxy:                 http.ProxyFromEnvironment,
			DialContext:           (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
			TLSClientConfig:       &tls.Config{MinVersion: tls.VersionTLS12},
			TLSHandshakeTimeout:   5 * time.Second,
			ResponseHeaderTimeout: c.timeout,
			MaxIdleConnsPerHost:   2,
			IdleConnTimeout:       60 * time.Second,
		}}
	}
	return c, nil
}

// String keeps credentials out of logs.
func (c *Client) String() string { return "openapi.Client{" + strings.Join(c.endpoints, ",") + "}" }

// Call is one open-API request.
type Call struct {
	Method      string
	Path        string
	Query       url.Values
	ContentType string // default application/json
	Body        []byte
}

// APIError is an answer other than success: an HTTP error or a resultCode other
// than MKT.0000.
type APIError struct {
	Status     int
	ResultCode string
	ResultMsg  string
}

func (e *APIError) Error() string {
	return fmt.Sprintf("openapi: HTTP %d, resultCode %q: %s", e.Status, e.ResultCode, e.ResultMsg)
}

// Temporary reports whether retrying may help: server errors, throttling and
// non-HTTP failures are temporary; other client errors are not.
func Temporary(err error) bool {
	var e *APIError
	if errors.As(err, &e) {
		return e.Status >= 500 || e.Status == http.StatusTooManyRequests || e.Status == http.StatusOK
	}
	return err != nil
}

// envelope is the common head of every answer.
type envelope struct {
	ResultCode string `json:"resultCode"`
	ResultMsg  string `json:"resultMsg"`
}

// Response is an answer of any HTTP status.
type Response struct {
	Status int
	Header http.Header
	Body   []byte
}

// Send signs and sends a call, trying the next host only when one cannot be
// reached at all (the .cn fallback is for an unavailable domain, nothing else).
// Any HTTP answer is returned as it is; APIs whose answers are not the Query Order
// envelope (file upload, license codes) decode it themselves.
func (c *Client) Send(ctx context.Context, call Call) (Response, error) {
	var lastErr error
	for _, ep := range c.endpoints {
		resp, err := c.send(ctx, ep, call)
		if err == nil {
			return resp, nil
		}
		lastErr = err
		if !unreachable(err) || ctx.Err() != nil {
			break
		}
	}
	return Response{}, lastErr
}

// Do sends a call and decodes a successful answer (resultCode MKT.0000) into out,
// which may be nil.
func (c *Client) Do(ctx context.Context, call Call, out any) error {
	resp, err := c.Send(ctx, call)
	if err != nil {
		return err
	}
	return decode(resp.Status, resp.Body, out)
}

func decode(status int, body []byte, out any) error {
	var env envelope
	_ = json.Unmarshal(body, &env)
	if status != http.StatusOK || env.ResultCode != SuccessCode {
		msg := env.ResultMsg
		if msg == "" && status != http.StatusOK {
			msg = strings.TrimSpace(string(body))
			if len(msg) > 200 {
				msg = msg[:200]
			}
		}
		return &APIError{Status: status, ResultCode: env.ResultCode, ResultMsg: msg}
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(body, out); err != nil {
		return fmt.Errorf("openapi: decoding answer: %w", err)
	}
	return nil
}

// unreachable reports a failure to reach the host at all (DNS, connect, TLS).
func unreachable(err error) bool {
	var dns *net.DNSError
	var op *net.OpError
	return errors.As(err, &dns) || (errors.As(err, &op) && op.Op == "dial")
}

func (c *Client) send(ctx context.Context, endpoint string, call Call) (Response, error) {
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	req, err := c.signedRequest(endpoint, call)
	if err != nil {
		return Response{}, err
	}
	resp, err := c.http.Do(req.WithContext(ctx))
	if err != nil {
		return Response{}, fmt.Errorf("openapi: %s %s: %w", call.Method, call.Path, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 8<<20))
	if err != nil {
		return Response{}, fmt.Errorf("openapi: reading answer: %w", err)
	}
	return Response{Status: resp.StatusCode, Header: resp.Header, Body: body}, nil
}

// signedRequest signs a call for one host with the Huawei SDK signer.
func (c *Client) signedRequest(endpoint string, call Call) (*http.Request, error) {
	req, err := aksk.Request(aksk.Credentials{AK: c.ak, SK: c.sk}, endpoint, c.now().UTC().Format(aksk.Date), aksk.Call{
		Method: call.Method, Path: call.Path, Query: call.Query, ContentType: call.ContentType, Body: call.Body,
	})
	if err != nil {
		return nil, fmt.Errorf("openapi: %w", err)
	}
	return req, nil
}

// GoString keeps credentials out of %#v.
func (c *Client) GoString() string { return c.String() }

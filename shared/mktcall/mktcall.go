// Package mktcall sends signed calls to the KooGallery open APIs whose answers are
// not the Query Order envelope: the market-event file upload and the license-code
// APIs, which answer {"error_code","error_msg","data"}. Requests are signed with
// Huawei AK/SK "SDK-HMAC-SHA256" through shared/aksk (the Huawei SDK signer); the
// region's hosts are tried in turn when one cannot be reached (the .cn fallback in
// China); TLS is verified strictly. Callers decode the answer themselves.
package mktcall

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

// regionHosts are the open-API hosts per region (spec/license-order-kit.md §4.2),
// the same as shared/openapi's.
var regionHosts = map[string][]string{
	"cn":   {"https://mkt.myhuaweicloud.com", "https://mkt.myhuaweicloud.cn"},
	"intl": {"https://mkt-intl.myhuaweicloud.com"},
	"eu":   {"https://mkt.myhuaweicloud.eu"},
}

// Options configure a client.
type Options struct {
	Region string // cn (default), intl or eu
	// Endpoint replaces the region's hosts with one base URL (tests, the local
	// run's fake marketplace); http:// is accepted only here.
	Endpoint string
	AK, SK   string
	Timeout  time.Duration // one call; default 10s
	HTTP     *http.Client  // default: strict TLS
	Now      func() time.Time
}

// Client sends signed calls. It never prints its credentials.
type Client struct {
	endpoints []string
	cred      aksk.Credentials
	http      *http.Client
	timeout   time.Duration
	now       func() time.Time
}

// ErrNoCredentials is returned when AK or SK is missing.
var ErrNoCredentials = errors.New("mktcall: HUAWEICLOUD_SDK_AK and HUAWEICLOUD_SDK_SK are required")

// New builds a client.
func New(o Options) (*Client, error) {
	if o.AK == "" || o.SK == "" {
		return nil, ErrNoCredentials
	}
	c := &Client{cred: aksk.Credentials{AK: o.AK, SK: o.SK}, http: o.HTTP, timeout: o.Timeout, now: o.Now}
	if c.timeout <= 0 {
		c.timeout = 10 * time.Second
	}
	if c.now == nil {
		c.now = time.Now
	}
	if o.Endpoint != "" {
		u, err := url.Parse(o.Endpoint)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			return nil, errors.New("mktcall: endpoint must be an absolute http(s) URL")
		}
		c.endpoints = []string{strings.TrimSuffix(o.Endpoint, "/")}
	} else {
		region := o.Region
		if region == "" {
			region = "cn"
		}
		hosts, ok := regionHosts[region]
		if !ok {
			names := make([]string, 0, len(regionHosts))
			for r := range regionHosts {
				names = append(names, r)
			}
			sort.Strings(names)
			return nil, fmt.Errorf("mktcall: unknown region %q (want one of %s)", region, strings.Join(names, ", "))
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
func (c *Client) String() string { return "mktcall.Client{" + strings.Join(c.endpoints, ",") + "}" }

// GoString keeps credentials out of %#v.
func (c *Client) GoString() string { return c.String() }

// Request is one call.
type Request struct {
	Method      string
	Path        string
	Query       url.Values
	ContentType string // default application/json
	Body        []byte
}

// Response is an answer of any HTTP status.
type Response struct {
	Status int
	Header http.Header
	Body   []byte
}

// Send signs and sends a request, trying the next host only when one cannot be
// reached at all. Any HTTP answer is returned as it is.
func (c *Client) Send(ctx context.Context, r Request) (Response, error) {
	var lastErr error
	for _, ep := range c.endpoints {
		resp, err := c.send(ctx, ep, r)
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

func (c *Client) send(ctx context.Context, endpoint string, r Request) (Response, error) {
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	req, err := aksk.Request(c.cred, endpoint, c.now().UTC().Format(aksk.Date), aksk.Call{
		Method: r.Method, Path: r.Path, Query: r.Query, ContentType: r.ContentType, Body: r.Body,
	})
	if err != nil {
		return Response{}, fmt.Errorf("mktcall: %w", err)
	}
	resp, err := c.http.Do(req.WithContext(ctx))
	if err != nil {
		return Response{}, fmt.Errorf("mktcall: %s %s: %w", r.Method, r.Path, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 8<<20))
	if err != nil {
		return Response{}, fmt.Errorf("mktcall: reading answer: %w", err)
	}
	return Response{Status: resp.StatusCode, Header: resp.Header, Body: body}, nil
}

// unreachable reports a failure to reach the host at all (DNS, connect).
func unreachable(err error) bool {
	var dns *net.DNSError
	var op *net.OpError
	return errors.As(err, &dns) || (errors.As(err, &op) && op.Op == "dial")
}

// Envelope is the head of an error_code answer. Some answers use resultCode /
// resultMsg instead; Code and Message read whichever is present.
type Envelope struct {
	ErrorCode  string          `json:"error_code"`
	ErrorMsg   string          `json:"error_msg"`
	ResultCode string          `json:"resultCode"`
	ResultMsg  string          `json:"resultMsg"`
	Data       json.RawMessage `json:"data"`
}

// Code returns error_code, or resultCode when error_code is absent.
func (e Envelope) Code() string {
	if e.ErrorCode != "" {
		return e.ErrorCode
	}
	return e.ResultCode
}

// Message returns error_msg, or resultMsg.
func (e Envelope) Message() string {
	if e.ErrorMsg != "" {
		return e.ErrorMsg
	}
	return e.ResultMsg
}

// DecodeEnvelope reads the head of an answer; a body that is not JSON gives an
// empty envelope.
func DecodeEnvelope(body []byte) Envelope {
	var e Envelope
	_ = json.Unmarshal(body, &e)
	return e
}

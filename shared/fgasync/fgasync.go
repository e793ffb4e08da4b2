// Package fgasync starts asynchronous invocations of a FunctionGraph function (the
// fulfil worker) through the FunctionGraph API,
// POST /v2/{project_id}/fgs/functions/{function_urn}/invocations-async, signed with
// AK/SK by the Huawei SDK signer. It prefers the temporary agency credentials that
// FunctionGraph hands to the calling invocation and falls back to configured keys.
// The local emulator serves the same API, so the same code runs in both places.
package fgasync

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/kgseller/kgseller/shared/aksk"
)

// Invoker starts asynchronous invocations of one function.
type Invoker struct {
	// Endpoint is the FunctionGraph API base URL; empty derives
	// https://functiongraph.{region}.myhuaweicloud.com from the URN.
	Endpoint string
	// FunctionURN is urn:fss:{region}:{project}:function:{package}:{name}[:version].
	FunctionURN string
	// Credentials are used when the invocation carries no agency credentials.
	Credentials aksk.Credentials
	HTTP        *http.Client
	Now         func() time.Time
}

// URN is a parsed function URN.
type URN struct {
	Region, ProjectID, Package, Name, Version string
}

// ParseURN reads a FunctionGraph function URN.
func ParseURN(s string) (URN, error) {
	p := strings.Split(s, ":")
	if len(p) < 7 || p[0] != "urn" || p[1] != "fss" || p[4] != "function" || p[2] == "" || p[3] == "" || p[6] == "" {
		return URN{}, fmt.Errorf("fgasync: %q is not a function URN (urn:fss:region:project:function:package:name[:version])", s)
	}
	u := URN{Region: p[2], ProjectID: p[3], Package: p[5], Name: p[6]}
	if len(p) > 7 {
		u.Version = p[7]
	}
	return u, nil
}

// New checks the configuration and returns an invoker.
func New(endpoint, urn string, cred aksk.Credentials) (*Invoker, error) {
	u, err := ParseURN(urn)
	if err != nil {
		return nil, err
	}
	if endpoint == "" {
		endpoint = "https://functiongraph." + u.Region + ".myhuaweicloud.com"
	}
	if pu, err := url.Parse(endpoint); err != nil || pu.Host == "" {
		return nil, fmt.Errorf("fgasync: endpoint must be an absolute URL")
	}
	return &Invoker{
		Endpoint: strings.TrimSuffix(endpoint, "/"), FunctionURN: urn, Credentials: cred,
		HTTP: &http.Client{Timeout: 3 * time.Second, Transport: &http.Transport{
			DialContext:         (&net.Dialer{Timeout: 2 * time.Second}).DialContext,
			TLSHandshakeTimeout: 2 * time.Second,
			MaxIdleConnsPerHost: 1,
		}},
	}, nil
}

// Invoke starts one asynchronous invocation with payload (JSON) and returns once
// FunctionGraph has accepted it.
func (i *Invoker) Invoke(ctx context.Context, payload []byte) error {
	u, err := ParseURN(i.FunctionURN)
	if err != nil {
		return err
	}
	cred := aksk.ForInvocation(ctx, i.Credentials)
	now := time.Now
	if i.Now != nil {
		now = i.Now
	}
	req, err := aksk.Request(cred, i.Endpoint, now().UTC().Format(aksk.Date), aksk.Call{
		Method: http.MethodPost,
		Path:   "/v2/" + u.ProjectID + "/fgs/functions/" + i.FunctionURN + "/invocations-async",
		Body:   payload,
	})
	if err != nil {
		return fmt.Errorf("fgasync: %w", err)
	}
	resp, err := i.HTTP.Do(req.WithContext(ctx))
	if err != nil {
		return fmt.Errorf("fgasync: invoking %s: %w", u.Name, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 4<<10))
	if resp.StatusCode != http.StatusAccepted && resp.StatusCode != http.StatusOK {
		return fmt.Errorf("fgasync: invoking %s: HTTP %d: %s", u.Name, resp.StatusCode, strings.TrimSpace(string(body)))
	}
	return nil
}

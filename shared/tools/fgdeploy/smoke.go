package fgdeploy

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/kgseller/kgseller/shared/kgsign"
	"github.com/kgseller/kgseller/shared/probe"
	"github.com/kgseller/kgseller/shared/tools/manifest"
)

// smokeBody asks for an instance that never existed: the answer must be 000003,
// signed, and nothing is written but a nonce.
func smokeBody() []byte {
	return []byte(`{"activity":"queryInstance","instanceId":"kgseller-smoke-` + strings.ToLower(probe.NewNonce()[:16]) + `"}`)
}

// smoke invokes every deployed function that has an HTTP route through the
// FunctionGraph API with an APIG event, and, with Smoke.URL, sends a signed call
// through the gateway.
func (d *deployer) smoke(ctx context.Context, deployed []*Desired) {
	s := d.o.Smoke
	for _, des := range deployed {
		if ctx.Err() != nil {
			return
		}
		res := d.result(des.Name)
		var route *Trigger
		for i, t := range des.Triggers {
			if t.Type == manifest.TriggerTimer {
				continue
			}
			if route == nil || (s.Path != "" && str(t.EventData["path"]) == s.Path) {
				route = &des.Triggers[i]
			}
		}
		if route == nil {
			res.Smoke = "skipped (no HTTP route)"
			d.printf("smoke %s: skipped (no HTTP route; its timer runs it)\n", des.Name)
			continue
		}
		urn := FunctionURN(d.o.Region, d.o.ProjectID, des.Config.Package, des.Name)
		path := str(route.EventData["path"])
		signed := s.Path != "" && path == s.Path && !s.Key.IsZero()
		var err error
		if signed {
			err = d.smokeSigned(ctx, des.Name, urn, path)
		} else {
			err = d.smokeAlive(ctx, des.Name, urn, strings.ToUpper(str(route.EventData["req_method"])), path)
		}
		if err != nil {
			res.Smoke = "FAILED: " + err.Error()
			d.rep.Errors = append(d.rep.Errors, fmt.Errorf("%s: smoke: %w", des.Name, err))
			d.printf("smoke %s: FAILED: %v\n", des.Name, err)
			continue
		}
		if signed {
			res.Smoke = "ok (signed queryInstance answered 000003 with a valid Body-Sign)"
		} else {
			res.Smoke = "ok (answers in the APIG shape)"
		}
		d.printf("smoke %s: %s\n", des.Name, res.Smoke)
	}
	if s.URL != "" && s.Path != "" && !s.Key.IsZero() {
		if err := smokeURL(ctx, strings.TrimSuffix(s.URL, "/")+s.Path, s.Key, d.o.Timeout); err != nil {
			d.rep.Errors = append(d.rep.Errors, fmt.Errorf("smoke %s: %w", s.URL, err))
			d.printf("smoke %s%s: FAILED: %v\n", s.URL, s.Path, err)
		} else {
			d.printf("smoke %s%s: ok (000003 with a valid Body-Sign through the gateway)\n", s.URL, s.Path)
		}
	}
}

func (d *deployer) result(name string) *Result {
	for i := range d.rep.Results {
		if d.rep.Results[i].Function == name {
			return &d.rep.Results[i]
		}
	}
	d.rep.Results = append(d.rep.Results, Result{Function: name})
	return &d.rep.Results[len(d.rep.Results)-1]
}

// apigEvent builds the event an APIG trigger would send.
func apigEvent(method, path string, query url.Values, headers map[string]string, body []byte) map[string]any {
	q := map[string]any{}
	for k, v := range query {
		if len(v) > 0 {
			q[k] = v[0]
		}
	}
	h := map[string]any{"x-real-ip": "127.0.0.1", "x-forwarded-proto": "https"}
	for k, v := range headers {
		h[strings.ToLower(k)] = v
	}
	return map[string]any{
		"httpMethod": method, "path": path, "headers": h, "queryStringParameters": q, "pathParameters": map[string]any{},
		"body": base64.StdEncoding.EncodeToString(body), "isBase64Encoded": true,
		"requestContext": map[string]any{"apiId": "kgseller-deploy-smoke", "requestId": "smoke-" + probe.NewNonce()[:24], "stage": "RELEASE", "sourceIp": "127.0.0.1"},
	}
}

// apigAnswer decodes a function's APIG response into a probe.Answer.
func apigAnswer(result string, key kgsign.Key) (probe.Answer, error) {
	var r struct {
		StatusCode      *int           `json:"statusCode"`
		Headers         map[string]any `json:"headers"`
		Body            string         `json:"body"`
		IsBase64Encoded *bool          `json:"isBase64Encoded"`
		ErrorMessage    string         `json:"errorMessage"`
	}
	if err := json.Unmarshal([]byte(result), &r); err != nil {
		return probe.Answer{}, fmt.Errorf("the function's result is not JSON: %.120q", result)
	}
	if r.ErrorMessage != "" {
		return probe.Answer{}, fmt.Errorf("the function failed: %.200s", r.ErrorMessage)
	}
	if r.StatusCode == nil || r.IsBase64Encoded == nil {
		return probe.Answer{}, fmt.Errorf("the result lacks statusCode or isBase64Encoded (APIG would answer 500)")
	}
	body := []byte(r.Body)
	if *r.IsBase64Encoded {
		b, err := base64.StdEncoding.DecodeString(r.Body)
		if err != nil {
			return probe.Answer{}, fmt.Errorf("isBase64Encoded but the body is not base64")
		}
		body = b
	}
	a := probe.Answer{Status: *r.StatusCode, Header: http.Header{}, Body: body}
	for k, v := range r.Headers {
		switch x := v.(type) {
		case string:
			a.Header.Add(k, x)
		case []any:
			for _, e := range x {
				a.Header.Add(k, str(e))
			}
		}
	}
	a.ContentType = a.Header.Get("Content-Type")
	a.Key = key
	a.Fields = probe.DecodeObject(body)
	return a, nil
}

// invoke calls the function, waiting while FunctionGraph refuses it for the
// moment (a function is busy just after its last change).
func (d *deployer) invoke(ctx context.Context, name, urn string, event map[string]any) (Invocation, error) {
	var inv Invocation
	err := d.whenReady(ctx, name, "the invocation", func() (err error) {
		inv, err = d.c.invoke(urn, event)
		return err
	})
	return inv, err
}

func (d *deployer) smokeSigned(ctx context.Context, name, urn, path string) error {
	cl := probe.Client{URL: "https://smoke.invalid" + path, Key: d.o.Smoke.Key}
	signed, err := cl.Sign(smokeBody())
	if err != nil {
		return err
	}
	u, err := url.Parse(signed.URL)
	if err != nil {
		return err
	}
	inv, err := d.invoke(ctx, name, urn, apigEvent(http.MethodPost, path, u.Query(), signed.Headers, signed.Body))
	if err != nil {
		return err
	}
	a, err := apigAnswer(inv.Result, d.o.Smoke.Key)
	if err != nil {
		return err
	}
	return expectNotFound(a)
}

func expectNotFound(a probe.Answer) error {
	if err := a.ShapeError(); err != nil {
		if a.Fields != nil && a.Code() == "000001" {
			return fmt.Errorf("%w (000001: the function does not accept the smoke key; is its KG_ACCESS_KEY the one given?)", err)
		}
		return err
	}
	if a.Code() != "000003" {
		return fmt.Errorf("queryInstance of an unknown instance answered %s (%s), want 000003", a.Code(), a.String("resultMsg"))
	}
	return nil
}

// smokeAlive checks that an unsigned call gets a well-formed APIG answer that is
// not a server error, and not the answer of a misconfigured function (000005).
func (d *deployer) smokeAlive(ctx context.Context, name, urn, method, path string) error {
	if method == "ANY" {
		method = http.MethodPost
	}
	body := []byte("{}")
	if method == http.MethodGet || method == http.MethodHead {
		body = nil
	}
	inv, err := d.invoke(ctx, name, urn, apigEvent(method, path, nil, map[string]string{"Content-Type": "application/json"}, body))
	if err != nil {
		return err
	}
	a, err := apigAnswer(inv.Result, kgsign.Key{})
	if err != nil {
		return err
	}
	if a.Status >= 500 {
		return fmt.Errorf("HTTP %d", a.Status)
	}
	if a.Fields != nil && a.Code() == "000005" {
		return fmt.Errorf("answered 000005: the function is misconfigured or cannot reach its database (see its log)")
	}
	return nil
}

func smokeURL(ctx context.Context, target string, key kgsign.Key, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	cl := probe.Client{URL: target, Key: key, HTTP: &http.Client{Timeout: timeout}}
	a, err := cl.Post(ctx, smokeBody())
	if err != nil {
		return err
	}
	return expectNotFound(a)
}

package monitor

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/kgseller/kgseller/shared/kgsign"
	"github.com/kgseller/kgseller/shared/marketplace"
	"github.com/kgseller/kgseller/shared/probe"
	"github.com/kgseller/kgseller/shared/store"
)

// Result codes the probes expect (docs/protocol.md#result-codes).
const (
	codeOK         = string(marketplace.Success)
	codeAuth       = string(marketplace.AuthFailed)
	codeNoInstance = string(marketplace.InstanceNotFound)
	codeProcessing = string(marketplace.Processing)
)

const (
	kitTenantPath   = "/produceAPI/v2/tenantSync"
	probeTenant     = "kgmonitor-tenant"
	forgedInstance  = "kgmonitor-forged"
	provisionWindow = 10 * time.Minute
)

// probeResult is what one marketplace-style call found.
type probeResult struct {
	name    string
	host    string
	ok      bool
	detail  string
	latency time.Duration
}

// target is one production URL the monitor calls, with the key of its type.
type target struct {
	name string // saas, license, kit, notify
	url  string
	key  kgsign.Key
}

func (m *Monitor) client(t target, kit bool) *probe.Client {
	return &probe.Client{URL: t.url, Key: t.key, Kit: kit, KitHashedPayload: m.cfg.KitHashedPayload, HTTP: m.http, Now: m.now}
}

// call signs body, sends it within the budget and judges the answer with the
// simulator's checks (probe.Answer.Problems) plus the accepted codes and extra.
func (m *Monitor) call(ctx context.Context, name string, c *probe.Client, s probe.Signed, key kgsign.Key, want []string,
	extra func(a probe.Answer) []string) (probeResult, probe.Answer) {
	res := probeResult{name: name, host: hostOf(c.URL)}
	cctx, cancel := context.WithTimeout(ctx, m.cfg.Timeout)
	defer cancel()
	start := time.Now()
	a, err := c.Send(cctx, s)
	res.latency = time.Since(start)
	if err != nil {
		switch {
		case errors.Is(cctx.Err(), context.DeadlineExceeded) && ctx.Err() == nil:
			res.detail = fmt.Sprintf("no answer within %v (the marketplace gives up after 5s)", m.cfg.Timeout)
		default:
			res.detail = "request failed: " + redactErr(err)
		}
		return res, a
	}
	a.Key = key
	problems := a.Problems()
	if code := a.Code(); code != "" && !slices.Contains(want, code) {
		problems = append(problems, fmt.Sprintf("resultCode %s, want %s (resultMsg %q)", code, strings.Join(want, " or "), marketplace.Clip(a.String("resultMsg"), 80)))
	} else if extra != nil && a.Fields != nil {
		problems = append(problems, extra(a)...)
	}
	if a.Elapsed > m.cfg.Timeout {
		problems = append(problems, fmt.Sprintf("answered after %v, over the %v budget", a.Elapsed.Round(time.Millisecond), m.cfg.Timeout))
	}
	if len(problems) > 0 {
		res.detail = strings.Join(problems, "; ")
		return res, a
	}
	res.ok = true
	res.detail = fmt.Sprintf("%s in %v", a.Code(), a.Elapsed.Round(time.Millisecond))
	return res, a
}

// sign signs body for c, reporting a signing failure as the probe's result.
func (m *Monitor) post(ctx context.Context, name string, t target, kit bool, body []byte, want []string,
	extra func(a probe.Answer) []string) (probeResult, probe.Answer) {
	c := m.client(t, kit)
	s, err := c.Sign(body)
	if err != nil {
		return probeResult{name: name, host: hostOf(t.url), detail: err.Error()}, probe.Answer{}
	}
	return m.call(ctx, name, c, s, t.key, want, extra)
}

// forged sends a queryInstance signed with a key the server cannot know: it must
// answer 000001, in the documented shape, signed with the address's own key (so
// a function holding another key than the monitor shows up here too).
func (m *Monitor) forged(ctx context.Context, t target) probeResult {
	body, _ := json.Marshal(map[string]any{"activity": "queryInstance", "instanceId": forgedInstance, "testFlag": "1"})
	c := m.client(t, false)
	c.Key = m.wrongKey
	s, err := c.Sign(body)
	if err != nil {
		return probeResult{name: t.name + ".forged", host: hostOf(t.url), detail: err.Error()}
	}
	res, _ := m.call(ctx, t.name+".forged", c, s, t.key, []string{codeAuth}, nil)
	return res
}

// probeInstance returns the probe instance's ID: remembered, or the instance of
// the probe order line in the database, or created through the seller's own
// newInstance (testFlag "1") at the first address that offers it.
func (m *Monitor) probeInstance(ctx context.Context, creator target, dbOK bool) (string, *probeResult) {
	m.mu.Lock()
	id := m.probeID
	m.mu.Unlock()
	if id != "" {
		return id, nil
	}
	if dbOK {
		inst, err := m.store.InstanceByOrder(ctx, m.cfg.ProbeOrderID, m.probeLine())
		if err == nil {
			m.setProbe(inst.InstanceID, time.Time{})
			return inst.InstanceID, nil
		}
		if !errors.Is(err, store.ErrNotFound) {
			return "", &probeResult{name: creator.name + ".newInstance", host: hostOf(creator.url), detail: "reading the probe instance: " + redactErr(err)}
		}
	}
	body, _ := json.Marshal(map[string]any{
		"activity": "newInstance", "businessId": m.cfg.ProbeBusinessID, "orderId": m.cfg.ProbeOrderID,
		"orderLineId": m.probeLine(), "testFlag": "1",
	})
	res, a := m.post(ctx, creator.name+".newInstance", creator, false, body, []string{codeOK, codeProcessing}, func(a probe.Answer) []string {
		return probe.CheckFields("", a.Fields, probe.NewInstanceFields)
	})
	if !res.ok {
		res.detail = "creating the probe instance: " + res.detail
		return "", &res
	}
	id = a.String("instanceId")
	m.setProbe(id, m.now())
	return id, nil
}

func (m *Monitor) probeLine() string { return m.cfg.ProbeOrderID + "-000001" }

func (m *Monitor) setProbe(id string, created time.Time) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.probeID, m.probeCreated = id, created
}

// query asks an address for the probe instance, as the marketplace's dial test
// replays the debug case: 000000 with the documented fields and the instance in
// info. Just after the monitor created it, 000004 (still provisioning) passes.
func (m *Monitor) query(ctx context.Context, t target, id string) probeResult {
	body, _ := json.Marshal(map[string]any{"activity": "queryInstance", "instanceId": id, "testFlag": "1"})
	m.mu.Lock()
	fresh := !m.probeCreated.IsZero() && m.now().Sub(m.probeCreated) < provisionWindow
	m.mu.Unlock()
	want := []string{codeOK}
	if fresh {
		want = append(want, codeProcessing)
	}
	res, a := m.post(ctx, t.name+".queryInstance", t, false, body, want, func(a probe.Answer) []string {
		p := probe.CheckFields("", a.Fields, probe.QueryInstanceFields)
		if a.Code() == codeOK {
			p = append(p, probe.MissingInstances(a.Fields, id)...)
		}
		return p
	})
	if a.Code() == codeNoInstance {
		// The instance is gone (a fresh database): create it again next run.
		m.setProbe("", time.Time{})
	}
	return res
}

// kitProbe deletes the probe tenant of the probe instance through tenantSync,
// signed with the Kit key: a delete of what does not exist succeeds and writes
// nothing (docs/protocol.md#idempotency).
func (m *Monitor) kitProbe(ctx context.Context, t target) probeResult {
	body, _ := json.Marshal(map[string]any{
		"instanceId": m.cfg.ProbeBusinessID, "orderId": m.cfg.ProbeOrderID, "tenantId": probeTenant, "tenantCode": "kgmonitor",
		"name": "kgmonitor", "domainName": "https://kgmonitor.tenantaccount.example.com", "flag": 0, "testFlag": 1,
		"timeStamp": kitTimeStamp(m.now()),
	})
	kt := t
	kt.url = strings.TrimRight(t.url, "/") + kitTenantPath
	res, _ := m.post(ctx, "kit.tenantSync", kt, true, body, []string{codeOK}, nil)
	return res
}

// beijing is the zone of the Kit timeStamp field (UTC+8).
var beijing = time.FixedZone("UTC+8", 8*3600)

func kitTimeStamp(t time.Time) string {
	return strings.Replace(t.In(beijing).Format("20060102150405.000"), ".", "", 1)
}

// probes runs every marketplace-style call at once.
func (m *Monitor) probes(ctx context.Context, dbOK bool) []probeResult {
	var (
		mu  sync.Mutex
		out []probeResult
		wg  sync.WaitGroup
	)
	add := func(r probeResult) {
		mu.Lock()
		out = append(out, r)
		mu.Unlock()
	}
	run := func(f func() probeResult) {
		wg.Add(1)
		go func() { defer wg.Done(); add(f()) }()
	}
	var instanceTargets []target
	for _, t := range []target{m.saas, m.license} {
		if t.url != "" {
			instanceTargets = append(instanceTargets, t)
		}
	}
	if len(instanceTargets) > 0 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			id, failed := m.probeInstance(ctx, instanceTargets[0], dbOK)
			if failed != nil {
				add(*failed)
				return
			}
			var inner sync.WaitGroup
			for _, t := range instanceTargets {
				inner.Add(1)
				go func() { defer inner.Done(); add(m.query(ctx, t, id)) }()
			}
			inner.Wait()
		}()
	}
	for _, t := range []target{m.saas, m.license, m.notifyT} {
		if t.url != "" {
			run(func() probeResult { return m.forged(ctx, t) })
		}
	}
	if m.kit.url != "" {
		run(func() probeResult { return m.kitProbe(ctx, m.kit) })
	}
	wg.Wait()
	slices.SortFunc(out, func(a, b probeResult) int { return strings.Compare(a.name, b.name) })
	return out
}

// tlsResult is the certificate check of one https host.
type tlsResult struct {
	host      string
	ok        bool
	handshake bool // the handshake itself failed: calls to the host cannot succeed
	detail    string
}

// certificate checks the certificate a host presents, as a client that trusts the
// system's roots (the marketplace's) sees it: the handshake must succeed and the
// certificate must be valid for at least the warning period.
func (m *Monitor) certificate(ctx context.Context, hostport string) tlsResult {
	host, _, _ := net.SplitHostPort(hostport)
	res := tlsResult{host: hostport}
	d := &tls.Dialer{NetDialer: &net.Dialer{Timeout: m.cfg.Timeout}, Config: &tls.Config{
		ServerName: host, RootCAs: m.cfg.RootCAs, MinVersion: tls.VersionTLS12,
	}}
	cctx, cancel := context.WithTimeout(ctx, m.cfg.Timeout)
	defer cancel()
	conn, err := d.DialContext(cctx, "tcp", hostport)
	if err != nil {
		res.detail = "TLS handshake failed: " + err.Error()
		var invalid x509.CertificateInvalidError
		if errors.As(err, &invalid) && invalid.Reason == x509.Expired {
			res.detail = "the certificate has expired or is not yet valid: " + err.Error()
		}
		var nerr net.Error
		res.handshake = !(errors.As(err, &nerr) && nerr.Timeout()) || errors.As(err, &invalid)
		return res
	}
	defer conn.Close()
	state := conn.(*tls.Conn).ConnectionState()
	if len(state.PeerCertificates) == 0 {
		res.detail = "no certificate presented"
		return res
	}
	leaf := state.PeerCertificates[0]
	left := leaf.NotAfter.Sub(m.now())
	days := int(left.Hours() / 24)
	if left < m.cfg.CertWarn {
		res.detail = fmt.Sprintf("the certificate of %s expires in %d day(s), at %s: renew it (warning from %d days ahead)",
			host, days, leaf.NotAfter.UTC().Format(time.RFC3339), int(m.cfg.CertWarn.Hours()/24))
		return res
	}
	res.ok = true
	res.detail = fmt.Sprintf("valid until %s (%d days)", leaf.NotAfter.UTC().Format("2006-01-02"), days)
	return res
}

// tlsHosts lists the distinct host:port of the https URLs.
func (m *Monitor) tlsHosts() []string {
	var hosts []string
	for _, t := range []target{m.saas, m.license, m.kit, m.notifyT} {
		u, err := url.Parse(t.url)
		if err != nil || u.Scheme != "https" {
			continue
		}
		hp := u.Host
		if u.Port() == "" {
			hp = net.JoinHostPort(u.Hostname(), "443")
		}
		if !slices.Contains(hosts, hp) {
			hosts = append(hosts, hp)
		}
	}
	return hosts
}

func hostOf(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return ""
	}
	if u.Port() == "" && u.Scheme == "https" {
		return net.JoinHostPort(u.Hostname(), "443")
	}
	return u.Host
}

// redactErr renders an error without the URL a client error quotes (a signed
// request's query is harmless, but kept out of alerts all the same).
func redactErr(err error) string {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Op + ": " + ue.Err.Error()
	}
	return err.Error()
}

// Package kgsim is a marketplace simulator for sellers: it calls a production
// interface the way KooGallery's Seller Console debug tool and its twice-daily dial
// tests do, and goes further. For a product type it runs every debug case with
// correct signatures and the documented mock order IDs (testFlag "1"), checks each
// answer (HTTP 200, application/json, a 6-digit resultCode, resultMsg, a valid
// Body-Sign, documented field names and lengths, the expected codes), repeats the
// cases in a seeded random order, and adds what the console never sends:
// concurrent duplicates, exact replays, stale and forged requests and malformed
// bodies. scripts/kgsim is the command; tests drive Run in-process.
//
// Each product type is a small case list in its own file (saas.go, license.go,
// notify.go, kit.go); this file is the engine that runs them.
package kgsim

import (
	"context"
	"crypto/rsa"
	"errors"
	"fmt"
	"github.com/kgseller/kgseller/shared/marketplace"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/kgseller/kgseller/shared/kgsign"
	"github.com/kgseller/kgseller/shared/probe"
)

// Defaults of Options.
const (
	DefaultRounds     = 3
	DefaultDuplicates = 10
	// DefaultTimeout is the marketplace's per-call limit (docs/protocol.md#timeouts).
	DefaultTimeout   = 5 * time.Second
	DefaultReadyWait = 60 * time.Second
	DefaultPollEvery = 500 * time.Millisecond
)

// Options configure one simulator run.
type Options struct {
	// Type is the product type: saas, license, notify or kit (see Types).
	Type string
	// URL is the production interface URL of the type; for kit it is the production
	// address, to which the fixed sub-paths /produceAPI/v2/<name> are appended.
	URL string
	// Key is the access key bound to the type's interface in the Seller Console.
	Key kgsign.Key
	// ExplicitURL says URL was typed (-url), so the replay commands of -v name it.
	ExplicitURL bool
	// KeyFrom names where Key came from (-key, a variable, the state file), so a
	// report of authentication failures can say which key was tried; "" is "-key".
	KeyFrom string
	// Seed orders the rounds; 0 draws one, which the report names for a rerun.
	Seed uint64
	// Rounds is how many times the cases are repeated, each time in a new order.
	Rounds int
	// Duplicates is how many concurrent copies a duplicate burst sends.
	Duplicates int
	// Timeout bounds every call; a slower answer is a failure.
	Timeout time.Duration
	// ReadyWait bounds how long a setup step polls while the server answers 000004
	// (asynchronous provisioning); PollEvery is the pause between polls.
	ReadyWait time.Duration
	PollEvery time.Duration
	// KitHashedPayload signs Kit calls with the hashed-payload formula
	// (KG_KIT_HASHED_PAYLOAD=true on the server).
	KitHashedPayload bool
	// KitPublicKey is the RSA public key the seller uploaded for its Kit app; the
	// applicationSync add and modify cases encrypt their clientSecret with it and are
	// skipped without it.
	KitPublicKey *rsa.PublicKey
	// KitUnversioned runs the kit suite on the unversioned sub-paths
	// /produceAPI/<name> instead of /produceAPI/v2/<name>.
	KitUnversioned bool
	// KitKey and NotifyKey are the Kit and generic (orderNotify) keys of the address
	// type, which calls every interface type at one production address; its cases
	// of a type are skipped without the type's key.
	KitKey, NotifyKey kgsign.Key
	// OtherAddresses are the seller's other production addresses (full URLs): the
	// address type replays calls captured at URL there, where a server that trusts
	// the same key must refuse them.
	OtherAddresses []string
	// HTTP is the client; nil uses a fresh one without its own timeout.
	HTTP *http.Client
	// Now is the clock for timestamps; nil means time.Now.
	Now func() time.Time
}

func (o Options) withDefaults() Options {
	if o.Rounds <= 0 {
		o.Rounds = DefaultRounds
	}
	if o.Duplicates <= 1 {
		o.Duplicates = DefaultDuplicates
	}
	if o.Timeout <= 0 {
		o.Timeout = DefaultTimeout
	}
	if o.ReadyWait <= 0 {
		o.ReadyWait = DefaultReadyWait
	}
	if o.PollEvery <= 0 {
		o.PollEvery = DefaultPollEvery
	}
	if o.HTTP == nil {
		o.HTTP = &http.Client{}
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	for o.Seed == 0 {
		o.Seed = rand.Uint64()
	}
	o.URL = strings.TrimRight(o.URL, "/")
	return o
}

// Case is one request of a product type's suite and what its answer must be.
type Case struct {
	Name string
	// Path is appended to Options.URL (the Kit sub-paths); empty for single-URL types.
	Path string
	// Body builds the request body. It runs for every call (a duplicate burst builds
	// one body per copy) and may use values learned earlier in the run.
	Body func(e *Env) ([]byte, error)
	// Want lists the accepted result codes.
	Want []string
	// Check inspects an answer whose code is in Want, beyond the common shape, and
	// returns what is wrong with it (nil when nothing is).
	Check func(e *Env, a *Answer) []string
	// Learn records values from a passing answer for later cases; Learns names the
	// value (an Env key), so that cases lacking it can name the setup step that
	// failed to learn it.
	Learn  func(e *Env, a *Answer)
	Learns string
	// Agree returns the value every copy of a duplicate burst must answer alike
	// (newInstance: the instanceId), named AgreeField in reports; nil means the
	// copies need only pass.
	Agree      func(a *Answer) string
	AgreeField string
	// Poll repeats the call while it answers 000004, up to Options.ReadyWait, the
	// way the marketplace polls queryInstance after an asynchronous newInstance.
	Poll bool
	// Burst, in a setup list, sends the case as a duplicate burst.
	Burst bool
	// Skip, when not empty, reports the case as skipped with this reason.
	Skip string
	// Key signs the case instead of Options.Key (another interface type's key), and
	// Kit signs it with x-sign headers although the product does not.
	Key kgsign.Key
	Kit bool
	// ReplayTo sends the exact signed request again, once it passed, to each of
	// these routes, which must answer 000001.
	ReplayTo []Replay
}

// Replay is a route a captured request is replayed to.
type Replay struct {
	// URL is a full URL, or a path appended to Options.URL when it starts with "/".
	URL string
	// OtherKey: the route may belong to an interface type whose key kgsim was not
	// given, so its answer's Body-Sign is checked for form only.
	OtherKey bool
}

// Malformed is a correctly signed body the server must refuse with 000002.
type Malformed struct {
	Name string
	Path string
	Body []byte
}

// Product is the suite of one product type.
type Product struct {
	Name    string
	Summary string
	// Kit signs with x-sign headers instead of query parameters.
	Kit bool
	// Setup runs once, in order, before the rounds (creating what the cases name).
	Setup []Case
	// Cases are the debug cases, run every round in a new random order.
	Cases []Case
	// Duplicate is sent every round as a burst of concurrent copies.
	Duplicate Case
	// Probe is a valid, repeatable request used for the replay, stale, forged and
	// signature probes; it must pass on its own.
	Probe Case
	// Malformed bodies, each signed correctly, must answer 000002.
	Malformed []Malformed
}

// Types lists the product types kgsim knows, by name.
func Types() []string { return []string{"saas", "license", "notify", "kit", "address"} }

// ProductFor returns the suite of a product type.
func ProductFor(name string, o Options) (*Product, error) {
	switch name {
	case "saas":
		return saasProduct(), nil
	case "license":
		return licenseProduct(), nil
	case "notify":
		return notifyProduct(), nil
	case "kit":
		return kitProduct(o.KitPublicKey, o.KitUnversioned), nil
	case "address":
		return addressProduct(o), nil
	}
	return nil, fmt.Errorf("kgsim: unknown product type %q (want one of %s)", name, strings.Join(Types(), ", "))
}

// Env holds the values a run learns (instance IDs) and gives case bodies the clock.
type Env struct {
	mu    sync.Mutex
	vals  map[string]string
	now   func() time.Time
	newID func() string
}

func newEnv(now func() time.Time) *Env {
	if now == nil {
		now = time.Now
	}
	return &Env{vals: map[string]string{}, now: now, newID: uuid.NewString}
}

// NewID returns a fresh identifier (a businessId): a random UUID, or a fixed one
// for the documented example bodies.
func (e *Env) NewID() string { return e.newID() }

// Get returns a learned value or an error naming what should have learned it.
func (e *Env) Get(name string) (string, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	v, ok := e.vals[name]
	if !ok || v == "" {
		return "", missingError{name}
	}
	return v, nil
}

// missingError is a value a setup step should have learned: the case that needs
// it is not run, and the report says which step failed.
type missingError struct{ name string }

func (m missingError) Error() string {
	return fmt.Sprintf("no %s: the setup step that learns it failed", m.name)
}

// lookup returns a learned value and whether it is known.
func (e *Env) lookup(name string) (string, bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	v, ok := e.vals[name]
	return v, ok
}

// Learn records a value unless one is known already: the first answer wins, so a
// later, different answer shows up as a disagreement instead of replacing it.
func (e *Env) Learn(name, value string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if _, ok := e.vals[name]; !ok && value != "" {
		e.vals[name] = value
	}
}

// Now is the run's clock.
func (e *Env) Now() time.Time { return e.now() }

// Answer is a production interface's answer, its fields decoded with numbers
// kept as json.Number (so decimals can be counted).
type Answer = probe.Answer

// Run runs the suite of o.Type against o.URL and reports every result. The error
// is for a run that could not start (unknown type, bad URL); failures of the server
// are in the report.
func Run(ctx context.Context, o Options) (*Report, error) {
	if o.Key.IsZero() {
		return nil, errors.New("kgsim: no access key")
	}
	if o.URL == "" {
		return nil, errors.New("kgsim: no URL")
	}
	p, err := ProductFor(o.Type, o)
	if err != nil {
		return nil, err
	}
	return RunProduct(ctx, p, o)
}

// RunProduct runs a given suite (Run with a custom or modified Product).
func RunProduct(ctx context.Context, p *Product, o Options) (*Report, error) {
	o = o.withDefaults()
	u, err := url.Parse(o.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("kgsim: %q is not an http(s) URL", o.URL)
	}
	r := &runner{o: o, p: p, env: newEnv(o.Now), rng: rand.New(rand.NewPCG(o.Seed, 0x6b6773696d)),
		readyBy: time.Now().Add(o.ReadyWait), learner: map[string]string{}}
	for _, c := range p.Setup {
		if c.Learns != "" {
			r.learner[c.Learns] = r.setupName(c)
		}
	}
	rep := &Report{
		Type: p.Name, URL: o.URL, Seed: o.Seed, Rounds: o.Rounds, Duplicates: o.Duplicates,
		Timeout: o.Timeout.String(), Started: time.Now().UTC(), Warnings: addressWarnings(u), KeyFrom: o.KeyFrom, ExplicitURL: o.ExplicitURL,
	}
	for _, c := range p.Setup {
		if ctx.Err() != nil {
			break
		}
		if c.Burst {
			r.add(r.burst(ctx, PhaseSetup, 0, c))
		} else {
			r.add(r.single(ctx, PhaseSetup, 0, c))
		}
	}
	for round := 1; round <= o.Rounds && ctx.Err() == nil; round++ {
		units := r.units()
		r.rng.Shuffle(len(units), func(i, j int) { units[i], units[j] = units[j], units[i] })
		for _, u := range units {
			if ctx.Err() != nil {
				break
			}
			r.add(u(ctx, round))
		}
	}
	rep.Results = r.results
	rep.finish(time.Now())
	return rep, nil
}

// addressWarnings notes what the marketplace would refuse in a production address
// (docs/protocol.md#transport: HTTPS only, a domain name, no bare IP); loopback addresses of
// a local run are fine.
func addressWarnings(u *url.URL) []string {
	host := u.Hostname()
	if host == "localhost" || strings.HasSuffix(host, ".localhost") {
		return nil
	}
	ip := net.ParseIP(host)
	if ip != nil && ip.IsLoopback() {
		return nil
	}
	var w []string
	if u.Scheme != "https" {
		w = append(w, "the marketplace calls only https:// production addresses (TLS 1.2 or newer, a trusted certificate)")
	}
	if ip != nil {
		w = append(w, "the marketplace accepts only domain names in production addresses, not IP addresses")
	}
	return w
}

// Result phases.
const (
	PhaseSetup     = "setup"
	PhaseCase      = "case"
	PhaseDuplicate = "duplicate"
	PhaseReplay    = "replay"
	PhaseStale     = "stale"
	PhaseForged    = "forged"
	PhaseSignature = "signature"
	PhaseMalformed = "malformed"
)

type runner struct {
	o       Options
	p       *Product
	env     *Env
	rng     *rand.Rand
	results []Result
	// readyBy ends all polling: ReadyWait is one budget for the whole setup, so a
	// server that never finishes provisioning costs it once, not once per instance.
	readyBy time.Time
	// learner names the setup step that learns each Env value.
	learner map[string]string
}

// setupName is a setup case's name in results.
func (r *runner) setupName(c Case) string {
	if c.Burst {
		return burstName(c.Name, r.o.Duplicates)
	}
	return c.Name
}

func burstName(name string, n int) string { return fmt.Sprintf("%s ×%d concurrent", name, n) }

// notBuilt is the result of a unit whose body could not be built: when a setup
// step failed to learn what the body needs, the unit is marked as not run
// because of that step.
func (r *runner) notBuilt(phase string, round int, name, path, want string, err error) Result {
	res := r.result(phase, round, name, path, want, nil, []string{err.Error()})
	var m missingError
	if errors.As(err, &m) {
		res.BlockedBy = r.learner[m.name]
		if res.BlockedBy == "" {
			res.BlockedBy = "the step that learns " + m.name
		}
	}
	return res
}

func (r *runner) add(res Result) {
	res.Seq = len(r.results) + 1
	r.results = append(r.results, res)
}

type unit func(ctx context.Context, round int) Result

// units lists everything one round runs: the cases, the duplicate burst and the
// probes. The caller shuffles them.
func (r *runner) units() []unit {
	var us []unit
	for _, c := range r.p.Cases {
		us = append(us, func(ctx context.Context, round int) Result { return r.single(ctx, PhaseCase, round, c) })
	}
	if r.p.Duplicate.Body != nil {
		us = append(us, func(ctx context.Context, round int) Result { return r.burst(ctx, PhaseDuplicate, round, r.p.Duplicate) })
	}
	if r.p.Probe.Body != nil {
		us = append(us, r.probes()...)
	}
	for _, m := range r.p.Malformed {
		us = append(us, func(ctx context.Context, round int) Result { return r.malformed(ctx, round, m) })
	}
	return us
}

func (r *runner) client(path string) *probe.Client {
	return &probe.Client{
		URL: r.o.URL + path, Key: r.o.Key, Kit: r.p.Kit, KitHashedPayload: r.o.KitHashedPayload,
		HTTP: r.o.HTTP, Now: r.o.Now,
	}
}

// caseClient is the client of a case: its path, and its key and scheme when it
// names them.
func (r *runner) caseClient(c *Case) *probe.Client {
	cli := r.client(c.Path)
	cli.Kit = cli.Kit || c.Kit
	if !c.Key.IsZero() {
		cli.Key = c.Key
	}
	return cli
}

// call is one request and what came back.
type call struct {
	a       *Answer
	err     error
	timeout bool
	elapsed time.Duration
	// body is what was sent.
	body []byte
}

// send sends one prepared request under the per-call timeout.
func (r *runner) send(ctx context.Context, c *probe.Client, s probe.Signed) call {
	cctx, cancel := context.WithTimeout(ctx, r.o.Timeout)
	defer cancel()
	start := time.Now()
	a, err := c.Send(cctx, s)
	cl := call{elapsed: time.Since(start), body: s.Body}
	if err != nil {
		cl.err = err
		cl.timeout = errors.Is(cctx.Err(), context.DeadlineExceeded) && ctx.Err() == nil
		return cl
	}
	cl.a = &a
	return cl
}

// judge lists what is wrong with one call given the accepted codes; the checks of
// the case run only when the code is accepted.
func (r *runner) judge(cl call, want []string, c *Case) []string {
	key := r.o.Key
	if c != nil && !c.Key.IsZero() {
		key = c.Key
	}
	return r.judgeKey(cl, want, c, key)
}

// judgeKey is judge with the key that must have signed the answer.
func (r *runner) judgeKey(cl call, want []string, c *Case, key kgsign.Key) []string {
	if cl.err != nil {
		if cl.timeout {
			return []string{fmt.Sprintf("no answer within %v (the marketplace gives up after 5s)", r.o.Timeout)}
		}
		return []string{"request failed: " + cl.err.Error()}
	}
	judged := *cl.a
	judged.Key = key
	problems := judged.Problems()
	if cl.elapsed > r.o.Timeout {
		problems = append(problems, fmt.Sprintf("answered after %v, over the %v limit", cl.elapsed.Round(time.Millisecond), r.o.Timeout))
	}
	code := cl.a.Code()
	if !slices.Contains(want, code) {
		// A missing resultCode is already reported by the shape check.
		if code != "" {
			msg := ""
			if m, ok := cl.a.Fields["resultMsg"].(string); ok && m != "" {
				msg = fmt.Sprintf(" (resultMsg %q)", marketplace.Clip(m, 80))
			}
			problems = append(problems, fmt.Sprintf("resultCode %s, want %s%s", code, strings.Join(want, " or "), msg))
		}
	} else if c != nil && c.Check != nil && cl.a.Fields != nil {
		problems = append(problems, c.Check(r.env, cl.a)...)
	}
	return problems
}

// result builds a Result from the calls of one unit.
func (r *runner) result(phase string, round int, name, path, want string, calls []call, problems []string) Result {
	res := Result{Phase: phase, Round: round, Case: name, Path: path, Want: want, Calls: len(calls)}
	var codes []string
	refused := 0
	for _, cl := range calls {
		if Refused(cl.err) {
			refused++
		}
		if res.Body == nil {
			res.Body = cl.body
		}
		if ms := float64(cl.elapsed.Microseconds()) / 1000; ms > res.MaxMS {
			res.MaxMS = ms
		}
		if cl.a != nil {
			res.HTTP = cl.a.Status
			if c := cl.a.Code(); c != "" && !slices.Contains(codes, c) {
				codes = append(codes, c)
			}
		}
	}
	res.Code = strings.Join(codes, ",")
	res.Unreachable = refused > 0 && refused == len(calls)
	res.Status = StatusPass
	if len(problems) > 0 {
		res.Status = StatusFail
		res.Reason = strings.Join(dedupe(problems), "; ")
	}
	return res
}

// single runs one case (polling while it answers 000004 when the case asks for it).
func (r *runner) single(ctx context.Context, phase string, round int, c Case) Result {
	if c.Skip != "" {
		return Result{Phase: phase, Round: round, Case: c.Name, Path: c.Path, Want: wants(c.Want), Status: StatusSkip, Reason: c.Skip}
	}
	body, err := c.Body(r.env)
	if err != nil {
		return r.notBuilt(phase, round, c.Name, c.Path, wants(c.Want), err)
	}
	cli := r.caseClient(&c)
	var calls []call
	var last probe.Signed
	for {
		s, err := cli.Sign(body)
		if err != nil {
			return r.result(phase, round, c.Name, c.Path, wants(c.Want), calls, []string{err.Error()})
		}
		cl := r.send(ctx, cli, s)
		calls, last = append(calls, cl), s
		if !c.Poll || cl.a == nil || cl.a.Code() != codeProcessing || !time.Now().Before(r.readyBy) || ctx.Err() != nil {
			break
		}
		select {
		case <-ctx.Done():
		case <-time.After(r.o.PollEvery):
		}
	}
	final := calls[len(calls)-1]
	problems := r.judge(final, c.Want, &c)
	if c.Poll && final.a != nil && final.a.Code() == codeProcessing {
		problems = append(problems, fmt.Sprintf("still 000004 (processing) after %d polls; setup waits at most %v in all", len(calls), r.o.ReadyWait))
	}
	// Learn from any answer with an accepted code, so one shape defect (a wrong
	// Body-Sign, say) is reported on every case instead of cascading.
	if c.Learn != nil && final.a != nil && final.a.Fields != nil && slices.Contains(c.Want, final.a.Code()) {
		c.Learn(r.env, final.a)
	}
	want := wants(c.Want)
	if len(c.ReplayTo) > 0 {
		want += fmt.Sprintf(" then %s on %d other route(s)", codeAuth, len(c.ReplayTo))
		if len(problems) == 0 {
			replays, ps := r.replay(ctx, cli, last, c)
			calls, problems = append(calls, replays...), ps
		}
	}
	return r.result(phase, round, c.Name, c.Path, want, calls, problems)
}

// replay sends a request that passed to the case's ReplayTo routes, unchanged; each
// must refuse it with 000001, as a server that remembers nonces per key does.
func (r *runner) replay(ctx context.Context, cli *probe.Client, s probe.Signed, c Case) ([]call, []string) {
	var calls []call
	var problems []string
	for _, rt := range c.ReplayTo {
		target := rt.URL
		if strings.HasPrefix(target, "/") {
			target = r.o.URL + target
		}
		moved, err := retarget(s, target)
		if err != nil {
			problems = append(problems, err.Error())
			continue
		}
		cl := r.send(ctx, cli, moved)
		calls = append(calls, cl)
		if cl.a != nil && cl.a.Code() != "" && cl.a.Code() != codeAuth {
			problems = append(problems, fmt.Sprintf("the same signed request was answered again at %s (resultCode %s, want %s): nonces must be remembered per key, not per route",
				target, cl.a.Code(), codeAuth))
			continue
		}
		for _, p := range r.judgeKey(cl, []string{codeAuth}, nil, cli.Key) {
			if rt.OtherKey && p == probe.BodySignMismatch {
				continue
			}
			problems = append(problems, fmt.Sprintf("replayed at %s: %s", target, p))
		}
	}
	return calls, problems
}

// retarget points a signed request at another URL, keeping its query (the V2
// signature) and everything else.
func retarget(s probe.Signed, target string) (probe.Signed, error) {
	from, err := url.Parse(s.URL)
	if err != nil {
		return s, fmt.Errorf("kgsim: %w", err)
	}
	to, err := url.Parse(target)
	if err != nil {
		return s, fmt.Errorf("kgsim: replay route %q: %w", target, err)
	}
	to.RawQuery = from.RawQuery
	s.URL = to.String()
	return s, nil
}

// burst sends Duplicates copies of a case at once, each with its own body, nonce
// and timestamp. Every copy must pass, and all must answer the same Agree value.
func (r *runner) burst(ctx context.Context, phase string, round int, c Case) Result {
	n := r.o.Duplicates
	name := burstName(c.Name, n)
	if c.Skip != "" {
		return Result{Phase: phase, Round: round, Case: name, Path: c.Path, Want: wants(c.Want), Status: StatusSkip, Reason: c.Skip}
	}
	cli := r.caseClient(&c)
	signed := make([]probe.Signed, n)
	for i := range signed {
		body, err := c.Body(r.env)
		if err != nil {
			return r.notBuilt(phase, round, name, c.Path, wants(c.Want), err)
		}
		if signed[i], err = cli.Sign(body); err != nil {
			return r.result(phase, round, name, c.Path, wants(c.Want), nil, []string{err.Error()})
		}
	}
	calls := make([]call, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range signed {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			<-start
			calls[i] = r.send(ctx, cli, signed[i])
		}(i)
	}
	close(start)
	wg.Wait()
	var problems []string
	agreed := map[string]int{}
	var order []string
	for i, cl := range calls {
		ps := r.judge(cl, c.Want, &c)
		for _, p := range ps {
			problems = append(problems, fmt.Sprintf("copy %d: %s", i+1, p))
		}
		if cl.a == nil || cl.a.Fields == nil || !slices.Contains(c.Want, cl.a.Code()) {
			continue
		}
		if c.Learn != nil {
			c.Learn(r.env, cl.a)
		}
		if c.Agree != nil {
			v := c.Agree(cl.a)
			if agreed[v] == 0 {
				order = append(order, v)
			}
			agreed[v]++
		}
	}
	if len(agreed) > 1 {
		shown := order
		if len(shown) > 4 {
			shown = append(slices.Clone(shown[:4]), "…")
		}
		problems = append([]string{fmt.Sprintf("%d concurrent calls for one order answered %d different %ss (%s): not idempotent",
			n, len(agreed), c.AgreeField, strings.Join(shown, ", "))}, problems...)
	}
	return r.result(phase, round, name, c.Path, wants(c.Want), calls, limit(problems, 4))
}

// limit keeps the first n problems and says how many more there were.
func limit(ps []string, n int) []string {
	ps = dedupe(ps)
	if len(ps) <= n {
		return ps
	}
	return append(ps[:n:n], fmt.Sprintf("and %d more", len(ps)-n))
}

func dedupe(ps []string) []string {
	seen := map[string]bool{}
	out := ps[:0:0]
	for _, p := range ps {
		if !seen[p] {
			seen[p] = true
			out = append(out, p)
		}
	}
	return out
}

// wants renders accepted codes for reports.
func wants(codes []string) string { return strings.Join(codes, "|") }

// Package fglocal emulates API Gateway and the FunctionGraph custom runtime on one
// machine, so the real function binaries run locally and in integration tests
// exactly as they run in the cloud: each function instance is a child process that
// polls its own runtime API, started on the first request (a cold start), kept warm
// for later ones, and replaced if it crashes or times out. A function runs at most
// its maxInstances of serverless.yml at once; a request beyond them waits for a free
// instance up to its route's gateway timeout. HTTP requests become APIG
// trigger events (base64 body, lower-case headers) and the functions' answers are
// checked for the four keys APIG requires.
package fglocal

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/kgseller/kgseller/shared/fakes/fgcontract"
	"github.com/kgseller/kgseller/shared/fgruntime"
	"github.com/kgseller/kgseller/shared/fgruntime/httpfn"
	"github.com/kgseller/kgseller/shared/tools/manifest"
)

// Options configure an emulator.
type Options struct {
	Manifest *manifest.Manifest
	// BinDir holds one executable per function, named after it (see Build).
	BinDir string
	// Env is the base environment of every function process (KEY=VALUE); the
	// manifest's userData and encryptedUserData are added where Env lacks them.
	Env []string
	// MaxInstances, when positive, replaces every function's maxInstances of the
	// manifest (scripts/local -max-instances, tests). Otherwise each function runs
	// at most its own maxInstances, FunctionGraph's default (400) when it declares
	// none.
	MaxInstances int
	// Logger receives emulator events; function output goes to FunctionOutput.
	Logger         *slog.Logger
	FunctionOutput io.Writer
}

// Emulator serves the manifest's routes through the function binaries.
type Emulator struct {
	opts   Options
	routes []manifest.Route
	fns    map[string]*function
	mu     sync.Mutex
	closed bool
}

// New prepares an emulator; nothing is started until the first request.
func New(opts Options) (*Emulator, error) {
	if opts.Manifest == nil {
		return nil, errors.New("fglocal: no manifest")
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.FunctionOutput == nil {
		opts.FunctionOutput = os.Stderr
	}
	e := &Emulator{opts: opts, routes: opts.Manifest.Routes(), fns: map[string]*function{}}
	for _, name := range opts.Manifest.Names() {
		fn := opts.Manifest.Functions[name]
		bin := filepath.Join(opts.BinDir, name)
		if _, err := os.Stat(bin); err != nil {
			return nil, fmt.Errorf("fglocal: binary for %s: %w", name, err)
		}
		e.fns[name] = &function{
			name:    name,
			bin:     bin,
			timeout: time.Duration(opts.Manifest.Timeout(fn)) * time.Second,
			env:     functionEnv(opts, fn),
			tokens:  make(chan struct{}, instanceLimit(opts.MaxInstances, fn.MaxInstances)),
			logger:  opts.Logger,
			out:     opts.FunctionOutput,
			memory:  opts.Manifest.MemorySize(fn),
		}
	}
	return e, nil
}

// instanceLimit is how many instances of a function may run at once: override
// when positive, else the function's maxInstances, where -1 (no limit) is
// FunctionGraph's ceiling and an undeclared one its default.
func instanceLimit(override int, declared *int) int {
	switch {
	case override > 0:
		return override
	case declared == nil:
		return fgcontract.MaxInstancesDefault
	case *declared == fgcontract.MaxInstancesUnlimited:
		return fgcontract.MaxInstancesMax
	case *declared > 0:
		return *declared
	}
	return 1
}

// functionEnv is the base environment plus the manifest's settings that the base
// environment does not already define, plus the runtime's own variables.
func functionEnv(opts Options, fn manifest.Function) []string {
	have := map[string]bool{}
	var env []string
	for _, kv := range opts.Env {
		k, _, _ := strings.Cut(kv, "=")
		// A function must run as a custom runtime here whatever the caller's shell says.
		if k == "AWS_LAMBDA_RUNTIME_API" || k == "FG_RUNTIME_MODE" {
			continue
		}
		have[k] = true
		env = append(env, kv)
	}
	add := func(m map[string]string) {
		for k, v := range m {
			if !have[k] && v != "" {
				have[k] = true
				env = append(env, k+"="+v)
			}
		}
	}
	add(opts.Manifest.Env(fn))
	add(fn.EncryptedUserData)
	return append(env,
		"RUNTIME_FUNC_NAME="+fn.Name,
		"RUNTIME_HANDLER="+fn.Handler,
		"RUNTIME_TIMEOUT="+strconv.Itoa(opts.Manifest.Timeout(fn)),
		"RUNTIME_MEMORY="+strconv.Itoa(opts.Manifest.MemorySize(fn)),
	)
}

// FunctionEnv is the environment function name's instances start with (nil for
// an unknown function), so a caller can check the settings each function finds.
func (e *Emulator) FunctionEnv(name string) []string {
	f, ok := e.fns[name]
	if !ok {
		return nil
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.env...)
}

// Routes returns the served routes.
func (e *Emulator) Routes() []manifest.Route { return e.routes }

// Close stops every function instance.
func (e *Emulator) Close() error {
	e.mu.Lock()
	e.closed = true
	e.mu.Unlock()
	for _, fn := range e.fns {
		fn.shutdown()
	}
	return nil
}

// Stats reports, per function, how many processes were started (cold starts).
func (e *Emulator) Stats() map[string]int {
	out := map[string]int{}
	for name, fn := range e.fns {
		fn.mu.Lock()
		out[name] = fn.started
		fn.mu.Unlock()
	}
	return out
}

// Usage is what an emulated function's instances did.
type Usage struct {
	Limit   int // the function's maximum instances
	Started int // processes started (cold starts)
	Running int // invocations running now
	Peak    int // most invocations running at once
	Waited  int // invocations that found every instance busy and waited for one
	GaveUp  int // of those, the ones whose wait ended first (the gateway's timeout: 504)
}

// Usage reports, per function, its limit and what its instances did.
func (e *Emulator) Usage() map[string]Usage {
	out := map[string]Usage{}
	for name, fn := range e.fns {
		fn.mu.Lock()
		out[name] = Usage{Limit: cap(fn.tokens), Started: fn.started, Running: fn.running, Peak: fn.peak, Waited: fn.waited, GaveUp: fn.gaveUp}
		fn.mu.Unlock()
	}
	return out
}

// Invoke runs one raw invocation of a function (as a timer or an asynchronous
// invocation would) and returns its payload.
func (e *Emulator) Invoke(ctx context.Context, name string, payload []byte) ([]byte, error) {
	fn, ok := e.fns[name]
	if !ok {
		return nil, fmt.Errorf("fglocal: no function %q", name)
	}
	return fn.invoke(ctx, "", payload)
}

// ServeHTTP routes a request to its function as an APIG trigger event.
func (e *Emulator) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	requestID := newID()
	route, ok := e.match(r.Method, r.URL.Path)
	if !ok {
		apigError(w, http.StatusNotFound, "APIG.0101", "The API does not exist or has not been published in the environment", requestID)
		return
	}
	payload, err := eventFor(r, requestID)
	if err != nil {
		e.opts.Logger.Warn("request refused at the gateway", "function", route.Function, "requestId", requestID, "err", err)
		apigError(w, http.StatusRequestEntityTooLarge, "APIG.0201", "Request entity too large", requestID)
		return
	}
	ctx := r.Context()
	if route.TimeoutMS > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, time.Duration(route.TimeoutMS)*time.Millisecond)
		defer cancel()
	}
	out, err := e.fns[route.Function].invoke(ctx, requestID, payload)
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		e.opts.Logger.Warn("backend timeout", "function", route.Function, "requestId", requestID, "timeoutMs", route.TimeoutMS, "err", err)
		apigError(w, http.StatusGatewayTimeout, "APIG.0202", "Backend timeout", requestID)
		return
	case errors.Is(err, errFunction):
		apigError(w, http.StatusInternalServerError, "FGS.0500", "Function invocation failed", requestID)
		return
	case err != nil:
		e.opts.Logger.Warn("backend unavailable", "function", route.Function, "requestId", requestID, "err", err)
		apigError(w, http.StatusBadGateway, "APIG.0203", "Backend unavailable: "+err.Error(), requestID)
		return
	}
	resp, err := fgruntime.ParseResponse(out)
	if err != nil {
		e.opts.Logger.Error("function answer rejected", "function", route.Function, "err", err)
		apigError(w, http.StatusInternalServerError, "APIG.0206", "Backend response is not a valid APIG answer: "+err.Error(), requestID)
		return
	}
	w.Header().Set("X-Request-Id", requestID)
	httpfn.WriteHTTP(w, resp)
}

func (e *Emulator) match(method, path string) (manifest.Route, bool) {
	for _, r := range e.routes {
		if r.Method != "ANY" && r.Method != method {
			continue
		}
		if r.Path == path || (r.Prefix && strings.HasPrefix(path, strings.TrimSuffix(r.Path, "/")+"/")) {
			return r, true
		}
	}
	return manifest.Route{}, false
}

// maxRequestBody is API Gateway's default request-body limit (request_body_size,
// 12 MB); a larger body gets the gateway's own error. A deployment may set the
// gateway lower; the emulator keeps the default, so anything up to it reaches the
// function, which answers an oversized body in its documented shape.
const maxRequestBody = 12 << 20

// eventFor builds the APIG trigger event FunctionGraph would deliver for r.
func eventFor(r *http.Request, requestID string) ([]byte, error) {
	body, err := io.ReadAll(io.LimitReader(r.Body, maxRequestBody+1))
	if err != nil || len(body) > maxRequestBody {
		return nil, errors.New("body too large")
	}
	headers := map[string]string{}
	for k, vals := range r.Header {
		headers[strings.ToLower(k)] = strings.Join(vals, ",")
	}
	headers["host"] = r.Host
	query := map[string]string{}
	for k, vals := range r.URL.Query() {
		query[k] = vals[0]
	}
	ip, _, _ := net.SplitHostPort(r.RemoteAddr)
	ev := map[string]any{
		"body":                  base64.StdEncoding.EncodeToString(body),
		"isBase64Encoded":       true,
		"httpMethod":            r.Method,
		"path":                  r.URL.Path,
		"headers":               headers,
		"queryStringParameters": query,
		"pathParameters":        map[string]string{},
		"requestContext":        map[string]string{"apiId": "local", "requestId": requestID, "stage": "RELEASE", "sourceIp": ip},
		"user_data":             "",
	}
	return json.Marshal(ev)
}

func apigError(w http.ResponseWriter, status int, code, msg, requestID string) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Request-Id", requestID)
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"error_code": code, "error_msg": msg, "request_id": requestID})
}

func newID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

var (
	errFunction = errors.New("function returned an error")
	errCrashed  = errors.New("function instance exited")
)

// function is the pool of instances of one function.
type function struct {
	name    string
	bin     string
	timeout time.Duration
	env     []string
	memory  int
	tokens  chan struct{} // one per running invocation, bounded by the function's maximum instances
	logger  *slog.Logger
	out     io.Writer

	mu      sync.Mutex
	idle    []*instance
	all     map[*instance]bool
	started int
	closed  bool
	// What Usage reports.
	running, peak, waited, gaveUp int
	// gen counts configuration changes (SetEnv); an instance of an older one is
	// stopped instead of kept warm.
	gen int
}

// invoke runs one invocation. The caller's ctx bounds only the wait (API Gateway's
// backend timeout): when it ends first the caller gets its error, but the
// invocation runs on, as on FunctionGraph, until the function answers or overruns
// its own timeout, which alone kills the instance. requestID (API Gateway's, empty
// for direct invocations) is logged with what happens to the instance.
//
// An invocation beyond the function's maximum instances waits for one to be free
// for as long as ctx allows: for a request, API Gateway's backend timeout, after
// which it answers 504; for a timer or an asynchronous invocation, its queue.
func (f *function) invoke(ctx context.Context, requestID string, payload []byte) ([]byte, error) {
	if err := f.take(ctx); err != nil {
		return nil, err
	}
	inst, err := f.acquire()
	if err != nil {
		f.give()
		return nil, err
	}
	run, cancel := context.WithoutCancel(ctx), context.CancelFunc(func() {})
	if f.timeout > 0 {
		run, cancel = context.WithTimeout(run, f.timeout)
	}
	done := make(chan result, 1)
	go func() {
		defer f.give()
		defer cancel()
		out, err := inst.invoke(run, payload)
		if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, errCrashed) {
			// The platform kills an instance that overruns; a crashed one is gone anyway.
			f.logger.Warn("function instance discarded", "function", f.name, "pid", inst.pid(), "requestId", requestID, "reason", err)
			f.discard(inst)
		} else {
			f.release(inst)
		}
		done <- result{body: out, err: err}
	}()
	select {
	case res := <-done:
		return res.body, res.err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// take claims one of the function's instances, waiting while all are busy.
func (f *function) take(ctx context.Context) error {
	select {
	case f.tokens <- struct{}{}:
	default:
		f.mu.Lock()
		f.waited++
		f.mu.Unlock()
		select {
		case f.tokens <- struct{}{}:
		case <-ctx.Done():
			f.mu.Lock()
			f.gaveUp++
			f.mu.Unlock()
			return fmt.Errorf("all %d instances busy: %w", cap(f.tokens), ctx.Err())
		}
	}
	f.mu.Lock()
	f.running++
	f.peak = max(f.peak, f.running)
	f.mu.Unlock()
	return nil
}

// give returns a claimed instance.
func (f *function) give() {
	f.mu.Lock()
	f.running--
	f.mu.Unlock()
	<-f.tokens
}

// acquire returns an idle instance or starts a new one.
func (f *function) acquire() (*instance, error) {
	f.mu.Lock()
	if f.closed {
		f.mu.Unlock()
		return nil, errors.New("emulator closed")
	}
	for len(f.idle) > 0 {
		inst := f.idle[len(f.idle)-1]
		f.idle = f.idle[:len(f.idle)-1]
		if inst.alive() {
			f.mu.Unlock()
			return inst, nil
		}
		delete(f.all, inst)
	}
	f.started++
	seq := f.started
	f.mu.Unlock()
	inst, err := startInstance(f, seq)
	if err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.all == nil {
		f.all = map[*instance]bool{}
	}
	f.all[inst] = true
	if f.closed {
		inst.stop()
		return nil, errors.New("emulator closed")
	}
	return inst, nil
}

func (f *function) release(inst *instance) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closed || !inst.alive() || inst.gen != f.gen {
		delete(f.all, inst)
		inst.stop()
		return
	}
	f.idle = append(f.idle, inst)
}

// SetEnv changes one setting of a function, as UpdateFunctionConfig does on
// FunctionGraph: instances started from now on get the new value, and warm ones
// are stopped (idle ones at once, busy ones when their invocation ends).
func (e *Emulator) SetEnv(name, key, value string) error {
	f, ok := e.fns[name]
	if !ok {
		return fmt.Errorf("fglocal: no function %q", name)
	}
	f.mu.Lock()
	env := make([]string, 0, len(f.env)+1)
	for _, kv := range f.env {
		if !strings.HasPrefix(kv, key+"=") {
			env = append(env, kv)
		}
	}
	f.env = append(env, key+"="+value)
	f.gen++
	idle := f.idle
	f.idle = nil
	for _, inst := range idle {
		delete(f.all, inst)
	}
	f.mu.Unlock()
	for _, inst := range idle {
		inst.stop()
	}
	return nil
}

func (f *function) discard(inst *instance) {
	f.mu.Lock()
	delete(f.all, inst)
	f.mu.Unlock()
	inst.stop()
}

func (f *function) shutdown() {
	f.mu.Lock()
	f.closed = true
	all := f.all
	f.all, f.idle = nil, nil
	f.mu.Unlock()
	var wg sync.WaitGroup
	for inst := range all {
		wg.Add(1)
		go func(i *instance) { defer wg.Done(); i.stop() }(inst)
	}
	wg.Wait()
}

// instance is one function process with its runtime API.
type instance struct {
	fn      *function
	gen     int // the function's configuration it was started with
	cmd     *exec.Cmd
	srv     *http.Server
	next    chan *invocation
	mu      sync.Mutex
	pending map[string]*invocation
	exited  chan struct{}
	once    sync.Once
}

type invocation struct {
	id      string
	payload []byte
	done    chan result
}

type result struct {
	body []byte
	err  error
}

func startInstance(f *function, seq int) (*instance, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("fglocal: runtime API listener: %w", err)
	}
	f.mu.Lock()
	env, gen := append([]string(nil), f.env...), f.gen
	f.mu.Unlock()
	inst := &instance{fn: f, gen: gen, next: make(chan *invocation, 1), pending: map[string]*invocation{}, exited: make(chan struct{})}
	inst.srv = &http.Server{Handler: http.HandlerFunc(inst.runtimeAPI), ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = inst.srv.Serve(ln) }()

	cmd := exec.Command(f.bin)
	cmd.Env = append(env, "RUNTIME_API_ADDR="+ln.Addr().String(), "RUNTIME_CODE_ROOT="+filepath.Dir(f.bin))
	prefix := fmt.Sprintf("[%s#%d] ", f.name, seq)
	cmd.Stdout = &prefixWriter{w: f.out, prefix: prefix}
	cmd.Stderr = &prefixWriter{w: f.out, prefix: prefix}
	cmd.SysProcAttr = sysProcAttr()
	if err := cmd.Start(); err != nil {
		_ = inst.srv.Close()
		return nil, fmt.Errorf("fglocal: starting %s: %w", f.name, err)
	}
	inst.cmd = cmd
	f.logger.Debug("cold start", "function", f.name, "instance", seq, "pid", cmd.Process.Pid)
	go func() {
		_ = cmd.Wait()
		close(inst.exited)
		inst.failPending(errCrashed)
	}()
	return inst, nil
}

func (i *instance) pid() int {
	if i.cmd == nil || i.cmd.Process == nil {
		return 0
	}
	return i.cmd.Process.Pid
}

func (i *instance) alive() bool {
	select {
	case <-i.exited:
		return false
	default:
		return true
	}
}

func (i *instance) invoke(ctx context.Context, payload []byte) ([]byte, error) {
	inv := &invocation{id: newID(), payload: payload, done: make(chan result, 1)}
	i.mu.Lock()
	i.pending[inv.id] = inv
	i.mu.Unlock()
	defer func() {
		i.mu.Lock()
		delete(i.pending, inv.id)
		i.mu.Unlock()
	}()
	select {
	case i.next <- inv:
	case <-i.exited:
		return nil, errCrashed
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	select {
	case res := <-inv.done:
		return res.body, res.err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

func (i *instance) failPending(err error) {
	i.mu.Lock()
	defer i.mu.Unlock()
	for _, inv := range i.pending {
		select {
		case inv.done <- result{err: err}:
		default:
		}
	}
}

// runtimeAPI serves the FunctionGraph runtime API to the instance's process.
func (i *instance) runtimeAPI(w http.ResponseWriter, r *http.Request) {
	const base = "/v1/runtime/invocation/"
	switch {
	case r.Method == http.MethodGet && r.URL.Path == base+"request":
		select {
		case inv := <-i.next:
			w.Header().Set("X-Cff-Request-Id", inv.id)
			w.Header().Set("X-Cff-Invoke-Type", "sync")
			w.Header().Set("Content-Type", "application/json")
			_, _ = w.Write(inv.payload)
		case <-r.Context().Done():
		case <-i.exited:
		}
	case r.Method == http.MethodPost && strings.HasPrefix(r.URL.Path, base+"response/"):
		i.deliver(w, r, strings.TrimPrefix(r.URL.Path, base+"response/"), nil)
	case r.Method == http.MethodPost && strings.HasPrefix(r.URL.Path, base+"error/"):
		i.deliver(w, r, strings.TrimPrefix(r.URL.Path, base+"error/"), errFunction)
	default:
		http.NotFound(w, r)
	}
}

func (i *instance) deliver(w http.ResponseWriter, r *http.Request, id string, fnErr error) {
	body, err := io.ReadAll(io.LimitReader(r.Body, 8<<20))
	if err != nil {
		http.Error(w, "unreadable body", http.StatusBadRequest)
		return
	}
	i.mu.Lock()
	inv, ok := i.pending[id]
	i.mu.Unlock()
	if !ok {
		http.Error(w, "unknown request id", http.StatusNotFound)
		return
	}
	if fnErr != nil {
		i.fn.logger.Warn("function reported an error", "function", i.fn.name, "error", string(bytes.TrimSpace(body)))
	}
	select {
	case inv.done <- result{body: body, err: fnErr}:
	default:
	}
	w.WriteHeader(http.StatusAccepted)
}

// stop terminates the process (SIGTERM, then SIGKILL after 2 s) and its runtime API.
func (i *instance) stop() {
	i.once.Do(func() {
		if i.cmd != nil && i.cmd.Process != nil && i.alive() {
			_ = i.cmd.Process.Signal(syscall.SIGTERM)
			select {
			case <-i.exited:
			case <-time.After(2 * time.Second):
				_ = i.cmd.Process.Kill()
				<-i.exited
			}
		}
		_ = i.srv.Close()
	})
}

// prefixWriter prefixes each line a function writes with its instance name.
type prefixWriter struct {
	mu     sync.Mutex
	w      io.Writer
	prefix string
	buf    []byte
}

func (p *prefixWriter) Write(b []byte) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.buf = append(p.buf, b...)
	for {
		i := bytes.IndexByte(p.buf, '\n')
		if i < 0 {
			break
		}
		line := append([]byte(p.prefix), p.buf[:i+1]...)
		if _, err := p.w.Write(line); err != nil {
			return len(b), err
		}
		p.buf = p.buf[i+1:]
	}
	return len(b), nil
}

package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"time"

	"github.com/kgseller/kgseller/shared/kgsign"
	"github.com/kgseller/kgseller/shared/marketplace"
	"github.com/kgseller/kgseller/shared/probe"
	"github.com/kgseller/kgseller/shared/store"
)

// benchKey is the key accessKey verifies as.
func benchKey() kgsign.Key { return kgsign.NewKey([]byte(accessKey), "bench") }

// seedInstance stores a provisioned instance for queryInstance to return.
func seedInstance(ctx context.Context, dsn string) (string, error) {
	st, err := store.Open(dsn, store.Options{})
	if err != nil {
		return "", err
	}
	defer st.Close()
	id := fmt.Sprintf("bench-%d", time.Now().UnixNano())
	if _, err := st.CreateInstance(ctx, marketplace.Instance{InstanceID: id, OrderID: id, OrderLineID: id + "-000001", BusinessID: id, TestFlag: true}); err != nil {
		return "", err
	}
	job, err := st.JobByKey(ctx, marketplace.JobProvision+":"+id)
	if err != nil {
		return "", err
	}
	if _, ok, err := st.ClaimJob(ctx, job.ID, "bench", time.Minute); err != nil || !ok {
		return "", fmt.Errorf("bench: claiming the seed instance's job: %v", err)
	}
	app := marketplace.AppInfo{FrontEndURL: "https://app.example.com/" + id, AdminURL: "https://admin.example.com/" + id}
	if err := st.CompleteJob(ctx, job.ID, "bench", store.ActivateInstance(id, app, "")); err != nil {
		return "", err
	}
	return id, nil
}

func queryBody(id string) []byte {
	return []byte(fmt.Sprintf(`{"activity":"queryInstance","instanceId":%q,"testFlag":"1"}`, id))
}

// signedRequest is a queryInstance request signed as the marketplace signs it.
func signedRequest(id string) (*http.Request, error) {
	c := &probe.Client{URL: "http://bench.local/saas/produce", Key: benchKey()}
	s, err := c.Sign(queryBody(id))
	if err != nil {
		return nil, err
	}
	req := httptest.NewRequest(http.MethodPost, s.URL, bytes.NewReader(s.Body))
	for k, v := range s.Headers {
		req.Header.Set(k, v)
	}
	return req, nil
}

// checkQuery verifies a queryInstance answer: 000000, signed with the key.
func checkQuery(status int, header http.Header, body []byte) error {
	var m struct {
		ResultCode string `json:"resultCode"`
	}
	if err := json.Unmarshal(body, &m); err != nil || status != http.StatusOK {
		return fmt.Errorf("queryInstance answered HTTP %d %.200s", status, body)
	}
	if m.ResultCode != string(marketplace.Success) {
		return fmt.Errorf("queryInstance answered %.200s", body)
	}
	if header.Get("Body-Sign") != kgsign.BodySignHeader(benchKey(), body) {
		return fmt.Errorf("queryInstance's Body-Sign does not verify")
	}
	return nil
}

// measureBilling times signed queryInstance calls on saas-produce: as the first
// request of a fresh instance (Reps times) and on a warm instance (Warm times).
func measureBilling(ctx context.Context, o Options, saas *target, be *backend, bar *progress) (*Billing, error) {
	id, err := seedInstance(ctx, be.dsn)
	if err != nil {
		return nil, err
	}
	call := func(e interface {
		ServeHTTP(http.ResponseWriter, *http.Request)
	}) (time.Duration, error) {
		req, err := signedRequest(id)
		if err != nil {
			return 0, err
		}
		rec := httptest.NewRecorder()
		start := time.Now()
		e.ServeHTTP(rec, req.WithContext(ctx))
		d := time.Since(start)
		return d, checkQuery(rec.Code, rec.Header(), rec.Body.Bytes())
	}
	b := &Billing{}
	for rep := 0; rep < o.Reps; rep++ {
		bar.set(fmt.Sprintf("billing: cold signed queryInstance %d/%d", rep+1, o.Reps))
		e, err := saas.emulator(be.env, 1, io.Discard)
		if err != nil {
			return nil, err
		}
		d, err := call(e)
		e.Close()
		if err != nil {
			return nil, fmt.Errorf("bench: cold queryInstance: %w", err)
		}
		b.Cold = append(b.Cold, d)
		bar.step()
	}
	bar.set(fmt.Sprintf("billing: %d warm signed queryInstance", o.Warm))
	e, err := saas.emulator(be.env, 1, io.Discard)
	if err != nil {
		return nil, err
	}
	defer e.Close()
	if _, err := call(e); err != nil {
		return nil, fmt.Errorf("bench: first queryInstance: %w", err)
	}
	for i := 0; i < o.Warm; i++ {
		d, err := call(e)
		if err != nil {
			return nil, fmt.Errorf("bench: warm queryInstance: %w", err)
		}
		b.Warm = append(b.Warm, d)
	}
	b.PeakRSS = childPeakRSS(saas.name)
	bar.step()
	return b, nil
}

// measureThroughput serves saas-produce and hello through the emulator over HTTP
// and measures, with Concurrency clients each, how many signed queryInstance and
// unsigned hello calls complete per second once both are warm.
func measureThroughput(ctx context.Context, o Options, saas, hello *target, be *backend, bar *progress) (*Throughput, error) {
	id, err := seedInstance(ctx, be.dsn)
	if err != nil {
		return nil, err
	}
	se, err := saas.emulator(be.env, o.Concurrency, io.Discard)
	if err != nil {
		return nil, err
	}
	defer se.Close()
	he, err := hello.emulator(be.env, o.Concurrency, io.Discard)
	if err != nil {
		return nil, err
	}
	defer he.Close()
	mux := http.NewServeMux()
	mux.Handle(saas.route.Path, se)
	mux.Handle(hello.route.Path, he)
	srv := httptest.NewServer(mux)
	defer srv.Close()
	hc := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: o.Concurrency, MaxConnsPerHost: o.Concurrency}}
	defer hc.CloseIdleConnections()

	t := &Throughput{Concurrency: o.Concurrency}
	var errMu sync.Mutex
	fail := func(err error) {
		errMu.Lock()
		defer errMu.Unlock()
		if t.FirstError == "" {
			t.FirstError = err.Error()
		}
	}
	qc := &probe.Client{URL: srv.URL + saas.route.Path, Key: benchKey(), HTTP: hc}
	query := func() error {
		a, err := qc.Post(ctx, queryBody(id))
		if err != nil {
			return err
		}
		return checkQuery(a.Status, a.Header, a.Body)
	}
	helloCall := func() error {
		resp, err := hc.Post(srv.URL+hello.route.Path, "application/json", bytes.NewReader(queryBody(id)))
		if err != nil {
			return err
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("hello answered HTTP %d %.200s", resp.StatusCode, body)
		}
		return nil
	}
	warmup := min(time.Second, o.Load/2)
	bar.set("throughput: hello")
	load(ctx, o.Concurrency, warmup, helloCall, fail)
	t.Hello = load(ctx, o.Concurrency, o.Load, helloCall, fail)
	bar.step()
	bar.set("throughput: signed queryInstance")
	load(ctx, o.Concurrency, warmup, query, fail)
	t.Query = load(ctx, o.Concurrency, o.Load, query, fail)
	bar.step()
	return t, nil
}

// load runs call from n goroutines for d and counts the calls that succeeded.
func load(ctx context.Context, n int, d time.Duration, call func() error, fail func(error)) Rate {
	var ok, bad atomic.Int64
	start := time.Now()
	deadline := start.Add(d)
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for time.Now().Before(deadline) && ctx.Err() == nil {
				if err := call(); err != nil {
					bad.Add(1)
					fail(err)
					continue
				}
				ok.Add(1)
			}
		}()
	}
	wg.Wait()
	return Rate{Calls: int(ok.Load()), Errors: int(bad.Load()), Elapsed: time.Since(start)}
}

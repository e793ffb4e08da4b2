package rtbench_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/kgseller/kgseller/shared/config"
	"github.com/kgseller/kgseller/shared/fulfil"

	"github.com/kgseller/kgseller/shared/tools/dbtest"
	"github.com/kgseller/kgseller/shared/tools/rtbench"
)

// newEnv is the catalogue over a fresh database on one counted connection, as a
// function instance holds it.
func newEnv(tb testing.TB) (*rtbench.Env, *rtbench.Catalogue) {
	tb.Helper()
	c := &dbtest.Counter{}
	env := &rtbench.Env{Store: dbtest.OpenCounted(tb, c), Counter: c}
	return env, rtbench.NewCatalogue(env)
}

// TestRoundTrips holds what every activity of every family costs the database:
// its round trips and its statements, for two calls each, with the answer each
// must give, and newInstance in each FULFIL_MODE. It counts and does not time.
// The statements are counted twice: by the counting connector and by the server
// itself (its per-session counter), so the figures are the database's own.
func TestRoundTrips(t *testing.T) {
	env, cat := newEnv(t)
	ctx := context.Background()
	if err := env.Store.Ping(ctx); err != nil {
		t.Fatal(err)
	}
	for _, a := range cat.Activities() {
		t.Run(a.Family+"/"+a.Name, func(t *testing.T) {
			for i := 0; i < 2; i++ {
				call, err := a.Prepare(ctx, i)
				if err != nil {
					t.Fatalf("preparing call %d: %v", i, err)
				}
				before, err := dbtest.ServerStatements(ctx, env.Store.DB().DB)
				if err != nil {
					t.Fatal(err)
				}
				s, err := env.Run(ctx, a, call, false)
				if err != nil {
					t.Fatalf("call %d: %v (%s)", i, err, dbtest.Engine())
				}
				after, err := dbtest.ServerStatements(ctx, env.Store.DB().DB)
				if err != nil {
					t.Fatal(err)
				}
				if s.Trips != int64(a.Trips) {
					t.Errorf("call %d: %d round trips, want %d (%s)", i, s.Trips, a.Trips, dbtest.Engine())
				}
				if s.Statements != int64(a.Statements) {
					t.Errorf("call %d: %d statements, want %d (%s)", i, s.Statements, a.Statements, dbtest.Engine())
				}
				if n := after - before - 1; n != s.Statements {
					t.Errorf("call %d: the server counted %d statements, the connector %d", i, n, s.Statements)
				}
			}
		})
	}
	if n := env.Counter.Dials(); n != 1 {
		t.Errorf("%d connections opened, want 1: a failed or abandoned transaction dropped one", n)
	}
	t.Run("saas-produce/newInstance in each FULFIL_MODE", newInstanceModes)
}

// BenchmarkActivities measures every activity of every family: ns/op, rt/op,
// stmt/op and x-floor (see Bench). Meant for MariaDB or MySQL:
//
//	TEST_MYSQL_DSN='root@tcp(127.0.0.1:3306)/test' go test -run '^$' -bench . ./shared/tools/rtbench
func BenchmarkActivities(b *testing.B) {
	env, cat := newEnv(b)
	for _, a := range cat.Activities() {
		b.Run(a.Family+"/"+a.Name, func(b *testing.B) { rtbench.Bench(b, env, a) })
	}
}

// newInstanceModes holds the first newInstance in each FULFIL_MODE. timer leaves
// the job to the worker's timer; async starts the worker with one asynchronous
// invocation and reads nothing again, the job being unable to have run yet;
// inline runs the job in the request (claim, instance, completion) and then reads
// the instance it made ACTIVE.
func newInstanceModes(t *testing.T) {
	for _, tc := range []struct {
		mode              string
		want              string
		trips, statements int
		kicks             int32
	}{
		{"timer", "000004", 3, 6, 0},
		{"async", "000004", 3, 6, 1},
		{"inline", "000000", 7, 11, 0},
	} {
		t.Run(tc.mode, func(t *testing.T) {
			var kicks atomic.Int32
			var jobs []string
			var mu sync.Mutex
			fg := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				body, _ := io.ReadAll(r.Body)
				if strings.HasSuffix(r.URL.Path, "/invocations-async") {
					kicks.Add(1)
					mu.Lock()
					jobs = append(jobs, string(body))
					mu.Unlock()
				}
				w.WriteHeader(http.StatusAccepted)
				_, _ = w.Write([]byte(`{"request_id":"r"}`))
			}))
			defer fg.Close()
			l := config.New(config.Map(map[string]string{
				config.FulfilMode: tc.mode, config.FulfilWorkerURN: "urn:fss:xx-region-1:0123456789abcdef:function:default:fulfil-worker:latest",
				config.FulfilWorkerEndpoint: fg.URL, config.CloudAK: "AK0123456789", config.CloudSK: "sk",
				"PROVISION_FRONTEND_URL": "https://app.example.com/i/{instanceId}", "KG_QUERY_ORDERS": "false",
			}))
			handoff := fulfil.Handoff(l, slog.New(slog.NewTextHandler(io.Discard, nil)), fulfil.InstanceJobs)
			if err := l.Err(); err != nil {
				t.Fatal(err)
			}
			env, cat := newEnv(t)
			cat.Fulfil = handoff(env.Store)
			a := cat.SaaS("saas-produce", cat.SaaSHandler(), rtbench.BasicKey)[0]
			a.Want, a.Trips, a.Statements = tc.want, tc.trips, tc.statements
			ctx := context.Background()
			if err := env.Store.Ping(ctx); err != nil {
				t.Fatal(err)
			}
			for i := 0; i < 2; i++ {
				s, err := env.Do(ctx, a, i, false)
				if err != nil {
					t.Fatalf("call %d: %v (%s)", i, err, dbtest.Engine())
				}
				if s.Trips != int64(tc.trips) || s.Statements != int64(tc.statements) {
					t.Errorf("call %d: %d round trips and %d statements, want %d and %d (%s)", i, s.Trips, s.Statements, tc.trips, tc.statements, dbtest.Engine())
				}
			}
			if got := kicks.Load(); got != 2*tc.kicks {
				t.Errorf("%d asynchronous invocations for 2 new instances, want %d", got, 2*tc.kicks)
			}
			// The worker, started for each job, spends the job's statements only
			// (claim, Query Order, completion; shared/wire/workerfn holds that its
			// invocation adds none): a new instance costs at most 10 in all.
			const endToEnd = 10
			for _, j := range jobs {
				var kick struct {
					JobID int64 `json:"jobId"`
				}
				if err := json.Unmarshal([]byte(j), &kick); err != nil || kick.JobID == 0 {
					t.Fatalf("the worker was started with %s", j)
				}
				before := env.Counter.Statements()
				if out, err := cat.Runner().Run(ctx, kick.JobID); err != nil || out != fulfil.Done {
					t.Fatalf("job %d: %s %v", kick.JobID, out, err)
				}
				if n := tc.statements + int(env.Counter.Statements()-before); n > endToEnd {
					t.Errorf("a new instance cost %d statements, endpoint and worker together; want at most %d (%s)", n, endToEnd, dbtest.Engine())
				}
			}
		})
	}
}

// TestPurgeCostsNoRoundTrip: a request that also purges expired nonces
// (KG_NONCE_PURGE_EVERY) does it in the round trip that stores its nonce.
func TestPurgeCostsNoRoundTrip(t *testing.T) {
	env, cat := newEnv(t)
	cat.PurgeEvery = 1
	ctx := context.Background()
	if err := env.Store.Ping(ctx); err != nil {
		t.Fatal(err)
	}
	for _, a := range cat.SaaS("saas-produce", cat.SaaSHandler(), rtbench.BasicKey)[:2] {
		a.Statements++ // the DELETE
		if _, err := env.Do(ctx, a, 0, false); err != nil {
			t.Fatalf("%v (%s)", err, dbtest.Engine())
		}
		s, err := env.Do(ctx, a, 1, false)
		if err != nil {
			t.Fatalf("%v (%s)", err, dbtest.Engine())
		}
		if s.Trips != int64(a.Trips) || s.Statements != int64(a.Statements) {
			t.Errorf("%s purging: %d round trips and %d statements, want %d and %d (%s)", a.Name, s.Trips, s.Statements, a.Trips, a.Statements, dbtest.Engine())
		}
	}
}

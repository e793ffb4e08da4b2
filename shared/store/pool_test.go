package store_test

import (
	"bytes"
	"context"
	"database/sql/driver"
	"encoding/json"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"

	"github.com/kgseller/kgseller/shared/config"
	"github.com/kgseller/kgseller/shared/marketplace"
	"github.com/kgseller/kgseller/shared/store"
	"github.com/kgseller/kgseller/shared/tools/dbtest"
)

func settings(m map[string]string) *config.Loader {
	return config.New(func(k string) string { return m[k] })
}

// TestPoolSettings: an event-function instance serves one request at a time, so
// its pool holds one connection, kept idle between invocations, and every
// connection is retired before the server's wait_timeout could close it.
func TestPoolSettings(t *testing.T) {
	l := settings(map[string]string{"DB_DSN": "u:p@tcp(db:3306)/kg"})
	_, o := store.Load(l)
	if err := l.Err(); err != nil {
		t.Fatal(err)
	}
	if o.MaxOpen != 1 || o.MaxIdle != 1 || o.MaxLifetime != 5*time.Minute || o.MaxIdleTime != time.Minute {
		t.Errorf("defaults %+v; want one connection, kept idle, 5m lifetime, 1m idle time", o)
	}
	l = settings(map[string]string{"DB_DSN": "u:p@tcp(db:3306)/kg", "DB_MAX_OPEN": "2", "DB_CONN_MAX_LIFETIME": "90s", "DB_CONN_MAX_IDLE_TIME": "20s"})
	if _, o = store.Load(l); l.Err() != nil || o.MaxOpen != 2 || o.MaxIdle != 2 || o.MaxLifetime != 90*time.Second || o.MaxIdleTime != 20*time.Second {
		t.Errorf("settings %+v (%v)", o, l.Err())
	}
	for _, bad := range []map[string]string{
		{"DB_MAX_OPEN": "0"}, {"DB_MAX_IDLE": "-1"}, {"DB_CONN_MAX_LIFETIME": "1ms"}, {"DB_CONN_MAX_IDLE_TIME": "soon"},
	} {
		bad["DB_DSN"] = "u:p@tcp(db:3306)/kg"
		l := settings(bad)
		store.Load(l)
		if l.Err() == nil {
			t.Errorf("%v accepted", bad)
		}
	}

	dsn := dbtest.NewDatabase(t)
	s, err := store.Open(dsn, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.Ping(context.Background()); err != nil {
		t.Fatal(err)
	}
	if st := s.DB().Stats(); st.MaxOpenConnections != 1 || st.Idle != 1 {
		t.Errorf("pool after a call: max open %d, idle %d; want 1 and 1 (the connection stays warm)", st.MaxOpenConnections, st.Idle)
	}
}

// refusing fails the next n connection attempts the way a server at
// max_connections does (MySQL error 1040), then lets them through.
type refusing struct {
	mu   sync.Mutex
	n    int
	next driver.Connector
}

func (r *refusing) refuse(n int) { r.mu.Lock(); r.n = n; r.mu.Unlock() }

func (r *refusing) Connect(ctx context.Context) (driver.Conn, error) {
	r.mu.Lock()
	refuse := r.n > 0
	if refuse {
		r.n--
	}
	r.mu.Unlock()
	if refuse {
		return nil, &mysql.MySQLError{Number: 1040, Message: "Too many connections"}
	}
	return r.next.Connect(ctx)
}

func (r *refusing) Driver() driver.Driver { return r.next.Driver() }

type logLine struct {
	Level   string `json:"level"`
	Msg     string `json:"msg"`
	Refused int    `json:"refused"`
}

func lines(t *testing.T, buf *bytes.Buffer) []logLine {
	t.Helper()
	var out []logLine
	for _, l := range strings.Split(strings.TrimSpace(buf.String()), "\n") {
		if l == "" {
			continue
		}
		var ll logLine
		if err := json.Unmarshal([]byte(l), &ll); err != nil {
			t.Fatalf("log line %q: %v", l, err)
		}
		out = append(out, ll)
	}
	return out
}

// TestRefusedConnectionsAreBusy: a server at its connection limit makes every
// call fail at once with marketplace.ErrBusy (the endpoints answer 000005), the
// burst of refusals is logged once, and its end once with the count.
func TestRefusedConnectionsAreBusy(t *testing.T) {
	dsn := dbtest.NewDatabase(t)
	r := &refusing{}
	var buf bytes.Buffer
	s, err := store.Open(dsn, store.Options{
		Wrap:   func(c driver.Connector) driver.Connector { r.next = c; return r },
		Logger: slog.New(slog.NewJSONHandler(&buf, nil)),
	})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	for burst := 1; burst <= 2; burst++ {
		buf.Reset()
		r.refuse(3)
		for i := 0; i < 3; i++ {
			err := s.RememberNonce(ctx, "scope", "nonce", time.Now().Add(time.Hour), 0)
			if !errors.Is(err, marketplace.ErrBusy) {
				t.Fatalf("burst %d, call %d: %v; want ErrBusy", burst, i, err)
			}
		}
		if err := s.RememberNonce(ctx, "scope", "nonce-"+string(rune('a'+burst)), time.Now().Add(time.Hour), 0); err != nil {
			t.Fatalf("after the burst: %v", err)
		}
		got := lines(t, &buf)
		if len(got) != 2 || got[0].Level != "ERROR" || !strings.Contains(got[0].Msg, "too many connections") ||
			got[1].Level != "WARN" || !strings.Contains(got[1].Msg, "accepts connections again") || got[1].Refused != 3 {
			t.Fatalf("burst %d logged %+v; want one line at the first refusal and one with the count at the end", burst, got)
		}
		// The connection made after the burst stays for the next call.
		if err := s.Ping(ctx); err != nil {
			t.Fatal(err)
		}
		if len(lines(t, &buf)) != 2 {
			t.Fatalf("a call on a warm connection logged: %s", buf.String())
		}
		s.DB().SetMaxIdleConns(0) // the next burst starts on a cold pool
		s.DB().SetMaxIdleConns(1)
	}
}

// TestServerAtMaxConnections: what a MySQL or MariaDB server at max_connections
// sends (an error packet 1040 instead of its greeting) reaches the caller as
// ErrBusy, through the real driver.
func TestServerAtMaxConnections(t *testing.T) {
	s, err := store.Open(dbtest.RefusingServer(t), store.Options{Logger: slog.New(slog.NewJSONHandler(&bytes.Buffer{}, nil))})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	err = s.Ping(context.Background())
	var me *mysql.MySQLError
	if !errors.Is(err, marketplace.ErrBusy) || !errors.As(err, &me) || me.Number != 1040 {
		t.Fatalf("ping: %v; want ErrBusy wrapping MySQL 1040", err)
	}
}

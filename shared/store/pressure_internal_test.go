package store

import (
	"bytes"
	"context"
	"database/sql/driver"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"
)

type failing struct{ err error }

func (f failing) Connect(context.Context) (driver.Conn, error) { return nil, f.err }
func (f failing) Driver() driver.Driver                        { return nil }

// TestLongBurstIsLoggedEveryMinute: a burst of refusals that goes on is logged
// again once a minute with the count, not once per refusal; other connection
// errors (an unreachable server) are not counted as refusals.
func TestLongBurstIsLoggedEveryMinute(t *testing.T) {
	var buf bytes.Buffer
	now := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	p := &pressure{next: failing{&mysql.MySQLError{Number: 1203, Message: "User kg already has more than 'max_user_connections' active connections"}},
		logger: slog.New(slog.NewTextHandler(&buf, nil)), now: func() time.Time { return now }}
	for i := 0; i < 150; i++ { // one refusal a second for 150 s
		if _, err := p.Connect(context.Background()); err == nil {
			t.Fatal("connected")
		}
		now = now.Add(time.Second)
	}
	if n := strings.Count(buf.String(), "\n"); n != 3 {
		t.Fatalf("%d lines for 150 refusals over 150 s, want 3 (the first, after 60 s, after 120 s):\n%s", n, buf.String())
	}
	if !strings.Contains(buf.String(), "refused=121") {
		t.Errorf("the last reminder does not count the refusals:\n%s", buf.String())
	}

	buf.Reset()
	down := errors.New("dial tcp 10.0.0.1:3306: connect: connection refused")
	q := &pressure{next: failing{down}, logger: slog.New(slog.NewTextHandler(&buf, nil)), now: time.Now}
	if _, err := q.Connect(context.Background()); !errors.Is(err, down) || q.refused != 0 || buf.Len() != 0 {
		t.Errorf("an unreachable server: err %v, counted %d, logged %q", err, q.refused, buf.String())
	}
}

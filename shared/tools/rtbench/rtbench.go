// Package rtbench measures what each activity of each function family costs the
// database: its round trips and statements, counted by shared/tools/dbtest's
// counting connector, and its time against its floor, the very statements it sent,
// sent again raw on the same connection. Its catalogue (families.go) drives every
// activity through the handler a function assembles, over one counted connection
// as a function instance holds it. TestRoundTrips holds the counts on whichever
// engine the tests run on; the benchmarks (go test -bench) and scripts/bench
// report the figures.
package rtbench

import (
	"context"
	"database/sql/driver"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/kgseller/kgseller/shared/store"
	"github.com/kgseller/kgseller/shared/tools/dbtest"
)

// Activity is one activity of one function family.
type Activity struct {
	Family string // the function, e.g. "saas-produce"
	Name   string // the activity and the case measured
	// Want is the result every call must end with: the answer's resultCode, or a
	// job's outcome.
	Want string
	// Trips and Statements are what one call must cost the database.
	Trips, Statements int
	// Prepare makes call i ready: the rows it needs and its request. What it
	// writes is not counted.
	Prepare func(ctx context.Context, i int) (Call, error)
}

// Call is one prepared call of an activity.
type Call struct {
	// Run makes the call; it is what is timed and counted.
	Run func(ctx context.Context) error
	// Result returns what the call ended with, after checking its answer's shape.
	Result func() (string, error)
	// Twin names, for each string and id unique to this call, its counterpart on
	// rows prepared for the floor in the same state: the floor sends the call's
	// statements again with these replaced, so that they do the same work.
	Twin Twin
}

// Twin maps a call's own strings and ids to those of its floor's rows.
type Twin struct {
	Strings map[string]string
	IDs     map[int64]int64
}

func (t *Twin) str(from, to string) {
	if t.Strings == nil {
		t.Strings = map[string]string{}
	}
	t.Strings[from] = to
}

func (t *Twin) id(from, to int64) {
	if t.IDs == nil {
		t.IDs = map[int64]int64{}
	}
	t.IDs[from] = to
}

// value replaces what the twin names in one argument.
func (t Twin) value(v driver.Value) driver.Value {
	switch x := v.(type) {
	case string:
		for from, to := range t.Strings {
			x = strings.ReplaceAll(x, from, to)
		}
		return x
	case []byte:
		s := string(x)
		for from, to := range t.Strings {
			s = strings.ReplaceAll(s, from, to)
		}
		return []byte(s)
	case int64:
		if to, ok := t.IDs[x]; ok {
			return to
		}
	}
	return v
}

// Env is the catalogue's families over one counted store.
type Env struct {
	Store   *store.Store
	Counter *dbtest.Counter
}

// Sample is one call, measured.
type Sample struct {
	Result            string
	Trips, Statements int64
	Took, Floor       time.Duration
	sent              []dbtest.Sent
	twin              Twin
}

// Do prepares and makes call i of a, then sends its statements again raw for its
// floor (when floor is set), and reports both.
func (e *Env) Do(ctx context.Context, a Activity, i int, floor bool) (Sample, error) {
	c, err := a.Prepare(ctx, i)
	if err != nil {
		return Sample{}, fmt.Errorf("%s %s: preparing call %d: %w", a.Family, a.Name, i, err)
	}
	return e.Run(ctx, a, c, floor)
}

// Run makes a prepared call and, when floor is set, its floor.
func (e *Env) Run(ctx context.Context, a Activity, c Call, floor bool) (Sample, error) {
	var s Sample
	trips, stmts := e.Counter.RoundTrips(), e.Counter.Statements()
	e.Counter.Record()
	start := time.Now()
	err := c.Run(ctx)
	s.Took = time.Since(start)
	s.sent, s.twin = e.Counter.Recorded(), c.Twin
	s.Trips, s.Statements = e.Counter.RoundTrips()-trips, e.Counter.Statements()-stmts
	if err != nil {
		return s, fmt.Errorf("%s %s: %w", a.Family, a.Name, err)
	}
	if s.Result, err = c.Result(); err != nil {
		return s, fmt.Errorf("%s %s: %w", a.Family, a.Name, err)
	}
	if s.Result != a.Want {
		return s, fmt.Errorf("%s %s ended with %s, want %s", a.Family, a.Name, s.Result, a.Want)
	}
	if floor {
		if err := e.Floor(ctx, a, &s); err != nil {
			return s, err
		}
	}
	return s, nil
}

// Floor sends a call's statements again raw and sets its Floor.
func (e *Env) Floor(ctx context.Context, a Activity, s *Sample) error {
	d, err := e.replay(ctx, s.sent, s.twin)
	if err != nil {
		return fmt.Errorf("%s %s: floor: %w", a.Family, a.Name, err)
	}
	s.Floor = d
	return nil
}

// replay sends what a call sent again, on the store's connection, with the twin's
// strings and ids, and returns how long that took.
func (e *Env) replay(ctx context.Context, sent []dbtest.Sent, twin Twin) (time.Duration, error) {
	conn, err := e.Store.DB().Conn(ctx)
	if err != nil {
		return 0, err
	}
	defer conn.Close()
	// The arguments are prepared before the clock starts.
	type send struct {
		q    string
		args []any
		kind string
	}
	sends := make([]send, len(sent))
	for i, s := range sent {
		args := make([]any, len(s.Args))
		for j, a := range s.Args {
			args[j] = twin.value(a.Value)
		}
		sends[i] = send{q: s.Query, args: args, kind: s.Kind}
		switch s.Kind {
		case dbtest.SentBegin:
			sends[i].q = "START TRANSACTION"
		case dbtest.SentCommit:
			sends[i].q = "COMMIT"
		case dbtest.SentRollback:
			sends[i].q = "ROLLBACK"
		}
	}
	// Every request's statements run under its budget, a context with a deadline,
	// which the driver and database/sql watch at each statement: the floor's do too.
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	start := time.Now()
	for _, s := range sends {
		if s.kind != dbtest.SentQuery {
			if _, err := conn.ExecContext(ctx, s.q, s.args...); err != nil {
				return 0, fmt.Errorf("%.60q: %w", s.q, err)
			}
			continue
		}
		rows, err := conn.QueryContext(ctx, s.q, s.args...)
		if err != nil {
			return 0, fmt.Errorf("%.60q: %w", s.q, err)
		}
		for {
			for rows.Next() {
			}
			if !rows.NextResultSet() {
				break
			}
		}
		err = errors.Join(rows.Err(), rows.Close())
		if err != nil {
			return 0, fmt.Errorf("%.60q: %w", s.q, err)
		}
	}
	return time.Since(start), nil
}

// Result is an activity measured over several calls.
type Result struct {
	Family, Name string
	Calls        int
	// Trips and Statements per call (every call must cost the same).
	Trips, Statements int64
	// Median and Floor are the medians of the calls' times and of their floors'.
	Median, Floor time.Duration
	// Ratio is the median of each call's time over its own floor's: a call and its
	// floor run back to back, so a busy moment of the machine or the server,
	// which lands on both or on one pair, moves the median little.
	Ratio float64
}

// ratio is the median of took[i]/floor[i].
func ratio(took, floor []time.Duration) float64 {
	rs := make([]float64, 0, len(took))
	for i := range took {
		if floor[i] > 0 {
			rs = append(rs, float64(took[i])/float64(floor[i]))
		}
	}
	if len(rs) == 0 {
		return 0
	}
	slices.Sort(rs)
	if len(rs)%2 == 1 {
		return rs[len(rs)/2]
	}
	return (rs[len(rs)/2-1] + rs[len(rs)/2]) / 2
}

// Measure makes n calls of a, each followed by its floor, and reports the medians.
// Every call must end with a.Want and cost a.Trips round trips and a.Statements
// statements.
func (e *Env) Measure(ctx context.Context, a Activity, n int) (Result, error) {
	calls := make([]Call, n)
	for i := range calls {
		c, err := a.Prepare(ctx, i)
		if err != nil {
			return Result{}, fmt.Errorf("%s %s: preparing call %d: %w", a.Family, a.Name, i, err)
		}
		calls[i] = c
	}
	took, floor := make([]time.Duration, n), make([]time.Duration, n)
	for i, c := range calls {
		s, err := e.Run(ctx, a, c, true)
		if err != nil {
			return Result{}, err
		}
		if err := a.check(s); err != nil {
			return Result{}, err
		}
		took[i], floor[i] = s.Took, s.Floor
	}
	return Result{Family: a.Family, Name: a.Name, Calls: n, Trips: int64(a.Trips), Statements: int64(a.Statements),
		Median: median(took), Floor: median(floor), Ratio: ratio(took, floor)}, nil
}

// check compares a call's counts with the activity's.
func (a Activity) check(s Sample) error {
	if s.Trips != int64(a.Trips) || s.Statements != int64(a.Statements) {
		return fmt.Errorf("%s %s: %d round trips and %d statements, want %d and %d", a.Family, a.Name,
			s.Trips, s.Statements, a.Trips, a.Statements)
	}
	return nil
}

func median(ds []time.Duration) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

package fgdeploy

import (
	"errors"
	"fmt"
	"io"
	"strconv"

	"github.com/kgseller/kgseller/shared/config"
	"github.com/kgseller/kgseller/shared/fakes/fgcontract"
	"github.com/kgseller/kgseller/shared/store"
	"github.com/kgseller/kgseller/shared/tools/manifest"
)

// Term is one function's share of the database's connections: each of its
// instances may hold its whole pool.
type Term struct {
	Function     string
	MaxInstances int // -1: no limit
	Pool         int // connections per instance (DB_MAX_OPEN)
}

// Connections is MaxInstances × Pool, or -1 when the instances are unlimited.
func (t Term) Connections() int {
	if t.MaxInstances == fgcontract.MaxInstancesUnlimited {
		return -1
	}
	return t.MaxInstances * t.Pool
}

// Budget compares what the functions of serverless.yml could open with what
// custom.database.connectionBudget allows.
type Budget struct {
	Allowed int
	Terms   []Term // the functions that use the database, by name
}

// Total is Σ MaxInstances × Pool over the terms; unlimited is true when a
// function that uses the database has no instance limit.
func (b Budget) Total() (total int, unlimited bool) {
	for _, t := range b.Terms {
		if n := t.Connections(); n < 0 {
			unlimited = true
		} else {
			total += n
		}
	}
	return total, unlimited
}

// ErrOverBudget is returned when the functions could open more connections than
// the budget allows.
var ErrOverBudget = errors.New("the functions could open more database connections than custom.database.connectionBudget allows")

// ConnectionBudget computes the budget of every function of m that uses the
// database (declares DB_DSN), whether or not this run deploys it: they all share
// the database.
func ConnectionBudget(m *manifest.Manifest) (Budget, error) {
	b := Budget{Allowed: m.Custom.Database.ConnectionBudget}
	for _, name := range m.Names() {
		fn := m.Functions[name]
		pool, err := databasePool(m, fn)
		if err != nil {
			return Budget{}, fmt.Errorf("%s: %w", name, err)
		}
		if pool == 0 {
			continue
		}
		n, err := maxInstances(fn)
		if err != nil {
			return Budget{}, fmt.Errorf("%s: %w", name, err)
		}
		b.Terms = append(b.Terms, Term{Function: name, MaxInstances: n, Pool: pool})
	}
	return b, nil
}

// Check returns ErrOverBudget (wrapped with the figures) when the sum exceeds the
// budget, a function that uses the database has no instance limit, or no budget
// is set while functions use the database.
func (b Budget) Check() error {
	total, unlimited := b.Total()
	switch {
	case len(b.Terms) == 0:
		return nil
	case b.Allowed <= 0:
		return fmt.Errorf("%w: custom.database.connectionBudget is not set (the connections the functions may hold: the database's max_connections less what else connects)", ErrOverBudget)
	case unlimited:
		return fmt.Errorf("%w: a function that uses the database has maxInstances -1 (no limit)", ErrOverBudget)
	case total > b.Allowed:
		return fmt.Errorf("%w: %d connections, the budget is %d", ErrOverBudget, total, b.Allowed)
	}
	return nil
}

// Write prints the sum and each term.
func (b Budget) Write(w io.Writer) {
	total, unlimited := b.Total()
	sum := strconv.Itoa(total)
	if unlimited {
		sum = "unlimited"
	}
	fmt.Fprintf(w, "database connections: Σ maxInstances × pool = %s of %d (custom.database.connectionBudget)\n", sum, b.Allowed)
	for _, t := range b.Terms {
		inst, conns := strconv.Itoa(t.MaxInstances), strconv.Itoa(t.Connections())
		if t.MaxInstances == fgcontract.MaxInstancesUnlimited {
			inst, conns = "unlimited", "unlimited"
		}
		fmt.Fprintf(w, "  %-22s %9s instances × %d connection%s = %s\n", t.Function, inst, t.Pool, plural(t.Pool), conns)
	}
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

// databasePool is how many connections one instance of fn may open: 0 when it
// does not use the database (no DB_DSN among its settings), else its pool as
// store.Load reads it from the function's plain settings.
func databasePool(m *manifest.Manifest, fn manifest.Function) (int, error) {
	plain := m.Env(fn)
	_, inPlain := plain[config.DBDSN]
	_, inSecret := fn.EncryptedUserData[config.DBDSN]
	if !inPlain && !inSecret {
		return 0, nil
	}
	l := config.New(func(k string) string {
		if k == config.DBDSN {
			return "set" // the value is not this check's concern
		}
		return plain[k]
	})
	_, o := store.Load(l)
	if err := l.Err(); err != nil {
		return 0, fmt.Errorf("the database pool settings: %w", err)
	}
	return o.MaxOpen, nil
}

// maxInstances is the function's declared maximum instances, checked against
// FunctionGraph's range.
func maxInstances(fn manifest.Function) (int, error) {
	switch {
	case fn.MaxInstances == nil:
		return 0, fmt.Errorf("maxInstances is not declared (FunctionGraph's default is %d instances; docs/performance.md, Capacity)", fgcontract.MaxInstancesDefault)
	case *fn.MaxInstances == fgcontract.MaxInstancesDisabled:
		return 0, errors.New("maxInstances 0 disables the function")
	case !fgcontract.MaxInstancesOK(*fn.MaxInstances):
		return 0, fmt.Errorf("maxInstances %d is outside FunctionGraph's -1 (no limit) and 1–%d", *fn.MaxInstances, fgcontract.MaxInstancesMax)
	}
	return *fn.MaxInstances, nil
}

// describeMax is the plan's wording of a maximum-instances value.
func describeMax(n int) string {
	if n == fgcontract.MaxInstancesUnlimited {
		return "unlimited"
	}
	return strconv.Itoa(n)
}

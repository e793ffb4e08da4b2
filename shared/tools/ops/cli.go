package ops

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/kgseller/kgseller/shared/marketplace"
	"github.com/kgseller/kgseller/shared/store"
	"github.com/kgseller/kgseller/shared/tools/localstate"
)

// Exit statuses of Main.
const (
	ExitOK    = 0
	ExitError = 1
	ExitUsage = 2
)

const usage = `usage: ops [-dsn DSN] [-json] COMMAND [flags]

Reads the database named by -dsn or DB_DSN, else the running local run's
(go run ./scripts/local; its state file, $KG_LOCAL_STATE to move it). Only retry and purge-nonces write, and
only with -yes; without it they print what they would change.

commands:
  summary                      instances by status and state, jobs by state, dead jobs by kind, nonces,
                               the interface monitor's failing and alerted checks
  health                       the interface monitor: each check's state, the last runs and failures,
                               the oldest stuck job
      -check NAME  -runs N (20)  -stuck-after DURATION (15m)
  instances                    list instances, newest first
      -status NORMAL|FROZEN|RELEASED  -state PROVISIONING|ACTIVE|FAILED  -order ID  -line ID  -limit N
  orders                       list orders applied to instances (renewals, cancellations, upgrades)
      -instance ID  -order ID  -line ID  -kind KIND  -limit N
  jobs                         list outbox jobs, newest first
      -state PENDING|DONE|DEAD  -kind KIND  -instance ID  -limit N
  history                      one order's (or instance's) instances, applied orders and jobs
      -order ID [-line ID] | -instance ID
  retry [-yes] [-keep-attempts] JOB_ID...   requeue dead jobs: PENDING, due now,
        [-yes] [-keep-attempts] -all-dead [-kind KIND]   attempts reset to 0 unless -keep-attempts
  purge-nonces [-yes] [-batch N]            delete expired nonces

every command also takes -json (machine-readable output) and -dsn.
`

// localDSN is the database of a running local run (its state file), when
// neither -dsn nor DB_DSN names one; it says so on stderr, since a command
// reading the wrong database would mislead.
func localDSN(getenv func(string) string, stderr io.Writer) string {
	path, err := localstate.Path(getenv)
	if err != nil {
		return ""
	}
	s, err := localstate.Read(path)
	if err != nil {
		if !errors.Is(err, localstate.ErrNotRunning) {
			fmt.Fprintln(stderr, "ops:", err)
		}
		return ""
	}
	if s.DSN != "" {
		fmt.Fprintf(stderr, "ops: using the local run's database (state file %s)\n", path)
	}
	return s.DSN
}

// common are the flags every command accepts, before or after its name.
type common struct {
	dsn  string
	json bool
}

func (c *common) register(fs *flag.FlagSet) {
	fs.StringVar(&c.dsn, "dsn", c.dsn, "MySQL DSN (default $DB_DSN); prefer the variable, a flag shows in the process list")
	fs.BoolVar(&c.json, "json", c.json, "write JSON instead of tables")
}

// Main runs the ops command with args (without the program name) and returns the
// exit status. getenv supplies DB_DSN.
func Main(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	var c common
	global := flag.NewFlagSet("ops", flag.ContinueOnError)
	global.SetOutput(stderr)
	global.Usage = func() { fmt.Fprint(stderr, usage) }
	c.register(global)
	if err := global.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return ExitOK
		}
		return ExitUsage
	}
	if global.NArg() == 0 {
		fmt.Fprint(stderr, usage)
		return ExitUsage
	}
	cmd, rest := global.Arg(0), global.Args()[1:]
	if cmd == "help" || cmd == "-h" {
		fmt.Fprint(stdout, usage)
		return ExitOK
	}
	fs := flag.NewFlagSet("ops "+cmd, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, usage) }
	c.register(fs)
	run, ok := commands[cmd]
	if !ok {
		fmt.Fprintf(stderr, "ops: unknown command %q\n\n%s", cmd, usage)
		return ExitUsage
	}
	exec := run(fs)
	positional, err := parseInterspersed(fs, rest)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return ExitOK
		}
		return ExitUsage
	}
	dsn := c.dsn
	if dsn == "" {
		dsn = getenv("DB_DSN")
	}
	if dsn == "" {
		dsn = localDSN(getenv, stderr)
	}
	if dsn == "" {
		fmt.Fprintln(stderr, "ops: no database: set DB_DSN (or pass -dsn), or start a local run (go run ./scripts/local)")
		return ExitUsage
	}
	st, err := store.Open(dsn, store.Options{MaxOpen: 2, MaxIdle: 1})
	if err != nil {
		fmt.Fprintln(stderr, "ops:", err)
		return ExitUsage
	}
	defer st.Close()
	pctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := st.Ping(pctx); err != nil {
		fmt.Fprintln(stderr, "ops: cannot reach the database:", err)
		return ExitError
	}
	out := &output{w: stdout, json: c.json}
	if err := exec(ctx, &Ops{Store: st}, positional, out); err != nil {
		var u usageError
		if errors.As(err, &u) {
			fmt.Fprintf(stderr, "ops %s: %v\n", cmd, err)
			return ExitUsage
		}
		fmt.Fprintf(stderr, "ops %s: %v\n", cmd, err)
		return ExitError
	}
	return ExitOK
}

// parseInterspersed parses flags wherever they stand among the arguments
// (ops retry 12 -yes), returning the positional arguments in order.
func parseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	var positional []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		if fs.NArg() == 0 {
			return positional, nil
		}
		positional = append(positional, fs.Arg(0))
		args = fs.Args()[1:]
	}
}

type usageError struct{ msg string }

func (u usageError) Error() string { return u.msg }

func usagef(format string, args ...any) error { return usageError{fmt.Sprintf(format, args...)} }

// command registers its flags on fs and returns what runs after parsing.
type command func(fs *flag.FlagSet) func(ctx context.Context, o *Ops, args []string, out *output) error

var commands = map[string]command{
	"summary":      summaryCmd,
	"health":       healthCmd,
	"instances":    instancesCmd,
	"orders":       ordersCmd,
	"jobs":         jobsCmd,
	"history":      historyCmd,
	"retry":        retryCmd,
	"purge-nonces": purgeCmd,
}

func noArgs(args []string) error {
	if len(args) > 0 {
		return usagef("unexpected arguments: %s", strings.Join(args, " "))
	}
	return nil
}

func oneOf(name, v string, allowed ...string) error {
	if v != "" && !slices.Contains(allowed, v) {
		return usagef("-%s %q: want one of %s", name, v, strings.Join(allowed, ", "))
	}
	return nil
}

func summaryCmd(fs *flag.FlagSet) func(context.Context, *Ops, []string, *output) error {
	return func(ctx context.Context, o *Ops, args []string, out *output) error {
		if err := noArgs(args); err != nil {
			return err
		}
		s, err := o.Summary(ctx)
		if err != nil {
			return err
		}
		if out.json {
			return out.encode(s)
		}
		t := out.table("WHAT", "VALUE", "COUNT")
		for _, sec := range []struct {
			what string
			m    map[string]int
		}{{"instances by status", s.InstancesByStatus}, {"instances by state", s.InstancesByState},
			{"jobs by state", s.JobsByState}, {"dead jobs by kind", s.DeadJobsByKind}} {
			if len(sec.m) == 0 {
				t.row(sec.what, "-", "0")
			}
			for _, k := range sortedKeys(sec.m) {
				t.row(sec.what, k, strconv.Itoa(sec.m[k]))
			}
		}
		t.row("nonces", "stored", strconv.FormatInt(s.Nonces, 10))
		t.row("nonces", "expired (purge-nonces deletes them)", strconv.FormatInt(s.ExpiredNonces, 10))
		t.row("monitor", "checks", strconv.Itoa(s.Monitor.Checks))
		t.row("monitor", "failing: "+strings.Join(s.Monitor.Failing, ", "), strconv.Itoa(len(s.Monitor.Failing)))
		t.row("monitor", "alerted: "+strings.Join(s.Monitor.Alerted, ", "), strconv.Itoa(len(s.Monitor.Alerted)))
		t.row("monitor", "last run "+tsp(s.Monitor.LastRunAt), "")
		return t.flush()
	}
}

func healthCmd(fs *flag.FlagSet) func(context.Context, *Ops, []string, *output) error {
	var q HealthQuery
	fs.StringVar(&q.Check, "check", "", "only this check (e.g. interface, database, jobs.dead)")
	fs.IntVar(&q.Runs, "runs", 20, "how many recent runs and failures (max 1000)")
	fs.DurationVar(&q.StuckAfter, "stuck-after", 15*time.Minute, "a PENDING job due for longer than this is stuck")
	return func(ctx context.Context, o *Ops, args []string, out *output) error {
		if err := noArgs(args); err != nil {
			return err
		}
		h, err := o.Health(ctx, q)
		if err != nil {
			return err
		}
		if out.json {
			return out.encode(h)
		}
		return out.health(h)
	}
}

func instancesCmd(fs *flag.FlagSet) func(context.Context, *Ops, []string, *output) error {
	var f store.InstanceFilter
	fs.StringVar(&f.Status, "status", "", "NORMAL, FROZEN or RELEASED")
	fs.StringVar(&f.State, "state", "", "PROVISIONING, ACTIVE or FAILED")
	fs.StringVar(&f.OrderID, "order", "", "the creating order")
	fs.StringVar(&f.OrderLineID, "line", "", "the creating order line")
	fs.IntVar(&f.Limit, "limit", store.DefaultListLimit, "at most this many rows (max 1000)")
	return func(ctx context.Context, o *Ops, args []string, out *output) error {
		if err := errors.Join(noArgs(args),
			oneOf("status", f.Status, string(marketplace.Normal), string(marketplace.Frozen), string(marketplace.Released)),
			oneOf("state", f.State, string(marketplace.Provisioning), string(marketplace.Active), string(marketplace.Failed))); err != nil {
			return usagef("%v", err)
		}
		list, err := o.Instances(ctx, f)
		if err != nil {
			return err
		}
		if out.json {
			return out.encode(list)
		}
		return out.instances(list)
	}
}

func ordersCmd(fs *flag.FlagSet) func(context.Context, *Ops, []string, *output) error {
	var f store.OrderFilter
	fs.StringVar(&f.InstanceID, "instance", "", "instance ID")
	fs.StringVar(&f.OrderID, "order", "", "order ID")
	fs.StringVar(&f.OrderLineID, "line", "", "order line ID")
	fs.StringVar(&f.Kind, "kind", "", "kind, e.g. refresh/RENEWAL or upgrade")
	fs.IntVar(&f.Limit, "limit", store.DefaultListLimit, "at most this many rows (max 1000)")
	return func(ctx context.Context, o *Ops, args []string, out *output) error {
		if err := noArgs(args); err != nil {
			return err
		}
		list, err := o.Orders(ctx, f)
		if err != nil {
			return err
		}
		if out.json {
			return out.encode(list)
		}
		return out.orders(list)
	}
}

func jobsCmd(fs *flag.FlagSet) func(context.Context, *Ops, []string, *output) error {
	var f store.JobFilter
	fs.StringVar(&f.State, "state", "", "PENDING, DONE or DEAD")
	fs.StringVar(&f.Kind, "kind", "", "job kind, e.g. provision")
	fs.StringVar(&f.InstanceID, "instance", "", "instance ID")
	fs.IntVar(&f.Limit, "limit", store.DefaultListLimit, "at most this many rows (max 1000)")
	return func(ctx context.Context, o *Ops, args []string, out *output) error {
		if err := errors.Join(noArgs(args), oneOf("state", f.State, store.JobPending, store.JobDone, store.JobDead)); err != nil {
			return usagef("%v", err)
		}
		list, err := o.Jobs(ctx, f)
		if err != nil {
			return err
		}
		if out.json {
			return out.encode(list)
		}
		return out.jobs(list)
	}
}

func historyCmd(fs *flag.FlagSet) func(context.Context, *Ops, []string, *output) error {
	var q HistoryQuery
	fs.StringVar(&q.OrderID, "order", "", "order ID (a purchase, renewal, cancellation or upgrade order)")
	fs.StringVar(&q.OrderLineID, "line", "", "order line ID (with -order)")
	fs.StringVar(&q.InstanceID, "instance", "", "instance ID (instead of -order)")
	return func(ctx context.Context, o *Ops, args []string, out *output) error {
		if err := noArgs(args); err != nil {
			return err
		}
		if (q.OrderID == "") == (q.InstanceID == "") {
			return usagef("give either -order or -instance")
		}
		if q.OrderLineID != "" && q.OrderID == "" {
			return usagef("-line needs -order")
		}
		h, err := o.History(ctx, q)
		if err != nil {
			return err
		}
		if out.json {
			return out.encode(h)
		}
		return out.history(h)
	}
}

func retryCmd(fs *flag.FlagSet) func(context.Context, *Ops, []string, *output) error {
	yes := fs.Bool("yes", false, "apply: without it nothing is written")
	keep := fs.Bool("keep-attempts", false, "keep the attempt count (one more failure buries the job again) instead of resetting it to 0")
	allDead := fs.Bool("all-dead", false, "every dead job (with -kind, of that kind)")
	kind := fs.String("kind", "", "with -all-dead: only jobs of this kind")
	return func(ctx context.Context, o *Ops, args []string, out *output) error {
		var ids []int64
		switch {
		case *allDead && len(args) > 0:
			return usagef("give job ids or -all-dead, not both")
		case *allDead:
			var err error
			if ids, err = o.DeadJobIDs(ctx, *kind); err != nil {
				return err
			}
		case len(args) == 0:
			return usagef("give the ids of the dead jobs to retry (ops jobs -state DEAD lists them), or -all-dead")
		case *kind != "":
			return usagef("-kind goes with -all-dead")
		default:
			for _, a := range args {
				id, err := strconv.ParseInt(a, 10, 64)
				if err != nil || id <= 0 {
					return usagef("%q is not a job id", a)
				}
				ids = append(ids, id)
			}
		}
		res, err := o.Retry(ctx, ids, *keep, *yes)
		if out.json {
			if jerr := out.encode(struct {
				Applied bool           `json:"applied"`
				Jobs    []RetryOutcome `json:"jobs"`
			}{*yes, res}); jerr != nil {
				return jerr
			}
		} else if terr := out.retry(res, *yes); terr != nil {
			return terr
		}
		return err
	}
}

func purgeCmd(fs *flag.FlagSet) func(context.Context, *Ops, []string, *output) error {
	yes := fs.Bool("yes", false, "apply: without it nothing is deleted")
	batch := fs.Int("batch", 1000, "delete at most this many nonces per statement")
	return func(ctx context.Context, o *Ops, args []string, out *output) error {
		if err := noArgs(args); err != nil {
			return err
		}
		res, err := o.PurgeNonces(ctx, *batch, *yes)
		if err != nil {
			return err
		}
		if out.json {
			return out.encode(res)
		}
		if !res.Applied {
			_, err = fmt.Fprintf(out.w, "dry run: would delete %d expired nonces of %d stored; run again with -yes to delete them\n", res.Expired, res.Nonces)
			return err
		}
		_, err = fmt.Fprintf(out.w, "deleted %d expired nonces (%d were stored)\n", res.Deleted, res.Nonces)
		return err
	}
}

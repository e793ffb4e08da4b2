package bench

import (
	"context"
	"fmt"
	"slices"

	"github.com/kgseller/kgseller/shared/store"
	"github.com/kgseller/kgseller/shared/tools/dbtest"
	"github.com/kgseller/kgseller/shared/tools/rtbench"
)

// GoalTrips bounds the round trips of every call the marketplace makes, the
// nonce included.
const GoalTrips = 3

// GoalFloorRatio bounds the time of every lifecycle and License activity against
// its floor, the same statements sent raw on the same connection.
const GoalFloorRatio = 1.3

// floorGoal reports whether an activity's family is held to GoalFloorRatio: the
// SaaS lifecycle and the License activities. The Kit calls decrypt with RSA, the
// worker's jobs run a provisioner: their ratios are reported, not judged.
func floorGoal(family string) bool { return family == "saas-produce" || family == "license-produce" }

// catalogue lists the activities of the measured functions, over the store
// their calls will count round trips on.
func catalogue(env *rtbench.Env, names []string) []rtbench.Activity {
	var out []rtbench.Activity
	for _, a := range rtbench.NewCatalogue(env).Activities() {
		if slices.Contains(names, a.Family) {
			out = append(out, a)
		}
	}
	return out
}

// openCounted opens the bench's database on one counted connection, as a
// function instance holds it.
func openCounted(dsn string) (*rtbench.Env, error) {
	c := &dbtest.Counter{}
	st, err := store.Open(dsn, store.Options{MaxOpen: 1, MaxIdle: 1, Wrap: c.Wrap})
	if err != nil {
		return nil, err
	}
	return &rtbench.Env{Store: st, Counter: c}, nil
}

// measureActivities makes Calls calls of every activity of the measured
// functions through their handlers, in the process, on one counted connection to
// the bench's database, each followed by its floor (shared/tools/rtbench). An
// activity that answers wrongly or costs other round trips than it must is a
// problem of the run.
func measureActivities(ctx context.Context, o Options, env *rtbench.Env, acts []rtbench.Activity, bar *progress) ([]rtbench.Result, []string) {
	var out []rtbench.Result
	var problems []string
	for _, a := range acts {
		if ctx.Err() != nil {
			problems = append(problems, ctx.Err().Error())
			break
		}
		bar.set(fmt.Sprintf("round trips: %s %s", a.Family, a.Name))
		r, err := env.Measure(ctx, a, o.Calls)
		bar.step()
		if err != nil {
			problems = append(problems, err.Error())
			continue
		}
		out = append(out, r)
	}
	return out, problems
}

// worstFloor is the judged activity with the highest ratio to its floor.
func (r *Results) worstFloor() (rtbench.Result, bool) {
	var worst rtbench.Result
	found := false
	for _, a := range r.Activities {
		if floorGoal(a.Family) && (!found || a.Ratio > worst.Ratio) {
			worst, found = a, true
		}
	}
	return worst, found
}

func floorVerdict(a rtbench.Result) *bool {
	if !floorGoal(a.Family) {
		return nil
	}
	return boolp(a.Ratio <= GoalFloorRatio)
}

// mostTrips is the marketplace call (the worker's jobs aside) with the most round
// trips.
func (r *Results) mostTrips() (rtbench.Result, bool) {
	var most rtbench.Result
	found := false
	for _, a := range r.Activities {
		if a.Family != "fulfil-worker" && (!found || a.Trips > most.Trips) {
			most, found = a, true
		}
	}
	return most, found
}

// activityCalls is how many calls each activity was measured over.
func (r *Results) activityCalls() int {
	if len(r.Activities) == 0 {
		return 0
	}
	return r.Activities[0].Calls
}

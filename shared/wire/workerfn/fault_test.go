package workerfn

import (
	"io"
	"log/slog"
	"testing"

	"github.com/kgseller/kgseller/shared/config"
	"github.com/kgseller/kgseller/shared/fulfil"
	"github.com/kgseller/kgseller/shared/store"
)

func TestFaultHook(t *testing.T) {
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	hook := func(v string) (func(string, store.Job), *config.Loader) {
		l := config.New(config.Map(map[string]string{"KG_FAULT_EXIT_AT": v}))
		var exits []int
		h := faultHook(l, quiet, func(code int) { exits = append(exits, code) })
		if h == nil {
			return nil, l
		}
		return func(step string, job store.Job) {
			before := len(exits)
			h(step, job)
			if len(exits) > before {
				panic(step) // the process would be gone
			}
		}, l
	}
	exitsAt := func(h func(string, store.Job), step string, attempt int) (exited bool) {
		defer func() { exited = recover() != nil }()
		h(step, store.Job{ID: 7, Attempts: attempt})
		return false
	}
	if h, l := hook(""); h != nil || l.Err() != nil {
		t.Fatal("an empty setting must install no hook")
	}
	if h, l := hook("claimed,sometimes"); h != nil || l.Err() == nil {
		t.Fatal("an unknown step must be a configuration error")
	}
	h, _ := hook("claimed, handled,completed")
	for _, tc := range []struct {
		step    string
		attempt int
		exit    bool
	}{
		{fulfil.StepClaimed, 1, true},
		{fulfil.StepHandled, 1, false},
		{fulfil.StepClaimed, 2, false},
		{fulfil.StepHandled, 2, true},
		{fulfil.StepCompleted, 2, false},
		{fulfil.StepCompleted, 3, true},
		{fulfil.StepClaimed, 4, false},
		{fulfil.StepCompleted, 4, false},
	} {
		if got := exitsAt(h, tc.step, tc.attempt); got != tc.exit {
			t.Errorf("step %s, attempt %d: exit %v, want %v", tc.step, tc.attempt, got, tc.exit)
		}
	}
}

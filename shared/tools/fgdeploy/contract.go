package fgdeploy

import (
	"fmt"
	"strings"

	"github.com/kgseller/kgseller/shared/fakes/fgcontract"
	"github.com/kgseller/kgseller/shared/tools/manifest"
)

// checkTrigger holds a trigger to the values the Huawei SDK's models list for
// CreateFunctionTrigger (shared/fakes/fgcontract), so a value FunctionGraph would refuse
// fails the plan, not the deployment.
func checkTrigger(t Trigger) error {
	type rule struct {
		key    string
		values []string
	}
	check := func(what, v string, values []string) error {
		if !fgcontract.OneOf(v, values) {
			return fmt.Errorf("%s %q is not one of %s", what, v, strings.Join(values, ", "))
		}
		return nil
	}
	if err := check("trigger type", t.Type, fgcontract.TriggerTypes()); err != nil {
		return err
	}
	if err := check("status", t.Status, fgcontract.TriggerStatuses()); err != nil {
		return err
	}
	rules := []rule{{"schedule_type", fgcontract.ScheduleTypes()}}
	if t.Type != manifest.TriggerTimer {
		rules = []rule{
			{"protocol", fgcontract.Protocols()}, {"req_method", fgcontract.ReqMethods()}, {"match_mode", fgcontract.MatchModes()},
			{"auth", fgcontract.AuthTypes()}, {"backend_type", fgcontract.BackendTypes()},
		}
	}
	for _, r := range rules {
		if v, ok := t.EventData[r.key]; ok {
			if err := check("eventData "+r.key, str(v), r.values); err != nil {
				return err
			}
		}
	}
	return nil
}

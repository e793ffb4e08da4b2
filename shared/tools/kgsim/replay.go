package kgsim

import (
	"encoding/json"
	"fmt"
	"io"
	"regexp"
	"sort"
	"strings"

	"github.com/kgseller/kgseller/shared/probe"
)

// volatile fields are made afresh on every call (by sign as by kgsim), so a
// replay command need not carry them.
var volatile = map[string]bool{"businessId": true, "timeStamp": true, "currentSyncTime": true, "clientSecret": true}

// replayPhases are the phases whose request, sent again as is, means the same:
// the probes alter the signature, which sign would make valid again.
var replayPhases = map[string]bool{PhaseSetup: true, PhaseCase: true, PhaseDuplicate: true, PhaseMalformed: true}

// writeRequests lists, in run order, each request body and a scripts/sign
// command that sends it again.
func (r *Report) writeRequests(w io.Writer) {
	fmt.Fprintf(w, "\nRequests (replay one with the sign command below it):\n")
	for _, res := range r.Results {
		if len(res.Body) == 0 || !replayPhases[res.Phase] {
			continue
		}
		fmt.Fprintf(w, "#%d %s\n", res.Seq, res.Case)
		cmd, short := r.SignCommand(res)
		if short {
			fmt.Fprintf(w, "  %s\n", res.Body)
		}
		fmt.Fprintf(w, "  %s\n", cmd)
	}
}

// SignCommand is a scripts/sign command that sends a result's request again,
// and whether it is the short form (an activity with -instance, -order and -set)
// rather than the body in full (-d). It never holds a key or a signature.
func (r *Report) SignCommand(res Result) (string, bool) {
	fields := probe.DecodeObject(res.Body)
	a, ok := activityOf(res, fields)
	args := []string{"go run ./scripts/sign"}
	if ok {
		args = append(args, a.Name)
	}
	if !ok || r.ExplicitURL || !sameAddress(a.Type, r.Type) {
		u := r.URL
		if !ok {
			u += res.Path
			if r.Type == "kit" || strings.Contains(res.Path, "/produceAPI/") {
				args = append(args, "-kit")
			}
		}
		args = append(args, "-url", shellQuote(u))
	}
	if ok && fields != nil {
		if flags, short := shortForm(a, fields); short {
			return strings.Join(append(args, flags...), " "), true
		}
	}
	return strings.Join(append(args, "-d", shellQuote(string(res.Body))), " "), false
}

// activityOf names the activity of a request: the Kit's by its sub-path (the
// versioned one only), the others' by the body's activity field.
func activityOf(res Result, fields map[string]any) (Activity, bool) {
	if res.Path != "" {
		for _, a := range activities {
			if a.Path != "" && a.Path == res.Path {
				return a, true
			}
		}
		return Activity{}, false
	}
	name, _ := fields["activity"].(string)
	if name == "" {
		return Activity{}, false
	}
	a, ok := LookupActivity(name)
	if !ok || a.Kit {
		return Activity{}, false
	}
	return a, true
}

// sameAddress reports whether sign finds an activity's address where kgsim
// found the report's.
func sameAddress(activityType, reportType string) bool {
	if activityType == reportType {
		return true
	}
	return reportType == "address" && (activityType == "saas" || activityType == "kit")
}

// shortForm returns the flags that turn the activity's default body into
// fields, when only values differ (not which fields there are).
func shortForm(a Activity, fields map[string]any) ([]string, bool) {
	inst, _ := fields["instanceId"].(string)
	o := BodyOptions{SecretPlaceholder: SecretPlaceholder}
	if a.NeedsInstance {
		o.Instance = inst
	}
	body, err := a.Body(o)
	if err != nil {
		return nil, false
	}
	def := probe.DecodeObject(body)
	if len(def) != len(fields) {
		return nil, false
	}
	var flags []string
	var names []string
	for k := range fields {
		if _, ok := def[k]; !ok {
			return nil, false
		}
		names = append(names, k)
	}
	sort.Strings(names)
	if a.NeedsInstance && inst != "" {
		flags = append(flags, "-instance", shellQuote(inst))
	}
	order, _ := fields["orderId"].(string)
	if order != "" && order != def["orderId"] && fields["orderLineId"] == line(order) {
		flags = append(flags, "-order", shellQuote(order))
		def["orderId"] = order
		if _, has := def["orderLineId"]; has {
			def["orderLineId"] = line(order)
		}
	}
	for _, k := range names {
		if volatile[k] || (k == "instanceId" && a.NeedsInstance) {
			continue
		}
		got, want := compact(fields[k]), compact(def[k])
		if got == want {
			continue
		}
		v := got
		if s, ok := fields[k].(string); ok {
			v = s
		}
		flags = append(flags, "-set", shellQuote(k+"="+v))
	}
	return flags, true
}

func compact(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

var shellSafe = regexp.MustCompile(`^[A-Za-z0-9_./:=@%+,-]+$`)

// shellQuote quotes s for a POSIX shell when it needs quoting.
func shellQuote(s string) string {
	if shellSafe.MatchString(s) {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

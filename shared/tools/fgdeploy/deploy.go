// Package fgdeploy deploys the functions of serverless.yml to FunctionGraph with the
// Huawei Cloud Go SDK: it refuses a deployment whose functions could open more
// database connections than custom.database.connectionBudget allows, creates each
// function or updates its code and configuration, sets its maximum instances,
// creates its triggers (TIMER, APIG / dedicated gateway), binds the
// gateway APIs to the throttling policy of custom.apig and sets the gateway's body
// limit, then smoke-tests what it deployed. A function is updated only when its
// zip's SHA-256 or its configuration fingerprint differs from the marker the last
// deployment left in the function's description, so deploying an unchanged build
// writes nothing. A write that a function refuses while it applies its previous
// change is retried for a bounded time. Requests are built from the Huawei SDK's
// models and the values it lists (shared/fakes/fgcontract). Every failure is reported
// and makes Deploy return an error; the other functions are still deployed.
package fgdeploy

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/kgseller/kgseller/shared/aksk"
	"github.com/kgseller/kgseller/shared/kgsign"
	"github.com/kgseller/kgseller/shared/tools/apigdef"
	"github.com/kgseller/kgseller/shared/tools/buildzip"
	"github.com/kgseller/kgseller/shared/tools/manifest"
)

// Options configure a deployment.
type Options struct {
	Manifest *manifest.Manifest
	// Gateway holds custom.apig (throttling policy, body limit).
	Gateway apigdef.Settings
	// BuildDir holds <name>.zip from scripts/build.
	BuildDir string
	// Region and ProjectID place the functions; Region defaults to provider.region.
	Region, ProjectID string
	// FunctionGraphEndpoint and APIGEndpoint default to
	// https://functiongraph.{region}.myhuaweicloud.com and https://apig.{region}.myhuaweicloud.com.
	FunctionGraphEndpoint, APIGEndpoint string
	Credentials                         aksk.Credentials
	// Only restricts the deployment to these functions.
	Only []string
	// DryRun reads the cloud and prints the plan; it writes nothing.
	DryRun bool
	// EmptyAccount, with DryRun, plans without reading the cloud, as if the
	// account held nothing yet (no credentials are needed); it says why (no
	// credentials, settings missing) in the plan's heading.
	EmptyAccount string
	// Force updates every selected function's configuration (e.g. after a secret
	// changed: secret values are not part of the fingerprint).
	Force bool
	// ReplaceTriggers deletes and recreates triggers whose settings differ from
	// serverless.yml (an APIG trigger's API is recreated: a short outage).
	ReplaceTriggers bool
	Smoke           Smoke
	// Timeout bounds each API call (default 60 s: code uploads are megabytes).
	Timeout time.Duration
	// ReadyTimeout bounds how long a write waits for a function that is still
	// applying its previous change (default 2 min).
	ReadyTimeout time.Duration
	// EnterpriseProjectID is sent with every function created or configured;
	// accounts that use enterprise projects need it ("0" is the default project).
	EnterpriseProjectID string
	Out                 io.Writer
}

// Smoke configures the checks run after a deployment.
type Smoke struct {
	Disabled bool
	// Path is the route answered with a signed queryInstance for an instance that
	// never existed (000003 with a valid Body-Sign); "" disables that check.
	Path string
	// Key signs it (the access key of the basic interfaces).
	Key kgsign.Key
	// URL, when set, is the public base URL (the API group's domain) the same
	// signed call is also sent to, through the gateway.
	URL string
}

// Result is the outcome for one function.
type Result struct {
	Function string
	// Action is created, code+config updated, config updated, unchanged, or the
	// same prefixed with "would " in a dry run.
	Action   string
	Triggers []string
	Smoke    string
	Err      error
}

// Report is the outcome of a deployment.
type Report struct {
	Results []Result
	Gateway []string
	Errors  []error
}

// Failed reports whether anything failed.
func (r *Report) Failed() bool { return len(r.Errors) > 0 }

// Deploy runs a deployment.
func Deploy(ctx context.Context, o Options) (*Report, error) {
	if o.Manifest == nil {
		return nil, errors.New("fgdeploy: no manifest")
	}
	if o.Out == nil {
		o.Out = io.Discard
	}
	if o.Region == "" {
		o.Region = o.Manifest.Provider.Region
	}
	if o.Region == "" || o.ProjectID == "" {
		return nil, errors.New("fgdeploy: region and project id are required (provider.region / HUAWEICLOUD_REGION, HUAWEICLOUD_PROJECT_ID)")
	}
	if o.FunctionGraphEndpoint == "" {
		o.FunctionGraphEndpoint = "https://functiongraph." + o.Region + ".myhuaweicloud.com"
	}
	if o.APIGEndpoint == "" {
		o.APIGEndpoint = "https://apig." + o.Region + ".myhuaweicloud.com"
	}
	if o.Timeout == 0 {
		o.Timeout = 60 * time.Second
	}
	if o.ReadyTimeout == 0 {
		o.ReadyTimeout = DefaultReadyTimeout
	}
	if o.BuildDir == "" {
		o.BuildDir = "build"
	}
	if err := o.Gateway.Validate(); err != nil {
		return nil, fmt.Errorf("fgdeploy: %w", err)
	}
	names, err := selectNames(o.Manifest, o.Only)
	if err != nil {
		return nil, fmt.Errorf("fgdeploy: %w", err)
	}
	// Before anything is read or written: the functions could otherwise exhaust
	// the database's connections and all answer 000005 at once.
	budget, err := ConnectionBudget(o.Manifest)
	if err != nil {
		return nil, fmt.Errorf("fgdeploy: %w", err)
	}
	budget.Write(o.Out)
	if err := budget.Check(); err != nil {
		fmt.Fprintf(o.Out, "REFUSED: %v; lower maxInstances (or DB_MAX_OPEN) of the functions above, or raise the budget to what the database allows (docs/performance.md, Capacity)\n", err)
		return nil, fmt.Errorf("fgdeploy: %w", err)
	}
	var c account = emptyAccount{}
	mode := ""
	switch {
	case o.EmptyAccount != "" && !o.DryRun:
		return nil, errors.New("fgdeploy: planning against an empty account is a dry run")
	case o.EmptyAccount != "":
		mode = " (dry run against an EMPTY account, " + o.EmptyAccount + ": the cloud is not read, so everything shows as to be created; nothing is written)"
	default:
		if c, err = newCloud(o.FunctionGraphEndpoint, o.APIGEndpoint, o.ProjectID, o.Credentials, o.Timeout); err != nil {
			return nil, fmt.Errorf("fgdeploy: %w", err)
		}
		if o.DryRun {
			mode = " (dry run: the cloud is read, nothing is written)"
		}
	}
	d := &deployer{o: o, c: c, rep: &Report{}}
	of := ""
	if o.Manifest.Profile != "" {
		of = " of profile " + o.Manifest.Profile
	}
	d.printf("deploying %d function(s)%s to %s, project %s%s\n", len(names), of, o.Region, o.ProjectID, mode)

	var deployed []*Desired
	for i, name := range names {
		if err := ctx.Err(); err != nil {
			d.fail(name, err)
			break
		}
		d.printf("[%d/%d] %s\n", i+1, len(names), name)
		res, des := d.function(ctx, name)
		d.rep.Results = append(d.rep.Results, res)
		if res.Err != nil {
			d.rep.Errors = append(d.rep.Errors, fmt.Errorf("%s: %w", name, res.Err))
			d.printf("  FAILED: %v\n", res.Err)
			continue
		}
		if des != nil && (strings.HasPrefix(res.Action, "created") || strings.Contains(res.Action, "updated")) {
			deployed = append(deployed, des)
		}
	}
	if ctx.Err() == nil {
		d.gateway(names)
	}
	if !o.DryRun && !o.Smoke.Disabled && ctx.Err() == nil {
		d.smoke(ctx, deployed)
	}
	if d.rep.Failed() {
		if o.DryRun {
			d.printf("dry run: %d problem(s) above; nothing was written\n", len(d.rep.Errors))
		} else {
			d.printf("deployment FAILED: %d error(s)\n", len(d.rep.Errors))
		}
		return d.rep, fmt.Errorf("fgdeploy: %d error(s), first: %w", len(d.rep.Errors), d.rep.Errors[0])
	}
	if o.DryRun {
		d.printf("dry run done: nothing was written\n")
	} else {
		d.printf("deployment done\n")
	}
	return d.rep, nil
}

func selectNames(m *manifest.Manifest, only []string) ([]string, error) {
	if len(only) == 0 {
		return m.Names(), nil
	}
	seen := map[string]bool{}
	var out []string
	for _, n := range only {
		if _, ok := m.Functions[n]; !ok {
			if m.Profile != "" {
				return nil, fmt.Errorf("--only %s: not a function of profile %s", n, m.Profile)
			}
			return nil, fmt.Errorf("--only %s: not a function in serverless.yml", n)
		}
		if !seen[n] {
			seen[n] = true
			out = append(out, n)
		}
	}
	sort.Strings(out)
	return out, nil
}

type deployer struct {
	o   Options
	c   account
	rep *Report
}

func (d *deployer) printf(format string, args ...any) { fmt.Fprintf(d.o.Out, format, args...) }

func (d *deployer) fail(name string, err error) {
	d.rep.Results = append(d.rep.Results, Result{Function: name, Err: err})
	d.rep.Errors = append(d.rep.Errors, fmt.Errorf("%s: %w", name, err))
}

// act returns done, or planned in a dry run.
func (d *deployer) act(done, planned string) string {
	if d.o.DryRun {
		return planned
	}
	return done
}

// function deploys one function: code and configuration, then triggers.
func (d *deployer) function(ctx context.Context, name string) (Result, *Desired) {
	res := Result{Function: name}
	des, err := Desire(d.o.Manifest, name, d.o.Region, d.o.ProjectID)
	if err != nil {
		res.Err = err
		return res, nil
	}
	zipPath := filepath.Join(d.o.BuildDir, name+".zip")
	zip, err := readZip(zipPath)
	built := err == nil
	switch {
	case err != nil && !d.o.DryRun:
		res.Err = err
		return res, nil
	case err != nil:
		// The plan goes on, as for a new build; the run still fails.
		d.rep.Errors = append(d.rep.Errors, fmt.Errorf("%s: %w", name, err))
		d.printf("  NO ZIP: %v; planned as a new build\n", err)
	default:
		des.CodeSHA256 = buildzip.SHA256(zip)
	}
	des.Config.Description = des.Description()
	des.Config.EnterpriseProjectID = d.o.EnterpriseProjectID
	if len(des.Unset) > 0 {
		d.printf("  not set (left out): %s\n", strings.Join(des.Unset, ", "))
	}

	urn := FunctionURN(d.o.Region, d.o.ProjectID, des.Config.Package, name)
	existing, err := d.c.showFunction(urn)
	if err != nil {
		res.Err = err
		return res, nil
	}
	short := "(not built)"
	if built {
		short = des.CodeSHA256[:12]
	}
	switch {
	case existing == nil:
		res.Action = d.act("created", "would create")
		if built {
			d.printf("  %s (zip %s, %d bytes)\n", d.act("creating", "would create"), short, len(zip))
		} else {
			d.printf("  would create (zip not built yet)\n")
		}
		d.printf("  %s\n", des.Summary())
		if !d.o.DryRun {
			if urn, err = d.c.createFunction(des.Config, zip); err != nil {
				res.Err = err
				return res, nil
			}
		}
	default:
		urn = existing.URN
		if ep := d.o.EnterpriseProjectID; ep != "" && existing.EnterpriseProjectID != "" && existing.EnterpriseProjectID != ep {
			d.printf("  note: the function is in enterprise project %s, not %s; the deploy tool does not move functions (Enterprise Project Management does)\n",
				existing.EnterpriseProjectID, ep)
		}
		code, cfg := ParseMarker(existing.Description)
		codeChanged := !built || code != des.CodeSHA256
		cfgChanged := cfg != des.ConfigHash || d.o.Force
		switch {
		case codeChanged:
			res.Action = d.act("code+config updated", "would update code+config")
			from := "unknown"
			if code != "" {
				from = code[:12]
			}
			d.printf("  %s: zip %s -> %s (%d bytes)\n", d.act("updating code", "would update code"), from, short, len(zip))
			if !d.o.DryRun {
				err := d.whenReady(ctx, name, "the code upload", func() error { return d.c.updateCode(urn, name, zip) })
				switch {
				case errors.Is(err, errSameCode):
					d.printf("  the code was already uploaded (409 FSS.0409: the function has this zip)\n")
				case err != nil:
					res.Err = err
					return res, nil
				}
			}
			// The configuration carries the new marker, so it is written after the code.
			d.printf("  %s\n", d.act("updating configuration", "would update configuration"))
			if !d.o.DryRun {
				if err := d.whenReady(ctx, name, "the configuration update", func() error { return d.c.updateConfig(urn, des.Config) }); err != nil {
					res.Err = err
					return res, nil
				}
			}
		case cfgChanged:
			res.Action = d.act("config updated", "would update config")
			why := "configuration changed"
			if cfg == des.ConfigHash {
				why = "forced"
			}
			d.printf("  %s (%s; zip %s unchanged)\n", d.act("updating configuration", "would update configuration"), why, short)
			if !d.o.DryRun {
				if err := d.whenReady(ctx, name, "the configuration update", func() error { return d.c.updateConfig(urn, des.Config) }); err != nil {
					res.Err = err
					return res, nil
				}
			}
		default:
			res.Action = "unchanged"
			d.printf("  unchanged (zip %s)\n", short)
		}
	}
	changed, err := d.maxInstances(ctx, name, urn, existing, des.MaxInstances)
	if err != nil {
		res.Err = err
		return res, nil
	}
	if changed && res.Action == "unchanged" {
		res.Action = d.act("max instances set", "would set max instances")
	}
	if existing == nil && d.o.DryRun {
		for _, t := range des.Triggers {
			res.Triggers = append(res.Triggers, "would create "+t.Key())
			d.printf("  trigger %s: would create\n", t.Key())
		}
		return res, des
	}
	trig, err := d.triggers(ctx, name, urn, des.Triggers)
	res.Triggers = trig
	if err != nil {
		res.Err = err
	}
	return res, des
}

// readZip reads a function zip of scripts/build.
func readZip(path string) ([]byte, error) {
	if _, err := buildzip.ReadBootstrap(path); err != nil {
		return nil, fmt.Errorf("%s is missing or not a function zip (run `go run ./scripts/build`): %w", path, err)
	}
	return os.ReadFile(path)
}

// maxInstances sets the function's maximum instances when the cloud's differ
// from serverless.yml (a new function has FunctionGraph's default), and reports
// whether it did (or would).
func (d *deployer) maxInstances(ctx context.Context, name, urn string, existing *Deployed, want int) (bool, error) {
	have := existing.MaxInstances()
	if have == want {
		d.printf("  max instances: %s\n", describeMax(want))
		return false, nil
	}
	from := describeMax(have)
	if existing == nil {
		from += " (FunctionGraph's default)"
	}
	d.printf("  max instances: %s -> %s: %s\n", from, describeMax(want), d.act("set", "would set"))
	if d.o.DryRun {
		return true, nil
	}
	if err := d.whenReady(ctx, name, "the max instances update", func() error { return d.c.setMaxInstances(urn, want) }); err != nil {
		return false, err
	}
	return true, nil
}

// triggers creates the missing triggers of a function and reports the ones whose
// settings differ from serverless.yml (replacing them with ReplaceTriggers).
func (d *deployer) triggers(ctx context.Context, name, urn string, want []Trigger) ([]string, error) {
	have, err := d.c.listTriggers(urn)
	if err != nil {
		return nil, err
	}
	var out []string
	wanted := map[string]bool{}
	for _, t := range want {
		key := t.Key()
		wanted[key] = true
		var match *Existing
		for i := range have {
			if keyOf(have[i]) == key {
				match = &have[i]
				break
			}
		}
		action := ""
		switch {
		case match == nil:
			action = d.act("created", "would create")
			if !d.o.DryRun {
				if err := d.whenReady(ctx, name, "trigger creation", func() error { return d.c.createTrigger(urn, t) }); err != nil {
					return out, fmt.Errorf("trigger %s: %w", key, err)
				}
			}
		default:
			diff := differences(t, *match)
			switch {
			case len(diff) == 0:
				action = "present"
			case d.o.ReplaceTriggers:
				action = d.act("replaced", "would replace") + " (" + strings.Join(diff, ", ") + ")"
				if !d.o.DryRun {
					if err := d.whenReady(ctx, name, "trigger deletion", func() error { return d.c.deleteTrigger(urn, *match) }); err != nil {
						return out, fmt.Errorf("trigger %s: %w", key, err)
					}
					if err := d.whenReady(ctx, name, "trigger creation", func() error { return d.c.createTrigger(urn, t) }); err != nil {
						return out, fmt.Errorf("trigger %s: %w", key, err)
					}
				}
			default:
				action = "DIFFERS from serverless.yml (" + strings.Join(diff, ", ") + "); left as is, use -replace-triggers"
			}
		}
		out = append(out, key+": "+action)
		d.printf("  trigger %s: %s\n", key, action)
	}
	for _, e := range have {
		if key := keyOf(e); !wanted[key] {
			d.printf("  trigger %s: not in serverless.yml (left as is)\n", key)
		}
	}
	return out, nil
}

func keyOf(e Existing) string {
	return Trigger{Type: e.Type, EventData: e.EventData}.Key()
}

// differences names the managed settings in which an existing trigger departs
// from the wanted one (case-insensitive; only settings the listing reports).
func differences(want Trigger, have Existing) []string {
	var diff []string
	if !strings.EqualFold(want.Status, have.Status) && have.Status != "" {
		diff = append(diff, "status")
	}
	keys := []string{"schedule_type", "schedule", "user_event"}
	if want.Type != manifest.TriggerTimer {
		keys = []string{"match_mode", "auth", "protocol", "group_id", "env_id", "instance_id"}
	}
	for _, k := range keys {
		w, h := str(want.EventData[k]), str(have.EventData[k])
		if h != "" && !strings.EqualFold(w, h) {
			diff = append(diff, k)
		}
	}
	if want.Type != manifest.TriggerTimer {
		wi, _ := want.EventData["func_info"].(map[string]any)
		hi, _ := have.EventData["func_info"].(map[string]any)
		if hi != nil && str(hi["timeout"]) != "" && str(hi["timeout"]) != str(wi["timeout"]) {
			diff = append(diff, "timeout")
		}
	}
	return diff
}

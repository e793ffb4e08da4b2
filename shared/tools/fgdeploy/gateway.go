package fgdeploy

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/kgseller/kgseller/shared/tools/manifest"
)

// bodySizeFeature is the dedicated gateway feature holding the request body limit
// (its config is the size in bytes).
const bodySizeFeature = "request_body_size"

type gatewayTarget struct{ instance, group, env string }

// gateway applies custom.apig to the dedicated gateways the selected functions'
// triggers use: the throttling policy (created or corrected, then bound to every
// API of those triggers) and the request body limit.
func (d *deployer) gateway(names []string) {
	g := d.o.Gateway
	if g.Throttle == nil && g.RequestBodySizeMB == 0 {
		return
	}
	routes := map[gatewayTarget]map[string]bool{}
	instances := map[string]bool{}
	for _, name := range names {
		for _, ev := range d.o.Manifest.Functions[name].Events {
			switch ev.TriggerTypeCode {
			case manifest.TriggerDedicatedAPIG:
				t := gatewayTarget{ev.String("instanceId"), ev.String("groupId"), orDefault(ev.String("envId"), "DEFAULT_ENVIRONMENT_RELEASE_ID")}
				if t.instance == "" || t.group == "" {
					continue // already reported by the function's own step
				}
				if routes[t] == nil {
					routes[t] = map[string]bool{}
				}
				routes[t][strings.ToUpper(orDefault(ev.String("reqMethod"), "ANY"))+" "+ev.String("path")] = true
				instances[t.instance] = true
			case manifest.TriggerAPIG:
				d.printf("gateway: %s uses the shared gateway; its throttling is set in the console\n", name)
			}
		}
	}
	if len(instances) == 0 {
		return
	}
	var ids []string
	for id := range instances {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, instance := range ids {
		if g.Throttle != nil {
			d.throttle(instance, routes)
		}
		if g.RequestBodySizeMB > 0 {
			d.bodySize(instance, g.RequestBodySizeMB)
		}
	}
}

func (d *deployer) gatewayFail(err error) {
	d.rep.Errors = append(d.rep.Errors, fmt.Errorf("gateway: %w", err))
	d.rep.Gateway = append(d.rep.Gateway, "FAILED: "+err.Error())
	d.printf("gateway: FAILED: %v\n", err)
}

func (d *deployer) gatewayNote(format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	d.rep.Gateway = append(d.rep.Gateway, msg)
	d.printf("gateway: %s\n", msg)
}

func (d *deployer) throttle(instance string, routes map[gatewayTarget]map[string]bool) {
	t := d.o.Gateway.Throttle
	want := Policy{Name: t.Name, APICallLimits: t.APICallLimits, IPCallLimits: t.IPCallLimits, TimeInterval: t.TimeInterval,
		TimeUnit: t.TimeUnit, Type: 1, Remark: "serverless.yml custom.apig.throttle"}
	have, err := d.c.findPolicy(instance, t.Name)
	if err != nil {
		d.gatewayFail(err)
		return
	}
	id := ""
	switch {
	case have == nil:
		d.gatewayNote("throttling policy %s on %s: %s", t.Name, instance, d.act("created", "would create"))
		if !d.o.DryRun {
			if id, err = d.c.savePolicy(instance, want); err != nil {
				d.gatewayFail(err)
				return
			}
		}
	case !want.same(*have):
		id = have.ID
		want.ID = have.ID
		d.gatewayNote("throttling policy %s on %s: %s", t.Name, instance, d.act("updated", "would update"))
		if !d.o.DryRun {
			if _, err := d.c.savePolicy(instance, want); err != nil {
				d.gatewayFail(err)
				return
			}
		}
	default:
		id = have.ID
		d.gatewayNote("throttling policy %s on %s: present", t.Name, instance)
	}
	targets := make([]gatewayTarget, 0, len(routes))
	for tg := range routes {
		if tg.instance == instance {
			targets = append(targets, tg)
		}
	}
	sort.Slice(targets, func(i, j int) bool { return targets[i].group+targets[i].env < targets[j].group+targets[j].env })
	for _, tg := range targets {
		if id == "" {
			d.gatewayNote("group %s: would bind %d API(s) once they exist", tg.group, len(routes[tg]))
			continue
		}
		apis, err := d.c.unboundAPIs(instance, id, tg.group, tg.env)
		if err != nil {
			d.gatewayFail(err)
			continue
		}
		var publish []string
		var bound []string
		for _, a := range apis {
			if routes[tg][strings.ToUpper(a.ReqMethod)+" "+a.ReqURI] && a.PublishID != "" {
				publish = append(publish, a.PublishID)
				bound = append(bound, strings.ToUpper(a.ReqMethod)+" "+a.ReqURI)
			}
		}
		if len(publish) == 0 {
			d.gatewayNote("group %s: every API already bound to %s", tg.group, t.Name)
			continue
		}
		sort.Strings(bound)
		d.gatewayNote("group %s: %s %s to %s", tg.group, d.act("bound", "would bind"), strings.Join(bound, ", "), t.Name)
		if !d.o.DryRun {
			if err := d.c.bind(instance, id, publish); err != nil {
				d.gatewayFail(err)
			}
		}
	}
}

func (d *deployer) bodySize(instance string, mb int) {
	want := strconv.Itoa(mb << 20)
	features, err := d.c.features(instance)
	if err != nil {
		d.gatewayFail(err)
		return
	}
	for _, f := range features {
		if f.Name == bodySizeFeature && f.Enable && strings.TrimSpace(f.Config) == want {
			d.gatewayNote("request body limit on %s: %d MB, present", instance, mb)
			return
		}
	}
	d.gatewayNote("request body limit on %s: %s %d MB (gateway-wide)", instance, d.act("set to", "would set to"), mb)
	if d.o.DryRun {
		return
	}
	if err := d.c.setFeature(instance, Feature{Name: bodySizeFeature, Enable: true, Config: want}); err != nil {
		d.gatewayFail(err)
	}
}

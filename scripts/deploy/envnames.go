package main

import (
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"

	"github.com/kgseller/kgseller/shared/config"
	"github.com/kgseller/kgseller/shared/tools/deployenv"
)

// toolVar is a variable the deploy tool reads itself.
type toolVar struct {
	name     string
	required bool
	secret   bool
	why      string
}

// toolVars are the deploy tool's own variables (CI exports every name
// -env-names prints, these included).
var toolVars = []toolVar{
	{config.CloudAK, true, true, "deploy tool: credentials (a dry run without them plans against an empty account)"},
	{config.CloudSK, true, true, "deploy tool: credentials (a dry run without them plans against an empty account)"},
	{config.CloudSecurityToken, false, true, "deploy tool: with temporary credentials"},
	{config.CloudProjectID, true, false, "deploy tool: the project of the region"},
	{"HUAWEICLOUD_ENTERPRISE_PROJECT_ID", false, false, "deploy tool: enterprise project of the functions"},
	{"FUNCTIONGRAPH_ENDPOINT", false, false, "deploy tool: FunctionGraph API base URL"},
	{"APIG_ENDPOINT", false, false, "deploy tool: APIG API base URL"},
	{"KG_SMOKE_URL", false, false, "deploy tool: smoke check through the gateway"},
	{config.AccessKey + "_" + config.KeyBasic, false, true, "deploy tool: signs the smoke check of /saas/produce"},
	{config.AccessKey + "_" + config.KeyLicense, false, true, "deploy tool: signs the smoke check of /license/produce"},
	{config.AccessKey, false, true, "deploy tool: the smoke check's key when the per-type one is unset"},
	{config.AccessKeyBase64, false, false, "deploy tool: the smoke key is Base64"},
	{ProfileVar, false, false, "deploy tool: the profile when -profile is not given"},
}

// envLine is one line of -env-names.
type envLine struct {
	name      string
	required  bool
	secret    bool
	set       bool
	defaulted bool
	who       []string
}

// envLines merges the functions' variables of the profile with the tool's.
func envLines(rep *deployenv.Report, getenv func(string) string) []envLine {
	byName := map[string]*envLine{}
	for _, n := range rep.Names {
		who := n.RequiredBy
		if len(who) == 0 {
			who = n.Functions
		}
		byName[n.Name] = &envLine{name: n.Name, required: n.Required(), secret: n.Secret, set: n.Set, defaulted: n.Defaulted, who: []string{strings.Join(who, ", ")}}
	}
	for _, t := range toolVars {
		l, ok := byName[t.name]
		if !ok {
			l = &envLine{name: t.name, set: getenv(t.name) != ""}
			byName[t.name] = l
		}
		l.required = l.required || t.required
		l.secret = l.secret || t.secret
		l.who = append(l.who, t.why)
	}
	out := make([]envLine, 0, len(byName))
	for _, l := range byName {
		out = append(out, *l)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].name < out[j].name })
	return out
}

// printEnvNames prints every variable a deployment of the profile reads, the
// name first (CI exports the first column): required or optional, secret or
// plain, set, unset or left to serverless.yml's default, and who reads it.
func printEnvNames(raw []byte, profile string, getenv func(string) string, stdout, stderr io.Writer) int {
	rep, err := deployenv.Analyze(raw, profile, getenv)
	if err != nil {
		fmt.Fprintln(stderr, "deploy:", err)
		return 1
	}
	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
	for _, l := range envLines(rep, getenv) {
		need, kind, state := "optional", "plain", "unset"
		if l.required {
			need = "required"
		}
		if l.secret {
			kind = "secret"
		}
		switch {
		case l.set:
			state = "set"
		case l.defaulted:
			state = "default"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", l.name, need, kind, state, strings.Join(l.who, "; "))
	}
	if err := tw.Flush(); err != nil {
		fmt.Fprintln(stderr, "deploy:", err)
		return 1
	}
	return 0
}

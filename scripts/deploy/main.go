// Command deploy deploys the functions of serverless.yml to Huawei FunctionGraph
// from the zips of scripts/build, with the Huawei Cloud Go SDK (see
// shared/tools/fgdeploy and docs/deploy.md). Only functions whose zip or
// configuration changed are written; any failure exits non-zero.
//
//	go run ./scripts/deploy -init                  # guided first run: writes deploy.env
//	go run ./scripts/build && go run ./scripts/deploy --dry-run
//	go run ./scripts/deploy -profile saas          # only what a SaaS product needs
//	go run ./scripts/deploy -env-names             # every variable: required or optional, set or not
//
// Settings come from flags, then the environment, then deploy.env (-config),
// then serverless.yml's defaults. Before anything is read from or written to the
// cloud, every variable the selected functions require is checked with the
// functions' own assemblies (shared/tools/deployenv), and every problem is listed
// at once. Credentials: HUAWEICLOUD_SDK_AK, HUAWEICLOUD_SDK_SK (and
// HUAWEICLOUD_SDK_SECURITY_TOKEN for temporary keys); a dry run without them
// plans against an empty account.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/kgseller/kgseller/shared/aksk"
	"github.com/kgseller/kgseller/shared/config"
	"github.com/kgseller/kgseller/shared/endpoint"
	"github.com/kgseller/kgseller/shared/kgsign"
	"github.com/kgseller/kgseller/shared/tools/apigdef"
	"github.com/kgseller/kgseller/shared/tools/deployenv"
	"github.com/kgseller/kgseller/shared/tools/fgdeploy"
	"github.com/kgseller/kgseller/shared/tools/manifest"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Getenv, os.Stdin, os.Stdout, os.Stderr))
}

type list []string

func (l *list) String() string { return strings.Join(*l, ",") }
func (l *list) Set(v string) error {
	for _, s := range strings.Split(v, ",") {
		if s = strings.TrimSpace(s); s != "" {
			*l = append(*l, s)
		}
	}
	return nil
}

// ProfileVar is the variable that names the profile when -profile is not given.
const ProfileVar = "KG_DEPLOY_PROFILE"

func run(ctx context.Context, args []string, environ func(string) string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("deploy", flag.ContinueOnError)
	fs.SetOutput(stderr)
	manifestPath := fs.String("manifest", "serverless.yml", "serverless.yml to deploy")
	configPath := fs.String("config", deployenv.DefaultFile, "settings file written by -init and read by every run (the environment and flags win over it)")
	profileFlag := fs.String("profile", "", "the functions to deploy: a profile of custom.profiles in serverless.yml (saas, joint-operation, license, api, notify, webhook, all; several: saas,webhook); default "+ProfileVar+", else all")
	initRun := fs.Bool("init", false, "guided first run: ask the profile, region, project, gateway, network and where each required secret is, and write the -config file")
	buildDir := fs.String("build", "build", "folder holding <name>.zip from scripts/build")
	var only list
	fs.Var(&only, "only", "deploy only this function of the profile (repeatable, or comma-separated)")
	dryRun := fs.Bool("dry-run", false, "print the plan; write nothing (without credentials: against an empty account)")
	force := fs.Bool("force", false, "update the configuration of every selected function even if unchanged (after changing a secret)")
	replace := fs.Bool("replace-triggers", false, "delete and recreate triggers whose settings differ from serverless.yml")
	noSmoke := fs.Bool("no-smoke", false, "skip the smoke checks after deploying")
	smokePath := fs.String("smoke-path", "", "route that gets a signed queryInstance (default: /saas/produce with KG_ACCESS_KEY_BASIC, else /license/produce with KG_ACCESS_KEY_LICENSE, whichever the profile deploys)")
	smokeURL := fs.String("smoke-url", "", "public base URL (API group domain) to send the signed smoke call to as well (default KG_SMOKE_URL)")
	region := fs.String("region", "", "region (default: provider.region of serverless.yml)")
	project := fs.String("project", "", "project id (default HUAWEICLOUD_PROJECT_ID)")
	fgEndpoint := fs.String("functiongraph-endpoint", "", "FunctionGraph API base URL (default FUNCTIONGRAPH_ENDPOINT, else https://functiongraph.{region}.myhuaweicloud.com)")
	apigEndpoint := fs.String("apig-endpoint", "", "APIG API base URL (default APIG_ENDPOINT, else https://apig.{region}.myhuaweicloud.com)")
	timeout := fs.Duration("timeout", 60*time.Second, "timeout of each API call")
	readyTimeout := fs.Duration("ready-timeout", fgdeploy.DefaultReadyTimeout, "how long a write waits for a function still applying its previous change")
	enterpriseProject := fs.String("enterprise-project", "", "enterprise project ID sent with every function created or configured (default HUAWEICLOUD_ENTERPRISE_PROJECT_ID; accounts with enterprise projects need it; 0 is the default project)")
	envNames := fs.Bool("env-names", false, "print every environment variable a deployment of the profile reads, one per line: name, required or optional, secret or plain, set or unset, who uses it; then exit")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "deploy: unexpected arguments %q\n", fs.Args())
		return 2
	}
	raw, err := os.ReadFile(*manifestPath)
	if err != nil {
		fmt.Fprintln(stderr, "deploy:", err)
		return 1
	}
	secret, err := deployenv.SecretNames(raw)
	if err != nil {
		fmt.Fprintln(stderr, "deploy:", err)
		return 1
	}
	file, err := deployenv.ReadFile(*configPath, secret)
	if err != nil {
		fmt.Fprintln(stderr, "deploy:", err)
		return 1
	}
	getenv := file.Getenv(environ)
	if *initRun {
		return guide(raw, file, environ, secret, stdin, stdout, stderr)
	}
	profile := firstSet(*profileFlag, getenv(ProfileVar), manifest.AllProfile)
	if *envNames {
		return printEnvNames(raw, profile, getenv, stdout, stderr)
	}

	rep, err := deployenv.Analyze(raw, profile, getenv)
	if err != nil {
		fmt.Fprintln(stderr, "deploy:", err)
		return 1
	}
	*project = firstSet(*project, getenv(config.CloudProjectID), getenv("HUAWEICLOUD_SDK_PROJECT_ID"))
	creds := aksk.Credentials{AK: getenv(config.CloudAK), SK: getenv(config.CloudSK), SecurityToken: getenv(config.CloudSecurityToken)}
	problems := rep.Problems
	if *project == "" {
		problems = addMissing(problems, config.CloudProjectID, "deploy tool")
	}
	if !*dryRun && !creds.Valid() {
		for _, n := range []string{config.CloudAK, config.CloudSK} {
			if getenv(n) == "" {
				problems = addMissing(problems, n, "deploy tool")
			}
		}
	}
	fmt.Fprintf(stdout, "profile %s: %s\n", profile, strings.Join(rep.Functions, ", "))
	required := 0
	for _, n := range rep.Names {
		if n.Required() {
			required++
		}
	}
	if len(problems) == 0 {
		fmt.Fprintf(stdout, "settings: every required variable is set (%d required, %d optional; -env-names lists them)\n", required, len(rep.Names)-required)
	} else {
		fmt.Fprintf(stdout, "settings: %d problem(s), all listed (-env-names lists every variable):\n", len(problems))
		for _, p := range problems {
			fmt.Fprintln(stdout, "  "+p.String())
		}
		if !*dryRun {
			fmt.Fprintln(stdout, "nothing was deployed: set the variables above (export them, or go run ./scripts/deploy -init), then run again; --dry-run shows the plan meanwhile")
			return 1
		}
	}

	// The plan shows each missing variable as <NAME>.
	planEnv := getenv
	if len(problems) > 0 {
		holes := map[string]bool{}
		for _, p := range problems {
			if p.Kind == "missing" {
				holes[p.Name] = true
			}
		}
		planEnv = func(n string) string {
			if holes[n] {
				return "<" + n + ">"
			}
			return getenv(n)
		}
		if *project == "" {
			*project = "<" + config.CloudProjectID + ">"
		}
	}
	whole, err := loadManifest(*manifestPath, planEnv)
	if err != nil {
		fmt.Fprintln(stderr, "deploy:", err)
		return 1
	}
	m, err := whole.ForProfile(profile)
	if err != nil {
		fmt.Fprintln(stderr, "deploy:", err)
		return 1
	}
	gw, err := apigdef.LoadSettings(*manifestPath)
	if err != nil {
		fmt.Fprintln(stderr, "deploy:", err)
		return 1
	}
	smoke := fgdeploy.Smoke{Disabled: *noSmoke, URL: firstSet(*smokeURL, getenv("KG_SMOKE_URL"))}
	if !*noSmoke && !*dryRun {
		smoke.Path, smoke.Key = smokeTarget(m, *smokePath, getenv, stdout)
	}
	empty := ""
	switch {
	case !*dryRun:
	case len(problems) > 0:
		empty = "settings are missing or invalid"
	case !creds.Valid():
		empty = "no credentials (HUAWEICLOUD_SDK_AK/SK)"
	}
	opts := fgdeploy.Options{
		Manifest: m, Gateway: gw, BuildDir: *buildDir, Region: *region, ProjectID: *project,
		FunctionGraphEndpoint: firstSet(*fgEndpoint, getenv("FUNCTIONGRAPH_ENDPOINT")), APIGEndpoint: firstSet(*apigEndpoint, getenv("APIG_ENDPOINT")),
		Credentials: creds, Only: only, DryRun: *dryRun, EmptyAccount: empty, Force: *force, ReplaceTriggers: *replace,
		Smoke: smoke, Timeout: *timeout, Out: stdout, ReadyTimeout: *readyTimeout,
		EnterpriseProjectID: firstSet(*enterpriseProject, getenv("HUAWEICLOUD_ENTERPRISE_PROJECT_ID")),
	}
	if _, err := fgdeploy.Deploy(ctx, opts); err != nil {
		fmt.Fprintln(stderr, "deploy:", err)
		return 1
	}
	if len(problems) > 0 {
		fmt.Fprintf(stdout, "the settings above have %d problem(s): a deployment would refuse to start\n", len(problems))
		return 1
	}
	return 0
}

// addMissing records a missing variable the deploy tool itself needs, merged
// with the functions' entry for it when there is one.
func addMissing(ps []deployenv.Problem, name, who string) []deployenv.Problem {
	for i, p := range ps {
		if p.Kind == "missing" && p.Name == name {
			ps[i].Functions = append(ps[i].Functions, who)
			return ps
		}
	}
	return append([]deployenv.Problem{{Kind: "missing", Name: name, Functions: []string{who}}}, ps...)
}

// smokeTargets are the routes that answer a signed queryInstance, with the
// interface type whose key signs it.
var smokeTargets = []struct{ path, kind string }{
	{"/saas/produce", config.KeyBasic},
	{"/license/produce", config.KeyLicense},
}

// smokeTarget picks the route of the signed smoke check and its key: path if
// given, else the first of smokeTargets the profile deploys.
func smokeTarget(m *manifest.Manifest, path string, getenv func(string) string, stdout io.Writer) (string, kgsign.Key) {
	kind := config.KeyBasic
	if path == "" {
		for _, t := range smokeTargets {
			if hasRoute(m, t.path) {
				path, kind = t.path, t.kind
				break
			}
		}
		if path == "" {
			fmt.Fprintln(stdout, "smoke: the profile deploys neither /saas/produce nor /license/produce; the functions are checked unsigned")
			return "", kgsign.Key{}
		}
	} else {
		for _, t := range smokeTargets {
			if t.path == path {
				kind = t.kind
			}
		}
		if !hasRoute(m, path) {
			fmt.Fprintf(stdout, "smoke: %s is not a route of the profile; no signed check\n", path)
			return "", kgsign.Key{}
		}
	}
	l := config.New(config.Source(getenv))
	key := endpoint.LoadKeys(l, kind)
	if l.Err() != nil || key.Len() == 0 {
		fmt.Fprintf(stdout, "smoke: %s%s / %s not set or unusable; the signed check of %s is skipped\n", config.AccessKey+"_", kind, config.AccessKey, path)
		return "", kgsign.Key{}
	}
	return path, key.Primary()
}

// loadManifest reads serverless.yml with ${env:…} resolved. The parser's errors
// quote the offending lines, which after substitution may hold secrets: an error
// that only the substituted values cause is reported without them.
func loadManifest(path string, getenv func(string) string) (*manifest.Manifest, error) {
	m, err := manifest.Load(path, getenv)
	if err == nil {
		return m, nil
	}
	if _, plainErr := manifest.Load(path, nil); plainErr != nil {
		return nil, plainErr
	}
	return nil, fmt.Errorf("%s does not parse once its ${env:…} values are substituted: a value holds a line break or YAML syntax "+
		"(pass multi-line values such as PEM keys base64-encoded); the parser's message is withheld because it quotes the values", path)
}

func hasRoute(m *manifest.Manifest, path string) bool {
	for _, r := range m.Routes() {
		if r.Path == path {
			return true
		}
	}
	return false
}

func firstSet(vals ...string) string {
	for _, v := range vals {
		if v != "" {
			return v
		}
	}
	return ""
}

// Command deploy deploys the functions of serverless.yml to Huawei FunctionGraph
// from the zips of scripts/build, with the Huawei Cloud Go SDK (see shared/tools/fgdeploy
// and docs/deploy.md). Only functions whose zip or configuration changed are
// written; any failure exits non-zero.
//
//	go run ./scripts/build && go run ./scripts/deploy --dry-run
//	go run ./scripts/deploy --only saas-produce
//
// Credentials: HUAWEICLOUD_SDK_AK, HUAWEICLOUD_SDK_SK (and
// HUAWEICLOUD_SDK_SECURITY_TOKEN for temporary keys); the project:
// HUAWEICLOUD_PROJECT_ID (and HUAWEICLOUD_ENTERPRISE_PROJECT_ID on accounts with
// enterprise projects). serverless.yml resolves ${env:…} from the same
// environment (secrets included), so run it where those are set.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"regexp"
	"sort"
	"strings"
	"syscall"
	"time"

	"github.com/kgseller/kgseller/shared/aksk"
	"github.com/kgseller/kgseller/shared/config"
	"github.com/kgseller/kgseller/shared/endpoint"
	"github.com/kgseller/kgseller/shared/tools/apigdef"
	"github.com/kgseller/kgseller/shared/tools/fgdeploy"
	"github.com/kgseller/kgseller/shared/tools/manifest"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr))
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

func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("deploy", flag.ContinueOnError)
	fs.SetOutput(stderr)
	manifestPath := fs.String("manifest", "serverless.yml", "serverless.yml to deploy")
	buildDir := fs.String("build", "build", "folder holding <name>.zip from scripts/build")
	var only list
	fs.Var(&only, "only", "deploy only this function (repeatable, or comma-separated)")
	dryRun := fs.Bool("dry-run", false, "read the cloud and print the plan; write nothing")
	force := fs.Bool("force", false, "update the configuration of every selected function even if unchanged (after changing a secret)")
	replace := fs.Bool("replace-triggers", false, "delete and recreate triggers whose settings differ from serverless.yml")
	noSmoke := fs.Bool("no-smoke", false, "skip the smoke checks after deploying")
	smokePath := fs.String("smoke-path", "/saas/produce", "route that gets a signed queryInstance (key: KG_ACCESS_KEY_BASIC or KG_ACCESS_KEY)")
	smokeURL := fs.String("smoke-url", getenv("KG_SMOKE_URL"), "public base URL (API group domain) to send the signed smoke call to as well")
	region := fs.String("region", "", "region (default: provider.region of serverless.yml)")
	project := fs.String("project", firstSet(getenv("HUAWEICLOUD_PROJECT_ID"), getenv("HUAWEICLOUD_SDK_PROJECT_ID")), "project id")
	fgEndpoint := fs.String("functiongraph-endpoint", getenv("FUNCTIONGRAPH_ENDPOINT"), "FunctionGraph API base URL (default https://functiongraph.{region}.myhuaweicloud.com)")
	apigEndpoint := fs.String("apig-endpoint", getenv("APIG_ENDPOINT"), "APIG API base URL (default https://apig.{region}.myhuaweicloud.com)")
	timeout := fs.Duration("timeout", 60*time.Second, "timeout of each API call")
	readyTimeout := fs.Duration("ready-timeout", fgdeploy.DefaultReadyTimeout, "how long a write waits for a function still applying its previous change")
	enterpriseProject := fs.String("enterprise-project", getenv("HUAWEICLOUD_ENTERPRISE_PROJECT_ID"), "enterprise project ID sent with every function created or configured (accounts with enterprise projects need it; 0 is the default project)")
	envNames := fs.Bool("env-names", false, "print the environment variables a deployment reads (serverless.yml's ${env:…} and the tool's own), one per line, and exit")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *envNames {
		names, err := referencedEnv(*manifestPath)
		if err != nil {
			fmt.Fprintln(stderr, "deploy:", err)
			return 1
		}
		fmt.Fprintln(stdout, strings.Join(names, "\n"))
		return 0
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "deploy: unexpected arguments %q\n", fs.Args())
		return 2
	}
	m, err := loadManifest(*manifestPath, getenv)
	if err != nil {
		fmt.Fprintln(stderr, "deploy:", err)
		return 1
	}
	gw, err := apigdef.LoadSettings(*manifestPath)
	if err != nil {
		fmt.Fprintln(stderr, "deploy:", err)
		return 1
	}
	smoke := fgdeploy.Smoke{Disabled: *noSmoke, URL: *smokeURL}
	if !*noSmoke && *smokePath != "" {
		l := config.New(config.Source(getenv))
		key := endpoint.LoadKeys(l, config.KeyBasic)
		switch {
		case !hasRoute(m, *smokePath):
			fmt.Fprintf(stdout, "smoke: %s is not a route of serverless.yml; no signed check\n", *smokePath)
		case l.Err() != nil || key.Len() == 0:
			fmt.Fprintln(stdout, "smoke: KG_ACCESS_KEY_BASIC / KG_ACCESS_KEY not set or unusable; the signed check is skipped")
		default:
			smoke.Path, smoke.Key = *smokePath, key.Primary()
		}
	}
	opts := fgdeploy.Options{
		Manifest: m, Gateway: gw, BuildDir: *buildDir, Region: *region, ProjectID: *project,
		FunctionGraphEndpoint: *fgEndpoint, APIGEndpoint: *apigEndpoint,
		Credentials: aksk.Credentials{AK: getenv("HUAWEICLOUD_SDK_AK"), SK: getenv("HUAWEICLOUD_SDK_SK"), SecurityToken: getenv("HUAWEICLOUD_SDK_SECURITY_TOKEN")},
		Only:        only, DryRun: *dryRun, Force: *force, ReplaceTriggers: *replace, Smoke: smoke, Timeout: *timeout, Out: stdout,
		ReadyTimeout: *readyTimeout, EnterpriseProjectID: *enterpriseProject,
	}
	if _, err := fgdeploy.Deploy(ctx, opts); err != nil {
		fmt.Fprintln(stderr, "deploy:", err)
		return 1
	}
	return 0
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

// toolEnv are the variables the tool itself reads.
var toolEnv = []string{
	"HUAWEICLOUD_SDK_AK", "HUAWEICLOUD_SDK_SK", "HUAWEICLOUD_SDK_SECURITY_TOKEN", "HUAWEICLOUD_PROJECT_ID", "HUAWEICLOUD_ENTERPRISE_PROJECT_ID",
	"FUNCTIONGRAPH_ENDPOINT", "APIG_ENDPOINT", "KG_SMOKE_URL", "KG_ACCESS_KEY", "KG_ACCESS_KEY_BASIC", "KG_ACCESS_KEY_BASE64",
}

var envRef = regexp.MustCompile(`\$\{env:([A-Za-z_][A-Za-z0-9_]*)`)

// referencedEnv lists the ${env:NAME} names of serverless.yml and the tool's own,
// sorted (CI exports exactly these from its secrets and variables).
func referencedEnv(path string) ([]string, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	seen := map[string]bool{}
	for _, n := range toolEnv {
		seen[n] = true
	}
	for _, m := range envRef.FindAllSubmatch(raw, -1) {
		seen[string(m[1])] = true
	}
	out := make([]string, 0, len(seen))
	for n := range seen {
		out = append(out, n)
	}
	sort.Strings(out)
	return out, nil
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

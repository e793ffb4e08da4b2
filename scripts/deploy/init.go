package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strings"

	"github.com/kgseller/kgseller/shared/config"
	"github.com/kgseller/kgseller/shared/tools/deployenv"
	"github.com/kgseller/kgseller/shared/tools/manifest"
)

// errInputEnded: the answers stopped before the setup was complete.
var errInputEnded = errors.New("the input ended")

type prompter struct {
	in  *bufio.Scanner
	out io.Writer
}

// ask asks until check accepts an answer (def when the answer is empty).
func (p *prompter) ask(question, def string, check func(string) (string, error)) (string, error) {
	for {
		if def != "" {
			fmt.Fprintf(p.out, "%s [%s]: ", question, def)
		} else {
			fmt.Fprintf(p.out, "%s: ", question)
		}
		if !p.in.Scan() {
			fmt.Fprintln(p.out)
			return "", errInputEnded
		}
		a := strings.TrimSpace(p.in.Text())
		if a == "" {
			a = def
		}
		v, err := check(a)
		if err == nil {
			return v, nil
		}
		fmt.Fprintf(p.out, "  %v\n", err)
	}
}

// hints say where a value comes from (docs/deploy.md has the steps).
var hints = map[string]string{
	config.CloudRegion:                  "the region of every resource, e.g. cn-north-4",
	config.CloudProjectID:               "console → My Credentials → API Credentials: the project ID of that region",
	"HUAWEICLOUD_ENTERPRISE_PROJECT_ID": "only if the account uses enterprise projects; empty otherwise",
	"APIG_INSTANCE_ID":                  "API Gateway → Dedicated Gateways: the gateway's ID",
	"APIG_GROUP_ID":                     "API Gateway → API Management → API Groups: the group's ID",
	"VPC_ID":                            "Virtual Private Cloud: the VPC of RDS and the functions",
	"SUBNET_ID":                         "Virtual Private Cloud: the subnet the functions join",
	config.CloudAK:                      "an IAM user's access key: signs the deployment and the worker's Query Order calls",
	config.CloudSK:                      "the secret of that access key",
	config.DBDSN:                        "the application user's DSN: kgseller_app:…@tcp(<rds address>:3306)/kgseller",
	"KG_ACCESS_KEY_BASIC":               "Seller Console → Key Management: the key bound to the basic interfaces",
	"KG_ACCESS_KEY_KIT":                 "Seller Console → Key Management: the key bound to the Kit sync interfaces",
	"KG_ACCESS_KEY_LICENSE":             "Seller Console → Key Management: the key bound to the License interfaces",
	"KG_ACCESS_KEY_NOTIFY":              "Seller Console → Key Management: the key bound to the generic interfaces",
	config.ProvisionFrontEndURL:         "where a buyer's instance is: https://… with {instanceId}",
}

// first are asked in this order, before the profile's other required variables.
var first = []string{
	"APIG_INSTANCE_ID", "APIG_GROUP_ID", "VPC_ID", "SUBNET_ID", config.CloudAK, config.CloudSK, config.DBDSN,
	"KG_ACCESS_KEY_BASIC", "KG_ACCESS_KEY_KIT", "KG_ACCESS_KEY_LICENSE", "KG_ACCESS_KEY_NOTIFY",
}

var (
	regionRE = regexp.MustCompile(`^[a-z]{2,}(-[a-z0-9]+)+$`)
	idRE     = regexp.MustCompile(`^[A-Za-z0-9_.-]+$`)
	varRE    = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
)

// guide is -init: it asks the profile, region, project, gateway, network and
// where each required secret is, and writes the settings file. Secrets are
// asked as references, never as values.
func guide(raw []byte, file *deployenv.File, environ func(string) string, secret func(string) bool, stdin io.Reader, stdout, stderr io.Writer) int {
	whole, err := manifest.Parse(raw, nil)
	if err != nil {
		fmt.Fprintln(stderr, "deploy:", err)
		return 1
	}
	p := &prompter{in: bufio.NewScanner(stdin), out: stdout}
	fmt.Fprintf(stdout, `Guided setup: the answers go to %s, which every later run reads (flags and the
environment win over it). Secrets are never written there: for each, give the
NAME of an environment variable that will hold it when you deploy, or a
csms:<secret-name> reference (the function reads it from CSMS at cold start).
Press Enter to keep the value in [brackets].

Profiles (the functions a product type needs):
`, file.Path)
	for _, name := range whole.ProfileNames() {
		fns, _ := whole.ProfileFunctions(name)
		fmt.Fprintf(stdout, "  %-16s %s\n", name, strings.Join(fns, ", "))
	}
	err = func() error {
		def := firstSet(file.Values[ProfileVar], "saas")
		profile, err := p.ask("Profile (several: saas,webhook)", def, func(a string) (string, error) {
			if _, err := whole.ForProfile(a); err != nil {
				return "", err
			}
			return a, nil
		})
		if err != nil {
			return err
		}
		file.Set(ProfileVar, profile)
		plain := func(name string, required bool, check *regexp.Regexp) error {
			q := name
			if h := hints[name]; h != "" {
				q += " (" + h + ")"
			}
			v, err := p.ask(q, file.Values[name], func(a string) (string, error) {
				switch {
				case a == "" && required:
					return "", errors.New("required")
				case a != "" && check != nil && !check.MatchString(a):
					return "", fmt.Errorf("not a valid %s", name)
				}
				return a, nil
			})
			if err == nil {
				file.Set(name, v)
			}
			return err
		}
		if file.Values[config.CloudRegion] == "" {
			file.Set(config.CloudRegion, "cn-north-4")
		}
		if err := plain(config.CloudRegion, true, regionRE); err != nil {
			return err
		}
		if err := plain(config.CloudProjectID, true, idRE); err != nil {
			return err
		}
		if err := plain("HUAWEICLOUD_ENTERPRISE_PROJECT_ID", false, idRE); err != nil {
			return err
		}
		rep, err := deployenv.Analyze(raw, profile, file.Getenv(environ))
		if err != nil {
			return err
		}
		var ask []string
		for _, n := range first {
			if n == config.CloudAK || n == config.CloudSK {
				ask = append(ask, n) // the deployment signs with them whatever the profile
			} else if x, ok := rep.Name(n); ok && x.Required() {
				ask = append(ask, n)
			}
		}
		var optional []string
		for _, n := range rep.Names {
			switch {
			case n.Required() && !slices.Contains(ask, n.Name) && n.Name != config.CloudProjectID && n.Name != config.CloudRegion:
				ask = append(ask, n.Name)
			case !n.Required() && !n.Defaulted && file.Values[n.Name] == "":
				optional = append(optional, n.Name)
			}
		}
		for _, n := range ask {
			required := ""
			if x, ok := rep.Name(n); ok && x.Required() {
				required = "required by " + strings.Join(x.RequiredBy, ", ")
			}
			if !secret(n) {
				if err := plain(n, true, nil); err != nil {
					return err
				}
				continue
			}
			q := n + " (secret"
			if required != "" {
				q += "; " + required
			}
			if h := hints[n]; h != "" {
				q += "; " + h
			}
			q += "): environment variable holding it, or csms:<secret-name>"
			v, err := p.ask(q, firstSet(file.Values[n], "$"+n), secretAnswer(n, environ, secret))
			if err != nil {
				return err
			}
			file.Set(n, v)
		}
		heading := "kgseller deployment settings (profile " + profile + "), written by `go run ./scripts/deploy -init`.\n" +
			"Every run of scripts/deploy reads this file; flags and the environment win over it.\n" +
			"Secrets are references: $NAME is read from the environment when the deployment runs,\n" +
			"csms:<secret> is resolved by the function at cold start. Keep this file out of version control."
		if err := file.Write(heading); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "\nwrote %s\n", file.Path)
		var export []string
		for _, n := range file.Values {
			if ref, ok := deployenv.EnvReference(n); ok && environ(ref) == "" && !slices.Contains(export, ref) {
				export = append(export, ref)
			}
		}
		slices.Sort(export)
		if len(export) > 0 {
			fmt.Fprintf(stdout, "before deploying, export: %s\n", strings.Join(export, " "))
		}
		if len(optional) > 0 {
			fmt.Fprintf(stdout, "optional, not asked (export them or add them to %s; -env-names says who reads each): %s\n", file.Path, strings.Join(optional, ", "))
		}
		fmt.Fprintf(stdout, "next: go run ./scripts/build && go run ./scripts/deploy --dry-run\n")
		return nil
	}()
	if errors.Is(err, errInputEnded) {
		fmt.Fprintf(stderr, "deploy -init: %v before the setup was complete; %s was not written\n", err, file.Path)
		return 1
	}
	if err != nil {
		fmt.Fprintln(stderr, "deploy -init:", err)
		return 1
	}
	return 0
}

// secretAnswer accepts a reference to a secret: $NAME, NAME (when it reads as a
// variable's name), or csms:<secret>. It never repeats the answer, which may be
// a secret pasted by mistake.
func secretAnswer(name string, environ func(string) string, secret func(string) bool) func(string) (string, error) {
	return func(a string) (string, error) {
		v := a
		if varRE.MatchString(a) {
			// A bare word without an underscore could be a pasted access key.
			if !strings.Contains(a, "_") && environ(a) == "" {
				return "", errors.New("give the variable as $NAME (a bare word could be the secret itself), or csms:<secret-name>")
			}
			v = "$" + a
		}
		if !deployenv.IsReference(v) {
			if _, ok, err := config.ParseSecretRef(v); ok && err != nil {
				return "", fmt.Errorf("the csms: reference %v", err)
			}
			return "", errors.New("that is not a reference: give the NAME of the environment variable that will hold it, or csms:<secret-name>; the value itself is never written")
		}
		if err := deployenv.CheckValue(name, v, secret); err != nil {
			return "", err
		}
		return v, nil
	}
}

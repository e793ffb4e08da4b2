// Command apigdef writes the API Gateway import definition of serverless.yml
// (Swagger 2.0 with x-apigateway-* extensions; see shared/tools/apigdef).
//
//	go run ./scripts/apigdef -write                  # regenerate template/apig-api.yaml (every route)
//	go run ./scripts/apigdef -resolve                # print it with the URNs filled from the environment
//	go run ./scripts/apigdef -profile saas -resolve  # only the routes of a profile, as scripts/deploy -profile creates them
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/kgseller/kgseller/shared/tools/apigdef"
	"github.com/kgseller/kgseller/shared/tools/manifest"
)

// Template is the committed definition.
const Template = "template/apig-api.yaml"

func main() { os.Exit(run(os.Args[1:], os.Getenv, os.Stdout, os.Stderr)) }

func run(args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("apigdef", flag.ContinueOnError)
	fs.SetOutput(stderr)
	manifestPath := fs.String("manifest", "serverless.yml", "serverless.yml to read")
	write := fs.Bool("write", false, "write "+Template+" instead of printing")
	resolve := fs.Bool("resolve", false, "fill the function URNs from HUAWEICLOUD_REGION, HUAWEICLOUD_PROJECT_ID and FG_APP (as serverless.yml does)")
	profile := fs.String("profile", manifest.AllProfile, "only the routes of this profile of custom.profiles (several: saas,webhook): the APIs scripts/deploy -profile creates")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if *write && *resolve {
		fmt.Fprintln(stderr, "apigdef: the committed template keeps placeholders; -write and -resolve do not combine")
		return 2
	}
	if *write && *profile != manifest.AllProfile {
		fmt.Fprintln(stderr, "apigdef: the committed template holds every route; print a profile's without -write")
		return 2
	}
	out, err := generate(*manifestPath, *profile, *resolve, getenv)
	if err != nil {
		fmt.Fprintln(stderr, "apigdef:", err)
		return 1
	}
	if *write {
		if err := os.WriteFile(Template, out, 0o644); err != nil {
			fmt.Fprintln(stderr, "apigdef:", err)
			return 1
		}
		fmt.Fprintln(stdout, "wrote", Template)
		return 0
	}
	_, _ = stdout.Write(out)
	return 0
}

func generate(manifestPath, profile string, resolve bool, getenv func(string) string) ([]byte, error) {
	settings, err := apigdef.LoadSettings(manifestPath)
	if err != nil {
		return nil, err
	}
	if !resolve {
		// Placeholders only: the committed file must not depend on the environment.
		m, err := manifest.Load(manifestPath, nil)
		if err == nil {
			m, err = m.ForProfile(profile)
		}
		if err != nil {
			return nil, err
		}
		return apigdef.Generate(m, settings, apigdef.Placeholders)
	}
	m, err := manifest.Load(manifestPath, getenv)
	if err == nil {
		m, err = m.ForProfile(profile)
	}
	if err != nil {
		return nil, err
	}
	project := getenv("HUAWEICLOUD_PROJECT_ID")
	if project == "" {
		return nil, fmt.Errorf("-resolve: HUAWEICLOUD_PROJECT_ID is not set")
	}
	pkg := m.Provider.Package
	if pkg == "" {
		pkg = "default"
	}
	return apigdef.Generate(m, settings, apigdef.URNParts{Region: m.Provider.Region, ProjectID: project, Package: pkg})
}

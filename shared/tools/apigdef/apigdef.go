// Package apigdef turns serverless.yml into the API Gateway definition that can be
// imported into a dedicated gateway: Swagger 2.0 with Huawei's x-apigateway-*
// extensions, one operation per APIG trigger, each with a FUNCTION backend (the
// function's URN, synchronous, the trigger's backend timeout), no gateway
// authentication (the functions verify the marketplace's signatures themselves),
// CORS off, the body passed base64-encoded (as the runtime expects), and the
// throttling policy of custom.apig.throttle. The output is deterministic, so a test
// can hold template/apig-api.yaml to what serverless.yml says.
package apigdef

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/kgseller/kgseller/shared/tools/manifest"
)

// URNParts fill the function URNs
// urn:fss:{region}:{project}:function:{package}:{name}:latest.
type URNParts struct {
	Region, ProjectID, Package string
}

// Placeholders name the variables serverless.yml resolves the same values from,
// so `envsubst` (or scripts/apigdef -resolve) completes the committed template.
var Placeholders = URNParts{Region: "${HUAWEICLOUD_REGION}", ProjectID: "${HUAWEICLOUD_PROJECT_ID}", Package: "${FG_APP}"}

// URN returns a function's URN (latest version).
func (p URNParts) URN(function string) string {
	return "urn:fss:" + p.Region + ":" + p.ProjectID + ":function:" + p.Package + ":" + function + ":latest"
}

// Operation is one API of the definition.
type Operation struct {
	Function    string
	Name        string // API name (eventData.name)
	Description string
	Method      string // GET, POST, … or ANY
	Path        string
	MatchMode   string // NORMAL or SWA
	Auth        string // NONE, IAM or APP
	TimeoutMS   int
}

// Operations lists the APIG-triggered routes of m, sorted by path then method.
func Operations(m *manifest.Manifest) ([]Operation, error) {
	var ops []Operation
	for _, name := range m.Names() {
		fn := m.Functions[name]
		for _, ev := range fn.Events {
			if !ev.IsHTTP() {
				continue
			}
			op := Operation{
				Function: name, Name: ev.String("name"), Description: fn.Description,
				Method: strings.ToUpper(ev.String("reqMethod")), Path: ev.String("path"),
				MatchMode: strings.ToUpper(ev.String("matchMode")), Auth: strings.ToUpper(ev.String("auth")),
			}
			if op.Name == "" {
				op.Name = strings.ReplaceAll(name, "-", "_")
			}
			if op.Method == "" {
				op.Method = "ANY"
			}
			if op.MatchMode == "" {
				op.MatchMode = "NORMAL"
			}
			if op.Auth == "" {
				return nil, fmt.Errorf("apigdef: %s %s: eventData.auth is not set (the plugin would default to IAM)", op.Method, op.Path)
			}
			switch op.Auth {
			case "NONE", "IAM", "APP":
			default:
				return nil, fmt.Errorf("apigdef: %s %s: eventData.auth %q is not NONE, IAM or APP", op.Method, op.Path, op.Auth)
			}
			t := ev.String("timeout")
			if t == "" {
				op.TimeoutMS = 5000
			} else if n, err := strconv.Atoi(t); err != nil || n < 1 || n > 60000 {
				return nil, fmt.Errorf("apigdef: %s %s: eventData.timeout must be 1–60000 ms", op.Method, op.Path)
			} else {
				op.TimeoutMS = n
			}
			ops = append(ops, op)
		}
	}
	sort.Slice(ops, func(i, j int) bool {
		if ops[i].Path != ops[j].Path {
			return ops[i].Path < ops[j].Path
		}
		return ops[i].Method < ops[j].Method
	})
	return ops, nil
}

// Header is the comment the generated file starts with.
const Header = `# API Gateway definition of the functions in serverless.yml, for "Import API" on a
# dedicated gateway (Swagger 2.0 with Huawei x-apigateway-* extensions).
# Generated: go run ./scripts/apigdef -write   (a test fails when it is stale)
# The function URNs hold ${HUAWEICLOUD_REGION}, ${HUAWEICLOUD_PROJECT_ID} and ${FG_APP}:
# fill them with envsubst, or write a resolved copy with
#   go run ./scripts/apigdef -resolve > apig-api.resolved.yaml
# The gateway's request body limit (custom.apig.requestBodySizeMB) is a gateway-wide
# feature, not part of an API: scripts/deploy sets it, or set request_body_size on
# the gateway's configuration parameters.
`

// Generate renders the definition. urn fills the function URNs.
func Generate(m *manifest.Manifest, s Settings, urn URNParts) ([]byte, error) {
	if err := s.Validate(); err != nil {
		return nil, err
	}
	ops, err := Operations(m)
	if err != nil {
		return nil, err
	}
	if len(ops) == 0 {
		return nil, fmt.Errorf("apigdef: serverless.yml has no APIG triggers")
	}
	var b strings.Builder
	b.WriteString(Header)
	b.WriteString("swagger: \"2.0\"\n")
	b.WriteString("info:\n")
	fmt.Fprintf(&b, "  title: %s\n", q(m.Service))
	fmt.Fprintf(&b, "  description: %s\n", q("Functions of "+m.Service+" behind a FunctionGraph backend"))
	b.WriteString("  version: \"1\"\n")
	b.WriteString("schemes:\n  - https\n")
	b.WriteString("consumes:\n  - application/json\n")
	b.WriteString("produces:\n  - application/json\n")
	needs := map[string]bool{}
	for _, op := range ops {
		needs[op.Auth] = true
	}
	if needs["IAM"] || needs["APP"] {
		b.WriteString("securityDefinitions:\n")
		if needs["APP"] {
			b.WriteString("  apig-auth-app:\n    type: apiKey\n    name: Authorization\n    in: header\n    x-apigateway-auth-type: AppSigv1\n")
		}
		if needs["IAM"] {
			b.WriteString("  apig-auth-iam:\n    type: apiKey\n    name: unused\n    in: header\n    x-apigateway-auth-type: IAM\n")
		}
	}
	if t := s.Throttle; t != nil {
		b.WriteString("x-apigateway-ratelimits:\n")
		fmt.Fprintf(&b, "  %s:\n", t.Name)
		fmt.Fprintf(&b, "    api-limit: %d\n", t.APICallLimits)
		if t.IPCallLimits > 0 {
			fmt.Fprintf(&b, "    ip-limit: %d\n", t.IPCallLimits)
		}
		fmt.Fprintf(&b, "    interval: %d\n", t.TimeInterval)
		fmt.Fprintf(&b, "    unit: %s\n", t.TimeUnit)
		b.WriteString("    shared: false\n")
	}
	b.WriteString("paths:\n")
	for i, op := range ops {
		if i == 0 || ops[i-1].Path != op.Path {
			fmt.Fprintf(&b, "  %s:\n", q(op.Path))
		}
		method := strings.ToLower(op.Method)
		if op.Method == "ANY" {
			method = "x-apigateway-any-method"
		}
		fmt.Fprintf(&b, "    %s:\n", method)
		fmt.Fprintf(&b, "      operationId: %s\n", q(op.Name))
		if op.Description != "" {
			fmt.Fprintf(&b, "      description: %s\n", q(op.Description))
		}
		b.WriteString("      x-apigateway-request-type: public\n")
		fmt.Fprintf(&b, "      x-apigateway-match-mode: %s\n", op.MatchMode)
		b.WriteString("      x-apigateway-cors: false\n")
		b.WriteString("      x-apigateway-is-send-fg-body-base64: true\n")
		switch op.Auth {
		case "APP":
			b.WriteString("      security:\n        - apig-auth-app: []\n")
		case "IAM":
			b.WriteString("      security:\n        - apig-auth-iam: []\n")
		}
		if s.Throttle != nil {
			fmt.Fprintf(&b, "      x-apigateway-ratelimit: %s\n", s.Throttle.Name)
		}
		b.WriteString("      x-apigateway-backend:\n")
		b.WriteString("        type: FUNCTION\n")
		b.WriteString("        functionEndpoints:\n")
		fmt.Fprintf(&b, "          function-urn: %s\n", q(urn.URN(op.Function)))
		b.WriteString("          version: latest\n")
		b.WriteString("          invocation-type: sync\n")
		fmt.Fprintf(&b, "          timeout: %d\n", op.TimeoutMS)
		b.WriteString("      responses:\n")
		b.WriteString("        default:\n")
		b.WriteString("          description: the function's answer\n")
	}
	return []byte(b.String()), nil
}

// q quotes a YAML scalar (a JSON string is a valid double-quoted YAML scalar).
func q(s string) string { return strconv.Quote(s) }

package apigdef

import (
	"fmt"
	"os"
	"regexp"
	"strings"

	"github.com/goccy/go-yaml"
)

// Settings are the gateway-side request limits of serverless.yml's custom.apig
// section. The serverless-huawei-functions plugin has no keys for them (it ignores
// custom:), so scripts/deploy applies them through the APIG API and
// template/apig-api.yaml carries the throttling policy for an import.
type Settings struct {
	Throttle *Throttle `yaml:"throttle"`
	// RequestBodySizeMB is the dedicated gateway's request_body_size feature
	// (1–9536 MB). It is gateway-wide: every API of the instance gets it.
	RequestBodySizeMB int `yaml:"requestBodySizeMB"`
}

// Throttle is a request throttling policy bound to every API of serverless.yml.
type Throttle struct {
	Name string `yaml:"name"`
	// APICallLimits is the number of calls one API accepts per interval.
	APICallLimits int `yaml:"apiCallLimits"`
	// IPCallLimits is the number of calls one source IP may make to one API per
	// interval (at most APICallLimits).
	IPCallLimits int    `yaml:"ipCallLimits"`
	TimeInterval int    `yaml:"timeInterval"`
	TimeUnit     string `yaml:"timeUnit"` // SECOND, MINUTE, HOUR or DAY
}

var throttleName = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_]{2,63}$`)

// Validate checks the values against the APIG API's rules.
func (s Settings) Validate() error {
	if s.RequestBodySizeMB < 0 || s.RequestBodySizeMB > 9536 {
		return fmt.Errorf("custom.apig.requestBodySizeMB must be 1–9536 (or 0 to leave the gateway's default)")
	}
	t := s.Throttle
	if t == nil {
		return nil
	}
	switch {
	case !throttleName.MatchString(t.Name):
		return fmt.Errorf("custom.apig.throttle.name must be 3–64 letters, digits or underscores, starting with a letter")
	case t.APICallLimits < 1:
		return fmt.Errorf("custom.apig.throttle.apiCallLimits must be at least 1")
	case t.IPCallLimits < 0 || t.IPCallLimits > t.APICallLimits:
		return fmt.Errorf("custom.apig.throttle.ipCallLimits must be between 0 and apiCallLimits")
	case t.TimeInterval < 1:
		return fmt.Errorf("custom.apig.throttle.timeInterval must be at least 1")
	}
	switch t.TimeUnit {
	case "SECOND", "MINUTE", "HOUR", "DAY":
	default:
		return fmt.Errorf("custom.apig.throttle.timeUnit must be SECOND, MINUTE, HOUR or DAY")
	}
	return nil
}

// LoadSettings reads custom.apig from a serverless.yml (literal values only).
func LoadSettings(path string) (Settings, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return Settings{}, fmt.Errorf("apigdef: %w", err)
	}
	return ParseSettings(raw)
}

// variable matches a ${…} reference. custom.apig takes literal values; references
// elsewhere in the file are blanked so they cannot break the YAML (a flow mapping
// such as {timeout: ${env:T, '5000'}} is only valid once resolved).
var variable = regexp.MustCompile(`\$\{[^}]*\}`)

// ParseSettings is LoadSettings on bytes.
func ParseSettings(raw []byte) (Settings, error) {
	raw = variable.ReplaceAll(raw, []byte("variable"))
	var doc struct {
		Custom struct {
			APIG Settings `yaml:"apig"`
		} `yaml:"custom"`
	}
	if err := yaml.Unmarshal(raw, &doc); err != nil {
		return Settings{}, fmt.Errorf("apigdef: custom.apig: %w", err)
	}
	s := doc.Custom.APIG
	if s.Throttle != nil {
		s.Throttle.TimeUnit = strings.ToUpper(s.Throttle.TimeUnit)
	}
	if err := s.Validate(); err != nil {
		return Settings{}, fmt.Errorf("apigdef: %w", err)
	}
	return s, nil
}

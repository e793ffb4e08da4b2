package fgdeploy

import "errors"

// account is what a deployment reads and writes: the cloud, or an empty account
// for a plan made without reading it.
type account interface {
	showFunction(urn string) (*Deployed, error)
	createFunction(cfg Config, zip []byte) (string, error)
	updateCode(urn, name string, zip []byte) error
	updateConfig(urn string, cfg Config) error
	setMaxInstances(urn string, n int) error
	listTriggers(urn string) ([]Existing, error)
	createTrigger(urn string, t Trigger) error
	deleteTrigger(urn string, e Existing) error
	invoke(urn string, event map[string]any) (Invocation, error)
	findPolicy(instance, name string) (*Policy, error)
	savePolicy(instance string, p Policy) (string, error)
	unboundAPIs(instance, policy, group, env string) ([]GatewayAPI, error)
	bind(instance, policy string, publishIDs []string) error
	features(instance string) ([]Feature, error)
	setFeature(instance string, f Feature) error
}

var _ account = (*cloud)(nil)

// errEmptyAccount: an empty account is only planned against, never written to.
var errEmptyAccount = errors.New("fgdeploy: a plan against an empty account writes nothing")

// emptyAccount holds nothing: every function, trigger, policy and gateway
// setting would be created. A dry run without credentials plans against it.
type emptyAccount struct{}

func (emptyAccount) showFunction(string) (*Deployed, error)        { return nil, nil }
func (emptyAccount) createFunction(Config, []byte) (string, error) { return "", errEmptyAccount }
func (emptyAccount) updateCode(string, string, []byte) error       { return errEmptyAccount }
func (emptyAccount) updateConfig(string, Config) error             { return errEmptyAccount }
func (emptyAccount) setMaxInstances(string, int) error             { return errEmptyAccount }
func (emptyAccount) listTriggers(string) ([]Existing, error)       { return nil, nil }
func (emptyAccount) createTrigger(string, Trigger) error           { return errEmptyAccount }
func (emptyAccount) deleteTrigger(string, Existing) error          { return errEmptyAccount }
func (emptyAccount) invoke(string, map[string]any) (Invocation, error) {
	return Invocation{}, errEmptyAccount
}
func (emptyAccount) findPolicy(string, string) (*Policy, error) { return nil, nil }
func (emptyAccount) savePolicy(string, Policy) (string, error)  { return "", errEmptyAccount }
func (emptyAccount) unboundAPIs(string, string, string, string) ([]GatewayAPI, error) {
	return nil, nil
}
func (emptyAccount) bind(string, string, []string) error { return errEmptyAccount }
func (emptyAccount) features(string) ([]Feature, error)  { return nil, nil }
func (emptyAccount) setFeature(string, Feature) error    { return errEmptyAccount }

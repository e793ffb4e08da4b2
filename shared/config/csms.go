package config

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/kgseller/kgseller/shared/aksk"
)

// CSMSPrefix marks a setting whose value names a secret in Huawei Cloud CSMS
// (Data Encryption Workshop's Cloud Secret Management Service) instead of holding
// it: csms:<secret-name>[:<version>][#<json-key>]. The version defaults to
// latest; #key picks one field of a secret stored as a JSON object (the CSMS
// console's key/value secrets).
const CSMSPrefix = "csms:"

// SecretRef is a parsed csms: reference.
type SecretRef struct {
	Name, Version, Key string
}

func (r SecretRef) String() string {
	s := r.Name + " (version " + r.Version + ")"
	if r.Key != "" {
		s += " key " + r.Key
	}
	return s
}

// validSecretName: 1 to 64 letters, digits, '_', '.' or '-', as CSMS names
// secrets. (Checked by hand: regexp would add its engine to every function.)
func validSecretName(s string) bool {
	if len(s) == 0 || len(s) > 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_' || c == '.' || c == '-') {
			return false
		}
	}
	return true
}

// validSecretVersion: "latest" or "v" and 1 to 10 digits.
func validSecretVersion(s string) bool {
	if s == "latest" {
		return true
	}
	digits, ok := strings.CutPrefix(s, "v")
	if !ok || len(digits) == 0 || len(digits) > 10 {
		return false
	}
	for i := 0; i < len(digits); i++ {
		if digits[i] < '0' || digits[i] > '9' {
			return false
		}
	}
	return true
}

// ParseSecretRef reads a csms: reference; ok is false for any other value.
func ParseSecretRef(value string) (ref SecretRef, ok bool, err error) {
	rest, found := strings.CutPrefix(strings.TrimSpace(value), CSMSPrefix)
	if !found {
		return SecretRef{}, false, nil
	}
	rest, ref.Key, _ = strings.Cut(rest, "#")
	ref.Name, ref.Version, _ = strings.Cut(rest, ":")
	if ref.Version == "" {
		ref.Version = "latest"
	}
	switch {
	case !validSecretName(ref.Name):
		return SecretRef{}, true, errors.New("is not csms:<secret-name>[:<version>][#<key>] (name: letters, digits, _ . -)")
	case !validSecretVersion(ref.Version):
		return SecretRef{}, true, errors.New("names a CSMS version other than latest or v<n>")
	case strings.Contains(value, "#") && ref.Key == "":
		return SecretRef{}, true, errors.New("has an empty #key")
	}
	return ref, true, nil
}

// SecretFetcher reads one version of a secret.
type SecretFetcher interface {
	FetchSecret(ctx context.Context, name, version string) (string, error)
}

// CSMS reads secrets from CSMS: GET /v1/{project_id}/secrets/{name}/versions/
// {version}, signed with AK/SK by shared/aksk, the request the SDK's CSMS client
// (csms/v1 ShowSecretVersion) sends; its answer is read in the shape of the SDK's
// ShowSecretVersionResponse. The SDK's client is not linked into functions: it
// would weigh more than the rest of a function together.
type CSMS struct {
	endpoint string
	project  string
	cred     aksk.Credentials
	http     *http.Client
}

// CSMSOptions configure a CSMS client.
type CSMSOptions struct {
	// Endpoint is the CSMS API base URL (the KMS endpoint of the region,
	// https://kms.{region}.myhuaweicloud.com).
	Endpoint  string
	ProjectID string
	// AK, SK and SecurityToken are the caller's credentials (a token for temporary
	// agency credentials).
	AK, SK, SecurityToken string
	// Timeout bounds each call (default 3 s: it runs during a cold start).
	Timeout time.Duration
}

// NewCSMS returns a CSMS client.
func NewCSMS(o CSMSOptions) (*CSMS, error) {
	if o.AK == "" || o.SK == "" {
		return nil, errors.New("no credentials for CSMS (HUAWEICLOUD_SDK_AK and HUAWEICLOUD_SDK_SK)")
	}
	if o.Endpoint == "" || o.ProjectID == "" {
		return nil, errors.New("no CSMS endpoint or project (CSMS_ENDPOINT or HUAWEICLOUD_REGION; RUNTIME_PROJECT_ID or HUAWEICLOUD_PROJECT_ID)")
	}
	if u, err := url.Parse(o.Endpoint); err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		return nil, errors.New("CSMS_ENDPOINT is not an absolute URL")
	}
	if o.Timeout == 0 {
		o.Timeout = 3 * time.Second
	}
	return &CSMS{
		endpoint: strings.TrimRight(o.Endpoint, "/"), project: o.ProjectID,
		cred: aksk.Credentials{AK: o.AK, SK: o.SK, SecurityToken: o.SecurityToken},
		http: &http.Client{Timeout: o.Timeout},
	}, nil
}

// secretVersionAnswer is the part of ShowSecretVersionResponse read here.
type secretVersionAnswer struct {
	Version *struct {
		SecretString *string `json:"secret_string"`
	} `json:"version"`
	ErrorCode string `json:"error_code"`
}

// FetchSecret returns the secret's string value.
func (c *CSMS) FetchSecret(ctx context.Context, name, version string) (string, error) {
	if !validSecretName(name) || !validSecretVersion(version) {
		return "", errors.New("not a CSMS secret name and version")
	}
	req, err := aksk.Request(c.cred, c.endpoint, time.Now().UTC().Format(aksk.Date), aksk.Call{
		Method:  http.MethodGet,
		Path:    "/v1/" + c.project + "/secrets/" + name + "/versions/" + version,
		Headers: map[string]string{"X-Project-Id": c.project},
	})
	if err != nil {
		return "", fmt.Errorf("CSMS request: %w", err)
	}
	resp, err := c.http.Do(req.WithContext(ctx))
	if err != nil {
		if ctx.Err() != nil {
			return "", ctx.Err()
		}
		return "", errors.New("CSMS unreachable: " + errorClass(err))
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return "", errors.New("CSMS unreachable: " + errorClass(err))
	}
	var v secretVersionAnswer
	_ = json.Unmarshal(body, &v)
	switch {
	case resp.StatusCode == http.StatusNotFound:
		return "", fmt.Errorf("not found (HTTP 404 %s)", v.ErrorCode)
	case resp.StatusCode != http.StatusOK:
		return "", fmt.Errorf("HTTP %d %s", resp.StatusCode, v.ErrorCode)
	case v.Version == nil || v.Version.SecretString == nil:
		return "", errors.New("the version holds no secret_string (binary secrets are not supported)")
	}
	return *v.Version.SecretString, nil
}

// errorClass describes a transport error without its text, which could quote a URL
// or an answer.
func errorClass(err error) string {
	var te interface{ Timeout() bool }
	if errors.As(err, &te) && te.Timeout() {
		return "timeout"
	}
	return "request failed"
}

// ResolveSecrets returns a Source over src in which every setting of names whose
// value is a csms: reference holds the secret instead. References are fetched
// once each, concurrently, within ctx. A reference that cannot be resolved leaves
// its setting unset (so the Loader reports it missing) and is described in the
// returned error, which names the setting and the secret but never a value.
func ResolveSecrets(ctx context.Context, src Source, names []string, f SecretFetcher) (Source, error) {
	refs := map[string]SecretRef{}
	var problems []string
	for _, n := range names {
		ref, ok, err := ParseSecretRef(src(n))
		switch {
		case !ok:
		case err != nil:
			problems = append(problems, n+": the value "+err.Error())
		default:
			refs[n] = ref
		}
	}
	resolved := map[string]string{}
	failed := map[string]bool{}
	for n := range refs {
		failed[n] = true // until resolved
	}
	if len(refs) > 0 {
		if f == nil {
			for _, n := range sortedKeys(refs) {
				problems = append(problems, n+": refers to CSMS secret "+refs[n].String()+", but no CSMS client is configured")
			}
		} else {
			values, errs := fetchAll(ctx, refs, f)
			for _, n := range sortedKeys(refs) {
				ref := refs[n]
				key := ref.Name + ":" + ref.Version
				if err := errs[key]; err != nil {
					problems = append(problems, n+": CSMS secret "+ref.String()+": "+err.Error())
					continue
				}
				v := values[key]
				if ref.Key != "" {
					var obj map[string]any
					if json.Unmarshal([]byte(v), &obj) != nil {
						problems = append(problems, n+": CSMS secret "+ref.String()+": the secret is not a JSON object")
						continue
					}
					field, ok := obj[ref.Key].(string)
					if !ok {
						problems = append(problems, n+": CSMS secret "+ref.String()+": no string field "+ref.Key)
						continue
					}
					v = field
				}
				if strings.TrimSpace(v) == "" {
					problems = append(problems, n+": CSMS secret "+ref.String()+" is empty")
					continue
				}
				resolved[n] = v
				delete(failed, n)
			}
		}
	}
	out := func(name string) string {
		if v, ok := resolved[name]; ok {
			return v
		}
		if failed[name] {
			return ""
		}
		if _, isRef, _ := ParseSecretRef(src(name)); isRef {
			return "" // a malformed reference is not a value
		}
		return src(name)
	}
	if len(problems) > 0 {
		sort.Strings(problems)
		return out, errors.New("configuration: secrets not resolved: " + strings.Join(problems, "; "))
	}
	return out, nil
}

func fetchAll(ctx context.Context, refs map[string]SecretRef, f SecretFetcher) (map[string]string, map[string]error) {
	values, errs := map[string]string{}, map[string]error{}
	var mu sync.Mutex
	var wg sync.WaitGroup
	seen := map[string]bool{}
	for _, ref := range refs {
		key := ref.Name + ":" + ref.Version
		if seen[key] {
			continue
		}
		seen[key] = true
		wg.Add(1)
		go func(ref SecretRef, key string) {
			defer wg.Done()
			v, err := f.FetchSecret(ctx, ref.Name, ref.Version)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				errs[key] = err
				return
			}
			values[key] = v
		}(ref, key)
	}
	wg.Wait()
	return values, errs
}

func sortedKeys(m map[string]SecretRef) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// EnvNames lists the settings Env can see: the process environment and the keys
// of RUNTIME_USERDATA.
func EnvNames() []string {
	seen := map[string]bool{}
	for _, kv := range os.Environ() {
		if k, _, ok := strings.Cut(kv, "="); ok && k != "" {
			seen[k] = true
		}
	}
	var userData map[string]string
	if raw := os.Getenv("RUNTIME_USERDATA"); raw != "" && json.Unmarshal([]byte(raw), &userData) == nil {
		for k := range userData {
			seen[k] = true
		}
	}
	out := make([]string, 0, len(seen))
	for k := range seen {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// CSMSFromSource builds the CSMS client a function uses at cold start from its own
// settings: HUAWEICLOUD_SDK_AK, HUAWEICLOUD_SDK_SK (and
// HUAWEICLOUD_SDK_SECURITY_TOKEN), RUNTIME_PROJECT_ID (set by FunctionGraph) or
// HUAWEICLOUD_PROJECT_ID, and CSMS_ENDPOINT or HUAWEICLOUD_REGION.
func CSMSFromSource(src Source) (*CSMS, error) {
	endpoint := strings.TrimSpace(src("CSMS_ENDPOINT"))
	if endpoint == "" {
		if region := strings.TrimSpace(src("HUAWEICLOUD_REGION")); region != "" {
			endpoint = "https://kms." + region + ".myhuaweicloud.com"
		}
	}
	project := strings.TrimSpace(src("RUNTIME_PROJECT_ID"))
	if project == "" {
		project = strings.TrimSpace(src("HUAWEICLOUD_PROJECT_ID"))
	}
	return NewCSMS(CSMSOptions{
		Endpoint: endpoint, ProjectID: project,
		AK: strings.TrimSpace(src("HUAWEICLOUD_SDK_AK")), SK: strings.TrimSpace(src("HUAWEICLOUD_SDK_SK")),
		SecurityToken: strings.TrimSpace(src("HUAWEICLOUD_SDK_SECURITY_TOKEN")),
	})
}

// ResolveEnv is Env with its csms: references resolved (see ResolveSecrets). When
// no setting is a reference it makes no call and needs no credentials.
func ResolveEnv(ctx context.Context) (Source, error) {
	src := Env()
	names := EnvNames()
	found := false
	for _, n := range names {
		if _, ok, _ := ParseSecretRef(src(n)); ok {
			found = true
			break
		}
	}
	if !found {
		return src, nil
	}
	var f SecretFetcher
	client, err := CSMSFromSource(src)
	if err == nil {
		f = client
	}
	out, rerr := ResolveSecrets(ctx, src, names, f)
	if err != nil && rerr != nil {
		rerr = fmt.Errorf("%w (CSMS client: %v)", rerr, err)
	}
	return out, rerr
}

// EnvWithSecrets is the Source a function's main can use instead of Env: Env with
// csms: references resolved once, at cold start, within 4 s. Unresolved references
// leave their settings unset, so the function reports them missing by name and
// answers 000005; the reason (setting and secret names, no values) goes to stderr
// as a JSON log line.
func EnvWithSecrets() Source {
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Second)
	defer cancel()
	src, err := ResolveEnv(ctx)
	if err != nil {
		slog.New(slog.NewJSONHandler(os.Stderr, nil)).Error("configuration", "err", err.Error())
	}
	return src
}

package sso

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// maxIdPBody bounds what is read from the auth centre.
const maxIdPBody = 1 << 20

// tokenReply is the token endpoint's answer (docs/protocol.md#sso-token, with the refresh).
type tokenReply struct {
	AccessToken  string          `json:"access_token"`
	TokenType    string          `json:"token_type"`
	ExpiresIn    json.RawMessage `json:"expires_in"`
	RefreshToken string          `json:"refresh_token"`
	Scope        string          `json:"scope"`
}

// expiresIn reads expires_in as a number or a numeric string; 0 when absent.
func (t tokenReply) expiresIn() int64 {
	s := strings.Trim(string(t.ExpiresIn), `"`)
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 0 {
		return 0
	}
	return n
}

// OAuthError is an error answer of the auth centre ({"error","error_description"}).
type OAuthError struct {
	Status      int
	Code        string // invalid_grant, invalid_client, ...
	Description string
}

func (e *OAuthError) Error() string {
	return fmt.Sprintf("auth centre answered %d %s: %s", e.Status, e.Code, e.Description)
}

// UserInfo is the userinfo answer (docs/protocol.md#sso-userinfo).
type UserInfo struct {
	ID               string
	UserName         string
	Name             string
	Email            string
	Mobile           string
	Role             string
	OrganizationName string
	OrganizationCode string
	UserID           string
	ProjectName      string
	Tenant           string
}

// endpoint joins the tenant's domain and an API path.
func endpointURL(domain, path string) string { return strings.TrimRight(domain, "/") + path }

// token posts a form to {domainName}/api/v1/oauth2/token.
func (s *Service) token(ctx context.Context, domain string, form url.Values) (tokenReply, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpointURL(domain, "/api/v1/oauth2/token"), strings.NewReader(form.Encode()))
	if err != nil {
		return tokenReply{}, fmt.Errorf("sso: token request: %w", err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	body, status, err := s.do(req)
	if err != nil {
		return tokenReply{}, err
	}
	if status != http.StatusOK {
		return tokenReply{}, oauthError(status, body)
	}
	var t tokenReply
	if err := json.Unmarshal(body, &t); err != nil || t.AccessToken == "" {
		return tokenReply{}, fmt.Errorf("sso: token answer without access_token (HTTP %d)", status)
	}
	return t, nil
}

// userInfo fetches {domainName}/api/v1/oauth2/userinfo with the access token.
func (s *Service) userInfo(ctx context.Context, domain, accessToken string) (UserInfo, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, endpointURL(domain, "/api/v1/oauth2/userinfo"), nil)
	if err != nil {
		return UserInfo{}, fmt.Errorf("sso: userinfo request: %w", err)
	}
	req.Header.Set("Authorization", "Bearer "+accessToken)
	req.Header.Set("Accept", "application/json")
	body, status, err := s.do(req)
	if err != nil {
		return UserInfo{}, err
	}
	if status != http.StatusOK {
		return UserInfo{}, oauthError(status, body)
	}
	var m map[string]any
	if err := json.Unmarshal(body, &m); err != nil {
		return UserInfo{}, fmt.Errorf("sso: userinfo answer is not a JSON object (HTTP %d)", status)
	}
	str := func(k string) string {
		switch v := m[k].(type) {
		case string:
			return v
		case float64:
			return strconv.FormatFloat(v, 'f', -1, 64)
		}
		return ""
	}
	return UserInfo{
		ID: str("id"), UserName: str("userName"), Name: str("name"), Email: str("email"), Mobile: str("mobile"),
		Role: str("role"), OrganizationName: str("organizationName"), OrganizationCode: str("organizationCode"),
		UserID: str("userId"), ProjectName: str("projectName"), Tenant: str("tenant"),
	}, nil
}

func (s *Service) do(req *http.Request) ([]byte, int, error) {
	resp, err := s.HTTP.Do(req)
	if err != nil {
		// The URL carries no secret (secrets travel in the form or the header).
		return nil, 0, fmt.Errorf("sso: calling the auth centre: %w", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxIdPBody))
	if err != nil {
		return nil, 0, fmt.Errorf("sso: reading the auth centre's answer: %w", err)
	}
	return body, resp.StatusCode, nil
}

func oauthError(status int, body []byte) error {
	var e struct {
		Error       string `json:"error"`
		Description string `json:"error_description"`
	}
	_ = json.Unmarshal(body, &e)
	if e.Error == "" {
		e.Error = "http_" + strconv.Itoa(status)
	}
	if len(e.Description) > 200 {
		e.Description = e.Description[:200]
	}
	return &OAuthError{Status: status, Code: e.Error, Description: e.Description}
}

// isOAuth reports whether err is an auth-centre error with the given code.
func isOAuth(err error, code string) bool {
	var oe *OAuthError
	return errors.As(err, &oe) && oe.Code == code
}

// NewHTTPClient returns the client for auth-centre calls: bounded by timeout, and
// never following redirects (a token or userinfo endpoint has no reason to
// redirect, and following one could send the request somewhere unintended).
func NewHTTPClient(timeout time.Duration) *http.Client {
	return &http.Client{
		Timeout:       timeout,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

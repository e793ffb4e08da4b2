package fakecloud

import (
	"net/http"
	"strconv"
	"strings"
)

// showSecretVersion answers GET /v1/{project_id}/secrets/{secret_name}/versions/
// {version_id} in the shape of the SDK's ShowSecretVersionResponse (csms/v1/model:
// version.version_metadata, version.secret_string); version_id is "latest" or a
// version's id (here v1, v2…). Unknown secrets and versions answer 404 with the
// CSMS error body.
func (c *Cloud) showSecretVersion(r request) answer {
	versions := c.secrets[r.params["secret"]]
	if len(versions) == 0 {
		return fail(APIError{http.StatusNotFound, "CSMS.0207", "secret not found"})
	}
	idx := len(versions)
	if v := r.params["version"]; v != "latest" {
		n, err := strconv.Atoi(strings.TrimPrefix(v, "v"))
		if err != nil || !strings.HasPrefix(v, "v") || n < 1 || n > len(versions) {
			return fail(APIError{http.StatusNotFound, "CSMS.0208", "secret version not found"})
		}
		idx = n
	}
	return answer{status: http.StatusOK, body: map[string]any{"version": map[string]any{
		"version_metadata": map[string]any{"id": "v" + strconv.Itoa(idx), "secret_name": r.params["secret"], "version_stages": []string{"SYSCURRENT"}},
		"secret_string":    versions[idx-1],
	}}}
}

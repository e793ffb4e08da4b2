package fglocal

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/kgseller/kgseller/shared/apigsign"
	"github.com/kgseller/kgseller/shared/fgasync"
)

// AsyncAPI serves FunctionGraph's asynchronous-invocation API,
// POST /v2/{project_id}/fgs/functions/{function_urn}/invocations-async, for the
// emulated functions: it checks the AK/SK signature when verifier is not nil,
// answers 202 at once and runs the invocation in the background, as FunctionGraph
// does.
func (e *Emulator) AsyncAPI(verifier *apigsign.Verifier) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rest, ok := strings.CutPrefix(r.URL.Path, "/v2/")
		_, urn, found := strings.Cut(rest, "/fgs/functions/")
		urn, isAsync := strings.CutSuffix(urn, "/invocations-async")
		if !ok || !found || !isAsync || r.Method != http.MethodPost {
			apigError(w, http.StatusNotFound, "FSS.0404", "not found", newID())
			return
		}
		body, err := io.ReadAll(io.LimitReader(r.Body, 256<<10+1))
		if err != nil || len(body) > 256<<10 {
			apigError(w, http.StatusRequestEntityTooLarge, "FSS.0413", "async payload over 256 KB", newID())
			return
		}
		if verifier != nil {
			if _, err := verifier.VerifyHTTP(r, body); err != nil {
				apigError(w, http.StatusUnauthorized, "APIGW.0301", "Incorrect IAM authentication information: "+err.Error(), newID())
				return
			}
		}
		u, err := fgasync.ParseURN(urn)
		if err != nil {
			apigError(w, http.StatusBadRequest, "FSS.0400", err.Error(), newID())
			return
		}
		if _, ok := e.fns[u.Name]; !ok {
			apigError(w, http.StatusNotFound, "FSS.1051", "function "+u.Name+" does not exist", newID())
			return
		}
		id := newID()
		go func() {
			ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
			defer cancel()
			if _, err := e.Invoke(ctx, u.Name, body); err != nil {
				e.opts.Logger.Warn("async invocation failed", "function", u.Name, "request", id, "err", err)
			}
		}()
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusAccepted)
		_ = json.NewEncoder(w).Encode(map[string]string{"request_id": id})
	})
}

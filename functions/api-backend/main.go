// Command api-backend is the example backend of an API-type product, behind
// ANY /api/v1/echo (and its sub-paths): it accepts only requests that API Gateway
// signed with the API's signature key.
package main

import (
	"github.com/kgseller/kgseller/shared/config"
	"github.com/kgseller/kgseller/shared/fgruntime/httpfn"
	"github.com/kgseller/kgseller/shared/wire/apifn"
)

func main() {
	httpfn.Start(apifn.Backend(config.EnvWithSecrets()))
}

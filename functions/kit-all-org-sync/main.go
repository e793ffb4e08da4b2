// Command kit-all-org-sync is the FunctionGraph function behind POST /produceAPI/v2/allOrgSync: the joint-operation Kit full department sync.
package main

import (
	"github.com/kgseller/kgseller/shared/config"
	"github.com/kgseller/kgseller/shared/fgruntime"
	"github.com/kgseller/kgseller/shared/wire/kitfn"
)

func main() {
	fgruntime.Start(kitfn.AllOrgSync(config.EnvWithSecrets()))
}

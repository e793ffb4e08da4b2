// Command kit-single-org-sync is the FunctionGraph function behind POST /produceAPI/v2/singleOrgSync: the joint-operation Kit incremental department sync.
package main

import (
	"github.com/kgseller/kgseller/shared/config"
	"github.com/kgseller/kgseller/shared/fgruntime"
	"github.com/kgseller/kgseller/shared/wire/kitfn"
)

func main() {
	fgruntime.Start(kitfn.SingleOrgSync(config.EnvWithSecrets()))
}

// Command kit-single-org-sync is the FunctionGraph function behind POST /produceAPI/v2/singleOrgSync: the joint-operation Kit incremental department sync.
package main

import (
	"github.com/kgseller/kgseller/shared/app"
	"github.com/kgseller/kgseller/shared/config"
	"github.com/kgseller/kgseller/shared/fgruntime"
)

func main() {
	fgruntime.Start(app.KitSingleOrgSync(config.EnvWithSecrets()))
}

// Command saas-produce is the FunctionGraph function behind POST /saas/produce: the
// SaaS basic interfaces (newInstance, queryInstance, refreshInstance,
// updateInstanceStatus, releaseInstance, upgradeInstance, changeInstanceCheck).
package main

import (
	"github.com/kgseller/kgseller/shared/config"
	"github.com/kgseller/kgseller/shared/fgruntime"
	"github.com/kgseller/kgseller/shared/wire/saasfn"
)

func main() {
	fgruntime.Start(saasfn.SaaSProduce(config.EnvWithSecrets()))
}

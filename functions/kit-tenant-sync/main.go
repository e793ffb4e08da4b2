// Command kit-tenant-sync is the FunctionGraph function behind POST /produceAPI/v2/tenantSync: the joint-operation Kit tenant (enterprise) sync.
package main

import (
	"github.com/kgseller/kgseller/shared/app"
	"github.com/kgseller/kgseller/shared/config"
	"github.com/kgseller/kgseller/shared/fgruntime"
)

func main() {
	fgruntime.Start(app.KitTenantSync(config.EnvWithSecrets()))
}

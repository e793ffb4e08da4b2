// Command kit-tenant-sync is the FunctionGraph function behind POST /produceAPI/v2/tenantSync: the joint-operation Kit tenant (enterprise) sync.
package main

import (
	"github.com/kgseller/kgseller/shared/config"
	"github.com/kgseller/kgseller/shared/fgruntime"
	"github.com/kgseller/kgseller/shared/wire/kitfn"
)

func main() {
	fgruntime.Start(kitfn.TenantSync(config.EnvWithSecrets()))
}

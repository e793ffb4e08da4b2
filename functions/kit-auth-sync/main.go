// Command kit-auth-sync is the FunctionGraph function behind POST /produceAPI/v2/authSync: the joint-operation Kit user authorisation sync.
package main

import (
	"github.com/kgseller/kgseller/shared/config"
	"github.com/kgseller/kgseller/shared/fgruntime"
	"github.com/kgseller/kgseller/shared/wire/kitfn"
)

func main() {
	fgruntime.Start(kitfn.AuthSync(config.EnvWithSecrets()))
}

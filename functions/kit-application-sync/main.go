// Command kit-application-sync is the FunctionGraph function behind POST /produceAPI/v2/applicationSync: the joint-operation Kit application credential sync (clientSecret decrypted with the seller's RSA key and sealed at rest).
package main

import (
	"github.com/kgseller/kgseller/shared/config"
	"github.com/kgseller/kgseller/shared/fgruntime"
	"github.com/kgseller/kgseller/shared/wire/kitfn"
)

func main() {
	fgruntime.Start(kitfn.ApplicationSync(config.EnvWithSecrets()))
}

// Command kit-application-sync is the FunctionGraph function behind POST /produceAPI/v2/applicationSync: the joint-operation Kit application credential sync (clientSecret decrypted with the seller's RSA key and sealed at rest).
package main

import (
	"github.com/kgseller/kgseller/shared/app"
	"github.com/kgseller/kgseller/shared/config"
	"github.com/kgseller/kgseller/shared/fgruntime"
)

func main() {
	fgruntime.Start(app.KitApplicationSync(config.EnvWithSecrets()))
}

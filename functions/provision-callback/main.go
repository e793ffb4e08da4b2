// Command provision-callback is the FunctionGraph function behind POST
// /seller/provision-callback: the seller's application completes (or fails) an
// instance it accepted to provision asynchronously.
package main

import (
	"github.com/kgseller/kgseller/shared/config"
	"github.com/kgseller/kgseller/shared/fgruntime"
	"github.com/kgseller/kgseller/shared/wire/sellerfn"
)

func main() {
	fgruntime.Start(sellerfn.ProvisionCallback(config.EnvWithSecrets()))
}

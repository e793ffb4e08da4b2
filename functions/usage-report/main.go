// Command usage-report is the FunctionGraph function behind POST /seller/usage: the
// seller's application reports pay-per-use usage, which queryInstance returns.
package main

import (
	"github.com/kgseller/kgseller/shared/config"
	"github.com/kgseller/kgseller/shared/fgruntime"
	"github.com/kgseller/kgseller/shared/wire/sellerfn"
)

func main() {
	fgruntime.Start(sellerfn.UsageReport(config.EnvWithSecrets()))
}

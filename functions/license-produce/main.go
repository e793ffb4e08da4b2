// Command license-produce is the FunctionGraph function behind POST /license/produce:
// the License interfaces (getLicenseAsync, refreshLicenseCode,
// updateLicenseCodeStatus, releaseLicenseCode) and the instance activities of
// online-License products.
package main

import (
	"github.com/kgseller/kgseller/shared/config"
	"github.com/kgseller/kgseller/shared/fgruntime"
	"github.com/kgseller/kgseller/shared/wire/licensefn"
)

func main() {
	fgruntime.Start(licensefn.LicenseProduce(config.EnvWithSecrets()))
}

// Command license-produce is the FunctionGraph function behind POST /license/produce:
// the License interfaces (getLicenseAsync, refreshLicenseCode,
// updateLicenseCodeStatus, releaseLicenseCode) and the instance activities of
// online-License products.
package main

import (
	"github.com/kgseller/kgseller/shared/app"
	"github.com/kgseller/kgseller/shared/config"
	"github.com/kgseller/kgseller/shared/fgruntime"
)

func main() {
	fgruntime.Start(app.LicenseProduce(config.EnvWithSecrets()))
}

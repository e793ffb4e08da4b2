// Command sso-callback is the FunctionGraph function behind GET /sso/callback: finish a unified-login sign-in (code to token to userinfo, matched to the Kit-synced user; session cookie).
package main

import (
	"github.com/kgseller/kgseller/shared/config"
	"github.com/kgseller/kgseller/shared/fgruntime"
	"github.com/kgseller/kgseller/shared/wire/ssofn"
)

func main() {
	fgruntime.Start(ssofn.Callback(config.EnvWithSecrets()))
}

// Command sso-callback is the FunctionGraph function behind GET /sso/callback: finish a unified-login sign-in (code to token to userinfo, matched to the Kit-synced user; session cookie).
package main

import (
	"github.com/kgseller/kgseller/shared/app"
	"github.com/kgseller/kgseller/shared/config"
	"github.com/kgseller/kgseller/shared/fgruntime"
)

func main() {
	fgruntime.Start(app.SSOCallback(config.EnvWithSecrets()))
}

// Command sso-login is the FunctionGraph function behind GET /sso/login: start a unified-login sign-in (CSRF state cookie, redirect to the unified login).
package main

import (
	"github.com/kgseller/kgseller/shared/app"
	"github.com/kgseller/kgseller/shared/config"
	"github.com/kgseller/kgseller/shared/fgruntime"
)

func main() {
	fgruntime.Start(app.SSOLogin(config.EnvWithSecrets()))
}

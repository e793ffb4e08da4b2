// Command sso-login is the FunctionGraph function behind GET /sso/login: start a unified-login sign-in (CSRF state cookie, redirect to the unified login).
package main

import (
	"github.com/kgseller/kgseller/shared/config"
	"github.com/kgseller/kgseller/shared/fgruntime"
	"github.com/kgseller/kgseller/shared/wire/ssofn"
)

func main() {
	fgruntime.Start(ssofn.Login(config.EnvWithSecrets()))
}

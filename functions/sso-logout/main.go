// Command sso-logout is the FunctionGraph function behind GET /sso/logout: clear the session and sign out at the tenant's auth centre.
package main

import (
	"github.com/kgseller/kgseller/shared/config"
	"github.com/kgseller/kgseller/shared/fgruntime"
	"github.com/kgseller/kgseller/shared/wire/ssofn"
)

func main() {
	fgruntime.Start(ssofn.Logout(config.EnvWithSecrets()))
}

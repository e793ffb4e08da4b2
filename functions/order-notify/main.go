// Command order-notify is the FunctionGraph function behind POST /order/notify: the
// order notification (orderNotify) of every product type.
package main

import (
	"github.com/kgseller/kgseller/shared/app"
	"github.com/kgseller/kgseller/shared/config"
	"github.com/kgseller/kgseller/shared/fgruntime"
)

func main() {
	fgruntime.Start(app.OrderNotify(config.EnvWithSecrets()))
}

// Command order-notify is the FunctionGraph function behind POST /order/notify: the
// order notification (orderNotify) of every product type.
package main

import (
	"github.com/kgseller/kgseller/shared/config"
	"github.com/kgseller/kgseller/shared/fgruntime"
	"github.com/kgseller/kgseller/shared/wire/notifyfn"
)

func main() {
	fgruntime.Start(notifyfn.OrderNotify(config.EnvWithSecrets()))
}

// Command interface-monitor is the FunctionGraph function that watches the
// production interface the way the marketplace does, and its insides, every five
// minutes from its TIMER trigger, and alerts through SMN or a group robot
// (docs/monitoring.md).
package main

import (
	"github.com/kgseller/kgseller/shared/config"
	"github.com/kgseller/kgseller/shared/fgruntime"
	"github.com/kgseller/kgseller/shared/wire/monitorfn"
)

func main() {
	fgruntime.StartInvoke(monitorfn.InterfaceMonitor(config.EnvWithSecrets()))
}

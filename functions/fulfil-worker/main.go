// Command fulfil-worker is the FunctionGraph function that runs outbox jobs
// (provisioning, lifecycle notifications): every minute from its TIMER trigger, and
// right after an endpoint commits a job, through an asynchronous invocation.
package main

import (
	"github.com/kgseller/kgseller/shared/config"
	"github.com/kgseller/kgseller/shared/fgruntime"
	"github.com/kgseller/kgseller/shared/wire/workerfn"
)

func main() {
	fgruntime.StartInvoke(workerfn.FulfilWorker(config.EnvWithSecrets()))
}

//go:build fgonly

package fgruntime

import (
	"log/slog"
	"os"
)

const lambdaSupported = false

func startLambda(Handler) { noLambda() }

func startLambdaInvoke(InvokeFunc) { noLambda() }

func noLambda() {
	slog.Error("this binary was built for FunctionGraph only (build tag fgonly) and cannot run on AWS Lambda")
	os.Exit(1)
}

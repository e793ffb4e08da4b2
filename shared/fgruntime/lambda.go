//go:build !fgonly

package fgruntime

import (
	"context"
	"encoding/json"

	"github.com/aws/aws-lambda-go/lambda"
)

// lambdaSupported reports whether this binary can run on AWS Lambda. FunctionGraph
// builds (build tag fgonly) leave the AWS runtime out: it is 2.5 MB of code a
// FunctionGraph instance never runs, loaded at every cold start.
const lambdaSupported = true

func startLambda(h Handler) { lambda.Start(h) }

func startLambdaInvoke(fn InvokeFunc) {
	lambda.Start(func(ctx context.Context, payload json.RawMessage) (json.RawMessage, error) {
		return fn(ctx, payload)
	})
}

package ordernotify

import (
	"bytes"
	"context"

	"github.com/aws/aws-lambda-go/events"

	"github.com/kgseller/kgseller/shared/config"
	"github.com/kgseller/kgseller/shared/endpoint"
	"github.com/kgseller/kgseller/shared/fgruntime"
	"github.com/kgseller/kgseller/shared/kgsign"
	"github.com/kgseller/kgseller/shared/reqbody"
)

// activityOrderNotify is the generic interface's activity.
const activityOrderNotify = "orderNotify"

// AddressEndpoint is the orderNotify endpoint of a product's own production address
// (the functions answering POST {address}): the order-notify pipeline, verified
// with the generic-interface key, which the guides name for orderNotify, or with the
// address's own key (kind, the key of own), in case the marketplace signs with the
// key bound to the address. The notify key is optional here: without
// KG_ACCESS_KEY_NOTIFY and KG_ACCESS_KEY only the address's key verifies.
func AddressEndpoint(l *config.Loader, own endpoint.Config, kind string) endpoint.Config {
	var notify kgsign.KeySet
	if l.String(config.AccessKey+"_"+config.KeyNotify, "") != "" || l.String(config.AccessKey, "") != "" {
		notify = endpoint.LoadKeys(l, config.KeyNotify)
	}
	ver := *own.Verifier
	ver.Keys = kgsign.Union(notify.Named("notify"), own.Verifier.Keys.Named(kind))
	cfg := own
	cfg.Scope, cfg.Verifier = "notify", &ver
	return cfg
}

// AtAddress serves orderNotify at a product's address as order-notify does (the
// same decoder, store and job), verified by notify (AddressEndpoint), and every
// other activity with main.
func AtAddress(main, notify endpoint.Config, svc *Service) fgruntime.Handler {
	notify.Decode = svc.Decode
	return byActivity(endpoint.Handler(main), main.MaxBody, map[string]fgruntime.Handler{
		activityOrderNotify: endpoint.Handler(notify),
	})
}

// byActivity hands a request whose body names one of the given activities to that
// activity's handler and every other request to main. It only routes: each handler
// verifies the request with its own keys before anything is decoded for use.
func byActivity(main fgruntime.Handler, maxBody int, by map[string]fgruntime.Handler) fgruntime.Handler {
	if maxBody <= 0 {
		maxBody = endpoint.DefaultMaxBody
	}
	return func(ctx context.Context, req events.APIGatewayProxyRequest) (events.APIGatewayProxyResponse, error) {
		if h := by[peekActivity(req, maxBody, by)]; h != nil {
			return h(ctx, req)
		}
		return main(ctx, req)
	}
}

// peekActivity returns the activity of a body that may name one of the routed
// activities ("" otherwise, or when the body is not one main would accept).
func peekActivity(req events.APIGatewayProxyRequest, maxBody int, by map[string]fgruntime.Handler) string {
	body, err := fgruntime.RawBody(req)
	if err != nil || len(body) > maxBody {
		return ""
	}
	named := false
	for act := range by {
		if bytes.Contains(body, []byte(act)) {
			named = true
			break
		}
	}
	if !named {
		return ""
	}
	_, act, err := reqbody.ParseActivity(body, 64)
	if err != nil {
		return ""
	}
	return act.Name
}

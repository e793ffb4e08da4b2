package ordernotify

import (
	"log/slog"

	"github.com/kgseller/kgseller/shared/config"
	"github.com/kgseller/kgseller/shared/fulfil"
	"github.com/kgseller/kgseller/shared/openapi"
	"github.com/kgseller/kgseller/shared/store"
)

// JobFamily is the order-notification job family (fulfil.Family): Query Order
// for each notice.
func JobFamily(l *config.Loader, _ *slog.Logger) func(*store.Store) map[string]fulfil.Handler {
	var jobs Jobs
	if c := openapi.LoadQueryOrder(l); c != nil {
		jobs.Orders = c
	}
	return func(st *store.Store) map[string]fulfil.Handler {
		jobs.Store = st
		return jobs.Handlers()
	}
}

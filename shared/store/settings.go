package store

import "github.com/kgseller/kgseller/shared/config"

// Load reads the database settings of a function: DB_DSN (required) and the pool
// of one instance (DB_MAX_OPEN, DB_MAX_IDLE). Open them once the configuration is
// known to be complete.
func Load(l *config.Loader) (dsn string, o Options) {
	return l.Required(config.DBDSN), Options{MaxOpen: l.Int(config.DBMaxOpen, 4), MaxIdle: l.Int(config.DBMaxIdle, 2)}
}

// OpenConfigured opens the store once every setting read on l is valid, and
// returns the configuration error otherwise: the one error a function reports
// while it cannot serve.
func OpenConfigured(l *config.Loader, dsn string, o Options) (*Store, error) {
	if err := l.Err(); err != nil {
		return nil, err
	}
	return Open(dsn, o)
}

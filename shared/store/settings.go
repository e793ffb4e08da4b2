package store

import (
	"time"

	"github.com/kgseller/kgseller/shared/config"
)

// Load reads the database settings of a function: DB_DSN (required) and the pool
// of one instance (DB_MAX_OPEN, DB_MAX_IDLE, DB_CONN_MAX_LIFETIME,
// DB_CONN_MAX_IDLE_TIME; see Options). Open them once the configuration is known
// to be complete.
func Load(l *config.Loader) (dsn string, o Options) {
	o = Options{
		MaxOpen:     l.Int(config.DBMaxOpen, 1),
		MaxLifetime: l.Duration(config.DBConnMaxLifetime, 5*time.Minute),
		MaxIdleTime: l.Duration(config.DBConnMaxIdleTime, time.Minute),
	}
	o.MaxIdle = l.Int(config.DBMaxIdle, o.MaxOpen)
	if o.MaxOpen < 1 {
		l.Invalid(config.DBMaxOpen, "must be at least 1")
	}
	if o.MaxIdle < 1 {
		l.Invalid(config.DBMaxIdle, "must be at least 1 (an instance keeps its connection between invocations)")
	}
	// Shorter than a second would redial on nearly every call.
	if o.MaxLifetime < time.Second {
		l.Invalid(config.DBConnMaxLifetime, "must be at least 1s (and below the server's wait_timeout)")
	}
	if o.MaxIdleTime < time.Second {
		l.Invalid(config.DBConnMaxIdleTime, "must be at least 1s (and below the server's wait_timeout)")
	}
	return l.Required(config.DBDSN), o.withDefaults()
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

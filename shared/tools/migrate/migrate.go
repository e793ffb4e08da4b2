// Package migrate applies the database schema: the embedded SQL migrations under
// migrations/, run with goose by scripts/migrate, the local run and the tests.
// Functions never migrate on their own (a cold start must stay fast, and several
// instances must not race on DDL), so none links this package.
package migrate

import (
	"context"
	"database/sql"
	"embed"
	"fmt"
	"io/fs"

	"github.com/pressly/goose/v3"
)

//go:embed migrations/*.sql
var migrations embed.FS

// FS returns the embedded migrations.
func FS() fs.FS {
	sub, _ := fs.Sub(migrations, "migrations")
	return sub
}

// Up applies every pending migration to db and returns how many ran.
func Up(ctx context.Context, db *sql.DB) (int, error) {
	p, err := goose.NewProvider(goose.DialectMySQL, db, FS())
	if err != nil {
		return 0, fmt.Errorf("migrate: %w", err)
	}
	res, err := p.Up(ctx)
	if err != nil {
		return len(res), fmt.Errorf("migrate: applying migrations: %w", err)
	}
	return len(res), nil
}

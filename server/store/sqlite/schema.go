package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/osmstub/osmstub/server/store"
)

// migrate brings the schema up to the latest of store.Migrations in one
// write transaction. BEGIN IMMEDIATE makes a second process opening the file at the same time
// wait (busy_timeout) and then find the work done, so running it any number
// of times, from any number of processes, is fine.
func migrate(ctx context.Context, db *sql.DB) (err error) {
	tx, err := db.BeginTx(ctx, nil) // BEGIN IMMEDIATE: the writer's _txlock
	if err != nil {
		return fmt.Errorf("migrate: begin: %w", err)
	}
	defer func() {
		if err != nil {
			_ = tx.Rollback()
		}
	}()
	if _, err := tx.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
	version    INTEGER PRIMARY KEY,
	applied_at TEXT NOT NULL
)`); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	var current int
	if err := tx.QueryRowContext(ctx, `SELECT COALESCE(MAX(version), 0) FROM schema_migrations`).Scan(&current); err != nil {
		return fmt.Errorf("migrate: read version: %w", err)
	}
	if current > len(store.Migrations) {
		return fmt.Errorf("schema version %d is newer than this osm-stub knows (%d): use a newer osm-stub", current, len(store.Migrations))
	}
	// A write, even on an up-to-date file, so that a file SQLite could only
	// open read-only (a read-only mount, say) fails here, at start, rather
	// than at the first request that writes.
	if _, err := tx.ExecContext(ctx, `UPDATE schema_migrations SET applied_at = applied_at WHERE version = ?`, current); err != nil {
		return fmt.Errorf("migrate: the database cannot be written: %w", err)
	}
	for v := current + 1; v <= len(store.Migrations); v++ {
		if _, err := tx.ExecContext(ctx, store.Migrations[v-1]); err != nil {
			return fmt.Errorf("migrate to version %d: %w", v, err)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)`,
			v, time.Now().UTC().Format(time.RFC3339)); err != nil {
			return fmt.Errorf("migrate to version %d: %w", v, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("migrate: commit: %w", err)
	}
	return nil
}

package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// migrations are the schema's versions, in order: migrations[i] takes the
// database from version i to version i+1. Append; never edit one that has
// shipped. The PostgreSQL store keeps the same logical schema.
//
// Relations are stored in both directions, one row per (ticket, related)
// with pos, the association's place in that ticket's list: a new one gets
// the ticket's largest pos + 1, so the list keeps association order.
var migrations = []string{
	// 1: the initial schema.
	`
CREATE TABLE users (
	name      TEXT PRIMARY KEY,
	domain_id TEXT NOT NULL DEFAULT ''
);
CREATE TABLE user_groups (
	user_name  TEXT    NOT NULL REFERENCES users(name) ON DELETE CASCADE,
	pos        INTEGER NOT NULL,
	group_name TEXT    NOT NULL,
	PRIMARY KEY (user_name, pos)
);
CREATE TABLE tokens (
	user_name TEXT    NOT NULL REFERENCES users(name) ON DELETE CASCADE,
	pos       INTEGER NOT NULL,
	token     TEXT    NOT NULL,
	PRIMARY KEY (user_name, pos)
);
CREATE INDEX tokens_by_token ON tokens(token);
CREATE TABLE access_keys (
	user_name      TEXT    NOT NULL REFERENCES users(name) ON DELETE CASCADE,
	pos            INTEGER NOT NULL,
	ak             TEXT    NOT NULL,
	sk             TEXT    NOT NULL,
	security_token TEXT    NOT NULL DEFAULT '',
	PRIMARY KEY (user_name, pos)
);
CREATE INDEX access_keys_by_ak ON access_keys(ak);
CREATE TABLE tickets (
	id          TEXT PRIMARY KEY,
	owner       TEXT NOT NULL,
	description TEXT NOT NULL
);
CREATE TABLE relations (
	ticket_id  TEXT    NOT NULL REFERENCES tickets(id) ON DELETE CASCADE,
	related_id TEXT    NOT NULL REFERENCES tickets(id) ON DELETE CASCADE,
	pos        INTEGER NOT NULL,
	PRIMARY KEY (ticket_id, related_id)
);
CREATE INDEX relations_in_order ON relations(ticket_id, pos);
-- Deleting a ticket looks its relations up from both sides (the foreign
-- keys); without this, a Reset of n tickets would scan relations n times.
CREATE INDEX relations_by_related ON relations(related_id);
`,
}

// SchemaVersion is the schema version this package writes.
var SchemaVersion = len(migrations)

// migrate brings the schema up to SchemaVersion in one write transaction.
// BEGIN IMMEDIATE makes a second process opening the file at the same time
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
	if current > len(migrations) {
		return fmt.Errorf("schema version %d is newer than this osm-stub knows (%d): use a newer osm-stub", current, len(migrations))
	}
	// A write, even on an up-to-date file, so that a file SQLite could only
	// open read-only (a read-only mount, say) fails here, at start, rather
	// than at the first request that writes.
	if _, err := tx.ExecContext(ctx, `UPDATE schema_migrations SET applied_at = applied_at WHERE version = ?`, current); err != nil {
		return fmt.Errorf("migrate: the database cannot be written: %w", err)
	}
	for v := current + 1; v <= len(migrations); v++ {
		if _, err := tx.ExecContext(ctx, migrations[v-1]); err != nil {
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

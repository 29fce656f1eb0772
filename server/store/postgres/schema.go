package postgres

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// migrations are the schema's versions, in order: migrations[i] takes the
// database from version i to version i+1. Append; never edit one that has
// shipped. The SQLite store keeps the same logical schema.
//
// Relations are stored in both directions, one row per (ticket, related)
// with pos, the association's place in that ticket's list: a new one gets
// the ticket's largest pos + 1, so the list keeps association order.
// Credentials have no unique index: a user may list one token twice, as
// the memory store allows; PutUser checks that no other user holds them,
// and SERIALIZABLE makes that check hold across processes.
var migrations = []string{
	// 1: the initial schema.
	`
CREATE TABLE users (
	name      text PRIMARY KEY,
	domain_id text NOT NULL DEFAULT ''
);
CREATE TABLE user_groups (
	user_name  text    NOT NULL REFERENCES users(name) ON DELETE CASCADE,
	pos        integer NOT NULL,
	group_name text    NOT NULL,
	PRIMARY KEY (user_name, pos)
);
CREATE TABLE tokens (
	user_name text    NOT NULL REFERENCES users(name) ON DELETE CASCADE,
	pos       integer NOT NULL,
	token     text    NOT NULL,
	PRIMARY KEY (user_name, pos)
);
CREATE INDEX tokens_by_token ON tokens(token);
CREATE TABLE access_keys (
	user_name      text    NOT NULL REFERENCES users(name) ON DELETE CASCADE,
	pos            integer NOT NULL,
	ak             text    NOT NULL,
	sk             text    NOT NULL,
	security_token text    NOT NULL DEFAULT '',
	PRIMARY KEY (user_name, pos)
);
CREATE INDEX access_keys_by_ak ON access_keys(ak);
CREATE TABLE tickets (
	id          text PRIMARY KEY,
	owner       text NOT NULL,
	description text NOT NULL
);
CREATE TABLE relations (
	ticket_id  text   NOT NULL REFERENCES tickets(id) ON DELETE CASCADE,
	related_id text   NOT NULL REFERENCES tickets(id) ON DELETE CASCADE,
	pos        bigint NOT NULL,
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

// migrate brings the schema in the search_path's first schema up to
// SchemaVersion, in one transaction holding a transaction-scoped advisory
// lock named after that schema: processes that start at once take turns,
// and the later ones find the work done.
func migrate(ctx context.Context, pool *pgxpool.Pool) error {
	return pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		var schema *string
		if err := tx.QueryRow(ctx, `SELECT current_schema()`).Scan(&schema); err != nil {
			return fmt.Errorf("migrate: %w", err)
		}
		if schema == nil {
			return fmt.Errorf("migrate: no schema of the search_path exists (create it, or fix search_path)")
		}
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtextextended('osm-stub migrations ' || $1, 0))`, *schema); err != nil {
			return fmt.Errorf("migrate: lock: %w", err)
		}
		if _, err := tx.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
	version    integer PRIMARY KEY,
	applied_at timestamptz NOT NULL DEFAULT now()
)`); err != nil {
			return fmt.Errorf("migrate: %w", err)
		}
		var current int
		if err := tx.QueryRow(ctx, `SELECT COALESCE(MAX(version), 0) FROM schema_migrations`).Scan(&current); err != nil {
			return fmt.Errorf("migrate: read version: %w", err)
		}
		if current > len(migrations) {
			return fmt.Errorf("schema %s is at version %d, newer than this osm-stub knows (%d): use a newer osm-stub", *schema, current, len(migrations))
		}
		for v := current + 1; v <= len(migrations); v++ {
			if _, err := tx.Exec(ctx, migrations[v-1]); err != nil {
				return fmt.Errorf("migrate to version %d: %w", v, err)
			}
			if _, err := tx.Exec(ctx, `INSERT INTO schema_migrations (version) VALUES ($1)`, v); err != nil {
				return fmt.Errorf("migrate to version %d: %w", v, err)
			}
		}
		return nil
	})
}

package store

// Migrations are the schema versions of the SQL backends, in order:
// Migrations[i] takes a database from version i to version i+1. SQLite and
// PostgreSQL read the same text. Append; never change what one does once it
// has shipped.
//
// Relations are stored in both directions, one row per (ticket, related)
// with pos, the association's place in that ticket's list: a new one gets
// the ticket's largest pos + 1, so the list keeps association order.
// Credentials have no unique index: a user may list one token twice, as
// the memory store allows; PutUser checks that no other user holds them
// (and PostgreSQL's SERIALIZABLE makes that check hold across processes).
var Migrations = []string{
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

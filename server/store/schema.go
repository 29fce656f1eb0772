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
	// 2: the ticket flow (issue 25): accounts, ticket details, messages,
	// scores, uploads, the catalogue and ID counters.
	//
	// Times are bigint Unix microseconds (UTC), in both engines: the same
	// type and the same order in SQLite and PostgreSQL, integer comparisons
	// for ListCases's time range and ordering, and no text format to parse
	// or keep fixed-width. Microseconds rather than nanoseconds so that every
	// time a fixtures file can write (years 1 to 9999) fits; the wire shows
	// seconds. A ticket never pressed has pressed NULL.
	//
	// A database written by v0.1.0 upgrades in place: its users go to the
	// default account (''), its tickets get status 0 and created 0, the
	// Unix epoch: a constant (SQLite's ADD COLUMN takes no other default),
	// the same whatever the stub's clock says, and older than any ticket
	// created since, so they list last.
	//
	// ticket_counts keeps how many tickets each (account, owner, status)
	// has, so that ListCases's total of a listing filtered by no more than
	// owners and status is a sum of a few rows, not a count of a million;
	// PutTicket, UpdateTicket, DeleteAccount and Reset keep it.
	//
	// Uploads' data is bytea: PostgreSQL's binary type; SQLite takes any
	// type name, and stores a bound []byte as a blob whatever the affinity.
	// accessory_ids are JSON arrays of text; the catalogue is one row of
	// JSON.
	`
ALTER TABLE users ADD COLUMN account text NOT NULL DEFAULT '';
CREATE INDEX users_by_account ON users(account);
ALTER TABLE tickets ADD COLUMN account text NOT NULL DEFAULT '';
ALTER TABLE tickets ADD COLUMN status integer NOT NULL DEFAULT 0;
ALTER TABLE tickets ADD COLUMN business_type_id text NOT NULL DEFAULT '';
ALTER TABLE tickets ADD COLUMN product_category_id text NOT NULL DEFAULT '';
ALTER TABLE tickets ADD COLUMN region_id text NOT NULL DEFAULT '';
ALTER TABLE tickets ADD COLUMN severity_id text NOT NULL DEFAULT '';
ALTER TABLE tickets ADD COLUMN source_id text NOT NULL DEFAULT '';
ALTER TABLE tickets ADD COLUMN created bigint NOT NULL DEFAULT 0;
ALTER TABLE tickets ADD COLUMN pressed bigint;
ALTER TABLE tickets ADD COLUMN judgement text NOT NULL DEFAULT '';
ALTER TABLE tickets ADD COLUMN accessory_ids text NOT NULL DEFAULT '[]';
-- ListCases's first page: newest first in an account, or of some owners.
CREATE INDEX tickets_by_account ON tickets(account, created DESC, id DESC);
CREATE INDEX tickets_by_owner ON tickets(owner, created DESC, id DESC);
CREATE TABLE ticket_counts (
	account text    NOT NULL,
	owner   text    NOT NULL,
	status  integer NOT NULL,
	n       bigint  NOT NULL,
	PRIMARY KEY (account, owner, status)
);
INSERT INTO ticket_counts (account, owner, status, n)
	SELECT account, owner, status, count(*) FROM tickets GROUP BY account, owner, status;
CREATE TABLE messages (
	ticket_id     text    NOT NULL REFERENCES tickets(id) ON DELETE CASCADE,
	pos           bigint  NOT NULL,
	id            text    NOT NULL,
	type          integer NOT NULL,
	replier       text    NOT NULL,
	content       text    NOT NULL,
	created       bigint  NOT NULL,
	accessory_ids text    NOT NULL DEFAULT '[]',
	PRIMARY KEY (ticket_id, pos)
);
CREATE TABLE scores (
	ticket_id    text   NOT NULL REFERENCES tickets(id) ON DELETE CASCADE,
	pos          bigint NOT NULL,
	author       text   NOT NULL,
	judgement    text   NOT NULL,
	satisfaction text   NOT NULL DEFAULT '[]',
	created      bigint NOT NULL,
	PRIMARY KEY (ticket_id, pos)
);
CREATE TABLE accessories (
	id             text   PRIMARY KEY,
	owner          text   NOT NULL,
	account        text   NOT NULL,
	name           text   NOT NULL,
	accessory_from text   NOT NULL,
	size           bigint NOT NULL,
	data           bytea  NOT NULL,
	created        bigint NOT NULL
);
-- The daily upload budget sums one owner's recent uploads.
CREATE INDEX accessories_by_owner ON accessories(owner, created);
CREATE INDEX accessories_by_account ON accessories(account);
CREATE TABLE catalogue (
	id   integer PRIMARY KEY CHECK (id = 1),
	body text    NOT NULL
);
CREATE TABLE counters (
	name  text   PRIMARY KEY,
	value bigint NOT NULL
);
`,
}

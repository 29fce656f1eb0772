package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/osmstub/osmstub/server/store"
)

// tx is one transaction's store.Tx.
//
// Every call is a round trip to the server, so PutTicket and AddPair are
// not sent at once: they are queued in one pgx.Batch, sent before the
// transaction's next other statement and before it commits, so that
// loading 100k tickets does not wait for 100k round trips. An error those
// writes cause (a ticket that exists, ErrExists) is reported by the call
// that sends them, or by Update; the transaction fails either way.
type tx struct {
	ctx    context.Context
	tx     pgx.Tx
	queued pgx.Batch
}

var _ store.Tx = (*tx)(nil)

// key reports whether s can be stored in a text column: PostgreSQL refuses
// NUL and invalid UTF-8, and a refused statement would abort the
// transaction. No such key exists, so lookups of one find nothing.
func key(s string) bool {
	return utf8.ValidString(s) && !strings.ContainsRune(s, 0)
}

// flush sends the queued writes.
func (t *tx) flush() error {
	if t.queued.Len() == 0 {
		return nil
	}
	b := t.queued
	t.queued = pgx.Batch{}
	err := t.tx.SendBatch(t.ctx, &b).Close()
	switch {
	case isCode(err, "23503"): // an association, message or score of no ticket
		return fmt.Errorf("ticket %w (%v)", store.ErrNotFound, err)
	case err != nil:
		return fmt.Errorf("postgres: queued writes: %w", err)
	}
	return nil
}

func isCode(err error, code string) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && pe.Code == code
}

func (t *tx) Ticket(id string) (store.Ticket, error) {
	if err := t.flush(); err != nil {
		return store.Ticket{}, err
	}
	if !key(id) {
		return store.Ticket{}, store.ErrNotFound
	}
	tk, err := scanTicket(t.tx.QueryRow(t.ctx, `SELECT `+ticketColumns+` FROM tickets WHERE id = $1`, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return store.Ticket{}, store.ErrNotFound
	}
	if err != nil {
		return store.Ticket{}, fmt.Errorf("postgres: ticket %s: %w", id, err)
	}
	return tk, nil
}

func (t *tx) Relations(id string) ([]string, error) {
	if err := t.flush(); err != nil {
		return nil, err
	}
	if !key(id) {
		return nil, nil
	}
	rows, _ := t.tx.Query(t.ctx, `SELECT related_id FROM relations WHERE ticket_id = $1 ORDER BY pos`, id)
	ids, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("postgres: relations of %s: %w", id, err)
	}
	return ids, nil
}

// AddPair queues the association, each row after its ticket's last one;
// see tx. ON CONFLICT DO NOTHING, as in PutTicket: two Updates adding the
// same pair at once end in a serialization failure and a re-run, which
// finds the pair there (a plain INSERT would fail with unique_violation).
func (t *tx) AddPair(a, b string) error {
	for _, p := range [][2]string{{a, b}, {b, a}} {
		t.queued.Queue(`INSERT INTO relations (ticket_id, related_id, pos)
VALUES ($1, $2, (SELECT COALESCE(MAX(pos), 0) + 1 FROM relations WHERE ticket_id = $1))
ON CONFLICT (ticket_id, related_id) DO NOTHING`, p[0], p[1])
	}
	return nil
}

func (t *tx) RemovePair(a, b string) error {
	if err := t.flush(); err != nil {
		return err
	}
	if !key(a) || !key(b) {
		return nil
	}
	_, err := t.tx.Exec(t.ctx, `DELETE FROM relations
WHERE (ticket_id = $1 AND related_id = $2) OR (ticket_id = $2 AND related_id = $1)`, a, b)
	if err != nil {
		return fmt.Errorf("postgres: remove association %s-%s: %w", a, b, err)
	}
	return nil
}

// users reads users with their lists, in store.User's field order, an
// empty list as NULL (nil); the access keys come as JSON, which pgx
// decodes with AccessKey's tags. Sorted byte-wise (COLLATE "C"), as the
// Snapshot contract says, whatever the database's collation.
const users = `SELECT u.name,
	(SELECT array_agg(group_name ORDER BY pos) FROM user_groups WHERE user_name = u.name),
	(SELECT array_agg(token ORDER BY pos) FROM tokens WHERE user_name = u.name),
	(SELECT json_agg(json_build_object('ak', ak, 'sk', sk, 'security_token', security_token) ORDER BY pos)
		FROM access_keys WHERE user_name = u.name),
	u.domain_id, u.account
FROM users u `

func (t *tx) user(what, where, arg string) (store.User, error) {
	if err := t.flush(); err != nil {
		return store.User{}, err
	}
	if !key(arg) {
		return store.User{}, store.ErrNotFound
	}
	rows, _ := t.tx.Query(t.ctx, users+where, arg)
	u, err := pgx.CollectExactlyOneRow(rows, pgx.RowToStructByPos[store.User])
	if errors.Is(err, pgx.ErrNoRows) {
		return store.User{}, store.ErrNotFound
	}
	if err != nil {
		return store.User{}, fmt.Errorf("postgres: %s: %w", what, err)
	}
	return u, nil
}

func (t *tx) User(name string) (store.User, error) {
	return t.user("user "+name, `WHERE u.name = $1`, name)
}

func (t *tx) UserByToken(token string) (store.User, error) {
	return t.user("look up token",
		`WHERE u.name = (SELECT user_name FROM tokens WHERE token = $1 ORDER BY user_name, pos LIMIT 1)`, token)
}

func (t *tx) UserByAccessKey(ak string) (store.User, store.AccessKey, error) {
	u, err := t.user("look up access key",
		`WHERE u.name = (SELECT user_name FROM access_keys WHERE ak = $1 ORDER BY user_name, pos LIMIT 1)`, ak)
	if err != nil {
		return store.User{}, store.AccessKey{}, err
	}
	if k, ok := u.Key(ak); ok {
		return u, k, nil
	}
	return store.User{}, store.AccessKey{}, store.ErrNotFound
}

func (t *tx) PutUser(u store.User) error {
	if err := t.flush(); err != nil {
		return err
	}
	aks, sks, secs := make([]string, len(u.Keys)), make([]string, len(u.Keys)), make([]string, len(u.Keys))
	for i, k := range u.Keys {
		aks[i], sks[i], secs[i] = k.AK, k.SK, k.SecurityToken
	}
	// Which credential another user holds, if any.
	var tokenTaken, keyTaken *string
	err := t.tx.QueryRow(t.ctx, `SELECT
	(SELECT token FROM tokens WHERE token = ANY($2::text[]) AND user_name <> $1 LIMIT 1),
	(SELECT ak FROM access_keys WHERE ak = ANY($3::text[]) AND user_name <> $1 LIMIT 1)`,
		u.Name, u.Tokens, aks).Scan(&tokenTaken, &keyTaken)
	if err != nil {
		return fmt.Errorf("postgres: check credentials of %s: %w", u.Name, err)
	}
	if tokenTaken != nil {
		return fmt.Errorf("token of user %s: %w", u.Name, store.ErrExists)
	}
	if keyTaken != nil {
		return fmt.Errorf("access key %s: %w", *keyTaken, store.ErrExists)
	}
	// The user's row goes with its lists (ON DELETE CASCADE); tickets
	// name their owner without a foreign key, so they keep it.
	b := &pgx.Batch{}
	b.Queue(`DELETE FROM users WHERE name = $1`, u.Name)
	b.Queue(`INSERT INTO users (name, domain_id, account) VALUES ($1, $2, $3)`, u.Name, u.DomainID, u.Account)
	b.Queue(`INSERT INTO user_groups (user_name, pos, group_name)
SELECT $1, n - 1, g FROM unnest($2::text[]) WITH ORDINALITY AS x(g, n)`, u.Name, u.Groups)
	b.Queue(`INSERT INTO tokens (user_name, pos, token)
SELECT $1, n - 1, k FROM unnest($2::text[]) WITH ORDINALITY AS x(k, n)`, u.Name, u.Tokens)
	b.Queue(`INSERT INTO access_keys (user_name, pos, ak, sk, security_token)
SELECT $1, n - 1, a, s, st FROM unnest($2::text[], $3::text[], $4::text[]) WITH ORDINALITY AS x(a, s, st, n)`,
		u.Name, aks, sks, secs)
	if err := t.tx.SendBatch(t.ctx, b).Close(); err != nil {
		return fmt.Errorf("postgres: put user %s: %w", u.Name, err)
	}
	return nil
}

// PutTicket queues the ticket, its count, messages and scores; see tx. ON
// CONFLICT DO NOTHING, then the row count: a ticket this transaction can
// see is ErrExists; one that a concurrent transaction inserted is a
// serialization failure (PostgreSQL raises 40001 for it at SERIALIZABLE),
// and the Update is re-run. A plain INSERT would fail with unique_violation
// in both cases. The batch's first error is the one reported, so the
// statements queued after a refused ticket change nothing that is kept.
func (t *tx) PutTicket(tk store.Ticket) error {
	d := tk.TicketDetail
	t.queued.Queue(`INSERT INTO tickets (`+ticketColumns+`)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14) ON CONFLICT (id) DO NOTHING`,
		tk.ID, tk.Owner, tk.Description, d.Account, d.Status, d.BusinessTypeID, d.ProductCategoryID, d.RegionID,
		d.SeverityID, d.SourceID, micros(d.Created), nullMicros(d.Pressed), d.Judgement, jsonText(d.AccessoryIDs),
	).Exec(func(tag pgconn.CommandTag) error {
		if tag.RowsAffected() == 0 {
			return fmt.Errorf("ticket %s: %w", tk.ID, store.ErrExists)
		}
		return nil
	})
	t.count(d.Account, tk.Owner, d.Status, 1)
	for i, m := range tk.Messages {
		t.queued.Queue(`INSERT INTO messages (ticket_id, pos, id, type, replier, content, created, accessory_ids)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`, tk.ID, i+1, m.ID, m.Type, m.Replier, m.Content, micros(m.Created), jsonText(m.AccessoryIDs))
	}
	for i, sc := range tk.Scores {
		t.queued.Queue(`INSERT INTO scores (ticket_id, pos, author, judgement, satisfaction, created)
VALUES ($1, $2, $3, $4, $5, $6)`, tk.ID, i+1, sc.Author, sc.Judgement, jsonText(sc.Satisfaction), micros(sc.Created))
	}
	return nil
}

func (t *tx) Snapshot() (store.Dataset, error) {
	if err := t.flush(); err != nil {
		return store.Dataset{}, err
	}
	var d store.Dataset
	var err error
	rows, _ := t.tx.Query(t.ctx, users+`ORDER BY u.name COLLATE "C"`)
	d.Users, err = pgx.CollectRows(rows, pgx.RowToStructByPos[store.User])
	if err == nil {
		d.Tickets, err = t.tickets()
	}
	if err == nil {
		var body string
		switch err = t.tx.QueryRow(t.ctx, `SELECT body FROM catalogue WHERE id = 1`).Scan(&body); {
		case errors.Is(err, pgx.ErrNoRows):
			err = nil
		case err == nil:
			d.Catalogue = new(store.Catalogue)
			err = json.Unmarshal([]byte(body), d.Catalogue)
		}
	}
	if err != nil {
		return store.Dataset{}, fmt.Errorf("postgres: snapshot: %w", err)
	}
	return d, nil
}

// tickets reads every ticket with its relations, messages and scores, in
// ID order: one query per table, not per ticket.
func (t *tx) tickets() ([]store.Ticket, error) {
	rows, _ := t.tx.Query(t.ctx, `SELECT `+ticketColumns+`,
	(SELECT array_agg(related_id ORDER BY pos) FROM relations WHERE ticket_id = t.id)
FROM tickets t ORDER BY id COLLATE "C"`)
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (store.Ticket, error) {
		var rels []string
		tk, err := scanTicket(r, &rels)
		tk.Relations = rels
		return tk, err
	})
	if err != nil {
		return nil, err
	}
	at := make(map[string]int, len(out))
	for i, tk := range out {
		at[tk.ID] = i
	}
	var id string
	rows, _ = t.tx.Query(t.ctx, `SELECT `+messageColumns+`, ticket_id FROM messages ORDER BY ticket_id COLLATE "C", pos`)
	for rows.Next() {
		m, err := scanMessage(rows, &id)
		if err != nil {
			rows.Close()
			return nil, err
		}
		if i, ok := at[id]; ok {
			out[i].Messages = append(out[i].Messages, m)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	rows, _ = t.tx.Query(t.ctx, `SELECT `+scoreColumns+`, ticket_id FROM scores ORDER BY ticket_id COLLATE "C", pos`)
	for rows.Next() {
		sc, err := scanScore(rows, &id)
		if err != nil {
			rows.Close()
			return nil, err
		}
		if i, ok := at[id]; ok {
			out[i].Scores = append(out[i].Scores, sc)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	return out, nil
}

func (t *tx) Empty() (bool, error) {
	if err := t.flush(); err != nil {
		return false, err
	}
	var empty bool
	err := t.tx.QueryRow(t.ctx, `SELECT NOT EXISTS (SELECT 1 FROM users) AND NOT EXISTS (SELECT 1 FROM tickets)`).Scan(&empty)
	if err != nil {
		return false, fmt.Errorf("postgres: empty: %w", err)
	}
	return empty, nil
}

func (t *tx) Reset() error {
	if err := t.flush(); err != nil {
		return err
	}
	// DELETE, not TRUNCATE: TRUNCATE takes an ACCESS EXCLUSIVE lock and is
	// not MVCC-safe for concurrent snapshots.
	_, err := t.tx.Exec(t.ctx, `DELETE FROM relations; DELETE FROM messages; DELETE FROM scores; DELETE FROM tickets;
DELETE FROM ticket_counts; DELETE FROM accessories; DELETE FROM catalogue;
DELETE FROM access_keys; DELETE FROM tokens; DELETE FROM user_groups; DELETE FROM users`)
	if err != nil {
		return fmt.Errorf("postgres: reset: %w", err)
	}
	return nil
}

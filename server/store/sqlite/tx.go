package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"

	sqlite "modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/osmstub/osmstub/server/store"
)

// tx is one transaction's store.Tx. Its methods run SQL right away (SQLite
// is in the process: a statement costs no round trip), each on the
// transaction's connection: a pool's connections can all be held by
// transactions (the writer has just one), so nothing may go through the
// pool while a transaction runs. A write in a View fails in SQLite itself
// (the readers are query_only).
type tx struct {
	ctx context.Context
	tx  *sql.Tx
}

var _ store.Tx = (*tx)(nil)

func (t *tx) row(query string, args ...any) *sql.Row {
	return t.tx.QueryRowContext(t.ctx, query, args...)
}

func (t *tx) exec(query string, args ...any) error {
	_, err := t.tx.ExecContext(t.ctx, query, args...)
	return err
}

// strings runs a query of one text column and returns its values in order.
func (t *tx) strings(query string, args ...any) ([]string, error) {
	rows, err := t.tx.QueryContext(t.ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, rows.Err()
}

func (t *tx) Ticket(id string) (store.Ticket, error) {
	tk, err := scanTicket(t.row(`SELECT `+ticketColumns+` FROM tickets WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return store.Ticket{}, store.ErrNotFound
	}
	if err != nil {
		return store.Ticket{}, fmt.Errorf("sqlite: ticket %s: %w", id, err)
	}
	return tk, nil
}

func (t *tx) Relations(id string) ([]string, error) {
	ids, err := t.strings(`SELECT related_id FROM relations WHERE ticket_id = ? ORDER BY pos`, id)
	if err != nil {
		return nil, fmt.Errorf("sqlite: relations of %s: %w", id, err)
	}
	return ids, nil
}

// AddPair appends b to a's list and a to b's, each at its list's end.
func (t *tx) AddPair(a, b string) error {
	for _, p := range [][2]string{{a, b}, {b, a}} {
		err := t.exec(`INSERT INTO relations (ticket_id, related_id, pos)
VALUES (?1, ?2, (SELECT COALESCE(MAX(pos), 0) + 1 FROM relations WHERE ticket_id = ?1))`, p[0], p[1])
		switch {
		case isConstraint(err, sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY):
			return fmt.Errorf("sqlite: association %s-%s: %w", a, b, store.ErrExists)
		case isConstraint(err, sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY):
			return fmt.Errorf("sqlite: association %s-%s: ticket %w", a, b, store.ErrNotFound)
		case err != nil:
			return fmt.Errorf("sqlite: association %s-%s: %w", a, b, err)
		}
	}
	return nil
}

func (t *tx) RemovePair(a, b string) error {
	err := t.exec(`DELETE FROM relations
WHERE (ticket_id = ?1 AND related_id = ?2) OR (ticket_id = ?2 AND related_id = ?1)`, a, b)
	if err != nil {
		return fmt.Errorf("sqlite: remove association %s-%s: %w", a, b, err)
	}
	return nil
}

func (t *tx) User(name string) (store.User, error) {
	u := store.User{Name: name}
	err := t.row(`SELECT domain_id, account FROM users WHERE name = ?`, name).Scan(&u.DomainID, &u.Account)
	if errors.Is(err, sql.ErrNoRows) {
		return store.User{}, store.ErrNotFound
	}
	if err != nil {
		return store.User{}, fmt.Errorf("sqlite: user %s: %w", name, err)
	}
	if u.Groups, err = t.strings(`SELECT group_name FROM user_groups WHERE user_name = ? ORDER BY pos`, name); err != nil {
		return store.User{}, fmt.Errorf("sqlite: groups of %s: %w", name, err)
	}
	if u.Tokens, err = t.strings(`SELECT token FROM tokens WHERE user_name = ? ORDER BY pos`, name); err != nil {
		return store.User{}, fmt.Errorf("sqlite: tokens of %s: %w", name, err)
	}
	rows, err := t.tx.QueryContext(t.ctx, `SELECT ak, sk, security_token FROM access_keys WHERE user_name = ? ORDER BY pos`, name)
	if err != nil {
		return store.User{}, fmt.Errorf("sqlite: access keys of %s: %w", name, err)
	}
	defer rows.Close()
	for rows.Next() {
		var k store.AccessKey
		if err := rows.Scan(&k.AK, &k.SK, &k.SecurityToken); err != nil {
			return store.User{}, fmt.Errorf("sqlite: access keys of %s: %w", name, err)
		}
		u.Keys = append(u.Keys, k)
	}
	if err := rows.Err(); err != nil {
		return store.User{}, fmt.Errorf("sqlite: access keys of %s: %w", name, err)
	}
	return u, nil
}

// owner returns the user that holds a credential, or ErrNotFound.
func (t *tx) owner(what, query, cred string) (store.User, error) {
	var name string
	err := t.row(query, cred).Scan(&name)
	if errors.Is(err, sql.ErrNoRows) {
		return store.User{}, store.ErrNotFound
	}
	if err != nil {
		return store.User{}, fmt.Errorf("sqlite: look up %s: %w", what, err)
	}
	return t.User(name)
}

func (t *tx) UserByToken(token string) (store.User, error) {
	return t.owner("token", `SELECT user_name FROM tokens WHERE token = ? ORDER BY user_name, pos LIMIT 1`, token)
}

func (t *tx) UserByAccessKey(ak string) (store.User, store.AccessKey, error) {
	u, err := t.owner("access key", `SELECT user_name FROM access_keys WHERE ak = ? ORDER BY user_name, pos LIMIT 1`, ak)
	if err != nil {
		return store.User{}, store.AccessKey{}, err
	}
	if k, ok := u.Key(ak); ok {
		return u, k, nil
	}
	return store.User{}, store.AccessKey{}, store.ErrNotFound
}

func (t *tx) PutUser(u store.User) error {
	for _, tok := range u.Tokens {
		if err := t.free(`SELECT EXISTS (SELECT 1 FROM tokens WHERE token = ? AND user_name <> ?)`, tok, u.Name); err != nil {
			return fmt.Errorf("token of user %s: %w", u.Name, err)
		}
	}
	for _, k := range u.Keys {
		if err := t.free(`SELECT EXISTS (SELECT 1 FROM access_keys WHERE ak = ? AND user_name <> ?)`, k.AK, u.Name); err != nil {
			return fmt.Errorf("access key %s: %w", k.AK, err)
		}
	}
	// The user's row goes with its lists (ON DELETE CASCADE); tickets
	// name their owner without a foreign key, so they keep it.
	err := t.exec(`DELETE FROM users WHERE name = ?`, u.Name)
	if err == nil {
		err = t.exec(`INSERT INTO users (name, domain_id, account) VALUES (?, ?, ?)`, u.Name, u.DomainID, u.Account)
	}
	for i, g := range u.Groups {
		if err == nil {
			err = t.exec(`INSERT INTO user_groups (user_name, pos, group_name) VALUES (?, ?, ?)`, u.Name, i, g)
		}
	}
	for i, tok := range u.Tokens {
		if err == nil {
			err = t.exec(`INSERT INTO tokens (user_name, pos, token) VALUES (?, ?, ?)`, u.Name, i, tok)
		}
	}
	for i, k := range u.Keys {
		if err == nil {
			err = t.exec(`INSERT INTO access_keys (user_name, pos, ak, sk, security_token) VALUES (?, ?, ?, ?, ?)`,
				u.Name, i, k.AK, k.SK, k.SecurityToken)
		}
	}
	if err != nil {
		return fmt.Errorf("sqlite: put user %s: %w", u.Name, err)
	}
	return nil
}

// free runs an EXISTS query: ErrExists if it finds a row.
func (t *tx) free(query string, args ...any) error {
	var taken bool
	if err := t.row(query, args...).Scan(&taken); err != nil {
		return fmt.Errorf("sqlite: check credentials: %w", err)
	}
	if taken {
		return store.ErrExists
	}
	return nil
}

func (t *tx) PutTicket(tk store.Ticket) error {
	d := tk.TicketDetail
	err := t.exec(`INSERT INTO tickets (`+ticketColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		tk.ID, tk.Owner, tk.Description, d.Account, d.Status, d.BusinessTypeID, d.ProductCategoryID, d.RegionID,
		d.SeverityID, d.SourceID, micros(d.Created), nullMicros(d.Pressed), d.Judgement, jsonText(d.AccessoryIDs))
	if isConstraint(err, sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY) {
		return fmt.Errorf("ticket %s: %w", tk.ID, store.ErrExists)
	}
	if err == nil {
		err = t.count(d.Account, tk.Owner, d.Status, 1)
	}
	for i, m := range tk.Messages {
		if err == nil {
			err = t.exec(`INSERT INTO messages (ticket_id, pos, id, type, replier, content, created, accessory_ids)
VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, tk.ID, i+1, m.ID, m.Type, m.Replier, m.Content, micros(m.Created), jsonText(m.AccessoryIDs))
		}
	}
	for i, sc := range tk.Scores {
		if err == nil {
			err = t.exec(`INSERT INTO scores (ticket_id, pos, author, judgement, satisfaction, created)
VALUES (?, ?, ?, ?, ?, ?)`, tk.ID, i+1, sc.Author, sc.Judgement, jsonText(sc.Satisfaction), micros(sc.Created))
		}
	}
	if err != nil {
		return fmt.Errorf("sqlite: put ticket %s: %w", tk.ID, err)
	}
	return nil
}

// Snapshot reads every user as User reads it, and the tickets and their
// relations in two queries: a large data set is not a query per ticket.
// ORDER BY compares with SQLite's BINARY collation, byte-wise, as the
// Snapshot contract says.
func (t *tx) Snapshot() (store.Dataset, error) {
	var d store.Dataset
	names, err := t.strings(`SELECT name FROM users ORDER BY name`)
	if err != nil {
		return store.Dataset{}, fmt.Errorf("sqlite: snapshot: %w", err)
	}
	for _, name := range names {
		u, err := t.User(name)
		if err != nil {
			return store.Dataset{}, err
		}
		d.Users = append(d.Users, u)
	}
	if d.Tickets, err = t.tickets(); err != nil {
		return store.Dataset{}, fmt.Errorf("sqlite: snapshot: %w", err)
	}
	var body string
	switch err := t.row(`SELECT body FROM catalogue WHERE id = 1`).Scan(&body); {
	case errors.Is(err, sql.ErrNoRows):
	case err != nil:
		return store.Dataset{}, fmt.Errorf("sqlite: snapshot: catalogue: %w", err)
	default:
		var c store.Catalogue
		if err := json.Unmarshal([]byte(body), &c); err != nil {
			return store.Dataset{}, fmt.Errorf("sqlite: snapshot: catalogue: %w", err)
		}
		d.Catalogue = &c
	}
	return d, nil
}

// tickets reads every ticket with its relations, messages and scores, in
// ID order: one query per table, not per ticket.
func (t *tx) tickets() ([]store.Ticket, error) {
	rows, err := t.tx.QueryContext(t.ctx, `SELECT `+ticketColumns+` FROM tickets ORDER BY id`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []store.Ticket
	at := map[string]int{}
	for rows.Next() {
		tk, err := scanTicket(rows)
		if err != nil {
			return nil, err
		}
		at[tk.ID] = len(out)
		out = append(out, tk)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	rel, err := t.tx.QueryContext(t.ctx, `SELECT ticket_id, related_id FROM relations ORDER BY ticket_id, pos`)
	if err != nil {
		return nil, err
	}
	defer rel.Close()
	for rel.Next() {
		var a, b string
		if err := rel.Scan(&a, &b); err != nil {
			return nil, err
		}
		if i, ok := at[a]; ok {
			out[i].Relations = append(out[i].Relations, b)
		}
	}
	if err := rel.Err(); err != nil {
		return nil, err
	}
	msgs, err := t.tx.QueryContext(t.ctx, `SELECT ticket_id, `+messageColumns+` FROM messages ORDER BY ticket_id, pos`)
	if err != nil {
		return nil, err
	}
	defer msgs.Close()
	for msgs.Next() {
		var id string
		m, err := scanMessage(msgs, &id)
		if err != nil {
			return nil, err
		}
		if i, ok := at[id]; ok {
			out[i].Messages = append(out[i].Messages, m)
		}
	}
	if err := msgs.Err(); err != nil {
		return nil, err
	}
	scores, err := t.tx.QueryContext(t.ctx, `SELECT ticket_id, `+scoreColumns+` FROM scores ORDER BY ticket_id, pos`)
	if err != nil {
		return nil, err
	}
	defer scores.Close()
	for scores.Next() {
		var id string
		sc, err := scanScore(scores, &id)
		if err != nil {
			return nil, err
		}
		if i, ok := at[id]; ok {
			out[i].Scores = append(out[i].Scores, sc)
		}
	}
	return out, scores.Err()
}

func (t *tx) Empty() (bool, error) {
	var empty bool
	err := t.row(`SELECT NOT EXISTS (SELECT 1 FROM users) AND NOT EXISTS (SELECT 1 FROM tickets)`).Scan(&empty)
	if err != nil {
		return false, fmt.Errorf("sqlite: empty: %w", err)
	}
	return empty, nil
}

func (t *tx) Reset() error {
	err := t.exec(`DELETE FROM relations; DELETE FROM messages; DELETE FROM scores; DELETE FROM tickets;
DELETE FROM ticket_counts; DELETE FROM accessories; DELETE FROM catalogue;
DELETE FROM access_keys; DELETE FROM tokens; DELETE FROM user_groups; DELETE FROM users`)
	if err != nil {
		return fmt.Errorf("sqlite: reset: %w", err)
	}
	return nil
}

// isConstraint reports whether err is SQLite's extended result code code.
func isConstraint(err error, code int) bool {
	var se *sqlite.Error
	return errors.As(err, &se) && se.Code() == code
}

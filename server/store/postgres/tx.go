package postgres

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/osmstub/osmstub/server/store"
)

// tx is one transaction's store.Tx.
//
// Every call is a round trip to the server, so PutTicket and AddPair are
// not sent at once: they are queued and sent together, one statement per
// kind, before the transaction's next other statement and before it
// commits. Loading 100k tickets is then a handful of statements, and an
// Associate of three IDs one. An error those writes cause (a ticket that
// exists, ErrExists) is reported by the call that sends them, or by
// Update; the transaction fails either way.
type tx struct {
	ctx      context.Context
	tx       pgx.Tx
	writable bool

	tickets      []store.Ticket // queued PutTicket
	queuedTicket map[string]bool
	pairs        [][2]string // queued AddPair
}

var _ store.Tx = (*tx)(nil)

func (t *tx) write() error {
	if !t.writable {
		return errors.New("postgres: write in a read-only transaction")
	}
	return nil
}

// key reports whether s can be stored in a text column: PostgreSQL refuses
// NUL and invalid UTF-8. No such key exists, so lookups of one find nothing.
func key(s string) bool {
	return utf8.ValidString(s) && !strings.ContainsRune(s, 0)
}

func keys(ss ...string) error {
	for _, s := range ss {
		if !key(s) {
			return fmt.Errorf("postgres: %q: text with NUL or invalid UTF-8 cannot be stored", s)
		}
	}
	return nil
}

// flush sends the queued writes.
func (t *tx) flush() error {
	if len(t.tickets) > 0 {
		n := len(t.tickets)
		ids, owners, descs := make([]string, n), make([]string, n), make([]string, n)
		for i, tk := range t.tickets {
			ids[i], owners[i], descs[i] = tk.ID, tk.Owner, tk.Description
		}
		t.tickets, t.queuedTicket = nil, nil
		// ON CONFLICT DO NOTHING, then count: a ticket this transaction can
		// see is ErrExists; one that a concurrent transaction inserted is a
		// serialization failure (PostgreSQL raises 40001 for it at
		// SERIALIZABLE), and the Update is re-run. A plain INSERT would fail
		// with unique_violation in both cases.
		tag, err := t.tx.Exec(t.ctx, `INSERT INTO tickets (id, owner, description)
SELECT * FROM unnest($1::text[], $2::text[], $3::text[])
ON CONFLICT (id) DO NOTHING`, ids, owners, descs)
		if err != nil {
			return fmt.Errorf("postgres: put tickets: %w", err)
		}
		if tag.RowsAffected() != int64(n) {
			return fmt.Errorf("ticket: %w (%d of %d were there)", store.ErrExists, int64(n)-tag.RowsAffected(), n)
		}
	}
	if len(t.pairs) > 0 {
		from, to := make([]string, 0, 2*len(t.pairs)), make([]string, 0, 2*len(t.pairs))
		for _, p := range t.pairs {
			from = append(from, p[0], p[1])
			to = append(to, p[1], p[0])
		}
		t.pairs = nil
		// Each row goes after the ticket's last association, rows of one
		// ticket in the order they were queued. ON CONFLICT DO NOTHING, as
		// for tickets: two Updates adding the same pair at once end in a
		// serialization failure and a re-run, which finds the pair there (a
		// plain INSERT would fail with unique_violation); a pair already
		// visible is kept as it is.
		_, err := t.tx.Exec(t.ctx, `INSERT INTO relations (ticket_id, related_id, pos)
SELECT q.ticket_id, q.related_id,
       COALESCE((SELECT MAX(r.pos) FROM relations r WHERE r.ticket_id = q.ticket_id), 0)
       + row_number() OVER (PARTITION BY q.ticket_id ORDER BY q.n)
FROM unnest($1::text[], $2::text[]) WITH ORDINALITY AS q(ticket_id, related_id, n)
ON CONFLICT (ticket_id, related_id) DO NOTHING`, from, to)
		switch {
		case isCode(err, "23503"):
			return fmt.Errorf("association: ticket %w (%v)", store.ErrNotFound, err)
		case err != nil:
			return fmt.Errorf("postgres: add associations: %w", err)
		}
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
	tk := store.Ticket{ID: id}
	err := t.tx.QueryRow(t.ctx, `SELECT owner, description FROM tickets WHERE id = $1`, id).Scan(&tk.Owner, &tk.Description)
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

// AddPair queues the association; see tx.
func (t *tx) AddPair(a, b string) error {
	if err := t.write(); err != nil {
		return err
	}
	if err := keys(a, b); err != nil {
		return err
	}
	t.pairs = append(t.pairs, [2]string{a, b})
	return nil
}

func (t *tx) RemovePair(a, b string) error {
	if err := t.write(); err != nil {
		return err
	}
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

// userColumns reads a user and its lists in one statement; where picks it.
const userColumns = `SELECT u.name, u.domain_id,
	ARRAY(SELECT g.group_name FROM user_groups g WHERE g.user_name = u.name ORDER BY g.pos),
	ARRAY(SELECT k.token FROM tokens k WHERE k.user_name = u.name ORDER BY k.pos),
	ARRAY(SELECT a.ak FROM access_keys a WHERE a.user_name = u.name ORDER BY a.pos),
	ARRAY(SELECT a.sk FROM access_keys a WHERE a.user_name = u.name ORDER BY a.pos),
	ARRAY(SELECT a.security_token FROM access_keys a WHERE a.user_name = u.name ORDER BY a.pos)
FROM users u `

func scanUser(row pgx.Row) (store.User, error) {
	var u store.User
	var aks, sks, secs []string
	if err := row.Scan(&u.Name, &u.DomainID, &u.Groups, &u.Tokens, &aks, &sks, &secs); err != nil {
		return store.User{}, err
	}
	if len(aks) != len(sks) || len(aks) != len(secs) {
		return store.User{}, fmt.Errorf("postgres: user %s: access key columns disagree", u.Name)
	}
	for i := range aks {
		u.Keys = append(u.Keys, store.AccessKey{AK: aks[i], SK: sks[i], SecurityToken: secs[i]})
	}
	u.Groups, u.Tokens = nilIfEmpty(u.Groups), nilIfEmpty(u.Tokens)
	return u, nil
}

func nilIfEmpty(s []string) []string {
	if len(s) == 0 {
		return nil
	}
	return s
}

func (t *tx) user(what, where, arg string) (store.User, error) {
	if err := t.flush(); err != nil {
		return store.User{}, err
	}
	if !key(arg) {
		return store.User{}, store.ErrNotFound
	}
	u, err := scanUser(t.tx.QueryRow(t.ctx, userColumns+where, arg))
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
	if err := t.write(); err != nil {
		return err
	}
	if err := t.flush(); err != nil {
		return err
	}
	all := append([]string{u.Name, u.DomainID}, u.Groups...)
	all = append(all, u.Tokens...)
	aks, sks, secs := make([]string, len(u.Keys)), make([]string, len(u.Keys)), make([]string, len(u.Keys))
	for i, k := range u.Keys {
		aks[i], sks[i], secs[i] = k.AK, k.SK, k.SecurityToken
	}
	all = append(append(append(all, aks...), sks...), secs...)
	if err := keys(all...); err != nil {
		return err
	}
	groups, tokens := u.Groups, u.Tokens
	if groups == nil {
		groups = []string{}
	}
	if tokens == nil {
		tokens = []string{}
	}
	// One round trip: which credential another user holds, if any.
	var tokenTaken, keyTaken *string
	err := t.tx.QueryRow(t.ctx, `SELECT
	(SELECT token FROM tokens WHERE token = ANY($2::text[]) AND user_name <> $1 LIMIT 1),
	(SELECT ak FROM access_keys WHERE ak = ANY($3::text[]) AND user_name <> $1 LIMIT 1)`,
		u.Name, tokens, aks).Scan(&tokenTaken, &keyTaken)
	if err != nil {
		return fmt.Errorf("postgres: check credentials of %s: %w", u.Name, err)
	}
	if tokenTaken != nil {
		return fmt.Errorf("token of user %s: %w", u.Name, store.ErrExists)
	}
	if keyTaken != nil {
		return fmt.Errorf("access key %s: %w", *keyTaken, store.ErrExists)
	}
	// Upsert rather than delete and insert: tickets keep their owner. The
	// lists are replaced in the same batch.
	b := &pgx.Batch{}
	b.Queue(`INSERT INTO users (name, domain_id) VALUES ($1, $2)
ON CONFLICT (name) DO UPDATE SET domain_id = excluded.domain_id`, u.Name, u.DomainID)
	b.Queue(`DELETE FROM user_groups WHERE user_name = $1`, u.Name)
	b.Queue(`DELETE FROM tokens WHERE user_name = $1`, u.Name)
	b.Queue(`DELETE FROM access_keys WHERE user_name = $1`, u.Name)
	b.Queue(`INSERT INTO user_groups (user_name, pos, group_name)
SELECT $1, n - 1, g FROM unnest($2::text[]) WITH ORDINALITY AS x(g, n)`, u.Name, groups)
	b.Queue(`INSERT INTO tokens (user_name, pos, token)
SELECT $1, n - 1, k FROM unnest($2::text[]) WITH ORDINALITY AS x(k, n)`, u.Name, tokens)
	b.Queue(`INSERT INTO access_keys (user_name, pos, ak, sk, security_token)
SELECT $1, n - 1, a, s, st FROM unnest($2::text[], $3::text[], $4::text[]) WITH ORDINALITY AS x(a, s, st, n)`,
		u.Name, aks, sks, secs)
	if err := t.tx.SendBatch(t.ctx, b).Close(); err != nil {
		return fmt.Errorf("postgres: put user %s: %w", u.Name, err)
	}
	return nil
}

// PutTicket queues the ticket; see tx. A ticket queued twice is refused
// at once; one that is already stored, when the queue is sent.
func (t *tx) PutTicket(tk store.Ticket) error {
	if err := t.write(); err != nil {
		return err
	}
	if err := keys(tk.ID, tk.Owner, tk.Description); err != nil {
		return err
	}
	if t.queuedTicket[tk.ID] {
		return fmt.Errorf("ticket %s: %w", tk.ID, store.ErrExists)
	}
	if t.queuedTicket == nil {
		t.queuedTicket = map[string]bool{}
	}
	t.queuedTicket[tk.ID] = true
	tk.Relations = nil
	t.tickets = append(t.tickets, tk)
	return nil
}

func (t *tx) Snapshot() (store.Dataset, error) {
	if err := t.flush(); err != nil {
		return store.Dataset{}, err
	}
	d, err := t.snapshot()
	if err != nil {
		return store.Dataset{}, fmt.Errorf("postgres: snapshot: %w", err)
	}
	return d, nil
}

func (t *tx) snapshot() (store.Dataset, error) {
	var d store.Dataset
	rows, _ := t.tx.Query(t.ctx, userColumns)
	for rows.Next() {
		u, err := scanUser(rows)
		if err != nil {
			rows.Close()
			return d, err
		}
		d.Users = append(d.Users, u)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return d, err
	}
	// Sorted here, byte-wise, as the Snapshot contract says, whatever the
	// database's collation.
	slices.SortFunc(d.Users, func(a, b store.User) int { return strings.Compare(a.Name, b.Name) })

	rows, _ = t.tx.Query(t.ctx, `SELECT id, owner, description FROM tickets`)
	tickets, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (store.Ticket, error) {
		var tk store.Ticket
		err := row.Scan(&tk.ID, &tk.Owner, &tk.Description)
		return tk, err
	})
	if err != nil {
		return d, err
	}
	slices.SortFunc(tickets, func(a, b store.Ticket) int { return strings.Compare(a.ID, b.ID) })
	d.Tickets = tickets
	index := make(map[string]int, len(tickets))
	for i, tk := range tickets {
		index[tk.ID] = i
	}
	rows, _ = t.tx.Query(t.ctx, `SELECT ticket_id, related_id FROM relations ORDER BY ticket_id, pos`)
	var id, related string
	_, err = pgx.ForEachRow(rows, []any{&id, &related}, func() error {
		if i, ok := index[id]; ok {
			d.Tickets[i].Relations = append(d.Tickets[i].Relations, related)
		}
		return nil
	})
	return d, err
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
	if err := t.write(); err != nil {
		return err
	}
	if err := t.flush(); err != nil {
		return err
	}
	// DELETE, not TRUNCATE: TRUNCATE takes an ACCESS EXCLUSIVE lock and is
	// not MVCC-safe for concurrent snapshots.
	_, err := t.tx.Exec(t.ctx, `DELETE FROM relations; DELETE FROM tickets; DELETE FROM access_keys;
DELETE FROM tokens; DELETE FROM user_groups; DELETE FROM users`)
	if err != nil {
		return fmt.Errorf("postgres: reset: %w", err)
	}
	return nil
}

package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"

	sqlite "modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/osmstub/osmstub/server/store"
)

// tx is one transaction's store.Tx. Its methods run SQL right away (SQLite
// is in the process: a statement costs no round trip).
type tx struct {
	ctx      context.Context
	tx       *sql.Tx
	writable bool
}

func (t *tx) query(query string, args ...any) (*sql.Rows, error) {
	return t.tx.QueryContext(t.ctx, query, args...)
}

func (t *tx) row(query string, args ...any) *sql.Row {
	return t.tx.QueryRowContext(t.ctx, query, args...)
}

var _ store.Tx = (*tx)(nil)

func (t *tx) write() error {
	if !t.writable {
		return errors.New("sqlite: write in a read-only transaction")
	}
	return nil
}

func (t *tx) exec(query string, args ...any) error {
	_, err := t.tx.ExecContext(t.ctx, query, args...)
	return err
}

// strings runs a query of one text column and returns its values in order.
func (t *tx) strings(query string, args ...any) ([]string, error) {
	rows, err := t.query(query, args...)
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
	tk := store.Ticket{ID: id}
	err := t.row(qTicket, id).
		Scan(&tk.Owner, &tk.Description)
	if errors.Is(err, sql.ErrNoRows) {
		return store.Ticket{}, store.ErrNotFound
	}
	if err != nil {
		return store.Ticket{}, fmt.Errorf("sqlite: ticket %s: %w", id, err)
	}
	return tk, nil
}

func (t *tx) Relations(id string) ([]string, error) {
	ids, err := t.strings(qRelations, id)
	if err != nil {
		return nil, fmt.Errorf("sqlite: relations of %s: %w", id, err)
	}
	return ids, nil
}

// AddPair appends b to a's list and a to b's, each at its list's end.
func (t *tx) AddPair(a, b string) error {
	if err := t.write(); err != nil {
		return err
	}
	for _, p := range [][2]string{{a, b}, {b, a}} {
		err := t.exec(qAddRelation, p[0], p[1])
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
	if err := t.write(); err != nil {
		return err
	}
	err := t.exec(qRemovePair, a, b)
	if err != nil {
		return fmt.Errorf("sqlite: remove association %s-%s: %w", a, b, err)
	}
	return nil
}

func (t *tx) User(name string) (store.User, error) {
	u := store.User{Name: name}
	err := t.row(qUser, name).Scan(&u.DomainID)
	if errors.Is(err, sql.ErrNoRows) {
		return store.User{}, store.ErrNotFound
	}
	if err != nil {
		return store.User{}, fmt.Errorf("sqlite: user %s: %w", name, err)
	}
	if u.Groups, err = t.strings(qUserGroups, name); err != nil {
		return store.User{}, fmt.Errorf("sqlite: groups of %s: %w", name, err)
	}
	if u.Tokens, err = t.strings(qUserTokens, name); err != nil {
		return store.User{}, fmt.Errorf("sqlite: tokens of %s: %w", name, err)
	}
	rows, err := t.query(qUserKeys, name)
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

// owner returns the name of the user that holds a credential, or
// ErrNotFound.
func (t *tx) owner(what, query, cred string) (string, error) {
	var name string
	err := t.row(query, cred).Scan(&name)
	if errors.Is(err, sql.ErrNoRows) {
		return "", store.ErrNotFound
	}
	if err != nil {
		return "", fmt.Errorf("sqlite: look up %s: %w", what, err)
	}
	return name, nil
}

func (t *tx) UserByToken(token string) (store.User, error) {
	name, err := t.owner("token", qTokenOwner, token)
	if err != nil {
		return store.User{}, err
	}
	return t.User(name)
}

func (t *tx) UserByAccessKey(ak string) (store.User, store.AccessKey, error) {
	name, err := t.owner("access key", qKeyOwner, ak)
	if err != nil {
		return store.User{}, store.AccessKey{}, err
	}
	u, err := t.User(name)
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
	for _, tok := range u.Tokens {
		taken, err := t.taken(qTokenTaken, tok, u.Name)
		if err != nil {
			return err
		}
		if taken {
			return fmt.Errorf("token of user %s: %w", u.Name, store.ErrExists)
		}
	}
	for _, k := range u.Keys {
		taken, err := t.taken(qKeyTaken, k.AK, u.Name)
		if err != nil {
			return err
		}
		if taken {
			return fmt.Errorf("access key %s: %w", k.AK, store.ErrExists)
		}
	}
	// Upsert rather than delete and insert: tickets keep their owner.
	if err := t.exec(qUpsertUser, u.Name, u.DomainID); err != nil {
		return fmt.Errorf("sqlite: put user %s: %w", u.Name, err)
	}
	for _, query := range []string{
		qDeleteUserGroups,
		qDeleteUserTokens,
		qDeleteUserKeys,
	} {
		if err := t.exec(query, u.Name); err != nil {
			return fmt.Errorf("sqlite: put user %s: %w", u.Name, err)
		}
	}
	for i, g := range u.Groups {
		if err := t.exec(qInsertGroup, u.Name, i, g); err != nil {
			return fmt.Errorf("sqlite: put user %s: %w", u.Name, err)
		}
	}
	for i, tok := range u.Tokens {
		if err := t.exec(qInsertToken, u.Name, i, tok); err != nil {
			return fmt.Errorf("sqlite: put user %s: %w", u.Name, err)
		}
	}
	for i, k := range u.Keys {
		if err := t.exec(qInsertKey,
			u.Name, i, k.AK, k.SK, k.SecurityToken); err != nil {
			return fmt.Errorf("sqlite: put user %s: %w", u.Name, err)
		}
	}
	return nil
}

func (t *tx) taken(query string, args ...any) (bool, error) {
	var taken bool
	if err := t.row(query, args...).Scan(&taken); err != nil {
		return false, fmt.Errorf("sqlite: check credentials: %w", err)
	}
	return taken, nil
}

func (t *tx) PutTicket(tk store.Ticket) error {
	if err := t.write(); err != nil {
		return err
	}
	err := t.exec(qInsertTicket, tk.ID, tk.Owner, tk.Description)
	if isConstraint(err, sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY) {
		return fmt.Errorf("ticket %s: %w", tk.ID, store.ErrExists)
	}
	if err != nil {
		return fmt.Errorf("sqlite: put ticket %s: %w", tk.ID, err)
	}
	return nil
}

// Snapshot reads every user and ticket as User, Ticket and Relations
// read them, one at a time.
func (t *tx) Snapshot() (store.Dataset, error) {
	var d store.Dataset
	names, err := t.strings(qAllUsers)
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
	ids, err := t.strings(qAllTickets)
	if err != nil {
		return store.Dataset{}, fmt.Errorf("sqlite: snapshot: %w", err)
	}
	for _, id := range ids {
		tk, err := t.Ticket(id)
		if err == nil {
			tk.Relations, err = t.Relations(id)
		}
		if err != nil {
			return store.Dataset{}, err
		}
		d.Tickets = append(d.Tickets, tk)
	}
	// Sorted here, byte-wise, as the Snapshot contract says, whatever the
	// database's collation.
	slices.SortFunc(d.Users, func(a, b store.User) int { return strings.Compare(a.Name, b.Name) })
	slices.SortFunc(d.Tickets, func(a, b store.Ticket) int { return strings.Compare(a.ID, b.ID) })
	return d, nil
}

func (t *tx) Empty() (bool, error) {
	var empty bool
	err := t.row(qEmpty).Scan(&empty)
	if err != nil {
		return false, fmt.Errorf("sqlite: empty: %w", err)
	}
	return empty, nil
}

func (t *tx) Reset() error {
	if err := t.write(); err != nil {
		return err
	}
	for _, query := range []string{
		qResetRelations, qResetTickets, qResetKeys,
		qResetTokens, qResetGroups, qResetUsers,
	} {
		if err := t.exec(query); err != nil {
			return fmt.Errorf("sqlite: reset: %w", err)
		}
	}
	return nil
}

// isConstraint reports whether err is SQLite's extended result code code.
func isConstraint(err error, code int) bool {
	var se *sqlite.Error
	return errors.As(err, &se) && se.Code() == code
}

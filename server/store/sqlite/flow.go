package sqlite

import (
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	sqlite3 "modernc.org/sqlite/lib"

	"github.com/osmstub/osmstub/server/store"
)

// ticketColumns are the tickets table's columns in scanTicket's order.
const ticketColumns = `id, owner, description, account, status, business_type_id, product_category_id,
	region_id, severity_id, source_id, created, pressed, judgement, accessory_ids`

const messageColumns = `id, type, replier, content, created, accessory_ids`

const scoreColumns = `author, judgement, satisfaction, created`

// scanner is a *sql.Row or *sql.Rows.
type scanner interface{ Scan(dest ...any) error }

func scanTicket(r scanner) (store.Ticket, error) {
	var tk store.Ticket
	var created int64
	var pressed sql.NullInt64
	var accessories string
	d := &tk.TicketDetail
	err := r.Scan(&tk.ID, &tk.Owner, &tk.Description, &d.Account, &d.Status, &d.BusinessTypeID, &d.ProductCategoryID,
		&d.RegionID, &d.SeverityID, &d.SourceID, &created, &pressed, &d.Judgement, &accessories)
	if err != nil {
		return store.Ticket{}, err
	}
	d.Created = fromMicros(created)
	if pressed.Valid {
		d.Pressed = fromMicros(pressed.Int64)
	}
	if d.AccessoryIDs, err = fromJSON[string](accessories); err != nil {
		return store.Ticket{}, fmt.Errorf("ticket %s: accessory_ids: %w", tk.ID, err)
	}
	return tk, nil
}

// scanMessage scans messageColumns, after the destinations in first.
func scanMessage(r scanner, first ...any) (store.Message, error) {
	var m store.Message
	var created int64
	var accessories string
	if err := r.Scan(append(first, &m.ID, &m.Type, &m.Replier, &m.Content, &created, &accessories)...); err != nil {
		return store.Message{}, err
	}
	m.Created = fromMicros(created)
	var err error
	if m.AccessoryIDs, err = fromJSON[string](accessories); err != nil {
		return store.Message{}, fmt.Errorf("message %s: accessory_ids: %w", m.ID, err)
	}
	return m, nil
}

// scanScore scans scoreColumns, after the destinations in first.
func scanScore(r scanner, first ...any) (store.Score, error) {
	var s store.Score
	var created int64
	var satisfaction string
	if err := r.Scan(append(first, &s.Author, &s.Judgement, &satisfaction, &created)...); err != nil {
		return store.Score{}, err
	}
	s.Created = fromMicros(created)
	var err error
	if s.Satisfaction, err = fromJSON[store.Satisfaction](satisfaction); err != nil {
		return store.Score{}, fmt.Errorf("score: satisfaction: %w", err)
	}
	return s, nil
}

// micros is how a time is stored (schema.go): Unix microseconds. The zero
// time is stored as itself, and reads back as the zero time.
func micros(t time.Time) int64 { return t.UnixMicro() }

// nullMicros stores the zero time as NULL (a ticket never pressed).
func nullMicros(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UnixMicro()
}

func fromMicros(us int64) time.Time { return time.UnixMicro(us).UTC() }

// jsonText encodes a list as a JSON array; none as [].
func jsonText[T any](v []T) string {
	if len(v) == 0 {
		return "[]"
	}
	b, err := json.Marshal(v)
	if err != nil {
		panic(err) // strings and structs of ints and strings always encode
	}
	return string(b)
}

// fromJSON decodes a JSON array; an empty one as nil.
func fromJSON[T any](s string) ([]T, error) {
	var v []T
	if err := json.Unmarshal([]byte(s), &v); err != nil {
		return nil, err
	}
	if len(v) == 0 {
		return nil, nil
	}
	return v, nil
}

// count adds delta to owner's tickets of status in account.
func (t *tx) count(account, owner string, status, delta int) error {
	return t.exec(`INSERT INTO ticket_counts (account, owner, status, n) VALUES (?, ?, ?, ?)
ON CONFLICT (account, owner, status) DO UPDATE SET n = ticket_counts.n + excluded.n`, account, owner, status, delta)
}

func (t *tx) UpdateTicket(tk store.Ticket) error {
	var owner, account string
	var status int
	err := t.row(`SELECT owner, account, status FROM tickets WHERE id = ?`, tk.ID).Scan(&owner, &account, &status)
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("ticket %s: %w", tk.ID, store.ErrNotFound)
	}
	d := tk.TicketDetail
	if err == nil {
		err = t.exec(`UPDATE tickets SET account = ?, status = ?, business_type_id = ?, product_category_id = ?,
	region_id = ?, severity_id = ?, source_id = ?, created = ?, pressed = ?, judgement = ?, accessory_ids = ?
WHERE id = ?`, d.Account, d.Status, d.BusinessTypeID, d.ProductCategoryID, d.RegionID, d.SeverityID, d.SourceID,
			micros(d.Created), nullMicros(d.Pressed), d.Judgement, jsonText(d.AccessoryIDs), tk.ID)
	}
	if err == nil && (account != d.Account || status != d.Status) {
		err = t.count(account, owner, status, -1)
		if err == nil {
			err = t.count(d.Account, owner, d.Status, 1)
		}
	}
	if err != nil {
		return fmt.Errorf("sqlite: update ticket %s: %w", tk.ID, err)
	}
	return nil
}

// Tickets runs one query for the page and one for the total. The page
// walks tickets_by_account (or tickets_by_owner) in its order, so the first
// page reads a page of rows however many the account has. The total of a
// listing filtered by no more than owners and status is read from
// ticket_counts; of any other, counted up to store.MaxTotal, so that a
// filter a million tickets match costs no more than one 65535 match.
func (t *tx) Tickets(q store.TicketQuery) ([]store.Ticket, int, error) {
	where := []string{"account = ?"}
	args := []any{q.Account}
	if len(q.Owners) > 0 {
		where = append(where, "owner IN (?"+strings.Repeat(", ?", len(q.Owners)-1)+")")
		for _, o := range q.Owners {
			args = append(args, o)
		}
	}
	if len(q.Statuses) > 0 {
		where = append(where, "status IN (?"+strings.Repeat(", ?", len(q.Statuses)-1)+")")
		for _, st := range q.Statuses {
			args = append(args, st)
		}
	}
	counted := len(where) // conditions on ticket_counts's columns only
	if q.ID != "" {
		where, args = append(where, "id = ?"), append(args, q.ID)
	}
	if q.AppKey != "" {
		where, args = append(where, "(id = ? OR instr(lower(description), lower(?)) > 0)"), append(args, q.AppKey, q.AppKey)
	}
	for _, k := range q.Keys {
		// instr, not LIKE: a key's % and _ are plain characters.
		where, args = append(where, "instr(lower(description), lower(?)) > 0"), append(args, k)
	}
	if !q.From.IsZero() {
		where, args = append(where, "created >= ?"), append(args, micros(q.From))
	}
	if !q.To.IsZero() {
		where, args = append(where, "created <= ?"), append(args, micros(q.To))
	}
	cond := strings.Join(where, " AND ")
	limit := int64(q.Limit)
	if limit <= 0 {
		limit = -1 // SQLite: no limit
	}
	rows, err := t.tx.QueryContext(t.ctx, `SELECT `+ticketColumns+` FROM tickets WHERE `+cond+`
ORDER BY created DESC, id DESC LIMIT ? OFFSET ?`, append(args, limit, max(q.Offset, 0))...)
	if err != nil {
		return nil, 0, fmt.Errorf("sqlite: list tickets: %w", err)
	}
	defer rows.Close()
	var page []store.Ticket
	for rows.Next() {
		tk, err := scanTicket(rows)
		if err != nil {
			return nil, 0, fmt.Errorf("sqlite: list tickets: %w", err)
		}
		page = append(page, tk)
	}
	if err := rows.Err(); err != nil {
		return nil, 0, fmt.Errorf("sqlite: list tickets: %w", err)
	}
	var total int
	if len(where) == counted {
		err = t.row(`SELECT COALESCE(SUM(n), 0) FROM ticket_counts WHERE `+cond, args...).Scan(&total)
	} else {
		err = t.row(`SELECT count(*) FROM (SELECT 1 FROM tickets WHERE `+cond+` LIMIT ?)`,
			append(args, store.MaxTotal)...).Scan(&total)
	}
	if err != nil {
		return nil, 0, fmt.Errorf("sqlite: count tickets: %w", err)
	}
	return page, total, nil
}

func (t *tx) AddMessage(id string, m store.Message) error {
	err := t.exec(`INSERT INTO messages (ticket_id, pos, id, type, replier, content, created, accessory_ids)
VALUES (?1, (SELECT COALESCE(MAX(pos), 0) + 1 FROM messages WHERE ticket_id = ?1), ?2, ?3, ?4, ?5, ?6, ?7)`,
		id, m.ID, m.Type, m.Replier, m.Content, micros(m.Created), jsonText(m.AccessoryIDs))
	if isConstraint(err, sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY) {
		return fmt.Errorf("message on ticket %s: %w", id, store.ErrNotFound)
	}
	if err != nil {
		return fmt.Errorf("sqlite: add message to %s: %w", id, err)
	}
	return nil
}

func (t *tx) Messages(id string, offset, limit int) ([]store.Message, int, error) {
	if limit <= 0 {
		limit = -1
	}
	rows, err := t.tx.QueryContext(t.ctx, `SELECT `+messageColumns+` FROM messages WHERE ticket_id = ?
ORDER BY pos LIMIT ? OFFSET ?`, id, limit, max(offset, 0))
	if err != nil {
		return nil, 0, fmt.Errorf("sqlite: messages of %s: %w", id, err)
	}
	defer rows.Close()
	var page []store.Message
	for rows.Next() {
		m, err := scanMessage(rows)
		if err != nil {
			return nil, 0, fmt.Errorf("sqlite: messages of %s: %w", id, err)
		}
		page = append(page, m)
	}
	if err := rows.Err(); err != nil {
		return nil, 0, fmt.Errorf("sqlite: messages of %s: %w", id, err)
	}
	var total int
	if err := t.row(`SELECT count(*) FROM messages WHERE ticket_id = ?`, id).Scan(&total); err != nil {
		return nil, 0, fmt.Errorf("sqlite: messages of %s: %w", id, err)
	}
	return page, total, nil
}

func (t *tx) AddScore(id string, s store.Score) error {
	err := t.exec(`INSERT INTO scores (ticket_id, pos, author, judgement, satisfaction, created)
VALUES (?1, (SELECT COALESCE(MAX(pos), 0) + 1 FROM scores WHERE ticket_id = ?1), ?2, ?3, ?4, ?5)`,
		id, s.Author, s.Judgement, jsonText(s.Satisfaction), micros(s.Created))
	if isConstraint(err, sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY) {
		return fmt.Errorf("score of ticket %s: %w", id, store.ErrNotFound)
	}
	if err != nil {
		return fmt.Errorf("sqlite: add score to %s: %w", id, err)
	}
	return nil
}

func (t *tx) Scores(id string) ([]store.Score, error) {
	rows, err := t.tx.QueryContext(t.ctx, `SELECT `+scoreColumns+` FROM scores WHERE ticket_id = ? ORDER BY pos`, id)
	if err != nil {
		return nil, fmt.Errorf("sqlite: scores of %s: %w", id, err)
	}
	defer rows.Close()
	var out []store.Score
	for rows.Next() {
		s, err := scanScore(rows)
		if err != nil {
			return nil, fmt.Errorf("sqlite: scores of %s: %w", id, err)
		}
		out = append(out, s)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: scores of %s: %w", id, err)
	}
	return out, nil
}

func (t *tx) PutAccessory(a store.Accessory) error {
	data := a.Data
	if data == nil {
		data = []byte{} // a blob, not NULL
	}
	err := t.exec(`INSERT INTO accessories (id, owner, account, name, accessory_from, size, data, created)
VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, a.ID, a.Owner, a.Account, a.Name, a.From, a.Size, data, micros(a.Created))
	if isConstraint(err, sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY) {
		return fmt.Errorf("accessory %s: %w", a.ID, store.ErrExists)
	}
	if err != nil {
		return fmt.Errorf("sqlite: put accessory %s: %w", a.ID, err)
	}
	return nil
}

func (t *tx) Accessory(id string) (store.Accessory, error) {
	a := store.Accessory{ID: id}
	var created int64
	err := t.row(`SELECT owner, account, name, accessory_from, size, created FROM accessories WHERE id = ?`, id).
		Scan(&a.Owner, &a.Account, &a.Name, &a.From, &a.Size, &created)
	if errors.Is(err, sql.ErrNoRows) {
		return store.Accessory{}, store.ErrNotFound
	}
	if err != nil {
		return store.Accessory{}, fmt.Errorf("sqlite: accessory %s: %w", id, err)
	}
	a.Created = fromMicros(created)
	return a, nil
}

func (t *tx) AccessoryBytes(owner string, since time.Time) (int64, error) {
	var n int64
	err := t.row(`SELECT COALESCE(SUM(size), 0) FROM accessories WHERE owner = ? AND created >= ?`, owner, micros(since)).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("sqlite: uploads of %s: %w", owner, err)
	}
	return n, nil
}

func (t *tx) Catalogue() (store.Catalogue, error) {
	var body string
	err := t.row(`SELECT body FROM catalogue WHERE id = 1`).Scan(&body)
	if errors.Is(err, sql.ErrNoRows) {
		return store.Catalogue{}, nil
	}
	var c store.Catalogue
	if err == nil {
		err = json.Unmarshal([]byte(body), &c)
	}
	if err != nil {
		return store.Catalogue{}, fmt.Errorf("sqlite: catalogue: %w", err)
	}
	return c, nil
}

func (t *tx) PutCatalogue(c store.Catalogue) error {
	body, err := json.Marshal(c)
	if err == nil {
		err = t.exec(`INSERT INTO catalogue (id, body) VALUES (1, ?) ON CONFLICT (id) DO UPDATE SET body = excluded.body`, string(body))
	}
	if err != nil {
		return fmt.Errorf("sqlite: put catalogue: %w", err)
	}
	return nil
}

// NextID: an Update is the only writer of the file while it runs (BEGIN
// IMMEDIATE), in this process or another, so read-and-increment is atomic.
func (t *tx) NextID(counter string) (int64, error) {
	var v int64
	err := t.row(`INSERT INTO counters (name, value) VALUES (?, 1)
ON CONFLICT (name) DO UPDATE SET value = counters.value + 1 RETURNING value`, counter).Scan(&v)
	if err != nil {
		return 0, fmt.Errorf("sqlite: next %s ID: %w", counter, err)
	}
	return v, nil
}

// DeleteAccount deletes the account's tickets (their relations, messages
// and scores go with them: ON DELETE CASCADE), counts, uploads and users.
func (t *tx) DeleteAccount(account string) error {
	err := t.exec(`DELETE FROM tickets WHERE account = ?1; DELETE FROM ticket_counts WHERE account = ?1;
DELETE FROM accessories WHERE account = ?1; DELETE FROM users WHERE account = ?1`, account)
	if err != nil {
		return fmt.Errorf("sqlite: delete account %q: %w", account, err)
	}
	return nil
}

func (t *tx) GroupMembers(account, group string) ([]string, error) {
	rows, err := t.tx.QueryContext(t.ctx, `SELECT DISTINCT u.name FROM users u JOIN user_groups g ON g.user_name = u.name
WHERE u.account = ? AND g.group_name = ? ORDER BY u.name`, account, group)
	if err != nil {
		return nil, fmt.Errorf("sqlite: group members: %w", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			return nil, fmt.Errorf("sqlite: group members: %w", err)
		}
		out = append(out, n)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: group members: %w", err)
	}
	return out, nil
}

func (t *tx) AccountMembers(account string) ([]string, error) {
	rows, err := t.tx.QueryContext(t.ctx, `SELECT name FROM users WHERE account = ? ORDER BY name`, account)
	if err != nil {
		return nil, fmt.Errorf("sqlite: account members: %w", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			return nil, fmt.Errorf("sqlite: account members: %w", err)
		}
		out = append(out, n)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: account members: %w", err)
	}
	return out, nil
}

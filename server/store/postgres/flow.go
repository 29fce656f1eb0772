package postgres

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/osmstub/osmstub/server/store"
)

// ticketColumns are the tickets table's columns in scanTicket's order.
const ticketColumns = `id, owner, description, account, status, business_type_id, product_category_id,
	region_id, severity_id, source_id, created, pressed, judgement, accessory_ids`

const messageColumns = `id, type, replier, content, created, accessory_ids`

const scoreColumns = `author, judgement, satisfaction, created`

// scanTicket scans ticketColumns, then the destinations in more.
func scanTicket(r pgx.Row, more ...any) (store.Ticket, error) {
	var tk store.Ticket
	var created int64
	var pressed *int64
	var accessories string
	d := &tk.TicketDetail
	err := r.Scan(append([]any{&tk.ID, &tk.Owner, &tk.Description, &d.Account, &d.Status, &d.BusinessTypeID,
		&d.ProductCategoryID, &d.RegionID, &d.SeverityID, &d.SourceID, &created, &pressed, &d.Judgement, &accessories},
		more...)...)
	if err != nil {
		return store.Ticket{}, err
	}
	d.Created = fromMicros(created)
	if pressed != nil {
		d.Pressed = fromMicros(*pressed)
	}
	if d.AccessoryIDs, err = fromJSON[string](accessories); err != nil {
		return store.Ticket{}, fmt.Errorf("ticket %s: accessory_ids: %w", tk.ID, err)
	}
	return tk, nil
}

// scanMessage scans messageColumns, then the destinations in more.
func scanMessage(r pgx.Row, more ...any) (store.Message, error) {
	var m store.Message
	var created int64
	var accessories string
	if err := r.Scan(append([]any{&m.ID, &m.Type, &m.Replier, &m.Content, &created, &accessories}, more...)...); err != nil {
		return store.Message{}, err
	}
	m.Created = fromMicros(created)
	var err error
	if m.AccessoryIDs, err = fromJSON[string](accessories); err != nil {
		return store.Message{}, fmt.Errorf("message %s: accessory_ids: %w", m.ID, err)
	}
	return m, nil
}

// scanScore scans scoreColumns, then the destinations in more.
func scanScore(r pgx.Row, more ...any) (store.Score, error) {
	var s store.Score
	var created int64
	var satisfaction string
	if err := r.Scan(append([]any{&s.Author, &s.Judgement, &satisfaction, &created}, more...)...); err != nil {
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
func nullMicros(t time.Time) *int64 {
	if t.IsZero() {
		return nil
	}
	us := t.UnixMicro()
	return &us
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

// count queues adding delta to owner's tickets of status in account.
func (t *tx) count(account, owner string, status, delta int) {
	t.queued.Queue(`INSERT INTO ticket_counts (account, owner, status, n) VALUES ($1, $2, $3, $4)
ON CONFLICT (account, owner, status) DO UPDATE SET n = ticket_counts.n + excluded.n`, account, owner, status, delta)
}

// UpdateTicket reads the ticket's old account and status in the same
// statement (the FROM item sees the row as it was before the statement),
// to move its count when they change.
func (t *tx) UpdateTicket(tk store.Ticket) error {
	if err := t.flush(); err != nil {
		return err
	}
	if !key(tk.ID) {
		return fmt.Errorf("ticket %s: %w", tk.ID, store.ErrNotFound)
	}
	d := tk.TicketDetail
	var owner, account string
	var status int
	err := t.tx.QueryRow(t.ctx, `UPDATE tickets t SET account = $2, status = $3, business_type_id = $4,
	product_category_id = $5, region_id = $6, severity_id = $7, source_id = $8, created = $9, pressed = $10,
	judgement = $11, accessory_ids = $12
FROM tickets old WHERE t.id = $1 AND old.id = $1
RETURNING t.owner, old.account, old.status`, tk.ID, d.Account, d.Status, d.BusinessTypeID, d.ProductCategoryID, d.RegionID,
		d.SeverityID, d.SourceID, micros(d.Created), nullMicros(d.Pressed), d.Judgement, jsonText(d.AccessoryIDs),
	).Scan(&owner, &account, &status)
	if errors.Is(err, pgx.ErrNoRows) {
		return fmt.Errorf("ticket %s: %w", tk.ID, store.ErrNotFound)
	}
	if err != nil {
		return fmt.Errorf("postgres: update ticket %s: %w", tk.ID, err)
	}
	if account != d.Account || status != d.Status {
		t.count(account, owner, status, -1)
		t.count(d.Account, owner, d.Status, 1)
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
	if err := t.flush(); err != nil {
		return nil, 0, err
	}
	// A value PostgreSQL cannot store matches nothing.
	var owners []string
	for _, o := range q.Owners {
		if key(o) {
			owners = append(owners, o)
		}
	}
	if !key(q.Account) || len(q.Owners) > 0 && len(owners) == 0 || !key(q.ID) ||
		slices.ContainsFunc(q.Keys, func(k string) bool { return !key(k) }) {
		return nil, 0, nil
	}
	args := []any{q.Account}
	arg := func(v any) string {
		args = append(args, v)
		return "$" + strconv.Itoa(len(args))
	}
	where := []string{"account = $1"}
	if len(q.Owners) > 0 {
		where = append(where, "owner = ANY("+arg(owners)+"::text[])")
	}
	if len(q.Statuses) > 0 {
		where = append(where, "status = ANY("+arg(q.Statuses)+"::integer[])")
	}
	counted := len(where) // conditions on ticket_counts's columns only
	if q.ID != "" {
		where = append(where, "id = "+arg(q.ID))
	}
	if q.AppKey != "" {
		k := arg(q.AppKey)
		where = append(where, "(id = "+k+" OR strpos(lower(description), lower("+k+")) > 0)")
	}
	for _, k := range q.Keys {
		// strpos, not LIKE: a key's % and _ are plain characters.
		where = append(where, "strpos(lower(description), lower("+arg(k)+")) > 0")
	}
	if !q.From.IsZero() {
		where = append(where, "created >= "+arg(micros(q.From)))
	}
	if !q.To.IsZero() {
		where = append(where, "created <= "+arg(micros(q.To)))
	}
	cond := strings.Join(where, " AND ")
	filterArgs := len(args)
	var limit *int
	if q.Limit > 0 {
		limit = &q.Limit // NULL: no limit
	}
	rows, _ := t.tx.Query(t.ctx, `SELECT `+ticketColumns+` FROM tickets WHERE `+cond+`
ORDER BY created DESC, id DESC LIMIT `+arg(limit)+` OFFSET `+arg(max(q.Offset, 0)),
		args...)
	page, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (store.Ticket, error) { return scanTicket(r) })
	if err != nil {
		return nil, 0, fmt.Errorf("postgres: list tickets: %w", err)
	}
	var total int
	if len(where) == counted {
		err = t.tx.QueryRow(t.ctx, `SELECT COALESCE(SUM(n), 0)::bigint FROM ticket_counts WHERE `+cond,
			args[:filterArgs]...).Scan(&total)
	} else {
		err = t.tx.QueryRow(t.ctx, `SELECT count(*) FROM (SELECT 1 FROM tickets WHERE `+cond+` LIMIT `+
			strconv.Itoa(store.MaxTotal)+`) AS capped`, args[:filterArgs]...).Scan(&total)
	}
	if err != nil {
		return nil, 0, fmt.Errorf("postgres: count tickets: %w", err)
	}
	return page, total, nil
}

// AddMessage queues the message after the ticket's last one; see tx. ON
// CONFLICT DO NOTHING: two Updates appending to one ticket at once both
// pick the same pos, and PostgreSQL fails the later one with a
// serialization failure (re-run) rather than unique_violation.
func (t *tx) AddMessage(id string, m store.Message) error {
	if !key(id) {
		return fmt.Errorf("message on ticket %s: %w", id, store.ErrNotFound)
	}
	t.queued.Queue(`INSERT INTO messages (ticket_id, pos, id, type, replier, content, created, accessory_ids)
VALUES ($1, (SELECT COALESCE(MAX(pos), 0) + 1 FROM messages WHERE ticket_id = $1), $2, $3, $4, $5, $6, $7)
ON CONFLICT (ticket_id, pos) DO NOTHING`, id, m.ID, m.Type, m.Replier, m.Content, micros(m.Created), jsonText(m.AccessoryIDs),
	).Exec(appended("message on ticket " + id))
	return nil
}

// appended checks that a queued append wrote its row.
func appended(what string) func(pgconn.CommandTag) error {
	return func(tag pgconn.CommandTag) error {
		if tag.RowsAffected() == 0 {
			return fmt.Errorf("postgres: %s: its place was taken", what)
		}
		return nil
	}
}

func (t *tx) Messages(id string, offset, limit int) ([]store.Message, int, error) {
	if err := t.flush(); err != nil {
		return nil, 0, err
	}
	if !key(id) {
		return nil, 0, nil
	}
	var lim *int
	if limit > 0 {
		lim = &limit
	}
	rows, _ := t.tx.Query(t.ctx, `SELECT `+messageColumns+` FROM messages WHERE ticket_id = $1
ORDER BY pos LIMIT $2 OFFSET $3`, id, lim, max(offset, 0))
	page, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (store.Message, error) { return scanMessage(r) })
	if err != nil {
		return nil, 0, fmt.Errorf("postgres: messages of %s: %w", id, err)
	}
	var total int
	if err := t.tx.QueryRow(t.ctx, `SELECT count(*) FROM messages WHERE ticket_id = $1`, id).Scan(&total); err != nil {
		return nil, 0, fmt.Errorf("postgres: messages of %s: %w", id, err)
	}
	return page, total, nil
}

// AddScore queues the score, as AddMessage a message.
func (t *tx) AddScore(id string, s store.Score) error {
	if !key(id) {
		return fmt.Errorf("score of ticket %s: %w", id, store.ErrNotFound)
	}
	t.queued.Queue(`INSERT INTO scores (ticket_id, pos, author, judgement, satisfaction, created)
VALUES ($1, (SELECT COALESCE(MAX(pos), 0) + 1 FROM scores WHERE ticket_id = $1), $2, $3, $4, $5)
ON CONFLICT (ticket_id, pos) DO NOTHING`, id, s.Author, s.Judgement, jsonText(s.Satisfaction), micros(s.Created),
	).Exec(appended("score of ticket " + id))
	return nil
}

func (t *tx) Scores(id string) ([]store.Score, error) {
	if err := t.flush(); err != nil {
		return nil, err
	}
	if !key(id) {
		return nil, nil
	}
	rows, _ := t.tx.Query(t.ctx, `SELECT `+scoreColumns+` FROM scores WHERE ticket_id = $1 ORDER BY pos`, id)
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (store.Score, error) { return scanScore(r) })
	if err != nil {
		return nil, fmt.Errorf("postgres: scores of %s: %w", id, err)
	}
	return out, nil
}

// PutAccessory queues the upload; ON CONFLICT DO NOTHING as in PutTicket.
func (t *tx) PutAccessory(a store.Accessory) error {
	data := a.Data
	if data == nil {
		data = []byte{} // bytea, not NULL
	}
	t.queued.Queue(`INSERT INTO accessories (id, owner, account, name, accessory_from, size, data, created)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (id) DO NOTHING`,
		a.ID, a.Owner, a.Account, a.Name, a.From, a.Size, data, micros(a.Created),
	).Exec(func(tag pgconn.CommandTag) error {
		if tag.RowsAffected() == 0 {
			return fmt.Errorf("accessory %s: %w", a.ID, store.ErrExists)
		}
		return nil
	})
	return nil
}

func (t *tx) Accessory(id string) (store.Accessory, error) {
	if err := t.flush(); err != nil {
		return store.Accessory{}, err
	}
	if !key(id) {
		return store.Accessory{}, store.ErrNotFound
	}
	a := store.Accessory{ID: id}
	var created int64
	err := t.tx.QueryRow(t.ctx, `SELECT owner, account, name, accessory_from, size, created
FROM accessories WHERE id = $1`, id).Scan(&a.Owner, &a.Account, &a.Name, &a.From, &a.Size, &created)
	if errors.Is(err, pgx.ErrNoRows) {
		return store.Accessory{}, store.ErrNotFound
	}
	if err != nil {
		return store.Accessory{}, fmt.Errorf("postgres: accessory %s: %w", id, err)
	}
	a.Created = fromMicros(created)
	return a, nil
}

func (t *tx) AccessoryBytes(owner string, since time.Time) (int64, error) {
	if err := t.flush(); err != nil {
		return 0, err
	}
	if !key(owner) {
		return 0, nil
	}
	var n int64
	err := t.tx.QueryRow(t.ctx, `SELECT COALESCE(SUM(size), 0)::bigint FROM accessories WHERE owner = $1 AND created >= $2`,
		owner, micros(since)).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("postgres: uploads of %s: %w", owner, err)
	}
	return n, nil
}

func (t *tx) Catalogue() (store.Catalogue, error) {
	if err := t.flush(); err != nil {
		return store.Catalogue{}, err
	}
	var body string
	err := t.tx.QueryRow(t.ctx, `SELECT body FROM catalogue WHERE id = 1`).Scan(&body)
	if errors.Is(err, pgx.ErrNoRows) {
		return store.Catalogue{}, nil
	}
	var c store.Catalogue
	if err == nil {
		err = json.Unmarshal([]byte(body), &c)
	}
	if err != nil {
		return store.Catalogue{}, fmt.Errorf("postgres: catalogue: %w", err)
	}
	return c, nil
}

func (t *tx) PutCatalogue(c store.Catalogue) error {
	body, err := json.Marshal(c)
	if err != nil {
		return fmt.Errorf("postgres: put catalogue: %w", err)
	}
	t.queued.Queue(`INSERT INTO catalogue (id, body) VALUES (1, $1) ON CONFLICT (id) DO UPDATE SET body = excluded.body`, string(body))
	return nil
}

// NextID increments the counter's row in this transaction. Two Updates
// doing so at once: the later waits for the earlier's row lock and, at
// SERIALIZABLE, fails with a serialization failure when the earlier
// commits, and is re-run (Store.run), reading the new value. So each value
// is committed once across every process sharing the database (an Update
// that fails takes its increment back, and its value is handed out again).
func (t *tx) NextID(counter string) (int64, error) {
	if err := t.flush(); err != nil {
		return 0, err
	}
	var v int64
	err := t.tx.QueryRow(t.ctx, `INSERT INTO counters (name, value) VALUES ($1, 1)
ON CONFLICT (name) DO UPDATE SET value = counters.value + 1 RETURNING value`, counter).Scan(&v)
	if err != nil {
		return 0, fmt.Errorf("postgres: next %s ID: %w", counter, err)
	}
	return v, nil
}

// DeleteAccount deletes the account's tickets (their relations, messages
// and scores go with them: ON DELETE CASCADE), counts, uploads and users.
func (t *tx) DeleteAccount(account string) error {
	if err := t.flush(); err != nil {
		return err
	}
	if !key(account) {
		return nil
	}
	b := &pgx.Batch{}
	for _, table := range []string{"tickets", "ticket_counts", "accessories", "users"} {
		b.Queue(`DELETE FROM `+table+` WHERE account = $1`, account)
	}
	if err := t.tx.SendBatch(t.ctx, b).Close(); err != nil {
		return fmt.Errorf("postgres: delete account %q: %w", account, err)
	}
	return nil
}

func (t *tx) GroupMembers(account, group string) ([]string, error) {
	if err := t.flush(); err != nil {
		return nil, err
	}
	rows, _ := t.tx.Query(t.ctx, `SELECT DISTINCT u.name FROM users u JOIN user_groups g ON g.user_name = u.name
WHERE u.account = $1 AND g.group_name = $2 ORDER BY u.name`, account, group)
	out, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("postgres: group members: %w", err)
	}
	return out, nil
}

func (t *tx) AccountMembers(account string) ([]string, error) {
	if err := t.flush(); err != nil {
		return nil, err
	}
	rows, _ := t.tx.Query(t.ctx, `SELECT name FROM users WHERE account = $1 ORDER BY name`, account)
	out, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("postgres: account members: %w", err)
	}
	return out, nil
}

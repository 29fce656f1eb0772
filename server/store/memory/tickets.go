package memory

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/osmstub/osmstub/server/store"
)

func (t *tx) PutTicket(tk store.Ticket) error {
	if err := t.write(); err != nil {
		return err
	}
	if _, ok := t.st.tickets[tk.ID]; ok {
		return fmt.Errorf("ticket %s: %w", tk.ID, store.ErrExists)
	}
	tk = tk.Clone()
	if len(tk.Messages) > 0 {
		set(t, t.st.messages, tk.ID, tk.Messages)
	}
	if len(tk.Scores) > 0 {
		set(t, t.st.scores, tk.ID, tk.Scores)
	}
	tk.Relations, tk.Messages, tk.Scores = nil, nil, nil
	set(t, t.st.tickets, tk.ID, tk)
	t.indexTicket(tk)
	return nil
}

func (t *tx) UpdateTicket(tk store.Ticket) error {
	if err := t.write(); err != nil {
		return err
	}
	old, ok := t.st.tickets[tk.ID]
	if !ok {
		return fmt.Errorf("ticket %s: %w", tk.ID, store.ErrNotFound)
	}
	updated := old
	updated.TicketDetail = tk.TicketDetail
	updated.AccessoryIDs = slices.Clone(tk.AccessoryIDs)
	moved := old.Account != updated.Account || !old.Created.Equal(updated.Created)
	if moved {
		t.unindexTicket(old)
	}
	set(t, t.st.tickets, tk.ID, updated)
	if moved {
		t.indexTicket(updated)
	}
	return nil
}

// indexTicket adds tk to the list indexes.
func (t *tx) indexTicket(tk store.Ticket) {
	k := keyOf(tk.Created, tk.ID)
	for _, x := range []*index{t.accountIndex(tk.Account), t.ownerIndex(tk.Account, tk.Owner)} {
		x.insert(k)
		t.undo = append(t.undo, func() { x.delete(k) })
	}
}

// unindexTicket removes tk from the list indexes.
func (t *tx) unindexTicket(tk store.Ticket) {
	k := keyOf(tk.Created, tk.ID)
	for _, x := range []*index{t.accountIndex(tk.Account), t.ownerIndex(tk.Account, tk.Owner)} {
		x.delete(k)
		t.undo = append(t.undo, func() { x.insert(k) })
	}
}

func (t *tx) accountIndex(account string) *index {
	x, ok := t.st.byAccount[account]
	if !ok {
		x = &index{}
		set(t, t.st.byAccount, account, x)
	}
	return x
}

func (t *tx) ownerIndex(account, owner string) *index {
	k := ownerKey{account, owner}
	x, ok := t.st.byOwner[k]
	if !ok {
		x = &index{}
		set(t, t.st.byOwner, k, x)
	}
	return x
}

// Tickets walks the indexes of q's account or owners within q's bounds:
// without a Statuses, AppKey or Keys filter, a page costs O(log n) plus its length.
func (t *tx) Tickets(q store.TicketQuery) ([]store.Ticket, int, error) {
	offset, limit := max(q.Offset, 0), q.Limit
	if limit <= 0 {
		limit = len(t.st.tickets)
	}
	keys := make([]string, 0, len(q.Keys))
	for _, k := range q.Keys {
		if k != "" {
			keys = append(keys, strings.ToLower(k))
		}
	}
	match := func(tk store.Ticket) bool {
		if len(q.Statuses) > 0 && !slices.Contains(q.Statuses, tk.Status) {
			return false
		}
		desc := strings.ToLower(tk.Description)
		if q.AppKey != "" && tk.ID != q.AppKey && !strings.Contains(desc, strings.ToLower(q.AppKey)) {
			return false
		}
		for _, k := range keys {
			if !strings.Contains(desc, k) {
				return false
			}
		}
		return true
	}
	filtered := len(q.Statuses) > 0 || len(keys) > 0 || q.AppKey != ""
	if q.ID != "" {
		tk, ok := t.st.tickets[q.ID]
		if !ok || tk.Account != q.Account || (len(q.Owners) > 0 && !slices.Contains(q.Owners, tk.Owner)) ||
			!inRange(tk.Created, q.From, q.To) || !match(tk) {
			return nil, 0, nil
		}
		if offset > 0 {
			return nil, 1, nil
		}
		return []store.Ticket{tk.Clone()}, 1, nil
	}

	var sources []*index
	if len(q.Owners) == 0 {
		if x := t.st.byAccount[q.Account]; x != nil {
			sources = append(sources, x)
		}
	} else {
		seen := map[string]bool{}
		for _, o := range q.Owners {
			if x := t.st.byOwner[ownerKey{q.Account, o}]; x != nil && !seen[o] {
				seen[o] = true
				sources = append(sources, x)
			}
		}
	}
	// The range [lo, hi) of each source within [From, To].
	type span struct {
		x      *index
		lo, hi int
	}
	spans := make([]span, 0, len(sources))
	total := 0
	for _, x := range sources {
		sp := span{x: x, hi: x.len()}
		if !q.To.IsZero() {
			sp.lo = x.count(func(k key) bool { return k.created.After(q.To) })
		}
		if !q.From.IsZero() {
			sp.hi = x.count(func(k key) bool { return !k.created.Before(q.From) })
		}
		if sp.hi > sp.lo {
			spans = append(spans, sp)
			total += sp.hi - sp.lo
		}
	}

	var page []store.Ticket
	if !filtered {
		page = make([]store.Ticket, 0, max(0, min(limit, total-offset)))
	}
	if !filtered && len(spans) == 1 {
		sp := spans[0]
		c := sp.x.from(sp.lo+offset, min(limit, sp.hi-sp.lo-offset))
		for k, ok := c.peek(); ok; k, ok = c.peek() {
			page = append(page, t.st.tickets[k.id].Clone())
			c.next()
		}
		return page, total, nil
	}
	// Several owners, or a filter: merge the spans in list order, skipping
	// to the page; with a filter, count every match for the total.
	cursors := make([]*cursor, len(spans))
	for i, sp := range spans {
		cursors[i] = sp.x.from(sp.lo, sp.hi-sp.lo)
	}
	if filtered {
		total = 0
	}
	for n := 0; ; {
		best := -1
		var bk key
		for i, c := range cursors {
			if k, ok := c.peek(); ok && (best < 0 || compare(k, bk) < 0) {
				best, bk = i, k
			}
		}
		if best < 0 {
			break
		}
		cursors[best].next()
		tk := t.st.tickets[bk.id]
		if filtered && !match(tk) {
			continue
		}
		if filtered {
			total++
		}
		if n >= offset && n < offset+limit {
			page = append(page, tk.Clone())
		}
		n++
		if !filtered && n >= offset+limit {
			break // the total is known without walking on
		}
	}
	return page, total, nil
}

func inRange(tm, from, to time.Time) bool {
	return (from.IsZero() || !tm.Before(from)) && (to.IsZero() || !tm.After(to))
}

func (t *tx) AddMessage(id string, m store.Message) error {
	if err := t.write(); err != nil {
		return err
	}
	if _, ok := t.st.tickets[id]; !ok {
		return fmt.Errorf("ticket %s: %w", id, store.ErrNotFound)
	}
	m.AccessoryIDs = slices.Clone(m.AccessoryIDs)
	set(t, t.st.messages, id, append(slices.Clip(t.st.messages[id]), m))
	return nil
}

func (t *tx) Messages(id string, offset, limit int) ([]store.Message, int, error) {
	all := t.st.messages[id]
	lo := min(max(offset, 0), len(all))
	hi := len(all)
	if limit > 0 {
		hi = min(hi, lo+limit)
	}
	page := slices.Clone(all[lo:hi])
	for i := range page {
		page[i].AccessoryIDs = slices.Clone(page[i].AccessoryIDs)
	}
	return page, len(all), nil
}

func (t *tx) AddScore(id string, s store.Score) error {
	if err := t.write(); err != nil {
		return err
	}
	if _, ok := t.st.tickets[id]; !ok {
		return fmt.Errorf("ticket %s: %w", id, store.ErrNotFound)
	}
	s.Satisfaction = slices.Clone(s.Satisfaction)
	set(t, t.st.scores, id, append(slices.Clip(t.st.scores[id]), s))
	return nil
}

func (t *tx) Scores(id string) ([]store.Score, error) {
	out := slices.Clone(t.st.scores[id])
	for i := range out {
		out[i].Satisfaction = slices.Clone(out[i].Satisfaction)
	}
	return out, nil
}

func (t *tx) PutAccessory(a store.Accessory) error {
	if err := t.write(); err != nil {
		return err
	}
	if _, ok := t.st.accessories[a.ID]; ok {
		return fmt.Errorf("accessory %s: %w", a.ID, store.ErrExists)
	}
	a.Data = slices.Clone(a.Data)
	set(t, t.st.accessories, a.ID, a)
	set(t, t.st.uploads, a.Owner, append(slices.Clip(t.st.uploads[a.Owner]), a.ID))
	return nil
}

func (t *tx) Accessory(id string) (store.Accessory, error) {
	a, ok := t.st.accessories[id]
	if !ok {
		return store.Accessory{}, fmt.Errorf("accessory %s: %w", id, store.ErrNotFound)
	}
	a.Data = nil // as Tx.Accessory says: no copy of the bytes per lookup
	return a, nil
}

func (t *tx) AccessoryBytes(owner string, since time.Time) (int64, error) {
	var n int64
	for _, id := range t.st.uploads[owner] {
		if a, ok := t.st.accessories[id]; ok && a.Owner == owner && !a.Created.Before(since) {
			n += a.Size
		}
	}
	return n, nil
}

func (t *tx) Catalogue() (store.Catalogue, error) { return t.st.catalogue.Clone(), nil }

func (t *tx) PutCatalogue(c store.Catalogue) error {
	if err := t.write(); err != nil {
		return err
	}
	old := t.st.catalogue
	t.st.catalogue = c.Clone()
	t.undo = append(t.undo, func() { t.st.catalogue = old })
	return nil
}

// NextID is not undone when its transaction fails, as a SQL sequence: an
// ID a failed request may have shown (in a log, an error) is never handed
// out again.
func (t *tx) NextID(counter string) (int64, error) {
	if err := t.write(); err != nil {
		return 0, err
	}
	t.counters[counter]++
	return t.counters[counter], nil
}

func (t *tx) DeleteAccount(account string) error {
	if err := t.write(); err != nil {
		return err
	}
	gone := map[string]bool{} // users of account
	for name, u := range t.st.users {
		if u.Account == account {
			gone[name] = true
		}
	}
	for name := range gone {
		u := t.st.users[name]
		t.unindex(u)
		delete(t.st.users, name)
		t.undo = append(t.undo, func() {
			t.st.users[name] = u
			t.index(u)
		})
	}

	// The account's tickets, and any a user of it owns elsewhere.
	doomed := map[string]bool{}
	for ok, x := range t.st.byOwner {
		if ok.account == account || gone[ok.owner] {
			c := x.from(0, x.len())
			for k, more := c.peek(); more; k, more = c.peek() {
				doomed[k.id] = true
				c.next()
			}
		}
	}
	for id := range doomed {
		tk := t.st.tickets[id]
		t.unindexTicket(tk)
		del(t, t.st.tickets, id)
		del(t, t.st.messages, id)
		del(t, t.st.scores, id)
		for _, p := range t.st.relations[id] {
			if !doomed[p] {
				set(t, t.st.relations, p, without(t.st.relations[p], id))
			}
		}
		del(t, t.st.relations, id)
	}
	// Drop the emptied indexes: test runs create and delete many accounts.
	for ok, x := range t.st.byOwner {
		if x.len() == 0 {
			del(t, t.st.byOwner, ok)
		}
	}
	for acc, x := range t.st.byAccount {
		if x.len() == 0 {
			del(t, t.st.byAccount, acc)
		}
	}

	for id, a := range t.st.accessories {
		if a.Account == account || gone[a.Owner] {
			del(t, t.st.accessories, id)
		}
	}
	for owner := range gone {
		del(t, t.st.uploads, owner)
	}
	// An upload of account by an owner of another account stays listed
	// under that owner; AccessoryBytes skips what is no longer stored.
	return nil
}

func (t *tx) Snapshot() (store.Dataset, error) {
	var d store.Dataset
	for _, u := range t.st.users {
		d.Users = append(d.Users, u.Clone())
	}
	for id, tk := range t.st.tickets {
		tk.Relations = t.st.relations[id]
		tk.Messages = t.st.messages[id]
		tk.Scores = t.st.scores[id]
		d.Tickets = append(d.Tickets, tk.Clone())
	}
	slices.SortFunc(d.Users, func(a, b store.User) int { return strings.Compare(a.Name, b.Name) })
	slices.SortFunc(d.Tickets, func(a, b store.Ticket) int { return strings.Compare(a.ID, b.ID) })
	c := t.st.catalogue
	if len(c.ProductCategories) > 0 || len(c.ProblemTypes) > 0 || len(c.Satisfaction) > 0 {
		c = c.Clone()
		d.Catalogue = &c
	}
	return d, nil
}

func (t *tx) GroupMembers(account, group string) ([]string, error) {
	var out []string
	for _, u := range t.st.users {
		if u.Account == account && u.InGroup(group) {
			out = append(out, u.Name)
		}
	}
	slices.Sort(out)
	return out, nil
}

func (t *tx) AccountMembers(account string) ([]string, error) {
	var out []string
	for _, u := range t.st.users {
		if u.Account == account {
			out = append(out, u.Name)
		}
	}
	slices.Sort(out)
	return out, nil
}

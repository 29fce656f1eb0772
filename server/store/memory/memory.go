// Package memory is the in-memory Store: every transaction runs under one
// mutex, and an undo log rolls back a transaction whose function fails, so
// a refused request leaves no trace.
package memory

import (
	"context"
	"fmt"
	"slices"
	"sync"

	"github.com/osmstub/osmstub/server/store"
)

// Store is the in-memory backend. The zero value is not usable; call New.
type Store struct {
	mu    sync.RWMutex
	state state
	// counters are NextID's. They live outside state so that Reset keeps
	// them: an ID handed out before a reset (a test still holding a ticket
	// ID, a message in a log) then never names a different ticket after
	// it, within one process.
	counters map[string]int64
}

type state struct {
	users       map[string]store.User
	tokens      map[string]string       // token -> user name
	keys        map[string]string       // AK -> user name
	tickets     map[string]store.Ticket // without Relations, Messages, Scores
	relations   map[string][]string
	messages    map[string][]store.Message
	scores      map[string][]store.Score
	accessories map[string]store.Accessory
	uploads     map[string][]string // owner -> accessory IDs, in upload order
	catalogue   store.Catalogue
	// The tickets of each account, and of each owner within an account, in
	// list order, so that a page of Tickets neither sorts nor scans.
	byAccount map[string]*index
	byOwner   map[ownerKey]*index
}

type ownerKey struct{ account, owner string }

var _ store.Store = (*Store)(nil)

// New returns an empty store.
func New() *Store {
	s := &Store{counters: map[string]int64{}}
	s.state.clear()
	return s
}

func (st *state) clear() {
	*st = state{
		users:       map[string]store.User{},
		tokens:      map[string]string{},
		keys:        map[string]string{},
		tickets:     map[string]store.Ticket{},
		relations:   map[string][]string{},
		messages:    map[string][]store.Message{},
		scores:      map[string][]store.Score{},
		accessories: map[string]store.Accessory{},
		uploads:     map[string][]string{},
		byAccount:   map[string]*index{},
		byOwner:     map[ownerKey]*index{},
	}
}

// Update runs fn under the write lock and undoes its writes if it fails or
// panics (the server recovers panics and goes on serving).
func (s *Store) Update(ctx context.Context, fn func(store.Tx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	tx := &tx{st: &s.state, counters: s.counters, writable: true}
	committed := false
	defer func() {
		if !committed {
			tx.rollback()
		}
		tx.writable = false // a tx kept past Update must not write unlocked
	}()
	if err := fn(tx); err != nil {
		return err
	}
	committed = true
	return nil
}

// View runs fn under the read lock.
func (s *Store) View(ctx context.Context, fn func(store.Tx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	return fn(&tx{st: &s.state})
}

// Close does nothing; the state goes with the process.
func (s *Store) Close() error { return nil }

type tx struct {
	st       *state
	counters map[string]int64
	writable bool
	undo     []func() // each reverts one write
}

func (t *tx) rollback() {
	for _, undo := range slices.Backward(t.undo) {
		undo()
	}
}

func (t *tx) write() error {
	if !t.writable {
		return fmt.Errorf("memory: write in a read-only transaction")
	}
	return nil
}

// set sets m[k] to v, logging how to put back what was there.
func set[K comparable, V any](t *tx, m map[K]V, k K, v V) {
	old, had := m[k]
	m[k] = v
	t.undo = append(t.undo, func() {
		if had {
			m[k] = old
		} else {
			delete(m, k)
		}
	})
}

// del deletes m[k], logging how to put it back.
func del[K comparable, V any](t *tx, m map[K]V, k K) {
	old, had := m[k]
	if !had {
		return
	}
	delete(m, k)
	t.undo = append(t.undo, func() { m[k] = old })
}

func (t *tx) Ticket(id string) (store.Ticket, error) {
	tk, ok := t.st.tickets[id]
	if !ok {
		return store.Ticket{}, store.ErrNotFound
	}
	return tk.Clone(), nil
}

func (t *tx) Relations(id string) ([]string, error) {
	return slices.Clone(t.st.relations[id]), nil
}

func (t *tx) AddPair(a, b string) error {
	if err := t.write(); err != nil {
		return err
	}
	for _, p := range [][2]string{{a, b}, {b, a}} {
		from, to := p[0], p[1]
		old := t.st.relations[from]
		t.st.relations[from] = append(slices.Clip(old), to)
		t.undo = append(t.undo, func() { t.st.relations[from] = old })
	}
	return nil
}

func (t *tx) RemovePair(a, b string) error {
	if err := t.write(); err != nil {
		return err
	}
	for _, p := range [][2]string{{a, b}, {b, a}} {
		from, to := p[0], p[1]
		old := t.st.relations[from]
		t.st.relations[from] = without(old, to)
		t.undo = append(t.undo, func() { t.st.relations[from] = old })
	}
	return nil
}

// without returns ids less every id equal to x, as a new list: ids is
// left as it was, for the undo log. A list left empty is nil, as a
// ticket's that never had associations.
func without(ids []string, x string) []string {
	out := slices.DeleteFunc(slices.Clone(ids), func(id string) bool { return id == x })
	if len(out) == 0 {
		return nil
	}
	return out
}

func (t *tx) User(name string) (store.User, error) {
	u, ok := t.st.users[name]
	if !ok {
		return store.User{}, store.ErrNotFound
	}
	return u.Clone(), nil // the store never shares memory with its callers
}

func (t *tx) UserByToken(token string) (store.User, error) {
	name, ok := t.st.tokens[token]
	if !ok {
		return store.User{}, store.ErrNotFound
	}
	return t.User(name)
}

func (t *tx) UserByAccessKey(ak string) (store.User, store.AccessKey, error) {
	name, ok := t.st.keys[ak]
	if !ok {
		return store.User{}, store.AccessKey{}, store.ErrNotFound
	}
	u, err := t.User(name)
	if k, ok := u.Key(ak); ok {
		return u, k, err
	}
	return store.User{}, store.AccessKey{}, store.ErrNotFound
}

func (t *tx) PutUser(u store.User) error {
	if err := t.write(); err != nil {
		return err
	}
	for _, tok := range u.Tokens {
		if owner, ok := t.st.tokens[tok]; ok && owner != u.Name {
			return fmt.Errorf("token of user %s: %w", u.Name, store.ErrExists)
		}
	}
	for _, k := range u.Keys {
		if owner, ok := t.st.keys[k.AK]; ok && owner != u.Name {
			return fmt.Errorf("access key %s: %w", k.AK, store.ErrExists)
		}
	}
	u = u.Clone()
	old, existed := t.st.users[u.Name]
	t.unindex(old)
	t.st.users[u.Name] = u
	t.index(u)
	t.undo = append(t.undo, func() {
		t.unindex(u)
		delete(t.st.users, u.Name)
		if existed {
			t.st.users[old.Name] = old
			t.index(old)
		}
	})
	return nil
}

func (t *tx) index(u store.User) {
	for _, tok := range u.Tokens {
		t.st.tokens[tok] = u.Name
	}
	for _, k := range u.Keys {
		t.st.keys[k.AK] = u.Name
	}
}

func (t *tx) unindex(u store.User) {
	for _, tok := range u.Tokens {
		delete(t.st.tokens, tok)
	}
	for _, k := range u.Keys {
		delete(t.st.keys, k.AK)
	}
}

func (t *tx) Empty() (bool, error) {
	return len(t.st.users) == 0 && len(t.st.tickets) == 0, nil
}

func (t *tx) Reset() error {
	if err := t.write(); err != nil {
		return err
	}
	old := *t.st
	t.st.clear()
	t.undo = append(t.undo, func() { *t.st = old })
	return nil
}

package storetest

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"testing"

	"github.com/osmstub/osmstub/server/store"
)

// creds is the world of the credential tests: alice has two tokens, a
// permanent and a temporary access key; bob one of each.
func creds() store.Dataset {
	return store.Dataset{
		Users: []store.User{
			{Name: "alice", Groups: []string{"g1", "g2"}, Tokens: []string{"tok-a1", "tok-a2"},
				Keys: []store.AccessKey{
					{AK: "AK-alice", SK: "SK-alice"},
					{AK: "AK-temp", SK: "SK-temp", SecurityToken: "sec-temp"},
				}, DomainID: "dom-alice"},
			{Name: "bob", Groups: []string{"g1"}, Tokens: []string{"tok-bob"},
				Keys: []store.AccessKey{{AK: "AK-bob", SK: "SK-bob"}}},
		},
		Tickets: []store.Ticket{
			{ID: "A1", Owner: "alice", Description: "about A1", Relations: []string{"A2"}},
			{ID: "A2", Owner: "alice", Description: "about A2"},
			{ID: "A3", Owner: "alice", Description: "about A3"},
			{ID: "B1", Owner: "bob", Description: "about B1"},
		},
	}
}

// lookup is one read of a Tx: by is "token", "key", "user" or "ticket";
// want is the user's name (for a ticket, its owner), or "" for ErrNotFound.
type lookup struct{ by, arg, want string }

func tok(cred, user string) lookup { return lookup{"token", cred, user} }
func key(ak, user string) lookup   { return lookup{"key", ak, user} }

// held is how the credentials of creds resolve, none of them yet taken by
// zed or given to a new alice.
var held = []lookup{tok("tok-a1", "alice"), tok("tok-a2", "alice"), tok("tok-bob", "bob"), tok("tok-zed", ""), tok("tok-new", ""),
	key("AK-alice", "alice"), key("AK-temp", "alice"), key("AK-bob", "bob"), key("AK-zed", ""), key("AK-new", "")}

// checkFound does each lookup in one View.
func checkFound(t *testing.T, st store.Store, want ...lookup) {
	t.Helper()
	view(t, st, func(tx store.Tx) { found(t, tx, want...) })
}

func found(t *testing.T, tx store.Tx, want ...lookup) {
	t.Helper()
	for _, w := range want {
		var got string
		var err error
		switch w.by {
		case "token":
			u, e := tx.UserByToken(w.arg)
			got, err = u.Name, e
		case "key":
			u, k, e := tx.UserByAccessKey(w.arg)
			got, err = u.Name, e
			if e == nil && k.AK != w.arg {
				t.Errorf("UserByAccessKey(%s) returned key %+v", w.arg, k)
			}
		case "user":
			u, e := tx.User(w.arg)
			got, err = u.Name, e
		case "ticket":
			tk, e := tx.Ticket(w.arg)
			got, err = tk.Owner, e
		}
		switch {
		case w.want == "" && !errors.Is(err, store.ErrNotFound):
			t.Errorf("%s %q = %q, %v; want ErrNotFound", w.by, w.arg, got, err)
		case w.want != "" && (err != nil || got != w.want):
			t.Errorf("%s %q = %q, %v; want %s", w.by, w.arg, got, err, w.want)
		}
	}
}

func view(t *testing.T, st store.Store, fn func(tx store.Tx)) {
	t.Helper()
	if err := st.View(t.Context(), func(tx store.Tx) error { fn(tx); return nil }); err != nil {
		t.Fatalf("View: %v", err)
	}
}

// writeCase is a series of Updates on the creds world: each but the last
// must succeed, the last must fail with err (nil: succeed too). Then the
// state must be the one loaded, changed by edit, and the lookups hold.
type writeCase struct {
	name    string
	writes  []func(tx store.Tx) error
	err     error
	edit    func(d *store.Dataset)
	lookups []lookup
}

func (s suite) runWrites(t *testing.T, cases []writeCase) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			st := s.with(t, creds())
			want := snapshot(t, st)
			for i, w := range c.writes {
				wantErr := error(nil)
				if i == len(c.writes)-1 {
					wantErr = c.err
				}
				if err := st.Update(t.Context(), w); !errors.Is(err, wantErr) {
					t.Errorf("Update #%d = %v, want %v", i, err, wantErr)
				}
			}
			if c.edit != nil {
				c.edit(&want)
			}
			checkState(t, want, snapshot(t, st))
			checkFound(t, st, c.lookups...)
		})
	}
}

func updates(fns ...func(tx store.Tx) error) []func(tx store.Tx) error { return fns }

func putUser(u store.User) func(tx store.Tx) error {
	return func(tx store.Tx) error { return tx.PutUser(u) }
}

func addPair(a, b string) func(tx store.Tx) error {
	return func(tx store.Tx) error { return tx.AddPair(a, b) }
}

func putTicket(tk store.Ticket) func(tx store.Tx) error {
	return func(tx store.Tx) error { return tx.PutTicket(tk) }
}

func (s suite) credentials(t *testing.T) {
	t.Run("Resolve", func(t *testing.T) {
		st := s.with(t, creds())
		alice := creds().Users[0]
		view(t, st, func(tx store.Tx) {
			for _, tok := range alice.Tokens {
				u, err := tx.UserByToken(tok)
				if err != nil || !reflect.DeepEqual(cloneUser(u), cloneUser(alice)) {
					t.Errorf("UserByToken(%s) = %+v, %v; want %+v", tok, u, err, alice)
				}
			}
			for _, key := range alice.Keys {
				u, k, err := tx.UserByAccessKey(key.AK)
				if err != nil || !reflect.DeepEqual(cloneUser(u), cloneUser(alice)) || k != key {
					t.Errorf("UserByAccessKey(%s) = %+v, %+v, %v; want %+v, %+v", key.AK, u, k, err, alice, key)
				}
			}
			if u, err := tx.User("bob"); err != nil || !reflect.DeepEqual(cloneUser(u), cloneUser(creds().Users[1])) {
				t.Errorf("User(bob) = %+v, %v", u, err)
			}
		})
		checkFound(t, st, tok("tok-bob", "bob"), key("AK-bob", "bob"))
	})

	t.Run("UnknownIsNotFound", func(t *testing.T) {
		st := s.with(t, creds())
		checkFound(t, st, tok("nope", ""), tok("", ""), tok("SK-alice", ""), tok("AK-alice", ""),
			key("nope", ""), key("", ""), key("tok-a1", ""), lookup{"user", "nobody", ""}, lookup{"ticket", "NOPE", ""})
	})

	newAlice := store.User{Name: "alice", Groups: []string{"g3"}, Tokens: []string{"tok-a2", "tok-new"},
		Keys: []store.AccessKey{{AK: "AK-new", SK: "SK-new"}}}
	replaceAlice := func(d *store.Dataset) { d.Users[0] = newAlice } // tickets and their associations stay
	zed := store.User{Name: "zed", Tokens: []string{"tok-a1"}, Keys: []store.AccessKey{{AK: "AK-alice", SK: "x"}}}
	x := store.Ticket{ID: "X", Owner: "bob", Description: "new"}
	addX := func(d *store.Dataset) { d.Tickets = append(d.Tickets, x) }
	t.Run("Put", func(t *testing.T) {
		s.runWrites(t, []writeCase{
			{name: "user replaces and reindexes", writes: updates(putUser(newAlice)), edit: replaceAlice,
				lookups: []lookup{tok("tok-a1", ""), tok("tok-a2", "alice"), tok("tok-new", "alice"), tok("tok-bob", "bob"),
					key("AK-alice", ""), key("AK-temp", ""), key("AK-new", "alice"), key("AK-bob", "bob")}},
			{name: "user with freed credentials", writes: updates(putUser(newAlice), putUser(zed)),
				edit:    func(d *store.Dataset) { replaceAlice(d); d.Users = append(d.Users, zed) },
				lookups: []lookup{tok("tok-a1", "zed"), key("AK-alice", "zed")}},

			// A credential of another user: refused, nothing changes.
			{name: "replacing user, token of another", err: store.ErrExists, lookups: held,
				writes: updates(putUser(store.User{Name: "alice", Tokens: []string{"tok-a1", "tok-bob"}}))},
			{name: "replacing user, access key of another", err: store.ErrExists, lookups: held,
				writes: updates(putUser(store.User{Name: "alice", Keys: []store.AccessKey{{AK: "AK-bob", SK: "x"}}}))},
			{name: "new user, token of another", err: store.ErrExists, lookups: held,
				writes: updates(putUser(store.User{Name: "zed", Tokens: []string{"tok-zed", "tok-a2"}}))},
			{name: "new user, access key of another", err: store.ErrExists, lookups: held,
				writes: updates(putUser(store.User{Name: "zed", Keys: []store.AccessKey{{AK: "AK-zed", SK: "x"}, {AK: "AK-temp", SK: "x"}}}))},

			{name: "ticket ignores relations", edit: addX,
				writes: updates(putTicket(store.Ticket{ID: "X", Owner: "bob", Description: "new", Relations: []string{"A3"}}))},
			{name: "ticket put before", err: store.ErrExists, edit: addX,
				writes: updates(putTicket(x), putTicket(store.Ticket{ID: "X", Owner: "alice", Description: "again"}))},
			{name: "ticket loaded", err: store.ErrExists,
				writes: updates(putTicket(store.Ticket{ID: "A1", Owner: "alice", Description: "loaded, again"}))},
			{name: "ticket twice in one transaction", err: store.ErrExists, writes: updates(func(tx store.Tx) error {
				if err := tx.PutTicket(store.Ticket{ID: "Y", Owner: "bob", Description: "y"}); err != nil {
					return fmt.Errorf("first PutTicket(Y): %v", err) // not %w: ErrExists here is a failure
				}
				return tx.PutTicket(store.Ticket{ID: "Y", Owner: "bob", Description: "y again"})
			})},
		})
	})

	t.Run("TicketHasNoRelations", func(t *testing.T) {
		st := s.with(t, creds())
		view(t, st, func(tx store.Tx) {
			tk, err := tx.Ticket("A1")
			want := store.Ticket{ID: "A1", Owner: "alice", Description: "about A1"}
			if err != nil || tk.ID != want.ID || tk.Owner != want.Owner || tk.Description != want.Description || len(tk.Relations) != 0 {
				t.Errorf("Ticket(A1) = %+v, %v; want %+v", tk, err, want)
			}
			relsIn(t, tx, map[string][]string{"A1": {"A2"}})
		})
	})

	t.Run("Empty", func(t *testing.T) {
		st := s.fresh(t)
		checkEmpty(t, st, true)
		if err := st.Update(t.Context(), putUser(store.User{Name: "zed"})); err != nil {
			t.Fatal(err)
		}
		checkEmpty(t, st, false)
		if err := st.Update(t.Context(), func(tx store.Tx) error { return tx.Reset() }); err != nil {
			t.Fatal(err)
		}
		checkEmpty(t, st, true)
		mustLoad(t, st, creds(), false)
		checkEmpty(t, st, false)
	})

	t.Run("StoreOwnsItsData", func(t *testing.T) {
		// What goes into a store and what comes out are copies: changing
		// them afterwards changes nothing inside.
		d := creds()
		st := s.with(t, d)
		before := snapshot(t, st)
		d.Users[0].Groups[0] = "changed"
		d.Users[0].Tokens[0] = "changed"
		d.Users[0].Keys[0].SK = "changed"
		d.Tickets[0].Relations[0] = "changed"
		unchanged(t, st, before)

		view(t, st, func(tx store.Tx) {
			u, err := tx.User("alice")
			if err != nil {
				t.Fatal(err)
			}
			u.Groups[0], u.Tokens[0], u.Keys[0].SK = "changed", "changed", "changed"
			snap, err := tx.Snapshot()
			if err != nil {
				t.Fatal(err)
			}
			snap.Users[0].Groups[1], snap.Users[0].Tokens[1], snap.Users[0].Keys[1].SK = "changed", "changed", "changed"
			snap.Tickets[0].Relations[0] = "changed"
			rels, err := tx.Relations("A2")
			if err != nil {
				t.Fatal(err)
			}
			rels[0] = "changed"
		})
		unchanged(t, st, before)
		checkFound(t, st, tok("tok-a1", "alice"), tok("changed", ""))
	})
}

func checkEmpty(t *testing.T, st store.Store, want bool) {
	t.Helper()
	view(t, st, func(tx store.Tx) {
		if got, err := tx.Empty(); err != nil || got != want {
			t.Errorf("Empty() = %v, %v; want %v", got, err, want)
		}
	})
}

func (s suite) rollback(t *testing.T) {
	zed := store.User{Name: "zed", Tokens: []string{"tok-zed"}, Keys: []store.AccessKey{{AK: "AK-zed", SK: "SK-zed"}}}
	newAlice := store.User{Name: "alice", Tokens: []string{"tok-new"}, Keys: []store.AccessKey{{AK: "AK-new", SK: "x"}}}
	x := store.Ticket{ID: "X", Owner: "zed", Description: "x"}
	// Each case runs its writes in one Update that then fails.
	s.runWrites(t, []writeCase{
		failing("AddPair", addPair("A1", "A3")),
		failing("RemovePair", func(tx store.Tx) error { return tx.RemovePair("A1", "A2") }),
		failing("PutUser new", putUser(zed)),
		failing("PutUser replacing", putUser(newAlice)),
		failing("PutTicket", func(tx store.Tx) error {
			return errors.Join(tx.PutUser(zed), tx.PutTicket(x), tx.AddPair("X", "A3"))
		}),
		failing("Reset", func(tx store.Tx) error { return tx.Reset() }),
		failing("Reset then writes", func(tx store.Tx) error {
			return errors.Join(tx.Reset(), tx.PutUser(zed), tx.PutUser(newAlice), tx.PutTicket(x),
				tx.PutTicket(store.Ticket{ID: "A1", Owner: "zed", Description: "other A1"}), tx.AddPair("X", "A1"))
		}),
		failing("writes then Reset", func(tx store.Tx) error {
			return errors.Join(tx.AddPair("A1", "A3"), tx.RemovePair("A1", "A2"), tx.PutUser(newAlice),
				tx.PutUser(zed), tx.PutTicket(x), tx.Reset())
		}),
		failing("everything", func(tx store.Tx) error {
			return errors.Join(tx.RemovePair("A1", "A2"), tx.AddPair("A2", "A3"), tx.AddPair("A1", "B1"),
				tx.PutUser(newAlice), tx.PutUser(zed), tx.PutTicket(x), tx.AddPair("X", "A1"),
				tx.Reset(), tx.PutUser(zed), tx.PutTicket(x))
		}),
	})

	t.Run("WritesVisibleInsideTransaction", func(t *testing.T) {
		st := s.with(t, creds())
		before := snapshot(t, st)
		err := st.Update(t.Context(), func(tx store.Tx) error {
			must(t, tx.AddPair("A1", "A3"))
			relsIn(t, tx, map[string][]string{"A1": {"A2", "A3"}, "A3": {"A1"}})
			must(t, tx.RemovePair("A2", "A1"))
			relsIn(t, tx, map[string][]string{"A1": {"A3"}})
			must(t, tx.PutUser(zed))
			found(t, tx, tok("tok-zed", "zed"))
			must(t, tx.PutTicket(x))
			found(t, tx, lookup{"ticket", "X", "zed"})
			must(t, tx.Reset())
			if empty, err := tx.Empty(); err != nil || !empty {
				t.Errorf("Empty() after Reset = %v, %v", empty, err)
			}
			found(t, tx, tok("tok-a1", ""))
			return errBoom
		})
		if !errors.Is(err, errBoom) {
			t.Errorf("Update = %v, want the error fn returned", err)
		}
		checkRolledBack(t, st, before)
	})

	t.Run("RefusedRuleLeavesNoTrace", func(t *testing.T) {
		// A refusal found after some checks (the last related ticket is at
		// its limit) must not keep anything.
		st := s.with(t, base().rel("A5", "A6", "A7", "A8").dataset())
		before := snapshot(t, st)
		err := store.Associate(t.Context(), st, "alice", "A1", ids("A2", "A3", "A5"), "")
		checkRuleErr(t, err, store.ErrLimit, "A5")
		unchanged(t, st, before)
	})

	t.Run("Panic", func(t *testing.T) {
		// A panicking transaction (the server recovers panics and goes on
		// serving) must keep nothing, and must not leave the store locked.
		st := s.with(t, creds())
		before := snapshot(t, st)
		func() {
			defer func() {
				if r := recover(); r != errBoom {
					t.Errorf("recovered %v, want the panic of fn", r)
				}
			}()
			_ = st.Update(t.Context(), func(tx store.Tx) error {
				must(t, tx.AddPair("A1", "A3"))
				must(t, tx.PutUser(zed))
				panic(errBoom)
			})
		}()
		checkRolledBack(t, st, before)
		// Still usable.
		checkRuleErr(t, store.Associate(t.Context(), st, "alice", "A1", ids("A3"), ""), nil, "")
	})

	t.Run("ViewIsReadOnly", func(t *testing.T) {
		st := s.with(t, creds())
		before := snapshot(t, st)
		writes := map[string]func(tx store.Tx) error{
			"AddPair":    addPair("A1", "A3"),
			"RemovePair": func(tx store.Tx) error { return tx.RemovePair("A1", "A2") },
			"PutUser":    putUser(zed),
			"PutTicket":  putTicket(store.Ticket{ID: "Y", Owner: "bob", Description: "y"}),
			"Reset":      func(tx store.Tx) error { return tx.Reset() },
		}
		for name, w := range writes {
			// The write, or the View, must fail; either way nothing changes.
			if err := st.View(t.Context(), w); err == nil {
				t.Errorf("%s in View succeeded", name)
			}
			unchanged(t, st, before)
		}
	})

	t.Run("CanceledContext", func(t *testing.T) {
		st := s.with(t, creds())
		before := snapshot(t, st)
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		for name, do := range map[string]action{
			"Update":     func(ctx context.Context, st store.Store) error { return st.Update(ctx, addPair("A1", "A3")) },
			"Associate":  assoc("A1", "A3"),
			"Dissociate": dissoc("A1", "A2"),
		} {
			if err := do(ctx, st); err == nil {
				t.Errorf("%s with a canceled context succeeded", name)
			}
		}
		unchanged(t, st, before)
	})
}

// checkRolledBack checks the state and that credentials resolve as before.
func checkRolledBack(t *testing.T, st store.Store, before store.Dataset) {
	t.Helper()
	unchanged(t, st, before)
	checkFound(t, st, held...)
}

// relsIn fails the test unless tx.Relations gives want for each ticket.
func relsIn(t *testing.T, tx store.Tx, want map[string][]string) {
	t.Helper()
	for id, w := range want {
		if got, err := tx.Relations(id); err != nil || !slices.Equal(got, w) {
			t.Errorf("Relations(%s) = %q, %v; want %q", id, got, err, w)
		}
	}
}

// failing is a rollback case: writes in one Update that then fails.
func failing(name string, writes func(tx store.Tx) error) writeCase {
	return writeCase{name: name, err: errBoom, lookups: held, writes: updates(func(tx store.Tx) error {
		if err := writes(tx); err != nil {
			return fmt.Errorf("writes: %w", err)
		}
		return errBoom
	})}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Errorf("unexpected error: %v", err)
	}
}

func (s suite) snapshot(t *testing.T) {
	// Users and tickets defined out of order; IDs that sort differently as
	// strings and as numbers.
	d := store.Dataset{
		Users: []store.User{
			{Name: "zed", Groups: []string{"g1"}, Tokens: []string{"tok-zed"}},
			{Name: "alice", Groups: []string{"g2", "g1"}, Tokens: []string{"tok-b", "tok-a"},
				Keys:     []store.AccessKey{{AK: "AK-2", SK: "s2", SecurityToken: "sec"}, {AK: "AK-1", SK: "s1"}},
				DomainID: "dom"},
			{Name: "mike"},
		},
		Tickets: []store.Ticket{
			{ID: "T3", Owner: "zed", Description: "three", Relations: []string{"T1"}},
			{ID: "T1", Owner: "alice", Description: "one"},
			{ID: "T2", Owner: "alice", Description: "two", Relations: []string{"T3", "T10"}},
			{ID: "T10", Owner: "mike", Description: "ten"},
		},
	}
	st := s.with(t, d)
	want := store.Dataset{
		Users: []store.User{d.Users[1], d.Users[2], d.Users[0]},
		Tickets: []store.Ticket{
			{ID: "T1", Owner: "alice", Description: "one", Relations: []string{"T3"}},
			{ID: "T10", Owner: "mike", Description: "ten", Relations: []string{"T2"}},
			{ID: "T2", Owner: "alice", Description: "two", Relations: []string{"T3", "T10"}},
			{ID: "T3", Owner: "zed", Description: "three", Relations: []string{"T1", "T2"}},
		},
	}
	checkState(t, want, snapshot(t, st))

	// After the rules change it, relations keep association order.
	ctx := t.Context()
	checkRuleErr(t, store.Dissociate(ctx, st, "zed", "T3", "T1", "g1"), nil, "")
	checkRuleErr(t, store.Associate(ctx, st, "alice", "T1", ids("T2"), ""), nil, "")
	want.Tickets[0].Relations = []string{"T2"}
	want.Tickets[2].Relations = []string{"T3", "T10", "T1"}
	want.Tickets[3].Relations = []string{"T2"}
	checkState(t, want, snapshot(t, st))
}

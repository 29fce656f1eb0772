package storetest

import (
	"context"
	"errors"
	"reflect"
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

// lookup is what one credential should resolve to: a user name, or ""
// for ErrNotFound.
type lookup struct {
	cred, user string
}

// checkTokens and checkKeys resolve each credential in one View.
func checkTokens(t *testing.T, st store.Store, want ...lookup) {
	t.Helper()
	view(t, st, func(tx store.Tx) {
		for _, w := range want {
			u, err := tx.UserByToken(w.cred)
			checkLookup(t, "UserByToken", w, u.Name, err)
		}
	})
}

func checkKeys(t *testing.T, st store.Store, want ...lookup) {
	t.Helper()
	view(t, st, func(tx store.Tx) {
		for _, w := range want {
			u, k, err := tx.UserByAccessKey(w.cred)
			checkLookup(t, "UserByAccessKey", w, u.Name, err)
			if err == nil && k.AK != w.cred {
				t.Errorf("UserByAccessKey(%s) returned key %+v", w.cred, k)
			}
		}
	})
}

func checkLookup(t *testing.T, what string, w lookup, got string, err error) {
	t.Helper()
	switch {
	case w.user == "" && !errors.Is(err, store.ErrNotFound):
		t.Errorf("%s(%q) = %q, %v; want ErrNotFound", what, w.cred, got, err)
	case w.user != "" && (err != nil || got != w.user):
		t.Errorf("%s(%q) = %q, %v; want %s", what, w.cred, got, err, w.user)
	}
}

func view(t *testing.T, st store.Store, fn func(tx store.Tx)) {
	t.Helper()
	if err := st.View(t.Context(), func(tx store.Tx) error { fn(tx); return nil }); err != nil {
		t.Fatalf("View: %v", err)
	}
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
		checkTokens(t, st, lookup{"tok-bob", "bob"})
		checkKeys(t, st, lookup{"AK-bob", "bob"})
	})

	t.Run("UnknownIsNotFound", func(t *testing.T) {
		st := s.with(t, creds())
		checkTokens(t, st, lookup{"nope", ""}, lookup{"", ""}, lookup{"SK-alice", ""}, lookup{"AK-alice", ""})
		checkKeys(t, st, lookup{"nope", ""}, lookup{"", ""}, lookup{"tok-a1", ""})
		view(t, st, func(tx store.Tx) {
			if _, err := tx.User("nobody"); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("User(nobody): %v, want ErrNotFound", err)
			}
			if _, err := tx.Ticket("NOPE"); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("Ticket(NOPE): %v, want ErrNotFound", err)
			}
		})
	})

	t.Run("PutUserReplacesAndReindexes", func(t *testing.T) {
		st := s.with(t, creds())
		before := snapshot(t, st)
		alice := store.User{Name: "alice", Groups: []string{"g3"}, Tokens: []string{"tok-a2", "tok-new"},
			Keys: []store.AccessKey{{AK: "AK-new", SK: "SK-new"}}}
		if err := st.Update(t.Context(), func(tx store.Tx) error { return tx.PutUser(alice) }); err != nil {
			t.Fatalf("PutUser: %v", err)
		}
		checkTokens(t, st, lookup{"tok-a1", ""}, lookup{"tok-a2", "alice"}, lookup{"tok-new", "alice"}, lookup{"tok-bob", "bob"})
		checkKeys(t, st, lookup{"AK-alice", ""}, lookup{"AK-temp", ""}, lookup{"AK-new", "alice"}, lookup{"AK-bob", "bob"})
		want := clone(before)
		want.Users[0] = alice
		checkState(t, want, snapshot(t, st)) // tickets and their associations stay

		// The freed credentials may now go to someone else.
		zed := store.User{Name: "zed", Tokens: []string{"tok-a1"}, Keys: []store.AccessKey{{AK: "AK-alice", SK: "x"}}}
		if err := st.Update(t.Context(), func(tx store.Tx) error { return tx.PutUser(zed) }); err != nil {
			t.Fatalf("PutUser with freed credentials: %v", err)
		}
		checkTokens(t, st, lookup{"tok-a1", "zed"})
		checkKeys(t, st, lookup{"AK-alice", "zed"})
	})

	t.Run("PutUserWithCredentialOfAnother", func(t *testing.T) {
		cases := []struct {
			name string
			user store.User
		}{
			{"replacing, token of another", store.User{Name: "alice", Tokens: []string{"tok-a1", "tok-bob"}}},
			{"replacing, access key of another", store.User{Name: "alice", Keys: []store.AccessKey{{AK: "AK-bob", SK: "x"}}}},
			{"new, token of another", store.User{Name: "zed", Tokens: []string{"tok-zed", "tok-a2"}}},
			{"new, access key of another", store.User{Name: "zed", Keys: []store.AccessKey{{AK: "AK-zed", SK: "x"}, {AK: "AK-temp", SK: "x"}}}},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				st := s.with(t, creds())
				before := snapshot(t, st)
				err := st.Update(t.Context(), func(tx store.Tx) error { return tx.PutUser(c.user) })
				if !errors.Is(err, store.ErrExists) {
					t.Errorf("PutUser: %v, want ErrExists", err)
				}
				unchanged(t, st, before)
				checkTokens(t, st, lookup{"tok-a1", "alice"}, lookup{"tok-a2", "alice"}, lookup{"tok-bob", "bob"}, lookup{"tok-zed", ""})
				checkKeys(t, st, lookup{"AK-alice", "alice"}, lookup{"AK-temp", "alice"}, lookup{"AK-bob", "bob"}, lookup{"AK-zed", ""})
			})
		}
	})

	t.Run("PutTicketTwice", func(t *testing.T) {
		st := s.with(t, creds())
		ctx := t.Context()
		x := store.Ticket{ID: "X", Owner: "bob", Description: "new"}
		if err := st.Update(ctx, func(tx store.Tx) error { return tx.PutTicket(x) }); err != nil {
			t.Fatalf("PutTicket: %v", err)
		}
		before := snapshot(t, st)
		for _, tk := range []store.Ticket{
			{ID: "X", Owner: "alice", Description: "again"},
			{ID: "A1", Owner: "alice", Description: "loaded, again"},
		} {
			err := st.Update(ctx, func(tx store.Tx) error { return tx.PutTicket(tk) })
			if !errors.Is(err, store.ErrExists) {
				t.Errorf("PutTicket(%s) again: %v, want ErrExists", tk.ID, err)
			}
		}
		// Twice in one transaction.
		err := st.Update(ctx, func(tx store.Tx) error {
			if err := tx.PutTicket(store.Ticket{ID: "Y", Owner: "bob", Description: "y"}); err != nil {
				t.Errorf("PutTicket(Y): %v", err)
				return err
			}
			return tx.PutTicket(store.Ticket{ID: "Y", Owner: "bob", Description: "y again"})
		})
		if !errors.Is(err, store.ErrExists) {
			t.Errorf("PutTicket(Y) twice in one transaction: %v, want ErrExists", err)
		}
		unchanged(t, st, before)
	})

	t.Run("PutTicketIgnoresRelations", func(t *testing.T) {
		st := s.with(t, creds())
		before := snapshot(t, st)
		x := store.Ticket{ID: "X", Owner: "bob", Description: "new", Relations: []string{"A3"}}
		if err := st.Update(t.Context(), func(tx store.Tx) error { return tx.PutTicket(x) }); err != nil {
			t.Fatalf("PutTicket: %v", err)
		}
		want := clone(before)
		want.Tickets = append(want.Tickets, store.Ticket{ID: "X", Owner: "bob", Description: "new"})
		checkState(t, want, snapshot(t, st))
	})

	t.Run("TicketHasNoRelations", func(t *testing.T) {
		st := s.with(t, creds())
		view(t, st, func(tx store.Tx) {
			tk, err := tx.Ticket("A1")
			want := store.Ticket{ID: "A1", Owner: "alice", Description: "about A1"}
			if err != nil || tk.ID != want.ID || tk.Owner != want.Owner || tk.Description != want.Description || len(tk.Relations) != 0 {
				t.Errorf("Ticket(A1) = %+v, %v; want %+v", tk, err, want)
			}
			rels, err := tx.Relations("A1")
			if err != nil || !reflect.DeepEqual(rels, []string{"A2"}) {
				t.Errorf("Relations(A1) = %q, %v; want [A2]", rels, err)
			}
		})
	})

	t.Run("Empty", func(t *testing.T) {
		st := s.fresh(t)
		checkEmpty(t, st, true)
		if err := st.Update(t.Context(), func(tx store.Tx) error { return tx.PutUser(store.User{Name: "zed"}) }); err != nil {
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
		checkTokens(t, st, lookup{"tok-a1", "alice"}, lookup{"changed", ""})
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
	cases := []struct {
		name   string
		writes func(tx store.Tx) error
	}{
		{"AddPair", func(tx store.Tx) error { return tx.AddPair("A1", "A3") }},
		{"RemovePair", func(tx store.Tx) error { return tx.RemovePair("A1", "A2") }},
		{"PutUser new", func(tx store.Tx) error { return tx.PutUser(zed) }},
		{"PutUser replacing", func(tx store.Tx) error { return tx.PutUser(newAlice) }},
		{"PutTicket", func(tx store.Tx) error {
			return errors.Join(tx.PutUser(zed), tx.PutTicket(x), tx.AddPair("X", "A3"))
		}},
		{"Reset", func(tx store.Tx) error { return tx.Reset() }},
		{"Reset then writes", func(tx store.Tx) error {
			return errors.Join(tx.Reset(), tx.PutUser(zed), tx.PutUser(newAlice), tx.PutTicket(x),
				tx.PutTicket(store.Ticket{ID: "A1", Owner: "zed", Description: "other A1"}), tx.AddPair("X", "A1"))
		}},
		{"writes then Reset", func(tx store.Tx) error {
			return errors.Join(tx.AddPair("A1", "A3"), tx.RemovePair("A1", "A2"), tx.PutUser(newAlice),
				tx.PutUser(zed), tx.PutTicket(x), tx.Reset())
		}},
		{"everything", func(tx store.Tx) error {
			return errors.Join(tx.RemovePair("A1", "A2"), tx.AddPair("A2", "A3"), tx.AddPair("A1", "B1"),
				tx.PutUser(newAlice), tx.PutUser(zed), tx.PutTicket(x), tx.AddPair("X", "A1"),
				tx.Reset(), tx.PutUser(zed), tx.PutTicket(x))
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			st := s.with(t, creds())
			before := snapshot(t, st)
			err := st.Update(t.Context(), func(tx store.Tx) error {
				if err := c.writes(tx); err != nil {
					t.Errorf("writes: %v", err)
				}
				return errBoom
			})
			if !errors.Is(err, errBoom) {
				t.Errorf("Update = %v, want the error fn returned", err)
			}
			checkRolledBack(t, st, before)
		})
	}

	t.Run("WritesVisibleInsideTransaction", func(t *testing.T) {
		st := s.with(t, creds())
		before := snapshot(t, st)
		err := st.Update(t.Context(), func(tx store.Tx) error {
			must(t, tx.AddPair("A1", "A3"))
			if r, _ := tx.Relations("A1"); !reflect.DeepEqual(r, []string{"A2", "A3"}) {
				t.Errorf("Relations(A1) after AddPair = %q, want [A2 A3]", r)
			}
			if r, _ := tx.Relations("A3"); !reflect.DeepEqual(r, []string{"A1"}) {
				t.Errorf("Relations(A3) after AddPair = %q, want [A1]", r)
			}
			must(t, tx.RemovePair("A2", "A1"))
			if r, _ := tx.Relations("A1"); !reflect.DeepEqual(r, []string{"A3"}) {
				t.Errorf("Relations(A1) after RemovePair = %q, want [A3]", r)
			}
			must(t, tx.PutUser(zed))
			if u, err := tx.UserByToken("tok-zed"); err != nil || u.Name != "zed" {
				t.Errorf("UserByToken(tok-zed) after PutUser = %+v, %v", u, err)
			}
			must(t, tx.PutTicket(x))
			if tk, err := tx.Ticket("X"); err != nil || tk.Owner != "zed" {
				t.Errorf("Ticket(X) after PutTicket = %+v, %v", tk, err)
			}
			must(t, tx.Reset())
			if empty, err := tx.Empty(); err != nil || !empty {
				t.Errorf("Empty() after Reset = %v, %v", empty, err)
			}
			if _, err := tx.UserByToken("tok-a1"); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("UserByToken(tok-a1) after Reset: %v, want ErrNotFound", err)
			}
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
			"AddPair":    func(tx store.Tx) error { return tx.AddPair("A1", "A3") },
			"RemovePair": func(tx store.Tx) error { return tx.RemovePair("A1", "A2") },
			"PutUser":    func(tx store.Tx) error { return tx.PutUser(zed) },
			"PutTicket":  func(tx store.Tx) error { return tx.PutTicket(store.Ticket{ID: "Y", Owner: "bob", Description: "y"}) },
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
		if err := st.Update(ctx, func(tx store.Tx) error { return tx.AddPair("A1", "A3") }); err == nil {
			t.Error("Update with a canceled context succeeded")
		}
		if err := store.Associate(ctx, st, "alice", "A1", ids("A3"), ""); err == nil {
			t.Error("Associate with a canceled context succeeded")
		}
		if err := store.Dissociate(ctx, st, "alice", "A1", "A2", ""); err == nil {
			t.Error("Dissociate with a canceled context succeeded")
		}
		unchanged(t, st, before)
	})
}

// checkRolledBack checks the state and that credentials resolve as before.
func checkRolledBack(t *testing.T, st store.Store, before store.Dataset) {
	t.Helper()
	unchanged(t, st, before)
	checkTokens(t, st, lookup{"tok-a1", "alice"}, lookup{"tok-bob", "bob"}, lookup{"tok-zed", ""}, lookup{"tok-new", ""})
	checkKeys(t, st, lookup{"AK-alice", "alice"}, lookup{"AK-temp", "alice"}, lookup{"AK-zed", ""}, lookup{"AK-new", ""})
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

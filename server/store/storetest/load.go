package storetest

import (
	"errors"
	"strings"
	"testing"

	"github.com/osmstub/osmstub/server/store"
)

func (s suite) load(t *testing.T) {
	t.Run("IntoEmpty", s.loadIntoEmpty)
	t.Run("KeepsExistingWithoutReset", s.loadKeepsExisting)
	t.Run("ResetReplaces", s.loadResetReplaces)
	t.Run("ResetIntoEmpty", func(t *testing.T) {
		st := s.fresh(t)
		d := base().rel("A1", "A2").dataset()
		mustLoad(t, st, d, true)
		checkRelations(t, st, map[string][]string{"A1": {"A2"}, "A2": {"A1"}})
	})
	t.Run("RelationsBecomeMutual", s.loadRelationsMutual)
	t.Run("Validate", s.validate)
}

// small is a dataset whose whole Snapshot is spelled out in smallSnapshot.
func small() store.Dataset {
	return store.Dataset{
		Users: []store.User{
			{Name: "alice", Groups: []string{"g1"}, Tokens: []string{"tok-alice"},
				Keys: []store.AccessKey{{AK: "AK-alice", SK: "SK-alice"}}, DomainID: "dom-alice"},
			{Name: "bob", Groups: []string{"g1"}, Tokens: []string{"tok-bob"}},
		},
		Tickets: []store.Ticket{
			{ID: "A1", Owner: "alice", Description: "first", Relations: []string{"A2", "B1"}},
			{ID: "A2", Owner: "alice", Description: "second"},
			{ID: "B1", Owner: "bob", Description: "third"},
		},
	}
}

func smallSnapshot() store.Dataset {
	d := small()
	d.Tickets[1].Relations = []string{"A1"}
	d.Tickets[2].Relations = []string{"A1"}
	return d
}

func (s suite) loadIntoEmpty(t *testing.T) {
	st := s.fresh(t)
	loaded, err := store.Load(t.Context(), st, small(), false)
	if err != nil || !loaded {
		t.Fatalf("Load into an empty store = %v, %v; want true, nil", loaded, err)
	}
	checkState(t, smallSnapshot(), snapshot(t, st))
}

func (s suite) loadKeepsExisting(t *testing.T) {
	st := s.with(t, small())
	ctx := t.Context()
	// Change the loaded state, so that "kept" cannot mean "reloaded".
	checkRuleErr(t, store.Dissociate(ctx, st, "alice", "A1", "A2", ""), nil, "")
	before := snapshot(t, st)

	other := base().rel("A1", "A3").dataset()
	loaded, err := store.Load(ctx, st, other, false)
	if err != nil || loaded {
		t.Errorf("Load into a non-empty store without reset = %v, %v; want false, nil", loaded, err)
	}
	unchanged(t, st, before)

	// A store holding only a user is not empty either.
	st2 := s.fresh(t)
	err = st2.Update(ctx, func(tx store.Tx) error { return tx.PutUser(store.User{Name: "zed"}) })
	if err != nil {
		t.Fatalf("PutUser: %v", err)
	}
	before = snapshot(t, st2)
	loaded, err = store.Load(ctx, st2, other, false)
	if err != nil || loaded {
		t.Errorf("Load into a store holding a user = %v, %v; want false, nil", loaded, err)
	}
	unchanged(t, st2, before)
}

func (s suite) loadResetReplaces(t *testing.T) {
	st := s.with(t, base().rel("A1", "A2", "A3").dataset())
	ctx := t.Context()
	loaded, err := store.Load(ctx, st, small(), true)
	if err != nil || !loaded {
		t.Fatalf("Load with reset = %v, %v; want true, nil", loaded, err)
	}
	checkState(t, smallSnapshot(), snapshot(t, st))

	// Nothing of the old state answers any more: users, credentials, tickets.
	err = st.View(ctx, func(tx store.Tx) error {
		if _, err := tx.User("carol"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("User(carol) after reset: %v, want ErrNotFound", err)
		}
		if _, err := tx.UserByToken("tok-carol"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("UserByToken(tok-carol) after reset: %v, want ErrNotFound", err)
		}
		if _, _, err := tx.UserByAccessKey("AK-carol"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("UserByAccessKey(AK-carol) after reset: %v, want ErrNotFound", err)
		}
		if _, err := tx.Ticket("A3"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("Ticket(A3) after reset: %v, want ErrNotFound", err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	checkList(t, st, "alice", "A1", relsFor(smallSnapshot(), ids("A2", "B1")))
}

func (s suite) loadRelationsMutual(t *testing.T) {
	// A pair listed on both sides is one association; a ticket listed only
	// on the other side still shows it.
	d := base().rel("A1", "A2", "A3").rel("A3", "A1").rel("A4", "A2").rel("B1", "A1").dataset()
	st := s.with(t, d)
	want := map[string][]string{
		"A1": {"A2", "A3", "B1"},
		"A2": {"A1", "A4"},
		"A3": {"A1"},
		"A4": {"A2"},
		"B1": {"A1"},
	}
	checkRelations(t, st, want)
	checkInvariants(t, snapshot(t, st))
	after := snapshot(t, st)
	for id, rels := range want {
		checkList(t, st, "alice", id, relsFor(after, rels))
	}
}

// checkRelations checks the relations of some tickets and that every other
// ticket has none.
func checkRelations(t *testing.T, st store.Store, want map[string][]string) {
	t.Helper()
	d := snapshot(t, st)
	checkState(t, withRelations(withoutRelations(d), want), d)
}

func withoutRelations(d store.Dataset) store.Dataset {
	d = clone(d)
	for i := range d.Tickets {
		d.Tickets[i].Relations = nil
	}
	return d
}

// validate: Dataset.Validate reports each problem as a *store.FieldError
// naming entry and field, and Load refuses an invalid dataset, changing
// nothing, whether the store is empty or not and even with reset.
func (s suite) validate(t *testing.T) {
	// valid: users[0] alice, users[1] bob; tickets[0] A1, [1] A2, [2] B1, [3] X1, [4] X2.
	valid := func() store.Dataset {
		return build().user("alice").user("bob").
			tickets("alice", "A1", "A2").tickets("bob", "B1").tickets("alice", "X1", "X2").
			dataset()
	}
	cases := []struct {
		name         string
		edit         func(d *store.Dataset)
		entry, field string
	}{
		{"duplicate user", func(d *store.Dataset) {
			d.Users = append(d.Users, store.User{Name: "alice"})
		}, "users[2]", "name"},
		{"empty user name", func(d *store.Dataset) {
			d.Users = append(d.Users, store.User{})
		}, "users[2]", "name"},
		{"duplicate ticket", func(d *store.Dataset) {
			d.Tickets = append(d.Tickets, store.Ticket{ID: "A2", Owner: "bob", Description: "again"})
		}, "tickets[5]", "id"},
		{"unknown owner", func(d *store.Dataset) {
			d.Tickets[1].Owner = "zed"
		}, "tickets[1]", "owner"},
		{"unknown related ticket", func(d *store.Dataset) {
			d.Tickets[0].Relations = ids("A2", "NOPE")
		}, "tickets[0]", "relations[1]"},
		{"self relation", func(d *store.Dataset) {
			d.Tickets[1].Relations = ids("A1", "A2")
		}, "tickets[1]", "relations[1]"},
		{"more than 3 counting both sides", func(d *store.Dataset) {
			d.Tickets[0].Relations = ids("X1", "X2")
			d.Tickets[1].Relations = ids("A1")
			d.Tickets[2].Relations = ids("A1")
		}, "tickets[0]", "relations"},
		{"empty description", func(d *store.Dataset) {
			d.Tickets[2].Description = ""
		}, "tickets[2]", "simple_description"},
		{"id longer than 64", func(d *store.Dataset) {
			d.Tickets[2].ID = strings.Repeat("x", 65)
		}, "tickets[2]", "id"},
		{"empty id", func(d *store.Dataset) {
			d.Tickets[2].ID = ""
		}, "tickets[2]", "id"},
		{"token used twice", func(d *store.Dataset) {
			d.Users[1].Tokens = ids("tok-bob", "tok-alice")
		}, "users[1]", "tokens[1]"},
		{"access key used twice", func(d *store.Dataset) {
			d.Users[1].Keys = []store.AccessKey{{AK: "AK-alice", SK: "other"}}
		}, "users[1]", "access_keys[0].ak"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			d := valid()
			c.edit(&d)
			err := d.Validate()
			if err == nil {
				t.Fatal("Validate accepted the dataset")
			}
			found := false
			for _, fe := range fieldErrors(t, err) {
				if fe.Entry == c.entry && fe.Field == c.field {
					found = true
				}
			}
			if !found {
				t.Errorf("Validate = %v; want a *store.FieldError for %s.%s", err, c.entry, c.field)
			}

			empty := s.fresh(t)
			loaded, err := store.Load(t.Context(), empty, d, false)
			if err == nil || loaded {
				t.Errorf("Load of an invalid dataset into an empty store = %v, %v; want false and an error", loaded, err)
			}
			unchanged(t, empty, store.Dataset{})

			full := s.with(t, small())
			before := snapshot(t, full)
			loaded, err = store.Load(t.Context(), full, d, true)
			if err == nil || loaded {
				t.Errorf("Load of an invalid dataset with reset = %v, %v; want false and an error", loaded, err)
			}
			unchanged(t, full, before)
		})
	}

	// Edge cases that are valid.
	valids := []struct {
		name string
		edit func(d *store.Dataset)
	}{
		{"as is", func(d *store.Dataset) {}},
		{"exactly 3 counting both sides", func(d *store.Dataset) {
			d.Tickets[0].Relations = ids("X1", "X2")
			d.Tickets[1].Relations = ids("A1")
		}},
		{"pair listed on both sides counts once", func(d *store.Dataset) {
			d.Tickets[0].Relations = ids("X1", "X2", "A2")
			d.Tickets[1].Relations = ids("A1")
			d.Tickets[3].Relations = ids("A1")
		}},
		{"id of 64", func(d *store.Dataset) {
			d.Tickets[2].ID = strings.Repeat("x", 64)
		}},
	}
	for _, c := range valids {
		t.Run("valid/"+c.name, func(t *testing.T) {
			d := valid()
			c.edit(&d)
			if err := d.Validate(); err != nil {
				t.Fatalf("Validate: %v", err)
			}
			st := s.with(t, d)
			checkInvariants(t, snapshot(t, st))
		})
	}
}

// fieldErrors flattens errors.Join'd errors and checks that each is a
// *store.FieldError.
func fieldErrors(t *testing.T, err error) []*store.FieldError {
	t.Helper()
	var out []*store.FieldError
	pending := []error{err}
	for len(pending) > 0 {
		e := pending[0]
		pending = pending[1:]
		if j, ok := e.(interface{ Unwrap() []error }); ok {
			pending = append(pending, j.Unwrap()...)
			continue
		}
		var fe *store.FieldError
		if !errors.As(e, &fe) {
			t.Errorf("Validate error %v (%T) is not a *store.FieldError", e, e)
			continue
		}
		if fe.Entry == "" || fe.Field == "" || fe.Rule == "" {
			t.Errorf("FieldError %+v does not name entry, field and rule", fe)
		}
		out = append(out, fe)
	}
	return out
}

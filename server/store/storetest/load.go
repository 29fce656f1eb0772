package storetest

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/osmstub/osmstub/server/store"
)

// load: each case loads d into the store setup makes. Load must say whether
// it loaded; if it did, the state is want, every ticket lists its relations
// and the lookups hold; if not, nothing changed.
func (s suite) load(t *testing.T) {
	other := base().rel("A1", "A3").dataset()
	cases := []struct {
		name          string
		setup         func(t *testing.T) store.Store
		d             store.Dataset
		reset, loaded bool
		want          store.Dataset
		lookups       []lookup
	}{
		{name: "IntoEmpty", setup: s.fresh, d: small(), loaded: true, want: smallSnapshot()},
		{name: "KeepsExistingWithoutReset", d: other, setup: func(t *testing.T) store.Store {
			st := s.with(t, small())
			// Change the loaded state, so that "kept" cannot mean "reloaded".
			checkRuleErr(t, store.Dissociate(t.Context(), st, "alice", "A1", "A2", ""), nil, "")
			return st
		}},
		{name: "KeepsStoreHoldingOnlyAUser", d: other, setup: func(t *testing.T) store.Store {
			st := s.fresh(t)
			if err := st.Update(t.Context(), putUser(store.User{Name: "zed"})); err != nil {
				t.Fatalf("PutUser: %v", err)
			}
			return st
		}},
		{name: "ResetReplaces", d: small(), reset: true, loaded: true, want: smallSnapshot(),
			setup: func(t *testing.T) store.Store { return s.with(t, base().rel("A1", "A2", "A3").dataset()) },
			// Nothing of the old state answers any more: users, credentials, tickets.
			lookups: []lookup{{"user", "carol", ""}, tok("tok-carol", ""), key("AK-carol", ""), {"ticket", "A3", ""}}},
		{name: "ResetIntoEmpty", setup: s.fresh, d: base().rel("A1", "A2").dataset(), reset: true, loaded: true,
			want: withRelations(base().dataset(), map[string][]string{"A1": {"A2"}, "A2": {"A1"}})},
		// A pair listed on both sides is one association; a ticket listed
		// only on the other side still shows it.
		{name: "RelationsBecomeMutual", setup: s.fresh, loaded: true,
			d: base().rel("A1", "A2", "A3").rel("A3", "A1").rel("A4", "A2").rel("B1", "A1").dataset(),
			want: withRelations(base().dataset(), map[string][]string{
				"A1": {"A2", "A3", "B1"}, "A2": {"A1", "A4"}, "A3": {"A1"}, "A4": {"A2"}, "B1": {"A1"},
			})},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			st := c.setup(t)
			before := snapshot(t, st)
			loaded, err := store.Load(t.Context(), st, c.d, c.reset)
			if err != nil || loaded != c.loaded {
				t.Errorf("Load(reset %v) = %v, %v; want %v, nil", c.reset, loaded, err, c.loaded)
			}
			if !c.loaded {
				unchanged(t, st, before)
				return
			}
			after := snapshot(t, st)
			checkState(t, c.want, after)
			checkInvariants(t, after)
			checkFound(t, st, c.lookups...)
			for _, tk := range c.want.Tickets {
				checkList(t, st, tk.Owner, tk.ID, relsFor(c.want, tk.Relations))
			}
		})
	}
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

		// Edge cases that are valid: the store takes them.
		{"valid/as is", func(d *store.Dataset) {}, "", ""},
		{"valid/exactly 3 counting both sides", func(d *store.Dataset) {
			d.Tickets[0].Relations = ids("X1", "X2")
			d.Tickets[1].Relations = ids("A1")
		}, "", ""},
		{"valid/pair listed on both sides counts once", func(d *store.Dataset) {
			d.Tickets[0].Relations = ids("X1", "X2", "A2")
			d.Tickets[1].Relations = ids("A1")
			d.Tickets[3].Relations = ids("A1")
		}, "", ""},
		{"valid/id of 64", func(d *store.Dataset) {
			d.Tickets[2].ID = strings.Repeat("x", 64)
		}, "", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			d := valid()
			c.edit(&d)
			err := d.Validate()
			if c.entry == "" {
				if err != nil {
					t.Fatalf("Validate: %v", err)
				}
				checkInvariants(t, snapshot(t, s.with(t, d)))
				return
			}
			if err == nil {
				t.Fatal("Validate accepted the dataset")
			}
			if !slices.ContainsFunc(fieldErrors(t, err), func(fe *store.FieldError) bool {
				return fe.Entry == c.entry && fe.Field == c.field
			}) {
				t.Errorf("Validate = %v; want a *store.FieldError for %s.%s", err, c.entry, c.field)
			}

			// Load refuses it into an empty store, and with reset into a full one.
			for _, st := range []store.Store{s.fresh(t), s.with(t, small())} {
				before := snapshot(t, st)
				reset := len(before.Users) > 0
				loaded, err := store.Load(t.Context(), st, d, reset)
				if err == nil || loaded {
					t.Errorf("Load of an invalid dataset (reset %v) = %v, %v; want false and an error", reset, loaded, err)
				}
				unchanged(t, st, before)
			}
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

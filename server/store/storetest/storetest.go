// Package storetest is the conformance suite every store.Store backend must
// pass: the association rules (through store.Associate, store.Dissociate and
// store.List), permissions, concurrency, loading fixtures, credentials and
// transaction rollback.
//
// A backend's test calls Run with a function that opens a fresh, empty store:
//
//	func TestConformance(t *testing.T) {
//		storetest.Run(t, func(t *testing.T) store.Store { return memory.New() })
//	}
//
// Every sub-test opens its own store, loads its own data with store.Load and
// closes the store when it ends (open must not close it itself). The suite
// is meant to run under -race.
//
// What it asks of a backend beyond the Store and Tx comments: transactions
// are serializable (under contention a request fails only by the rules, so a
// backend that can hit serialization failures retries them itself); a
// transaction whose function panics keeps nothing; View refuses writes; a
// canceled context fails Update; what goes into and comes out of a store are
// copies; empty and nil slices are treated alike.
package storetest

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/osmstub/osmstub/server/store"
)

// Run runs the whole suite against the backend that open creates.
func Run(t *testing.T, open func(t *testing.T) store.Store) {
	t.Helper()
	s := suite{open: open}
	t.Run("Rules", s.rules)
	t.Run("Permissions", s.permissions)
	t.Run("List", s.list)
	t.Run("Concurrency", s.concurrency)
	t.Run("Load", s.load)
	t.Run("Credentials", s.credentials)
	t.Run("Rollback", s.rollback)
	t.Run("Snapshot", s.snapshot)
	t.Run("Flow", s.flow)
}

type suite struct {
	open func(t *testing.T) store.Store
}

// fresh opens an empty store, checks that it is empty, and closes it when
// the test ends.
func (s suite) fresh(t *testing.T) store.Store {
	t.Helper()
	st := s.open(t)
	if st == nil {
		t.Fatal("open returned a nil store")
	}
	t.Cleanup(func() {
		if err := st.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	if d := snapshot(t, st); len(d.Users) != 0 || len(d.Tickets) != 0 {
		t.Fatalf("open returned a store that is not empty: %d users, %d tickets", len(d.Users), len(d.Tickets))
	}
	return st
}

// with opens a fresh store and loads d into it.
func (s suite) with(t *testing.T, d store.Dataset) store.Store {
	t.Helper()
	st := s.fresh(t)
	mustLoad(t, st, d, false)
	return st
}

func mustLoad(t *testing.T, st store.Store, d store.Dataset, reset bool) {
	t.Helper()
	loaded, err := store.Load(t.Context(), st, d, reset)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	if !loaded {
		t.Fatal("Load: loaded = false, want true")
	}
}

// ---- fixture builder ----

// fixture builds a Dataset. Every user gets the token "tok-<name>" and the
// access key "AK-<name>" / "SK-<name>"; every ticket the description
// "about <id>".
type fixture struct{ d store.Dataset }

func build() *fixture { return &fixture{} }

func (f *fixture) user(name string, groups ...string) *fixture {
	f.d.Users = append(f.d.Users, store.User{
		Name:   name,
		Groups: groups,
		Tokens: []string{"tok-" + name},
		Keys:   []store.AccessKey{{AK: "AK-" + name, SK: "SK-" + name}},
	})
	return f
}

func (f *fixture) tickets(owner string, ids ...string) *fixture {
	for _, id := range ids {
		f.d.Tickets = append(f.d.Tickets, store.Ticket{ID: id, Owner: owner, Description: "about " + id})
	}
	return f
}

// rel lists related under ticket a, as a fixtures file would. Load makes
// each pair mutual; pairs are associated in the order the tickets are
// defined, then in the order of their lists.
func (f *fixture) rel(a string, related ...string) *fixture {
	for i := range f.d.Tickets {
		if f.d.Tickets[i].ID == a {
			f.d.Tickets[i].Relations = append(f.d.Tickets[i].Relations, related...)
			return f
		}
	}
	panic("storetest: fixture has no ticket " + a)
}

// rels applies rel to each row {a, related...}.
func (f *fixture) rels(rows [][]string) *fixture {
	for _, r := range rows {
		f.rel(r[0], r[1:]...)
	}
	return f
}

// dataset returns a deep copy, so a fixture can be reused and a store can
// never share memory with the test's copy.
func (f *fixture) dataset() store.Dataset { return clone(f.d) }

// base is the world of the rule and permission tests:
//
//	alice (groups g1, g2) owns A1..A8
//	bob   (group g1)      owns B1..B3
//	carol (group g2)      owns C1, C2
//	dave  (no group)      owns D1
//
// alice shares g1 with bob and g2 with carol; bob and carol share nothing;
// dave shares nothing with anyone.
func base() *fixture {
	return build().
		user("alice", "g1", "g2").
		user("bob", "g1").
		user("carol", "g2").
		user("dave").
		tickets("alice", "A1", "A2", "A3", "A4", "A5", "A6", "A7", "A8").
		tickets("bob", "B1", "B2", "B3").
		tickets("carol", "C1", "C2").
		tickets("dave", "D1")
}

// ---- reading state ----

func snapshot(t *testing.T, st store.Store) store.Dataset {
	t.Helper()
	var d store.Dataset
	err := st.View(t.Context(), func(tx store.Tx) (err error) {
		d, err = tx.Snapshot()
		return err
	})
	if err != nil {
		t.Fatalf("Snapshot: %v", err)
	}
	return clone(d) // a copy, even if the backend's is not
}

// relations returns the relations of every ticket of d, by ID.
func relations(d store.Dataset) map[string][]string {
	out := map[string][]string{}
	for _, tk := range d.Tickets {
		out[tk.ID] = tk.Relations
	}
	return out
}

// withRelations returns a copy of d whose tickets named in rels have those
// relations instead.
func withRelations(d store.Dataset, rels map[string][]string) store.Dataset {
	d = clone(d)
	for id, r := range rels {
		i := slices.IndexFunc(d.Tickets, func(tk store.Ticket) bool { return tk.ID == id })
		if i < 0 {
			panic("storetest: no ticket " + id)
		}
		d.Tickets[i].Relations = slices.Clone(r)
	}
	return d
}

// clone deep-copies d, turning empty slices into nil and times into UTC
// without a monotonic reading, so that backends may return either. It
// leaves out the catalogue, which checkCatalogue compares.
func clone(d store.Dataset) store.Dataset {
	var out store.Dataset
	for _, u := range d.Users {
		out.Users = append(out.Users, cloneUser(u))
	}
	for _, tk := range d.Tickets {
		out.Tickets = append(out.Tickets, cloneTicket(tk))
	}
	return out
}

func cloneTicket(tk store.Ticket) store.Ticket {
	tk.Relations = nilIfEmpty(tk.Relations)
	tk.AccessoryIDs = nilIfEmpty(tk.AccessoryIDs)
	tk.Created, tk.Pressed = tk.Created.UTC(), tk.Pressed.UTC()
	tk.Messages = nilIfEmpty(tk.Messages)
	for i, m := range tk.Messages {
		tk.Messages[i] = cloneMessage(m)
	}
	tk.Scores = nilIfEmpty(tk.Scores)
	for i, sc := range tk.Scores {
		tk.Scores[i] = cloneScore(sc)
	}
	return tk
}

func cloneMessage(m store.Message) store.Message {
	m.AccessoryIDs = nilIfEmpty(m.AccessoryIDs)
	m.Created = m.Created.UTC()
	return m
}

func cloneScore(sc store.Score) store.Score {
	sc.Satisfaction = nilIfEmpty(sc.Satisfaction)
	sc.Created = sc.Created.UTC()
	return sc
}

func cloneUser(u store.User) store.User {
	u.Groups = nilIfEmpty(u.Groups)
	u.Tokens = nilIfEmpty(u.Tokens)
	u.Keys = nilIfEmpty(u.Keys)
	return u
}

func nilIfEmpty[T any](s []T) []T {
	if len(s) == 0 {
		return nil
	}
	return slices.Clone(s)
}

// checkState fails the test if got is not want (order of users, tickets and
// relations included; nil and empty slices are the same).
func checkState(t *testing.T, want, got store.Dataset) {
	t.Helper()
	want, got = clone(want), clone(got)
	if !reflect.DeepEqual(want, got) {
		t.Errorf("state differs:\nwant:\n  %s\ngot:\n  %s", describe(want), describe(got))
	}
}

// unchanged fails the test if the store's state is not before.
func unchanged(t *testing.T, st store.Store, before store.Dataset) {
	t.Helper()
	checkState(t, before, snapshot(t, st))
}

// describe lists d one user or ticket a line.
func describe(d store.Dataset) string {
	var out []string
	for _, u := range d.Users {
		out = append(out, fmt.Sprintf("user %s groups=%q tokens=%q keys=%+v domain=%q account=%q", u.Name, u.Groups, u.Tokens, u.Keys, u.DomainID, u.Account))
	}
	for _, tk := range d.Tickets {
		out = append(out, fmt.Sprintf("ticket %s owner=%s description=%q relations=%q detail=%+v messages=%+v scores=%+v",
			tk.ID, tk.Owner, tk.Description, tk.Relations, tk.TicketDetail, tk.Messages, tk.Scores))
	}
	return strings.Join(out, "\n  ")
}

// checkInvariants fails the test if an association of d is not mutual,
// repeated, with itself, with a missing ticket, or if a ticket holds more
// than store.MaxRelations.
func checkInvariants(t *testing.T, d store.Dataset) {
	t.Helper()
	rels := relations(d)
	for _, tk := range d.Tickets {
		if len(tk.Relations) > store.MaxRelations {
			t.Errorf("ticket %s holds %d associations %q, at most %d", tk.ID, len(tk.Relations), tk.Relations, store.MaxRelations)
		}
		for i, r := range tk.Relations {
			theirs, ok := rels[r]
			switch {
			case r == tk.ID:
				t.Errorf("ticket %s is associated with itself", tk.ID)
			case !ok:
				t.Errorf("ticket %s is associated with missing ticket %s", tk.ID, r)
			case slices.Index(tk.Relations, r) != i:
				t.Errorf("ticket %s lists %s twice: %q", tk.ID, r, tk.Relations)
			case !slices.Contains(theirs, tk.ID):
				t.Errorf("association %s-%s is not mutual: %s lists %q", tk.ID, r, r, theirs)
			}
		}
	}
}

// ---- errors ----

// checkRuleErr fails the test unless err is nil (want == nil) or a
// *store.RuleError that is want and names ticket.
func checkRuleErr(t *testing.T, err, want error, ticket string) {
	t.Helper()
	if want == nil {
		if err != nil {
			t.Errorf("error = %v, want success", err)
		}
		return
	}
	if !errors.Is(err, want) {
		t.Errorf("error = %v, want %v", err, want)
		return
	}
	var re *store.RuleError
	if !errors.As(err, &re) {
		t.Errorf("error %v (%T) is not a *store.RuleError", err, err)
		return
	}
	if re.Ticket != ticket {
		t.Errorf("RuleError.Ticket = %q, want %q (error %v)", re.Ticket, ticket, err)
	}
}

// errBoom is what the rollback tests make a transaction fail with.
var errBoom = errors.New("storetest: boom")

// ---- actions ----

// action is one call of the rules on a store.
type action func(ctx context.Context, st store.Store) error

func associate(caller, caseID string, related []string, group string) action {
	return func(ctx context.Context, st store.Store) error {
		return store.Associate(ctx, st, caller, caseID, related, group)
	}
}

func dissociate(caller, caseID, relatedID, group string) action {
	return func(ctx context.Context, st store.Store) error {
		return store.Dissociate(ctx, st, caller, caseID, relatedID, group)
	}
}

// ids is a short way to write a related-ID list.
func ids(s ...string) []string { return s }

// relsFor returns what List should show for the tickets ids of d.
func relsFor(d store.Dataset, ids []string) []store.Relation {
	var out []store.Relation
	for _, id := range ids {
		i := slices.IndexFunc(d.Tickets, func(tk store.Ticket) bool { return tk.ID == id })
		if i < 0 {
			panic("storetest: no ticket " + id)
		}
		tk := d.Tickets[i]
		out = append(out, store.Relation{CaseID: tk.ID, Description: tk.Description, Owner: tk.Owner})
	}
	return out
}

func checkList(t *testing.T, st store.Store, caller, caseID string, want []store.Relation) {
	t.Helper()
	got, err := store.List(t.Context(), st, caller, caseID)
	if err != nil {
		t.Errorf("List(%s, %s): %v", caller, caseID, err)
		return
	}
	if len(got) == 0 && len(want) == 0 {
		return
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("List(%s, %s) =\n  %+v\nwant\n  %+v", caller, caseID, got, want)
	}
}

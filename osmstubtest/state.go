package osmstubtest

import (
	"context"
	"slices"

	"github.com/osmstub/osmstub/server/store"
)

// AddUser creates or replaces a user.
func (s *Stub) AddUser(u store.User) {
	s.t.Helper()
	if err := s.srv.AddUser(context.Background(), u); err != nil {
		s.fatalf("AddUser(%q): %v", u.Name, err)
	}
}

// AddTicket creates a ticket owned by an existing user.
func (s *Stub) AddTicket(id, owner, description string) {
	s.t.Helper()
	t := store.Ticket{ID: id, Owner: owner, Description: description}
	if err := s.srv.AddTicket(context.Background(), t); err != nil {
		s.fatalf("AddTicket(%q): %v", id, err)
	}
}

// Associate associates caseID with each of related, as a permitted
// caller would; the rules hold (a fourth association fails the test).
func (s *Stub) Associate(caseID string, related ...string) {
	s.t.Helper()
	if err := s.srv.Associate(context.Background(), caseID, related...); err != nil {
		s.fatalf("Associate(%q, %q): %v", caseID, related, err)
	}
}

// Relations returns the IDs associated with caseID, in association order.
func (s *Stub) Relations(caseID string) []string {
	s.t.Helper()
	ids, err := s.srv.Relations(context.Background(), caseID)
	if err != nil {
		s.fatalf("Relations(%q): %v", caseID, err)
	}
	return ids
}

// State returns the whole state: users by name, tickets by ID.
func (s *Stub) State() store.Dataset {
	s.t.Helper()
	d, err := s.srv.Snapshot(context.Background())
	if err != nil {
		s.fatalf("State: %v", err)
	}
	return d
}

// Reset restores the state the stub started with and clears every fault.
func (s *Stub) Reset() {
	s.t.Helper()
	if err := s.srv.Reset(context.Background()); err != nil {
		s.fatalf("Reset: %v", err)
	}
}

// CheckRelations fails t unless caseID's associations are exactly want, in
// association order, and each is mutual.
func (s *Stub) CheckRelations(t T, caseID string, want ...string) {
	t.Helper()
	got, err := s.srv.Relations(context.Background(), caseID)
	if err != nil {
		t.Fatalf("osmstubtest: CheckRelations(%q): %v", caseID, err)
		return
	}
	if !slices.Equal(got, want) { // nil and empty are equal
		t.Fatalf("osmstubtest: %s is associated with %q, want %q", caseID, got, want)
		return
	}
	for _, id := range got {
		back, err := s.srv.Relations(context.Background(), id)
		if err != nil || !slices.Contains(back, caseID) {
			t.Fatalf("osmstubtest: %s lists %s but %s does not list %s back (%q)", caseID, id, id, caseID, back)
		}
	}
}

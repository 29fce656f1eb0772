package server

import (
	"context"
	"fmt"

	"github.com/osmstub/osmstub/server/store"
)

// Direct access to the state, for tests and the control API. These bypass
// authentication and permissions but keep the state valid.

// Reset restores the fixtures the server started with (or last loaded)
// and clears faults.
func (s *Server) Reset(ctx context.Context) error {
	s.fixturesMu.Lock()
	defer s.fixturesMu.Unlock()
	s.faults.clear()
	_, err := store.Load(ctx, s.store, s.fixtures, true)
	return err
}

// LoadFixtures replaces the whole state with d and makes it what Reset
// restores.
func (s *Server) LoadFixtures(ctx context.Context, d store.Dataset) error {
	s.fixturesMu.Lock()
	defer s.fixturesMu.Unlock()
	if _, err := store.Load(ctx, s.store, d, true); err != nil {
		return err
	}
	s.fixtures = d.Clone()
	return nil
}

// AddUser creates or replaces a user.
func (s *Server) AddUser(ctx context.Context, u store.User) error {
	if err := (store.Dataset{Users: []store.User{u}}).Validate(); err != nil {
		return err
	}
	return s.store.Update(ctx, func(tx store.Tx) error { return tx.PutUser(u) })
}

// AddTicket creates a ticket owned by an existing user.
func (s *Server) AddTicket(ctx context.Context, t store.Ticket) error {
	return s.store.Update(ctx, func(tx store.Tx) error {
		owner, err := tx.User(t.Owner)
		if err != nil {
			return fmt.Errorf("ticket %s: owner %q: %w", t.ID, t.Owner, err)
		}
		d := store.Dataset{Users: []store.User{owner}, Tickets: []store.Ticket{{ID: t.ID, Owner: t.Owner, Description: t.Description}}}
		if err := d.Validate(); err != nil {
			return err
		}
		return tx.PutTicket(t)
	})
}

// Associate associates caseID with each of related without permission
// checks; the rules (limit, mutual, self, known tickets) hold.
func (s *Server) Associate(ctx context.Context, caseID string, related ...string) error {
	return store.Link(ctx, s.store, caseID, related...)
}

// Relations returns the IDs associated with caseID, in association order.
func (s *Server) Relations(ctx context.Context, caseID string) ([]string, error) {
	var ids []string
	err := s.store.View(ctx, func(tx store.Tx) error {
		if _, err := tx.Ticket(caseID); err != nil {
			return fmt.Errorf("ticket %s: %w", caseID, err)
		}
		var err error
		ids, err = tx.Relations(caseID)
		return err
	})
	return ids, err
}

// Snapshot returns the whole state.
func (s *Server) Snapshot(ctx context.Context) (store.Dataset, error) {
	var d store.Dataset
	err := s.store.View(ctx, func(tx store.Tx) error {
		var err error
		d, err = tx.Snapshot()
		return err
	})
	return d, err
}

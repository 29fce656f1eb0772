package server

import (
	"context"
	"crypto/rand"
	"fmt"
	"time"

	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/labstack/echo/v4"

	"sync"

	"github.com/osmstub/osmstub/gen/controlapi"
	"github.com/osmstub/osmstub/server/control"
	"github.com/osmstub/osmstub/server/journal"
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
	d = d.Stamped(s.clock.now())
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

// AddTicket creates a ticket owned by an existing user, in the owner's
// account, created now by the server's clock unless t says when.
func (s *Server) AddTicket(ctx context.Context, t store.Ticket) error {
	t = store.Dataset{Tickets: []store.Ticket{t}}.Stamped(s.Now()).Tickets[0] // its messages too
	return s.store.Update(ctx, func(tx store.Tx) error {
		owner, err := tx.User(t.Owner)
		if err != nil {
			return fmt.Errorf("ticket %s: owner %q: %w", t.ID, t.Owner, err)
		}
		t.Account = owner.Account
		// Relations are made with Associate; messages and scores would
		// need their authors checked, which the fixtures rules do.
		d := store.Dataset{Users: []store.User{owner}, Tickets: []store.Ticket{t}}
		d.Tickets[0].Relations = nil
		if err := d.Validate(); err != nil {
			return err
		}
		return tx.PutTicket(t)
	})
}

// CreateAccount creates a fresh account with users (none: one user
// "tester" in group "team"), each with a new token and AK/SK pair; see
// store.NewAccount.
func (s *Server) CreateAccount(ctx context.Context, users []store.NewAccountUser) (store.Account, error) {
	return store.NewAccount(ctx, s.store, users, rand.Reader)
}

// DeleteAccount deletes account's users and everything they own; an
// account no user belongs to, or the default one, is store.ErrNoAccount.
func (s *Server) DeleteAccount(ctx context.Context, account string) error {
	return store.DeleteAccount(ctx, s.store, account)
}

// ResetAccount deletes account's tickets and uploads and keeps its users;
// other accounts are untouched.
func (s *Server) ResetAccount(ctx context.Context, account string) error {
	return store.ResetAccount(ctx, s.store, account)
}

// SetTicketStatus moves ticket caseID to status, as the support staff
// would: no permission checks and no transition rules.
func (s *Server) SetTicketStatus(ctx context.Context, caseID string, status int) error {
	if !store.IsStatus(status) {
		return fmt.Errorf("ticket %s: %d is not a ticket status", caseID, status)
	}
	return store.SetStatus(ctx, s.store, caseID, status)
}

// AddReply adds an engineer's message (type 1) to ticket caseID, dated by
// the server's clock.
func (s *Server) AddReply(ctx context.Context, caseID, replier, content string) error {
	return store.Reply(ctx, s.store, caseID, replier, content, s.Now())
}

// CreateTicket opens a ticket for owner through CreateCases's rules, with
// the catalogue's first consultation problem type (case_type "0"), created
// now by the server's clock, and returns its ID.
func (s *Server) CreateTicket(ctx context.Context, owner, description string) (string, error) {
	t, err := store.OpenConsultation(ctx, s.store, owner, s.clock.now(), description, store.DefaultAccessoryLimits)
	if err != nil {
		return "", err
	}
	return t.ID, nil
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

// controlStub is the Server as its control API sees it (control.Stub):
// the methods whose names the Server's own API uses otherwise.
type controlStub struct{ *Server }

var _ control.Stub = controlStub{}

func (s controlStub) WireFaults() controlapi.Faults { return s.wireFaults() }

func (s controlStub) SetWireFault(operationID string, f controlapi.Fault) error {
	return s.SetFault(operationID, faultFromWire(f))
}

func (s controlStub) Journal() *journal.Journal { return s.journal }

func (s controlStub) ClockState() (time.Time, bool, time.Duration) { return s.clock.state() }

func (s controlStub) Check(c echo.Context, route *routers.Route, opts *openapi3filter.Options) error {
	return s.check(c, route, opts)
}

func (s controlStub) LimitBody(takesBody bool) echo.MiddlewareFunc {
	if !takesBody {
		return s.limitBody(s.controlBodies, 0)
	}
	return s.limitBody(s.controlBodies, defaultBodyLimit)
}

// clock is the server's settable clock, which AK/SK date checks read: a
// base (Options.Now, or the real time) that can be stopped and moved, in
// process (Server.SetTime, Advance, FollowRealTime) or over HTTP
// (/_stub/clock). It is per process.
type clock struct {
	mu     sync.Mutex
	base   func() time.Time
	fixed  bool
	at     time.Time // where the clock stopped, when fixed
	offset time.Duration
}

func newClock(base func() time.Time) *clock {
	if base == nil {
		base = time.Now
	}
	return &clock{base: base}
}

func (c *clock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.fixed {
		return c.at.Add(c.offset)
	}
	return c.base().Add(c.offset)
}

// state is the time now, whether the clock is stopped and by how much it
// was moved.
func (c *clock) state() (now time.Time, fixed bool, offset time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.fixed {
		return c.at.Add(c.offset), true, c.offset
	}
	return c.base().Add(c.offset), false, c.offset
}

// Now is the server's time, which AK/SK date checks read.
func (s *Server) Now() time.Time { return s.clock.now() }

// SetTime stops the server's clock at t.
func (s *Server) SetTime(t time.Time) {
	s.clock.mu.Lock()
	defer s.clock.mu.Unlock()
	s.clock.fixed, s.clock.at, s.clock.offset = true, t, 0
}

// Advance moves the server's clock by d (which may be negative), stopped
// or not.
func (s *Server) Advance(d time.Duration) {
	s.clock.mu.Lock()
	defer s.clock.mu.Unlock()
	s.clock.offset += d
}

// FollowRealTime undoes SetTime and Advance: the clock follows its base
// (Options.Now, or the real time) again.
func (s *Server) FollowRealTime() {
	s.clock.mu.Lock()
	defer s.clock.mu.Unlock()
	s.clock.fixed, s.clock.at, s.clock.offset = false, time.Time{}, 0
}

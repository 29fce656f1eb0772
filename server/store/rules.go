package store

import (
	"context"
	"errors"
	"fmt"
	"slices"
)

// Rule errors: a request the service refuses with HTTP 200 and a business
// error code. They reach callers wrapped in *RuleError, which names the
// ticket concerned; test them with errors.Is.
var (
	// ErrLimit: a ticket would hold more than MaxRelations associations.
	ErrLimit = errors.New("association limit reached")
	// ErrSelf: a ticket cannot be associated with itself.
	ErrSelf = errors.New("ticket associated with itself")
	// ErrUnknownTicket: a ticket in the request does not exist.
	ErrUnknownTicket = errors.New("unknown ticket")
	// ErrNoPermission: the caller may not act on a ticket.
	ErrNoPermission = errors.New("no permission")
	// ErrUnknownCaller: the authenticated user no longer exists.
	ErrUnknownCaller = errors.New("unknown caller")
)

// RuleError is a refused request: which rule, and which ticket broke it.
type RuleError struct {
	Err    error
	Ticket string
	// Detail names the field and the rule of an ErrParam.
	Detail string
}

func (e *RuleError) Error() string {
	if e.Detail != "" {
		return fmt.Sprintf("%v: %s", e.Err, e.Detail)
	}
	return fmt.Sprintf("%v: %s", e.Err, e.Ticket)
}
func (e *RuleError) Unwrap() error { return e.Err }

func refuse(err error, ticket string) error { return &RuleError{Err: err, Ticket: ticket} }

// Relation is one associated ticket as ListRelation shows it.
type Relation struct {
	CaseID      string
	Description string
	Owner       string
}

// Associate associates every ticket in related with caseID on behalf of
// caller, all or nothing. Pairs already associated and repeated IDs are
// accepted and change nothing, so a retried request is harmless.
func Associate(ctx context.Context, s Store, caller, caseID string, related []string, group string) error {
	return s.Update(ctx, func(tx Tx) error {
		user, err := callerUser(tx, caller)
		if err != nil {
			return err
		}
		return associate(tx, caseID, related, func(id string) error { return mayAct(tx, user, id, group) })
	})
}

// Link associates tickets as Associate does but without permission checks,
// for seeding state in tests and through the control API. The other rules
// hold.
func Link(ctx context.Context, s Store, caseID string, related ...string) error {
	return s.Update(ctx, func(tx Tx) error {
		return associate(tx, caseID, related, func(id string) error {
			_, err := ticket(tx, id)
			return err
		})
	})
}

// associate applies the association rules; allowed checks that a ticket
// exists and that the caller may act on it.
func associate(tx Tx, caseID string, related []string, allowed func(id string) error) error {
	if err := allowed(caseID); err != nil {
		return err
	}
	have, err := tx.Relations(caseID)
	if err != nil {
		return err
	}
	fresh, err := newPartners(tx, caseID, related, have, allowed)
	if err != nil {
		return err
	}
	if len(have)+len(fresh) > MaxRelations {
		return refuse(ErrLimit, caseID)
	}
	for _, id := range fresh {
		if err := tx.AddPair(caseID, id); err != nil {
			return err
		}
	}
	return nil
}

// newPartners checks every related ticket (a repeated ID once) and
// returns those not yet associated with caseID, after checking their own
// limits.
func newPartners(tx Tx, caseID string, related, have []string, allowed func(id string) error) ([]string, error) {
	var fresh []string
	for i, id := range related {
		if slices.Contains(related[:i], id) {
			continue
		}
		if id == caseID {
			return nil, refuse(ErrSelf, id)
		}
		if err := allowed(id); err != nil {
			return nil, err
		}
		if slices.Contains(have, id) {
			continue
		}
		theirs, err := tx.Relations(id)
		if err != nil {
			return nil, err
		}
		if len(theirs) >= MaxRelations {
			return nil, refuse(ErrLimit, id)
		}
		fresh = append(fresh, id)
	}
	return fresh, nil
}

// Dissociate removes the association caseID-relatedID on behalf of caller.
// Removing a pair that is not associated succeeds and changes nothing.
func Dissociate(ctx context.Context, s Store, caller, caseID, relatedID, group string) error {
	return s.Update(ctx, func(tx Tx) error {
		user, err := callerUser(tx, caller)
		if err != nil {
			return err
		}
		if relatedID == caseID {
			return refuse(ErrSelf, relatedID)
		}
		for _, id := range []string{caseID, relatedID} {
			if err := mayAct(tx, user, id, group); err != nil {
				return err
			}
		}
		have, err := tx.Relations(caseID)
		if err != nil || !slices.Contains(have, relatedID) {
			return err
		}
		return tx.RemovePair(caseID, relatedID)
	})
}

// List returns the tickets associated with caseID, in association order.
// ListRelation carries no group_id, so the caller may list a ticket it owns
// or one whose owner shares any group with it.
func List(ctx context.Context, s Store, caller, caseID string) ([]Relation, error) {
	var out []Relation
	err := s.View(ctx, func(tx Tx) error {
		out = nil // View may run fn again on a retried transaction
		user, err := callerUser(tx, caller)
		if err != nil {
			return err
		}
		t, err := visible(tx, user, caseID)
		if err != nil {
			return err
		}
		if !mayRead(tx, user, t) {
			return refuse(ErrNoPermission, caseID)
		}
		ids, err := tx.Relations(caseID)
		if err != nil {
			return err
		}
		for _, id := range ids {
			r, err := tx.Ticket(id)
			if err != nil {
				return fmt.Errorf("association %s-%s points to a missing ticket: %w", caseID, id, err)
			}
			if r.Account != user.Account {
				continue // fixtures may relate accounts; another account's ticket stays unknown
			}
			out = append(out, Relation{CaseID: r.ID, Description: r.Description, Owner: r.Owner})
		}
		return nil
	})
	return out, err
}

func callerUser(tx Tx, name string) (User, error) {
	u, err := tx.User(name)
	if errors.Is(err, ErrNotFound) {
		return User{}, refuse(ErrUnknownCaller, name)
	}
	return u, err
}

func ticket(tx Tx, id string) (Ticket, error) {
	t, err := tx.Ticket(id)
	if errors.Is(err, ErrNotFound) {
		return Ticket{}, refuse(ErrUnknownTicket, id)
	}
	return t, err
}

// visible returns ticket id if it exists in user's account: a ticket of
// another account is unknown to it, as on the live cloud, where accounts
// never see each other's tickets.
func visible(tx Tx, user User, id string) (Ticket, error) {
	t, err := ticket(tx, id)
	if err == nil && t.Account != user.Account {
		return Ticket{}, refuse(ErrUnknownTicket, id)
	}
	return t, err
}

// mayAct checks that ticket id exists and that user owns it or shares
// group with its owner (both members of that group).
func mayAct(tx Tx, user User, id, group string) error {
	_, err := actOn(tx, user, id, group)
	return err
}

// callerTicket resolves caller and checks that it may act on ticket id
// (actOn).
func callerTicket(tx Tx, caller, id, group string) (User, Ticket, error) {
	user, err := callerUser(tx, caller)
	if err != nil {
		return User{}, Ticket{}, err
	}
	t, err := actOn(tx, user, id, group)
	return user, t, err
}

// actOn is mayAct returning the ticket.
func actOn(tx Tx, user User, id, group string) (Ticket, error) {
	t, err := visible(tx, user, id)
	if err != nil {
		return Ticket{}, err
	}
	if t.Owner == user.Name {
		return t, nil
	}
	if group == "" || !user.InGroup(group) {
		return Ticket{}, refuse(ErrNoPermission, id)
	}
	owner, err := tx.User(t.Owner)
	if errors.Is(err, ErrNotFound) || (err == nil && !owner.InGroup(group)) {
		return Ticket{}, refuse(ErrNoPermission, id)
	}
	return t, err
}

// mayRead reports whether user may read t, a ticket of its account
// (visible): its own, or one whose owner shares any group with it.
func mayRead(tx Tx, user User, t Ticket) bool {
	if t.Owner == user.Name {
		return true
	}
	owner, err := tx.User(t.Owner)
	if err != nil {
		return false
	}
	for _, g := range user.Groups {
		if owner.InGroup(g) {
			return true
		}
	}
	return false
}

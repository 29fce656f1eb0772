package conform

import (
	"context"
	"fmt"
	"slices"

	"github.com/osmstub/osmstub/server"
	"github.com/osmstub/osmstub/server/store"
	"github.com/osmstub/osmstub/server/store/memory"
)

// conformUser names the user of the reference stub who owns the given
// tickets; the endpoint's real user name is not known and not needed.
const conformUser = "conform"

// placeholder describes a given ticket in the reference stub: only the
// shape of a list is compared, never the descriptions.
const placeholder = "a ticket given to the conformance run"

// newReference builds the in-process stub the answers are compared with:
// one user with the run's credential, owning the given tickets, and the
// associations the first lists showed, with the tickets on their other
// ends owned by the users the lists named.
func newReference(cred Credential, group string, cases []string, before map[string][]listed) (*reference, func() error, error) {
	u := store.User{Name: conformUser, DomainID: cred.DomainID}
	if cred.Token != "" {
		u.Tokens = []string{cred.Token}
	} else {
		u.Keys = []store.AccessKey{{AK: cred.AK, SK: cred.SK, SecurityToken: cred.SecurityToken}}
	}
	if group != "" {
		u.Groups = []string{group}
	}
	d := store.Dataset{Users: []store.User{u}}
	users := map[string]bool{conformUser: true}
	tickets := map[string]bool{}
	for _, id := range cases {
		tickets[id] = true
		t := store.Ticket{ID: id, Owner: conformUser, Description: placeholder}
		for _, l := range before[id] {
			if l.CaseID != "" && len(l.CaseID) <= 64 {
				t.Relations = append(t.Relations, l.CaseID)
			}
		}
		d.Tickets = append(d.Tickets, t)
	}
	for _, id := range cases {
		for _, l := range before[id] {
			if tickets[l.CaseID] || l.CaseID == "" || len(l.CaseID) > 64 || len(l.Owner) > 256 {
				continue // given, seen, or not a ticket the stub can hold (the check says why)
			}
			tickets[l.CaseID] = true
			owner := l.Owner
			if owner == "" {
				owner = "someone else"
			}
			if !users[owner] {
				users[owner] = true
				d.Users = append(d.Users, store.User{Name: owner})
			}
			d.Tickets = append(d.Tickets, store.Ticket{ID: l.CaseID, Owner: owner, Description: placeholder})
		}
	}
	srv, err := server.New(server.Options{Store: memory.New(), Fixtures: &d, DisableControl: true})
	if err != nil {
		return nil, nil, fmt.Errorf("build the reference stub from the state the endpoint showed: %w", err)
	}
	return &reference{handler: srv, cred: cred, store: srv.Store()}, srv.Close, nil
}

// addProblemType puts the endpoint's problem type p into the stub's
// catalogue (replacing one of the same ID), so that the stub accepts the
// ticket the run opens with it. The stub's own catalogue is its demo
// data's, not the endpoint's.
func (r *reference) addProblemType(ctx context.Context, p store.ProblemType) error {
	return r.store.Update(ctx, func(tx store.Tx) error {
		cat, err := tx.Catalogue()
		if err != nil {
			return err
		}
		cat.ProblemTypes = slices.DeleteFunc(cat.ProblemTypes, func(q store.ProblemType) bool { return q.ID == p.ID })
		cat.ProblemTypes = append(cat.ProblemTypes, p)
		return tx.PutCatalogue(cat)
	})
}

// listed is one entry of a ListRelation answer.
type listed struct {
	CaseID string `json:"case_id"`
	Owner  string `json:"user_name"`
}

package storetest

import (
	"reflect"
	"testing"
	"time"

	"github.com/osmstub/osmstub/server/store"
)

// V010Rows are rows as v0.1.0 (schema version 1) wrote them: its PutUser,
// PutTicket and AddPair.
const V010Rows = `
INSERT INTO users (name, domain_id) VALUES ('alice', 'dom-1'), ('bob', '');
INSERT INTO user_groups (user_name, pos, group_name) VALUES ('alice', 0, 'g1'), ('alice', 1, 'g2'), ('bob', 0, 'g1');
INSERT INTO tokens (user_name, pos, token) VALUES ('alice', 0, 'tok-a');
INSERT INTO access_keys (user_name, pos, ak, sk, security_token) VALUES ('bob', 0, 'AK-B', 'SK-B', 'sts');
INSERT INTO tickets (id, owner, description) VALUES ('A', 'alice', 'a'), ('B', 'alice', 'b'), ('C', 'bob', 'c');
INSERT INTO relations (ticket_id, related_id, pos) VALUES ('A', 'B', 1), ('B', 'A', 1), ('A', 'C', 2), ('C', 'A', 1);
`

// v010Dataset is V010Rows after the upgrade: the default account, status
// 0, created at the epoch.
func v010Dataset() store.Dataset {
	epoch := store.TicketDetail{Created: time.Unix(0, 0).UTC()}
	return store.Dataset{
		Users: []store.User{
			{Name: "alice", Groups: []string{"g1", "g2"}, Tokens: []string{"tok-a"}, DomainID: "dom-1"},
			{Name: "bob", Groups: []string{"g1"}, Keys: []store.AccessKey{{AK: "AK-B", SK: "SK-B", SecurityToken: "sts"}}},
		},
		Tickets: []store.Ticket{
			{ID: "A", Owner: "alice", Description: "a", TicketDetail: epoch, Relations: []string{"B", "C"}},
			{ID: "B", Owner: "alice", Description: "b", TicketDetail: epoch, Relations: []string{"A"}},
			{ID: "C", Owner: "bob", Description: "c", TicketDetail: epoch, Relations: []string{"A"}},
		},
	}
}

// CheckUpgraded checks a SQL store opened on V010Rows: everything is there with
// the new columns' defaults, listings and counts work, new tickets list
// first, and the old relations keep their rules.
func CheckUpgraded(t *testing.T, s store.Store) {
	t.Helper()
	mustView(t, s, func(tx store.Tx) error {
		d, err := tx.Snapshot()
		if want := v010Dataset(); err != nil || !reflect.DeepEqual(d, want) {
			t.Errorf("upgraded Snapshot = %+v, %v;\nwant %+v", d, err, want)
		}
		if u, err := tx.UserByToken("tok-a"); err != nil || u.Name != "alice" || u.Account != store.DefaultAccount {
			t.Errorf("UserByToken(tok-a) = %+v, %v", u, err)
		}
		page, total, err := tx.Tickets(store.TicketQuery{Limit: 2})
		if err != nil || total != 3 || len(page) != 2 || page[0].ID != "C" || page[1].ID != "B" {
			t.Errorf("Tickets of the default account = %+v, %d, %v; want C, B of 3", page, total, err)
		}
		if _, total, err := tx.Tickets(store.TicketQuery{Owners: []string{"alice"}}); err != nil || total != 2 {
			t.Errorf("total of alice's tickets = %d, %v; want 2", total, err)
		}
		return nil
	})
	mustUpdate(t, s, func(tx store.Tx) error {
		n, err := tx.NextID("ticket")
		if err != nil || n != 1 {
			t.Errorf("NextID = %d, %v; want 1", n, err)
		}
		return tx.PutTicket(store.Ticket{ID: "CS20261207000001", Owner: "bob", Description: "new",
			TicketDetail: store.TicketDetail{Created: tMicro}})
	})
	mustView(t, s, func(tx store.Tx) error {
		if page, total, err := tx.Tickets(store.TicketQuery{Limit: 1}); err != nil || total != 4 || len(page) != 1 || page[0].ID != "CS20261207000001" {
			t.Errorf("Tickets after a new one = %+v, %d, %v; want the new one first, of 4", page, total, err)
		}
		return nil
	})
	if err := store.Associate(t.Context(), s, "alice", "B", []string{"CS20261207000001"}, "g1"); err != nil {
		t.Errorf("Associate an old ticket with a new one: %v", err)
	}
	if got, err := store.List(t.Context(), s, "alice", "A"); err != nil || len(got) != 2 {
		t.Errorf("List(A) = %+v, %v; want B and C", got, err)
	}
}

package storetest

// The ticket flow on a second data set (times with microseconds, every
// field of every type set): what a SQL backend must map to columns and
// back (detailSnapshotRoundTrip), and the totals it keeps per account,
// owner and status (detailCounts). What flow.go's subtests test is not
// repeated here.

import (
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/osmstub/osmstub/server/store"
)

// tMicro is the tests' clock: whole microseconds, as the store keeps them.
var tMicro = time.Date(2026, 12, 7, 10, 0, 0, 123456000, time.UTC)

func mustUpdate(t *testing.T, s store.Store, fn func(store.Tx) error) {
	t.Helper()
	if err := s.Update(t.Context(), fn); err != nil {
		t.Fatalf("Update: %v", err)
	}
}

func mustView(t *testing.T, s store.Store, fn func(store.Tx) error) {
	t.Helper()
	if err := s.View(t.Context(), fn); err != nil {
		t.Fatalf("View: %v", err)
	}
}

// flowData: accounts "" (alice, bob) and "acme" (carol); tickets created a
// minute apart, T1 oldest; T2 and T3 at the same time (the ID breaks the
// tie).
func detailData() store.Dataset {
	detail := func(account string, status, minute int) store.TicketDetail {
		return store.TicketDetail{Account: account, Status: status, BusinessTypeID: "ECS-FAULT",
			ProductCategoryID: "ECS", RegionID: "cn-north-4", SeverityID: "2", SourceID: "83",
			Created: tMicro.Add(time.Duration(minute) * time.Minute)}
	}
	tk := func(id, owner, desc string, d store.TicketDetail) store.Ticket {
		return store.Ticket{ID: id, Owner: owner, Description: desc, TicketDetail: d}
	}
	t1 := tk("T1", "alice", "Disk FULL on vm-1", detail("", 0, 0))
	t1.AccessoryIDs = []string{"ACC1"}
	t1.Messages = []store.Message{
		{ID: "MSG1", Replier: "alice", Content: "first", Created: tMicro, AccessoryIDs: []string{"ACC1"}},
		{ID: "MSG2", Type: 1, Replier: "engineer", Content: "second", Created: tMicro.Add(time.Second)},
	}
	t1.Scores = []store.Score{{Author: "alice", Judgement: "ok", Created: tMicro,
		Satisfaction: []store.Satisfaction{{ID: 1, Value: 5, Name: "Timeliness"}, {ID: 3, Value: 4}}}}
	t2 := tk("T2", "bob", "network slow 100%_sure", detail("", 1, 1))
	t2.Pressed = tMicro.Add(time.Hour)
	t2.Judgement = "fine"
	return store.Dataset{
		Users: []store.User{
			{Name: "alice", Groups: []string{"g1"}, Tokens: []string{"tok-a"}},
			{Name: "bob", Groups: []string{"g1"}},
			{Name: "carol", Account: "acme", Keys: []store.AccessKey{{AK: "AK", SK: "SK"}}},
		},
		Tickets: []store.Ticket{
			t1, t2,
			tk("T3", "alice", "disk full again", detail("", 0, 1)),
			tk("T4", "carol", "disk full at acme", detail("acme", 0, 2)),
		},
	}
}

func (su suite) loadedDetail(t *testing.T) store.Store {
	t.Helper()
	return su.with(t, detailData())
}

// detailSnapshotRoundTrip: what PutTicket and PutUser take, Snapshot and
// Ticket give back, every field, times in UTC.
func (su suite) detailSnapshotRoundTrip(t *testing.T) {
	s := su.loadedDetail(t)
	want := detailData()
	var got store.Dataset
	mustView(t, s, func(tx store.Tx) (err error) { got, err = tx.Snapshot(); return err })
	if !reflect.DeepEqual(got.Users, want.Users) {
		t.Errorf("users:\n got %+v\nwant %+v", got.Users, want.Users)
	}
	if !reflect.DeepEqual(got.Tickets, want.Tickets) {
		t.Errorf("tickets:\n got %+v\nwant %+v", got.Tickets, want.Tickets)
	}
	if got.Catalogue == nil || !reflect.DeepEqual(*got.Catalogue, store.DefaultCatalogue()) {
		t.Errorf("catalogue %+v, want Load's default", got.Catalogue)
	}
	mustView(t, s, func(tx store.Tx) error {
		tk, err := tx.Ticket("T1")
		w := want.Tickets[0]
		w.Messages, w.Scores = nil, nil
		if err != nil || !reflect.DeepEqual(tk, w) {
			t.Errorf("Ticket(T1) = %+v, %v;\nwant %+v", tk, err, w)
		}
		if _, err := tx.Ticket("nope"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("Ticket(nope): %v", err)
		}
		return nil
	})
}

// detailCounts: the totals kept in ticket_counts follow tickets that are
// created, moved to another status, and deleted with their account.
func (su suite) detailCounts(t *testing.T) {
	s := su.loadedDetail(t)
	totals := func(want map[string]int) {
		t.Helper()
		mustView(t, s, func(tx store.Tx) error {
			for account, n := range want {
				if page, total, err := tx.Tickets(store.TicketQuery{Account: account}); err != nil || total != n {
					t.Errorf("total of %q = %d (%d listed), %v; want %d", account, total, len(page), err, n)
				}
			}
			return nil
		})
	}
	mustUpdate(t, s, func(tx store.Tx) error {
		return tx.PutTicket(store.Ticket{ID: "T5", Owner: "carol", Description: "d",
			TicketDetail: store.TicketDetail{Account: "acme", Created: tMicro}})
	})
	totals(map[string]int{"": 3, "acme": 2})
	mustUpdate(t, s, func(tx store.Tx) error {
		tk, err := tx.Ticket("T5")
		if err != nil {
			return err
		}
		tk.Status = store.StatusCanceled
		return tx.UpdateTicket(tk)
	})
	totals(map[string]int{"": 3, "acme": 2})
	mustView(t, s, func(tx store.Tx) error {
		for _, c := range []struct {
			account string
			status  int
			owners  []string
			want    int
		}{
			{"", 0, nil, 2}, {"", 1, nil, 1}, {"", store.StatusCanceled, nil, 0},
			{"acme", store.StatusCanceled, nil, 1}, {"acme", store.StatusCanceled, []string{"carol"}, 1},
			{"acme", 0, []string{"carol"}, 1}, {"acme", 0, []string{"alice"}, 0},
		} {
			q := store.TicketQuery{Account: c.account, Statuses: []int{c.status}, Owners: c.owners}
			if _, total, err := tx.Tickets(q); err != nil || total != c.want {
				t.Errorf("total of status %d of %q in %q = %d, %v; want %d", c.status, c.owners, c.account, total, err, c.want)
			}
		}
		return nil
	})
	mustUpdate(t, s, func(tx store.Tx) error { return tx.DeleteAccount("acme") })
	totals(map[string]int{"": 3, "acme": 0})
	mustUpdate(t, s, func(tx store.Tx) error { return tx.Reset() })
	totals(map[string]int{"": 0})
}

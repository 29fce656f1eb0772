package storetest

// The ticket flow's Tx methods field by field on a second data set (times
// with microseconds, every field of every type set): what a SQL backend
// must map to columns and back. Written for the SQL backends, run on every
// backend.

import (
	"errors"
	"fmt"
	"reflect"
	"slices"
	"sync"
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

func (su suite) detailTickets(t *testing.T) {
	s := su.loadedDetail(t)
	cases := []struct {
		name  string
		q     store.TicketQuery
		want  []string
		total int
	}{
		{"the account, newest first, ties by ID", store.TicketQuery{}, []string{"T3", "T2", "T1"}, 3},
		{"another account", store.TicketQuery{Account: "acme"}, []string{"T4"}, 1},
		{"an account with none", store.TicketQuery{Account: "nobody"}, nil, 0},
		{"one owner", store.TicketQuery{Owners: []string{"alice"}}, []string{"T3", "T1"}, 2},
		{"owners", store.TicketQuery{Owners: []string{"bob", "alice", "bob"}}, []string{"T3", "T2", "T1"}, 3},
		{"an owner of another account", store.TicketQuery{Owners: []string{"carol"}}, nil, 0},
		{"a page", store.TicketQuery{Offset: 1, Limit: 1}, []string{"T2"}, 3},
		{"past the end", store.TicketQuery{Offset: 5, Limit: 10}, nil, 3},
		{"by ID", store.TicketQuery{ID: "T2"}, []string{"T2"}, 1},
		{"by ID of another account", store.TicketQuery{ID: "T4"}, nil, 0},
		{"by status", store.TicketQuery{Statuses: []int{0}}, []string{"T3", "T1"}, 2},
		{"keys, any case", store.TicketQuery{Keys: []string{"DISK", "full"}}, []string{"T3", "T1"}, 2},
		{"keys are not patterns", store.TicketQuery{Keys: []string{"100%_"}}, []string{"T2"}, 1},
		{"a key no ticket has", store.TicketQuery{Keys: []string{"disk", "slow"}}, nil, 0},
		{"from", store.TicketQuery{From: tMicro.Add(time.Minute)}, []string{"T3", "T2"}, 2},
		{"to", store.TicketQuery{To: tMicro}, []string{"T1"}, 1},
		{"from and to, paged", store.TicketQuery{From: tMicro, To: tMicro.Add(time.Minute), Limit: 2}, []string{"T3", "T2"}, 3},
	}
	mustView(t, s, func(tx store.Tx) error {
		for _, c := range cases {
			page, total, err := tx.Tickets(c.q)
			var ids []string
			for _, tk := range page {
				ids = append(ids, tk.ID)
				if len(tk.Messages)+len(tk.Scores)+len(tk.Relations) != 0 {
					t.Errorf("%s: %s has messages, scores or relations", c.name, tk.ID)
				}
			}
			if err != nil || !slices.Equal(ids, c.want) || total != c.total {
				t.Errorf("%s: Tickets(%+v) = %q, %d, %v; want %q, %d", c.name, c.q, ids, total, err, c.want, c.total)
			}
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

func (su suite) detailUpdateTicket(t *testing.T) {
	s := su.loadedDetail(t)
	var want store.Ticket
	mustUpdate(t, s, func(tx store.Tx) error {
		tk, err := tx.Ticket("T3")
		if err != nil {
			return err
		}
		tk.Status, tk.Judgement, tk.AccessoryIDs = store.StatusCanceled, "done", []string{"ACC9"}
		tk.Pressed = tMicro.Add(2 * time.Hour)
		tk.Description, tk.Owner = "ignored", "ignored" // not TicketDetail
		want = tk
		want.Description, want.Owner = "disk full again", "alice"
		return tx.UpdateTicket(tk)
	})
	mustView(t, s, func(tx store.Tx) error {
		if got, err := tx.Ticket("T3"); err != nil || !reflect.DeepEqual(got, want) {
			t.Errorf("after UpdateTicket: %+v, %v;\nwant %+v", got, err, want)
		}
		return nil
	})
	err := s.Update(t.Context(), func(tx store.Tx) error { return tx.UpdateTicket(store.Ticket{ID: "nope"}) })
	if !errors.Is(err, store.ErrNotFound) {
		t.Errorf("UpdateTicket(nope): %v", err)
	}
	err = s.Update(t.Context(), func(tx store.Tx) error { return tx.PutTicket(store.Ticket{ID: "T3", Owner: "bob"}) })
	if !errors.Is(err, store.ErrExists) {
		t.Errorf("PutTicket(T3) again: %v", err)
	}
}

func (su suite) detailMessagesAndScores(t *testing.T) {
	s := su.loadedDetail(t)
	mustUpdate(t, s, func(tx store.Tx) error {
		for i := range 3 {
			m := store.Message{ID: fmt.Sprintf("MSG%d", 10+i), Replier: "alice", Content: "c", Created: tMicro}
			if err := tx.AddMessage("T1", m); err != nil {
				return err
			}
		}
		return tx.AddScore("T1", store.Score{Author: "bob", Judgement: "meh", Created: tMicro})
	})
	for _, c := range []struct {
		offset, limit int
		want          []string
	}{
		{0, 0, []string{"MSG1", "MSG2", "MSG10", "MSG11", "MSG12"}},
		{1, 2, []string{"MSG2", "MSG10"}},
		{4, 10, []string{"MSG12"}},
		{5, 10, nil},
	} {
		mustView(t, s, func(tx store.Tx) error {
			page, total, err := tx.Messages("T1", c.offset, c.limit)
			var ids []string
			for _, m := range page {
				ids = append(ids, m.ID)
			}
			if err != nil || total != 5 || !slices.Equal(ids, c.want) {
				t.Errorf("Messages(T1, %d, %d) = %q, %d, %v; want %q, 5", c.offset, c.limit, ids, total, err, c.want)
			}
			return nil
		})
	}
	mustView(t, s, func(tx store.Tx) error {
		scores, err := tx.Scores("T1")
		if err != nil || len(scores) != 2 || scores[0].Author != "alice" || scores[1].Author != "bob" {
			t.Errorf("Scores(T1) = %+v, %v", scores, err)
		}
		if page, total, err := tx.Messages("nope", 0, 0); err != nil || len(page) != 0 || total != 0 {
			t.Errorf("Messages(nope) = %v, %d, %v", page, total, err)
		}
		return nil
	})
	for name, fn := range map[string]func(store.Tx) error{
		"AddMessage": func(tx store.Tx) error { return tx.AddMessage("nope", store.Message{ID: "M"}) },
		"AddScore":   func(tx store.Tx) error { return tx.AddScore("nope", store.Score{}) },
	} {
		if err := s.Update(t.Context(), fn); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("%s on an unknown ticket: %v", name, err)
		}
	}
}

// detailAccessories: uploads come back without their bytes; the daily
// budget sums one owner's uploads since a time.
func (su suite) detailAccessories(t *testing.T) {
	s := su.loadedDetail(t)
	uploads := []store.Accessory{
		{ID: "ACC1", Owner: "alice", Name: "a.log", From: "incident", Data: []byte("12345"), Size: 5, Created: tMicro},
		{ID: "ACC2", Owner: "alice", Name: "b.bin", From: "message", Data: []byte{0, 0xff, 'x', 0}, Size: 4, Created: tMicro.Add(time.Hour)},
		{ID: "ACC3", Owner: "alice", Name: "empty.txt", From: "incident", Data: []byte{}, Size: 0, Created: tMicro.Add(time.Hour)},
		{ID: "ACC4", Owner: "carol", Account: "acme", Name: "c.txt", From: "incident", Data: []byte("c"), Size: 1, Created: tMicro},
	}
	mustUpdate(t, s, func(tx store.Tx) error {
		for _, a := range uploads {
			if err := tx.PutAccessory(a); err != nil {
				return err
			}
		}
		return nil
	})
	mustView(t, s, func(tx store.Tx) error {
		for _, want := range uploads {
			got, err := tx.Accessory(want.ID)
			// Accessory leaves Data out (nil) and Snapshot carries no
			// uploads: the bytes are checked through Size only.
			want.Data = nil
			if err != nil || !reflect.DeepEqual(got, want) {
				t.Errorf("Accessory(%s) = %+v; want %+v", want.ID, got, want)
			}
		}
		if _, err := tx.Accessory("nope"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("Accessory(nope): %v", err)
		}
		for _, c := range []struct {
			owner string
			since time.Time
			want  int64
		}{{"alice", tMicro, 9}, {"alice", tMicro.Add(time.Minute), 4}, {"alice", tMicro.Add(2 * time.Hour), 0}, {"carol", time.Time{}, 1}, {"dave", tMicro, 0}} {
			if n, err := tx.AccessoryBytes(c.owner, c.since); err != nil || n != c.want {
				t.Errorf("AccessoryBytes(%s, %v) = %d, %v; want %d", c.owner, c.since, n, err, c.want)
			}
		}
		return nil
	})
	err := s.Update(t.Context(), func(tx store.Tx) error { return tx.PutAccessory(store.Accessory{ID: "ACC1", Owner: "bob"}) })
	if !errors.Is(err, store.ErrExists) {
		t.Errorf("PutAccessory(ACC1) again: %v", err)
	}
}

func (su suite) detailCatalogue(t *testing.T) {
	s := su.loadedDetail(t)
	mustView(t, s, func(tx store.Tx) error {
		if c, err := tx.Catalogue(); err != nil || !reflect.DeepEqual(c, store.DefaultCatalogue()) {
			t.Errorf("Catalogue after Load = %+v, %v; want the default", c, err)
		}
		return nil
	})
	for _, want := range []store.Catalogue{store.DefaultCatalogue(), {ProblemTypes: []store.ProblemType{{ID: "X", Name: "x", CaseType: "5"}}}} {
		mustUpdate(t, s, func(tx store.Tx) error { return tx.PutCatalogue(want) })
		mustView(t, s, func(tx store.Tx) error {
			c, err := tx.Catalogue()
			if err != nil || !reflect.DeepEqual(c, want) {
				t.Errorf("Catalogue() = %+v, %v; want %+v", c, err, want)
			}
			d, err := tx.Snapshot()
			if err != nil || d.Catalogue == nil || !reflect.DeepEqual(*d.Catalogue, want) {
				t.Errorf("Snapshot().Catalogue = %+v, %v; want %+v", d.Catalogue, err, want)
			}
			return nil
		})
	}
}

// detailDeleteAccount: everything of one account goes, with relations
// from other accounts' tickets; the others' stays.
func (su suite) detailDeleteAccount(t *testing.T) {
	s := su.loadedDetail(t)
	mustUpdate(t, s, func(tx store.Tx) error {
		if err := tx.AddPair("T1", "T4"); err != nil {
			return err
		}
		if err := tx.AddMessage("T4", store.Message{ID: "M4", Replier: "carol", Created: tMicro}); err != nil {
			return err
		}
		return tx.PutAccessory(store.Accessory{ID: "ACC4", Owner: "carol", Account: "acme", Data: []byte("x"), Size: 1, Created: tMicro})
	})
	mustUpdate(t, s, func(tx store.Tx) error { return tx.DeleteAccount("acme") })
	want := detailData()
	want.Users = want.Users[:2]
	want.Tickets = want.Tickets[:3]
	mustView(t, s, func(tx store.Tx) error {
		d, err := tx.Snapshot()
		if err != nil || !reflect.DeepEqual(d.Users, want.Users) || !reflect.DeepEqual(d.Tickets, want.Tickets) {
			t.Errorf("after DeleteAccount(acme): %+v, %v;\nwant %+v", d, err, want)
		}
		if _, err := tx.Accessory("ACC4"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("acme's upload: %v", err)
		}
		if m, n, err := tx.Messages("T4", 0, 0); err != nil || n != 0 || len(m) != 0 {
			t.Errorf("Messages(T4) = %v, %d, %v", m, n, err)
		}
		return nil
	})
}

// detailNextID: counters count from 1, each on its own, and hand out
// every value once to concurrent Updates; a failed Update's value is not
// kept; Reset starts them again.
func (su suite) detailNextID(t *testing.T) {
	s := su.loadedDetail(t)
	const n = 40
	got := make([]int64, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			err := s.Update(t.Context(), func(tx store.Tx) (err error) {
				got[i], err = tx.NextID("ticket")
				return err
			})
			if err != nil {
				t.Errorf("NextID: %v", err)
			}
		})
	}
	wg.Wait()
	slices.Sort(got)
	for i, v := range got {
		if v != int64(i+1) {
			t.Fatalf("NextID values %v; want 1..%d once each", got, n)
		}
	}
	errBoom := errors.New("boom")
	_ = s.Update(t.Context(), func(tx store.Tx) error { _, _ = tx.NextID("ticket"); return errBoom })
	mustUpdate(t, s, func(tx store.Tx) error {
		if v, err := tx.NextID("message"); err != nil || v != 1 {
			t.Errorf("first NextID(message) = %d, %v; want 1", v, err)
		}
		if v, err := tx.NextID("ticket"); err != nil || v != n+1 && v != n+2 {
			t.Errorf("NextID(ticket) after a rolled-back one = %d, %v; want %d (given back) or %d", v, err, n+1, n+2)
		}
		return nil
	})
	mustUpdate(t, s, func(tx store.Tx) error { return tx.Reset() })
	mustUpdate(t, s, func(tx store.Tx) error {
		if v, err := tx.NextID("ticket"); err != nil || v <= n+1 {
			t.Errorf("NextID(ticket) after Reset = %d, %v; want more than %d (Reset keeps counters)", v, err, n+1)
		}
		return nil
	})
}

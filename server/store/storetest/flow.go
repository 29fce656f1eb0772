package storetest

import (
	"bytes"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/osmstub/osmstub/server/store"
)

// flow: the Tx methods of the ticket flow (tickets with status, messages,
// scores, uploads, the catalogue, counters and accounts). Times are whole
// seconds in UTC: a store may keep no more than microseconds.
func (s suite) flow(t *testing.T) {
	t.Run("Tickets", s.ticketQueries)
	t.Run("TicketDetail", s.ticketDetail)
	t.Run("UpdateTicket", s.updateTicket)
	t.Run("Messages", s.messages)
	t.Run("Scores", s.scores)
	t.Run("Accessories", s.accessories)
	t.Run("Catalogue", s.catalogue)
	t.Run("NextID", s.nextID)
	t.Run("Members", s.members)
	t.Run("DeleteAccount", s.deleteAccount)
	t.Run("FlowRollback", s.flowRollback)
	t.Run("FlowReadOnly", s.flowReadOnly)
	t.Run("SnapshotLoadRoundtrip", s.snapshotLoadRoundtrip)
	t.Run("DetailSnapshotRoundTrip", s.detailSnapshotRoundTrip)
	t.Run("DetailCounts", s.detailCounts)
}

// t0 is the day the flow's tickets are created; at(h) h hours later.
var t0 = time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)

func at(h int) time.Time { return t0.Add(time.Duration(h) * time.Hour) }

// accounts is the world of the flow tests: three accounts.
//
//	account ""    alice (g1) owns A1 A2 A3; bob (g1) owns B1 B2 B3
//	account acme  carol (g2) owns C1 C2;    dave (g2) owns D1
//	account other erin owns E1
//
// In list order, account "" is B1 A3 A2 A1 B2 B3 (A2 and A3 were created in
// the same second; B3 has no create time, the oldest). C1 is associated
// with C2 and, across accounts, with A1.
func accounts() store.Dataset {
	user := func(name, account string, groups ...string) store.User {
		return store.User{Name: name, Account: account, Groups: groups, Tokens: []string{"tok-" + name},
			Keys: []store.AccessKey{{AK: "AK-" + name, SK: "SK-" + name}}}
	}
	tk := func(id, owner string, created time.Time, status int, desc string) store.Ticket {
		return store.Ticket{ID: id, Owner: owner, Description: desc,
			TicketDetail: store.TicketDetail{Status: status, Created: created}}
	}
	d := store.Dataset{
		Users: []store.User{
			user("alice", "", "g1"), user("bob", "", "g1"),
			user("carol", "acme", "g2"), user("dave", "acme", "g2"),
			user("erin", "other"),
		},
		Tickets: []store.Ticket{
			tk("A1", "alice", at(1), store.StatusPending, "Disk full on ECS"),
			tk("A2", "alice", at(2), store.StatusProcessing, "Network slow"),
			tk("A3", "alice", at(2), store.StatusPending, "disk DISK"),
			tk("B1", "bob", at(3), store.StatusCanceled, "ECS disk latency"),
			tk("B2", "bob", at(0), store.StatusPending, "50% packet loss"),
			tk("B3", "bob", time.Time{}, store.StatusPending, "500 errors, a_b"),
			tk("C1", "carol", at(1), store.StatusPending, "disk in acme"),
			tk("C2", "carol", at(5), store.StatusToConfirm, "acme two"),
			tk("D1", "dave", at(4), store.StatusPending, "acme dave"),
			tk("E1", "erin", at(6), store.StatusPending, "disk"),
		},
	}
	d.Tickets[0].Messages = []store.Message{
		{ID: "MSG1", Replier: "alice", Content: "first", Created: at(1)},
		{ID: "MSG2", Type: 1, Replier: "bob", Content: "second", Created: at(2), AccessoryIDs: []string{"ACC1"}},
	}
	d.Tickets[3].Scores = []store.Score{{Author: "bob", Judgement: "fine", Created: at(4),
		Satisfaction: []store.Satisfaction{{ID: 1, Value: 5, Name: "Timeliness"}}}}
	d.Tickets[6].Relations = []string{"C2", "A1"}
	d.Tickets[6].Messages = []store.Message{{ID: "MSG3", Replier: "carol", Content: "acme's", Created: at(1)}}
	d.Tickets[7].Scores = []store.Score{{Author: "carol", Judgement: "ok", Created: at(6)}}
	return d
}

// query runs tx.Tickets(q) in a View and returns the IDs of the page.
func query(t *testing.T, st store.Store, q store.TicketQuery) (page []string, total int) {
	t.Helper()
	view(t, st, func(tx store.Tx) {
		tks, n, err := tx.Tickets(q)
		if err != nil {
			t.Errorf("Tickets(%+v): %v", q, err)
		}
		for _, tk := range tks {
			page = append(page, tk.ID)
		}
		total = n
	})
	return page, total
}

func (s suite) ticketQueries(t *testing.T) {
	st := s.with(t, accounts())
	cases := []struct {
		name  string
		q     store.TicketQuery
		page  []string
		total int
	}{
		{"account", store.TicketQuery{}, ids("B1", "A3", "A2", "A1", "B2", "B3"), 6},
		{"other account", store.TicketQuery{Account: "acme"}, ids("C2", "D1", "C1"), 3},
		{"unknown account", store.TicketQuery{Account: "nobody"}, nil, 0},
		{"owner", store.TicketQuery{Owners: ids("alice")}, ids("A3", "A2", "A1"), 3},
		{"owners of a group", store.TicketQuery{Owners: ids("alice", "bob")}, ids("B1", "A3", "A2", "A1", "B2", "B3"), 6},
		{"owner named twice", store.TicketQuery{Owners: ids("alice", "alice")}, ids("A3", "A2", "A1"), 3},
		{"owner of another account", store.TicketQuery{Owners: ids("alice", "carol")}, ids("A3", "A2", "A1"), 3},
		{"only owners of another account", store.TicketQuery{Owners: ids("carol")}, nil, 0},
		{"unknown owner", store.TicketQuery{Owners: ids("zed")}, nil, 0},

		{"id", store.TicketQuery{ID: "A2"}, ids("A2"), 1},
		{"id of another account", store.TicketQuery{ID: "C1"}, nil, 0},
		{"id in its account", store.TicketQuery{Account: "acme", ID: "C1"}, ids("C1"), 1},
		{"id of another owner", store.TicketQuery{ID: "A2", Owners: ids("bob")}, nil, 0},
		{"id of an owner", store.TicketQuery{ID: "A2", Owners: ids("bob", "alice")}, ids("A2"), 1},
		{"id and other status", store.TicketQuery{ID: "A2", Statuses: []int{0}}, nil, 0},
		{"id and status", store.TicketQuery{ID: "A2", Statuses: []int{1}}, ids("A2"), 1},
		{"id out of range", store.TicketQuery{ID: "A2", From: at(3)}, nil, 0},
		{"id past the offset", store.TicketQuery{ID: "A2", Offset: 1}, nil, 1},
		{"unknown id", store.TicketQuery{ID: "NOPE"}, nil, 0},

		{"status 0", store.TicketQuery{Statuses: []int{0}}, ids("A3", "A1", "B2", "B3"), 4},
		{"status 4", store.TicketQuery{Statuses: []int{4}}, ids("B1"), 1},
		{"status none has", store.TicketQuery{Statuses: []int{17}}, nil, 0},
		{"statuses, any of", store.TicketQuery{Statuses: []int{4, 1}}, ids("B1", "A2"), 2},
		{"app key an id", store.TicketQuery{AppKey: "A2"}, ids("A2"), 1},
		{"app key a word", store.TicketQuery{AppKey: "DISK"}, ids("B1", "A3", "A1"), 3},
		{"app key neither", store.TicketQuery{AppKey: "A9"}, nil, 0},
		{"status and owner", store.TicketQuery{Statuses: []int{0}, Owners: ids("bob")}, ids("B2", "B3"), 2},

		{"key any case", store.TicketQuery{Keys: ids("disk")}, ids("B1", "A3", "A1"), 3},
		{"key upper case", store.TicketQuery{Keys: ids("DISK")}, ids("B1", "A3", "A1"), 3},
		{"keys all must occur", store.TicketQuery{Keys: ids("Disk", "ecs")}, ids("B1", "A1"), 2},
		{"keys none matches", store.TicketQuery{Keys: ids("disk", "network")}, nil, 0},
		// A key is text, not a pattern: SQL LIKE's % and _ must be escaped.
		{"key with percent", store.TicketQuery{Keys: ids("50%")}, ids("B2"), 1},
		{"key with underscore", store.TicketQuery{Keys: ids("a_b")}, ids("B3"), 1},
		{"key with underscore as a pattern", store.TicketQuery{Keys: ids("n_t")}, nil, 0},
		{"key and status", store.TicketQuery{Keys: ids("disk"), Statuses: []int{0}}, ids("A3", "A1"), 2},

		{"from inclusive", store.TicketQuery{From: at(2)}, ids("B1", "A3", "A2"), 3},
		{"to inclusive", store.TicketQuery{To: at(2)}, ids("A3", "A2", "A1", "B2", "B3"), 5},
		{"from and to the same second", store.TicketQuery{From: at(2), To: at(2)}, ids("A3", "A2"), 2},
		{"range and owner", store.TicketQuery{From: at(1), To: at(3), Owners: ids("alice")}, ids("A3", "A2", "A1"), 3},
		{"range and owners", store.TicketQuery{From: at(0), To: at(2), Owners: ids("bob", "alice")}, ids("A3", "A2", "A1", "B2"), 4},
		{"range empty", store.TicketQuery{From: at(3), To: at(2)}, nil, 0},
		{"range past every ticket", store.TicketQuery{From: at(10)}, nil, 0},
		{"range and key", store.TicketQuery{From: at(2), Keys: ids("disk")}, ids("B1", "A3"), 2},

		{"first page", store.TicketQuery{Limit: 2}, ids("B1", "A3"), 6},
		{"second page", store.TicketQuery{Offset: 2, Limit: 2}, ids("A2", "A1"), 6},
		{"last page, short", store.TicketQuery{Offset: 5, Limit: 2}, ids("B3"), 6},
		{"offset at the end", store.TicketQuery{Offset: 6, Limit: 2}, nil, 6},
		{"offset past the end", store.TicketQuery{Offset: 10}, nil, 6},
		{"offset without limit", store.TicketQuery{Offset: 4}, ids("B2", "B3"), 6},
		{"page of an owner", store.TicketQuery{Owners: ids("alice"), Offset: 1, Limit: 1}, ids("A2"), 3},
		{"page of owners", store.TicketQuery{Owners: ids("alice", "bob"), Offset: 1, Limit: 3}, ids("A3", "A2", "A1"), 6},
		{"page of a status", store.TicketQuery{Statuses: []int{0}, Offset: 1, Limit: 2}, ids("A1", "B2"), 4},
		{"page of a key", store.TicketQuery{Keys: ids("disk"), Offset: 2, Limit: 5}, ids("A1"), 3},
		{"page of a range", store.TicketQuery{To: at(2), Offset: 3, Limit: 1}, ids("B2"), 5},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			page, total := query(t, st, c.q)
			if !slices.Equal(page, c.page) || total != c.total {
				t.Errorf("Tickets(%+v) = %q, total %d; want %q, total %d", c.q, page, total, c.page, c.total)
			}
		})
	}

	t.Run("PageCarriesDetailOnly", func(t *testing.T) {
		// A page has each ticket's details, without relations, messages or
		// scores, as Ticket has.
		want := map[string]store.Ticket{}
		for _, tk := range clone(accounts()).Tickets {
			tk.Relations, tk.Messages, tk.Scores = nil, nil, nil
			want[tk.ID] = tk
		}
		for _, account := range []string{"", "acme"} {
			view(t, st, func(tx store.Tx) {
				page, _, err := tx.Tickets(store.TicketQuery{Account: account})
				if err != nil {
					t.Fatal(err)
				}
				for _, tk := range page {
					w := want[tk.ID]
					w.Account = account // Load set it
					if got := cloneTicket(tk); !reflect.DeepEqual(got, w) {
						t.Errorf("ticket in a page:\n  %+v\nwant\n  %+v", got, w)
					}
				}
			})
		}
	})
}

func (s suite) ticketDetail(t *testing.T) {
	full := store.Ticket{ID: "F1", Owner: "carol", Description: "every field", TicketDetail: store.TicketDetail{
		Account: "acme", Status: store.StatusFeedback, BusinessTypeID: "bt", ProductCategoryID: "ECS",
		RegionID: "cn-north-4", SeverityID: "2", SourceID: "83", Created: at(7), Pressed: at(8),
		Judgement: "great", AccessoryIDs: []string{"ACC1", "ACC2"},
	}}
	st := s.with(t, accounts())
	if err := st.Update(t.Context(), putTicket(full)); err != nil {
		t.Fatalf("PutTicket: %v", err)
	}
	view(t, st, func(tx store.Tx) {
		got, err := tx.Ticket("F1")
		if err != nil || !reflect.DeepEqual(cloneTicket(got), cloneTicket(full)) {
			t.Errorf("Ticket(F1) = %+v, %v; want %+v", got, err, full)
		}
		// A ticket's messages and scores have their own calls.
		a1, err := tx.Ticket("A1")
		if err != nil || len(a1.Messages) != 0 || len(a1.Scores) != 0 || len(a1.Relations) != 0 {
			t.Errorf("Ticket(A1) = %+v, %v; want no relations, messages or scores", a1, err)
		}
		if a1.Account != "" || !a1.Created.Equal(at(1)) {
			t.Errorf("Ticket(A1) account %q created %v; want \"\" and %v", a1.Account, a1.Created, at(1))
		}
		c1, err := tx.Ticket("C1")
		if err != nil || c1.Account != "acme" {
			t.Errorf("Ticket(C1) = %+v, %v; want account acme (its owner's, set by Load)", c1, err)
		}
	})
	if page, total := query(t, st, store.TicketQuery{Account: "acme", Limit: 1}); !slices.Equal(page, ids("F1")) || total != 4 {
		t.Errorf("first page of acme = %q of %d; want F1 of 4", page, total)
	}
}

func (s suite) updateTicket(t *testing.T) {
	st := s.with(t, accounts())
	a1 := func() store.Ticket {
		var tk store.Ticket
		view(t, st, func(tx store.Tx) {
			var err error
			if tk, err = tx.Ticket("A1"); err != nil {
				t.Fatal(err)
			}
		})
		return tk
	}
	upd := a1()
	upd.Status = store.StatusCanceled
	upd.Pressed = at(9)
	upd.Judgement = "changed"
	upd.AccessoryIDs = []string{"ACC9"}
	upd.Owner, upd.Description = "bob", "not kept" // not of the TicketDetail
	if err := st.Update(t.Context(), func(tx store.Tx) error { return tx.UpdateTicket(upd) }); err != nil {
		t.Fatalf("UpdateTicket: %v", err)
	}
	want := upd
	want.Owner, want.Description = "alice", "Disk full on ECS"
	if got := a1(); !reflect.DeepEqual(cloneTicket(got), cloneTicket(want)) {
		t.Errorf("after UpdateTicket, Ticket(A1) = %+v; want %+v", got, want)
	}
	if page, total := query(t, st, store.TicketQuery{Statuses: []int{store.StatusCanceled}}); !slices.Equal(page, ids("B1", "A1")) || total != 2 {
		t.Errorf("status 4 = %q of %d; want B1 A1 of 2", page, total)
	}
	// Messages, scores and relations stay.
	d := snapshot(t, st)
	if i := slices.IndexFunc(d.Tickets, func(tk store.Ticket) bool { return tk.ID == "A1" }); len(d.Tickets[i].Messages) != 2 || !slices.Equal(d.Tickets[i].Relations, ids("C1")) {
		t.Errorf("A1 after UpdateTicket: messages %+v, relations %q; want 2 and C1", d.Tickets[i].Messages, d.Tickets[i].Relations)
	}

	// A new create time moves the ticket in list order.
	b3 := store.Ticket{ID: "B3", TicketDetail: store.TicketDetail{Created: at(10)}}
	if err := st.Update(t.Context(), func(tx store.Tx) error { return tx.UpdateTicket(b3) }); err != nil {
		t.Fatalf("UpdateTicket(B3): %v", err)
	}
	if page, total := query(t, st, store.TicketQuery{Limit: 2}); !slices.Equal(page, ids("B3", "B1")) || total != 6 {
		t.Errorf("first page after B3 moved = %q of %d; want B3 B1 of 6", page, total)
	}
	if page, _ := query(t, st, store.TicketQuery{Owners: ids("bob")}); !slices.Equal(page, ids("B3", "B1", "B2")) {
		t.Errorf("bob's after B3 moved = %q; want B3 B1 B2", page)
	}

	err := st.Update(t.Context(), func(tx store.Tx) error {
		return tx.UpdateTicket(store.Ticket{ID: "NOPE", TicketDetail: store.TicketDetail{Status: 1}})
	})
	if !errors.Is(err, store.ErrNotFound) {
		t.Errorf("UpdateTicket(NOPE) = %v, want ErrNotFound", err)
	}
}

func (s suite) messages(t *testing.T) {
	st := s.with(t, accounts())
	base := accounts().Tickets[0].Messages
	added := []store.Message{
		{ID: "MSG10", Replier: "alice", Content: "third, with\nlines and ünïcode", Created: at(3), AccessoryIDs: []string{"ACC2", "ACC3"}},
		{ID: "MSG11", Type: 1, Replier: "bob", Content: strings.Repeat("x", store.MaxMessageContent), Created: at(3)},
		{ID: "MSG12", Replier: "alice", Content: "", Created: at(2)}, // added order, not time order
	}
	err := st.Update(t.Context(), func(tx store.Tx) error {
		for _, m := range added {
			if err := tx.AddMessage("A1", m); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatalf("AddMessage: %v", err)
	}
	all := append(slices.Clone(base), added...)
	cases := []struct {
		offset, limit int
		want          []store.Message
	}{
		{0, 0, all},
		{0, 2, all[:2]},
		{2, 2, all[2:4]},
		{4, 2, all[4:]},
		{5, 2, nil},
		{9, 0, nil},
		{1, 100, all[1:]},
		{3, 0, all[3:]},
	}
	for _, c := range cases {
		view(t, st, func(tx store.Tx) {
			page, total, err := tx.Messages("A1", c.offset, c.limit)
			if err != nil || total != len(all) || !sameMessages(page, c.want) {
				t.Errorf("Messages(A1, %d, %d) = %+v, %d, %v; want %+v, %d", c.offset, c.limit, page, total, err, c.want, len(all))
			}
		})
	}
	view(t, st, func(tx store.Tx) {
		if page, total, err := tx.Messages("A2", 0, 10); err != nil || total != 0 || len(page) != 0 {
			t.Errorf("Messages(A2) = %+v, %d, %v; want none", page, total, err)
		}
		if page, total, err := tx.Messages("NOPE", 0, 0); err != nil || total != 0 || len(page) != 0 {
			t.Errorf("Messages(NOPE) = %+v, %d, %v; want none", page, total, err)
		}
	})
	if err := st.Update(t.Context(), func(tx store.Tx) error {
		return tx.AddMessage("NOPE", store.Message{ID: "MSG99", Replier: "alice", Content: "x", Created: at(1)})
	}); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("AddMessage(NOPE) = %v, want ErrNotFound", err)
	}
}

func sameMessages(got, want []store.Message) bool {
	if len(got) != len(want) {
		return false
	}
	for i := range got {
		if !reflect.DeepEqual(cloneMessage(got[i]), cloneMessage(want[i])) {
			return false
		}
	}
	return true
}

func (s suite) scores(t *testing.T) {
	st := s.with(t, accounts())
	added := []store.Score{
		{Author: "bob", Judgement: "again", Created: at(5), Satisfaction: []store.Satisfaction{{ID: 1, Value: 4}, {ID: 3, Value: 2, Name: "Result"}}},
		{Author: "alice", Judgement: "", Created: at(5)},
	}
	err := st.Update(t.Context(), func(tx store.Tx) error {
		return errors.Join(tx.AddScore("B1", added[0]), tx.AddScore("B1", added[1]), tx.AddScore("A2", added[0]))
	})
	if err != nil {
		t.Fatalf("AddScore: %v", err)
	}
	want := map[string][]store.Score{
		"B1": append(slices.Clone(accounts().Tickets[3].Scores), added...),
		"A2": added[:1],
		"A3": nil,
	}
	view(t, st, func(tx store.Tx) {
		for id, w := range want {
			got, err := tx.Scores(id)
			if err != nil || len(got) != len(w) {
				t.Errorf("Scores(%s) = %+v, %v; want %+v", id, got, err, w)
				continue
			}
			for i := range got {
				if !reflect.DeepEqual(cloneScore(got[i]), cloneScore(w[i])) {
					t.Errorf("Scores(%s)[%d] = %+v; want %+v", id, i, got[i], w[i])
				}
			}
		}
	})
	if err := st.Update(t.Context(), func(tx store.Tx) error {
		return tx.AddScore("NOPE", added[1])
	}); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("AddScore(NOPE) = %v, want ErrNotFound", err)
	}
}

// uploads are the accessories of the flow tests: alice's at hours 0, 1
// and 2, and one of carol's.
func uploads() []store.Accessory {
	return []store.Accessory{
		{ID: "ACC1", Owner: "alice", Name: "a.log", From: "incident", Data: []byte("0123456789"), Size: 10, Created: at(0)},
		{ID: "ACC2", Owner: "alice", Name: "b.png", From: "message", Data: []byte{0, 0xff, 0x80, '\n', 0, 1}, Size: 20, Created: at(1)},
		{ID: "ACC3", Owner: "alice", Name: "empty.txt", From: "message", Data: nil, Size: 40, Created: at(2)},
		{ID: "ACC4", Owner: "carol", Account: "acme", Name: "c.zip", From: "incident", Data: bytes.Repeat([]byte{7}, 1<<16), Size: 100, Created: at(1)},
	}
}

func putUploads(t *testing.T, st store.Store) {
	t.Helper()
	err := st.Update(t.Context(), func(tx store.Tx) error {
		for _, a := range uploads() {
			if err := tx.PutAccessory(a); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatalf("PutAccessory: %v", err)
	}
}

// checkUploads checks that each of the uploads named by ids is stored, and
// each of the others is not.
func checkUploads(t *testing.T, st store.Store, ids ...string) {
	t.Helper()
	view(t, st, func(tx store.Tx) {
		for _, want := range uploads() {
			got, err := tx.Accessory(want.ID)
			if !slices.Contains(ids, want.ID) {
				if !errors.Is(err, store.ErrNotFound) {
					t.Errorf("Accessory(%s) = %+v, %v; want ErrNotFound", want.ID, got, err)
				}
				continue
			}
			// Tx.Accessory leaves the bytes out and Snapshot carries no
			// uploads, so no Tx method reads Data back: the stored bytes
			// are checked through Size only (and the backend's own tests).
			if err != nil || got.Data != nil || got.Owner != want.Owner || got.Account != want.Account ||
				got.Name != want.Name || got.From != want.From || got.Size != want.Size || !got.Created.Equal(want.Created) {
				t.Errorf("Accessory(%s) = %+v, %v; want %+v", want.ID, got, err, want)
			}
		}
	})
}

func accessoryBytes(t *testing.T, st store.Store, owner string, since time.Time) int64 {
	t.Helper()
	var n int64
	view(t, st, func(tx store.Tx) {
		var err error
		if n, err = tx.AccessoryBytes(owner, since); err != nil {
			t.Errorf("AccessoryBytes(%s, %v): %v", owner, since, err)
		}
	})
	return n
}

func (s suite) accessories(t *testing.T) {
	st := s.with(t, accounts())
	putUploads(t, st)
	checkUploads(t, st, "ACC1", "ACC2", "ACC3", "ACC4")
	for _, c := range []struct {
		owner string
		since time.Time
		want  int64
	}{
		{"alice", time.Time{}, 70},
		{"alice", at(0), 70},
		{"alice", at(1), 60}, // inclusive
		{"alice", at(1).Add(time.Second), 40},
		{"alice", at(2), 40},
		{"alice", at(3), 0},
		{"carol", at(0), 100},
		{"bob", time.Time{}, 0},
		{"nobody", time.Time{}, 0},
	} {
		if got := accessoryBytes(t, st, c.owner, c.since); got != c.want {
			t.Errorf("AccessoryBytes(%s, %v) = %d, want %d", c.owner, c.since, got, c.want)
		}
	}
	err := st.Update(t.Context(), func(tx store.Tx) error {
		return tx.PutAccessory(store.Accessory{ID: "ACC1", Owner: "bob", Name: "again", From: "incident", Size: 1, Created: at(3)})
	})
	if !errors.Is(err, store.ErrExists) {
		t.Errorf("PutAccessory of a taken ID = %v, want ErrExists", err)
	}
	checkUploads(t, st, "ACC1", "ACC2", "ACC3", "ACC4")
}

// normCatalogue turns c's empty slices into nil, as clone does for a
// Dataset.
func normCatalogue(c store.Catalogue) store.Catalogue {
	c = c.Clone()
	c.ProductCategories = nilIfEmpty(c.ProductCategories)
	c.ProblemTypes = nilIfEmpty(c.ProblemTypes)
	for i := range c.ProblemTypes {
		c.ProblemTypes[i].ProductCategories = nilIfEmpty(c.ProblemTypes[i].ProductCategories)
	}
	c.Satisfaction = nilIfEmpty(c.Satisfaction)
	return c
}

func checkCatalogue(t *testing.T, st store.Store, want store.Catalogue) {
	t.Helper()
	view(t, st, func(tx store.Tx) {
		got, err := tx.Catalogue()
		if err != nil || !reflect.DeepEqual(normCatalogue(got), normCatalogue(want)) {
			t.Errorf("Catalogue() = %+v, %v;\nwant %+v", got, err, want)
		}
	})
}

// custom is a catalogue unlike DefaultCatalogue.
func custom() store.Catalogue {
	return store.Catalogue{
		ProductCategories: []store.ProductCategory{{ID: "X", Name: "Product X", Description: "x", Acronym: "PX", CanUseSupportPlan: true}, {ID: "Y", Name: "Y"}},
		ProblemTypes: []store.ProblemType{
			{ID: "X-FAULT", Name: "X breaks", CaseType: "5", ProductCategories: []string{"X"}, CanUseSupportPlan: true},
			{ID: "ANY", Name: "Any question", CaseType: "0"},
		},
		Satisfaction: []store.SatisfactionDimension{{ID: 7, Name: "Speed", Description: "how fast", Value: 10, PerValue: 2, CategoryID: "9"}},
	}
}

func (s suite) catalogue(t *testing.T) {
	t.Run("FreshIsZero", func(t *testing.T) {
		checkCatalogue(t, s.fresh(t), store.Catalogue{})
	})
	t.Run("LoadPutsTheDefault", func(t *testing.T) {
		checkCatalogue(t, s.with(t, accounts()), store.DefaultCatalogue())
	})
	t.Run("LoadPutsTheDatasets", func(t *testing.T) {
		d := accounts()
		c := custom()
		d.Catalogue = &c
		st := s.with(t, d)
		checkCatalogue(t, st, custom())
		snap := snapshotCatalogue(t, st)
		if snap == nil || !reflect.DeepEqual(normCatalogue(*snap), normCatalogue(custom())) {
			t.Errorf("Snapshot().Catalogue = %+v, want %+v", snap, custom())
		}
	})
	t.Run("PutReplaces", func(t *testing.T) {
		st := s.with(t, accounts())
		c := custom()
		if err := st.Update(t.Context(), func(tx store.Tx) error { return tx.PutCatalogue(c) }); err != nil {
			t.Fatal(err)
		}
		c.ProblemTypes[0].ProductCategories[0] = "changed" // the store keeps its own copy
		checkCatalogue(t, st, custom())
		if err := st.Update(t.Context(), func(tx store.Tx) error { return tx.PutCatalogue(store.Catalogue{}) }); err != nil {
			t.Fatal(err)
		}
		checkCatalogue(t, st, store.Catalogue{})
	})
	t.Run("ResetDeletesIt", func(t *testing.T) {
		st := s.with(t, accounts())
		if err := st.Update(t.Context(), func(tx store.Tx) error { return tx.Reset() }); err != nil {
			t.Fatal(err)
		}
		checkCatalogue(t, st, store.Catalogue{})
		mustLoad(t, st, accounts(), false)
		checkCatalogue(t, st, store.DefaultCatalogue())
	})
}

func snapshotCatalogue(t *testing.T, st store.Store) *store.Catalogue {
	t.Helper()
	var c *store.Catalogue
	view(t, st, func(tx store.Tx) {
		d, err := tx.Snapshot()
		if err != nil {
			t.Fatal(err)
		}
		c = d.Catalogue
	})
	return c
}

func nextID(t *testing.T, st store.Store, counter string) int64 {
	t.Helper()
	var n int64
	err := st.Update(t.Context(), func(tx store.Tx) (err error) {
		n, err = tx.NextID(counter)
		return err
	})
	if err != nil {
		t.Fatalf("NextID(%s): %v", counter, err)
	}
	return n
}

func (s suite) nextID(t *testing.T) {
	t.Run("Sequence", func(t *testing.T) {
		st := s.fresh(t)
		var got []int64
		err := st.Update(t.Context(), func(tx store.Tx) error {
			for range 3 {
				n, err := tx.NextID("ticket")
				if err != nil {
					return err
				}
				got = append(got, n)
			}
			return nil
		})
		if err != nil || !slices.Equal(got, []int64{1, 2, 3}) {
			t.Errorf("NextID(ticket) three times = %v, %v; want 1 2 3", got, err)
		}
		// Counters are independent.
		if n := nextID(t, st, "message"); n != 1 {
			t.Errorf("first NextID(message) = %d, want 1", n)
		}
		if n := nextID(t, st, "ticket"); n != 4 {
			t.Errorf("fourth NextID(ticket) = %d, want 4", n)
		}
	})
	t.Run("NeverReused", func(t *testing.T) {
		// A failed transaction may give its value back or not; a value a
		// committed transaction got is never handed out again, even after
		// Reset.
		st := s.with(t, accounts())
		last := nextID(t, st, "ticket")
		err := st.Update(t.Context(), func(tx store.Tx) error {
			if _, err := tx.NextID("ticket"); err != nil {
				return err
			}
			return errBoom
		})
		if !errors.Is(err, errBoom) {
			t.Fatalf("Update = %v, want the error fn returned", err)
		}
		if n := nextID(t, st, "ticket"); n <= last {
			t.Errorf("NextID after a failed Update = %d, want more than %d", n, last)
		} else {
			last = n
		}
		mustLoad(t, st, accounts(), true) // resets
		if n := nextID(t, st, "ticket"); n <= last {
			t.Errorf("NextID after Reset = %d, want more than %d", n, last)
		}
	})
	t.Run("Concurrent", func(t *testing.T) {
		st := s.fresh(t)
		const workers, each = 8, 25
		var mu sync.Mutex
		seen := map[int64]int{}
		together(workers, func(w int) {
			for range each {
				var n int64
				err := st.Update(t.Context(), func(tx store.Tx) (err error) {
					n, err = tx.NextID("ticket")
					return err
				})
				if err != nil {
					t.Errorf("worker %d: NextID: %v", w, err)
					return
				}
				mu.Lock()
				seen[n]++
				mu.Unlock()
			}
		})
		var dups []int64
		for n, c := range seen {
			if c > 1 || n < 1 {
				dups = append(dups, n)
			}
		}
		if len(seen) != workers*each || len(dups) > 0 {
			t.Errorf("%d distinct values of %d; repeated or below 1: %v", len(seen), workers*each, dups)
		}
		if n := nextID(t, st, "ticket"); seen[n] > 0 || n <= int64(workers*each)-1 {
			t.Errorf("NextID after the race = %d, handed out before or too small", n)
		}
	})
}

// members: an account's users, and a group's within an account, by name.
func (s suite) members(t *testing.T) {
	st := s.with(t, accounts())
	for _, c := range []struct {
		name  string
		get   func(tx store.Tx) ([]string, error)
		users []string
	}{
		{"default account", func(tx store.Tx) ([]string, error) { return tx.AccountMembers("") }, ids("alice", "bob")},
		{"acme", func(tx store.Tx) ([]string, error) { return tx.AccountMembers("acme") }, ids("carol", "dave")},
		{"no such account", func(tx store.Tx) ([]string, error) { return tx.AccountMembers("nobody") }, nil},
		{"group g1", func(tx store.Tx) ([]string, error) { return tx.GroupMembers("", "g1") }, ids("alice", "bob")},
		{"group g2 in acme", func(tx store.Tx) ([]string, error) { return tx.GroupMembers("acme", "g2") }, ids("carol", "dave")},
		{"group g2 elsewhere", func(tx store.Tx) ([]string, error) { return tx.GroupMembers("", "g2") }, nil},
		{"no group", func(tx store.Tx) ([]string, error) { return tx.GroupMembers("other", "g1") }, nil},
	} {
		var got []string
		err := st.View(t.Context(), func(tx store.Tx) (err error) { got, err = c.get(tx); return err })
		if err != nil || !slices.Equal(got, c.users) {
			t.Errorf("%s: %q, %v; want %q", c.name, got, err, c.users)
		}
	}
}

func (s suite) deleteAccount(t *testing.T) {
	for _, c := range []struct {
		account       string
		users         []string // deleted
		tickets       []string // deleted
		keptUploads   []string
		survivorsRels map[string][]string // relations of survivors that change
	}{
		{account: "acme", users: ids("carol", "dave"), tickets: ids("C1", "C2", "D1"),
			keptUploads: ids("ACC1", "ACC2", "ACC3"), survivorsRels: map[string][]string{"A1": nil}},
		{account: "", users: ids("alice", "bob"), tickets: ids("A1", "A2", "A3", "B1", "B2", "B3"),
			keptUploads: ids("ACC4"), survivorsRels: map[string][]string{"C1": ids("C2")}},
		{account: "other", users: ids("erin"), tickets: ids("E1"), keptUploads: ids("ACC1", "ACC2", "ACC3", "ACC4")},
		{account: "nobody", keptUploads: ids("ACC1", "ACC2", "ACC3", "ACC4")},
	} {
		t.Run(fmt.Sprintf("account %q", c.account), func(t *testing.T) {
			c2 := custom()
			d := accounts()
			d.Catalogue = &c2
			st := s.with(t, d)
			putUploads(t, st)
			before := snapshot(t, st)
			id := nextID(t, st, "ticket")
			if err := st.Update(t.Context(), func(tx store.Tx) error { return tx.DeleteAccount(c.account) }); err != nil {
				t.Fatalf("DeleteAccount(%q): %v", c.account, err)
			}

			want := clone(before)
			want.Users = slices.DeleteFunc(want.Users, func(u store.User) bool { return slices.Contains(c.users, u.Name) })
			want.Tickets = slices.DeleteFunc(want.Tickets, func(tk store.Ticket) bool { return slices.Contains(c.tickets, tk.ID) })
			for i, tk := range want.Tickets {
				if r, ok := c.survivorsRels[tk.ID]; ok {
					want.Tickets[i].Relations = r
				}
			}
			after := snapshot(t, st)
			checkState(t, want, after)
			checkInvariants(t, after)
			checkCatalogue(t, st, custom())
			checkUploads(t, st, c.keptUploads...)

			var gone []lookup
			for _, u := range c.users {
				gone = append(gone, tok("tok-"+u, ""), key("AK-"+u, ""), lookup{"user", u, ""})
			}
			for _, tk := range c.tickets {
				gone = append(gone, lookup{"ticket", tk, ""})
			}
			checkFound(t, st, gone...)
			view(t, st, func(tx store.Tx) {
				for _, id := range c.tickets { // no message row outlives its ticket
					if page, total, err := tx.Messages(id, 0, 0); err != nil || total != 0 || len(page) != 0 {
						t.Errorf("Messages(%s) after DeleteAccount = %+v, %d, %v; want none", id, page, total, err)
					}
				}
			})
			if page, total := query(t, st, store.TicketQuery{Account: c.account}); len(page) != 0 || total != 0 {
				t.Errorf("Tickets of the deleted account = %q, %d; want none", page, total)
			}
			for _, u := range c.users {
				if n := accessoryBytes(t, st, u, time.Time{}); n != 0 {
					t.Errorf("AccessoryBytes(%s) after DeleteAccount = %d, want 0", u, n)
				}
			}
			// The other accounts still list their tickets.
			for _, account := range []string{"", "acme", "other"} {
				if account == c.account {
					continue
				}
				var wantIDs []string
				for _, tk := range accounts().Tickets {
					if accountOf(tk.Owner) == account {
						wantIDs = append(wantIDs, tk.ID)
					}
				}
				page, total := query(t, st, store.TicketQuery{Account: account})
				if slices.Sort(page); !slices.Equal(page, wantIDs) || total != len(wantIDs) {
					t.Errorf("Tickets of account %q = %q, %d; want %q", account, page, total, wantIDs)
				}
			}
			if n := nextID(t, st, "ticket"); n <= id {
				t.Errorf("NextID after DeleteAccount = %d, want more than %d", n, id)
			}
			// A new user and ticket in the deleted account.
			err := st.Update(t.Context(), func(tx store.Tx) error {
				return errors.Join(tx.PutUser(store.User{Name: "neo", Account: c.account}),
					tx.PutTicket(store.Ticket{ID: "N1", Owner: "neo", Description: "new", TicketDetail: store.TicketDetail{Account: c.account, Created: at(1)}}))
			})
			if err != nil {
				t.Fatalf("a new user and ticket in the deleted account: %v", err)
			}
			if page, total := query(t, st, store.TicketQuery{Account: c.account}); !slices.Equal(page, ids("N1")) || total != 1 {
				t.Errorf("Tickets of the account anew = %q, %d; want N1", page, total)
			}
		})
	}
}

// accountOf is the account of a user of accounts().
func accountOf(user string) string {
	for _, u := range accounts().Users {
		if u.Name == user {
			return u.Account
		}
	}
	panic("storetest: no user " + user)
}

// fullState is what a rollback must restore beyond the Snapshot: every
// account's list, the uploads, the catalogue.
type fullState struct {
	snap      store.Dataset
	lists     map[string][]string
	catalogue store.Catalogue
	bytes     map[string]int64
}

func captureFull(t *testing.T, st store.Store) fullState {
	t.Helper()
	f := fullState{snap: snapshot(t, st), lists: map[string][]string{}, bytes: map[string]int64{}}
	for _, account := range []string{"", "acme", "other"} {
		page, total := query(t, st, store.TicketQuery{Account: account})
		f.lists[account] = append(page, fmt.Sprint(total))
		bob := store.TicketQuery{Account: account, Owners: ids("bob", "carol", "erin"), Limit: 2}
		page, total = query(t, st, bob)
		f.lists[account+"/owners"] = append(page, fmt.Sprint(total))
	}
	view(t, st, func(tx store.Tx) {
		c, err := tx.Catalogue()
		if err != nil {
			t.Fatal(err)
		}
		f.catalogue = normCatalogue(c)
	})
	for _, u := range []string{"alice", "carol", "bob"} {
		f.bytes[u] = accessoryBytes(t, st, u, time.Time{})
	}
	return f
}

func (s suite) flowRollback(t *testing.T) {
	newTicket := store.Ticket{ID: "N1", Owner: "alice", Description: "new", TicketDetail: store.TicketDetail{Created: at(20)},
		Messages: []store.Message{{ID: "MSG20", Replier: "alice", Content: "m", Created: at(20)}},
		Scores:   []store.Score{{Author: "alice", Judgement: "j", Created: at(20)}}}
	moved := store.Ticket{ID: "B2", TicketDetail: store.TicketDetail{Status: store.StatusCompleted, Created: at(30), Judgement: "x"}}
	msg := store.Message{ID: "MSG21", Replier: "bob", Content: "m", Created: at(21)}
	score := store.Score{Author: "bob", Judgement: "j", Created: at(21)}
	upload := store.Accessory{ID: "ACC9", Owner: "alice", Name: "n", From: "incident", Data: []byte("x"), Size: 1000, Created: at(21)}
	writes := map[string]func(tx store.Tx) error{
		"PutTicket":     putTicket(newTicket),
		"UpdateTicket":  func(tx store.Tx) error { return tx.UpdateTicket(moved) },
		"AddMessage":    func(tx store.Tx) error { return tx.AddMessage("A1", msg) },
		"AddScore":      func(tx store.Tx) error { return tx.AddScore("B1", score) },
		"PutAccessory":  func(tx store.Tx) error { return tx.PutAccessory(upload) },
		"PutCatalogue":  func(tx store.Tx) error { return tx.PutCatalogue(custom()) },
		"DeleteAccount": func(tx store.Tx) error { return tx.DeleteAccount("acme") },
		"Reset":         func(tx store.Tx) error { return tx.Reset() },
		"everything": func(tx store.Tx) error {
			return errors.Join(tx.PutTicket(newTicket), tx.UpdateTicket(moved), tx.AddMessage("A1", msg),
				tx.AddMessage("N1", msg), tx.AddScore("B1", score), tx.PutAccessory(upload), tx.PutCatalogue(custom()),
				tx.DeleteAccount(""), tx.DeleteAccount("acme"),
				tx.PutUser(store.User{Name: "alice", Account: "acme"}), tx.PutTicket(newTicket),
				tx.Reset(), tx.PutCatalogue(store.Catalogue{}), tx.PutUser(store.User{Name: "alice"}), tx.PutTicket(newTicket))
		},
	}
	for name, w := range writes {
		t.Run(name, func(t *testing.T) {
			st := s.with(t, accounts())
			putUploads(t, st)
			before := captureFull(t, st)
			err := st.Update(t.Context(), func(tx store.Tx) error {
				if err := w(tx); err != nil {
					return fmt.Errorf("writes: %w", err)
				}
				return errBoom
			})
			if !errors.Is(err, errBoom) {
				t.Fatalf("Update = %v, want the error fn returned", err)
			}
			after := captureFull(t, st)
			checkState(t, before.snap, after.snap)
			if !reflect.DeepEqual(before.lists, after.lists) || !reflect.DeepEqual(before.catalogue, after.catalogue) ||
				!reflect.DeepEqual(before.bytes, after.bytes) {
				t.Errorf("after a failed Update:\n  %+v\nwant\n  %+v", after, before)
			}
			checkUploads(t, st, "ACC1", "ACC2", "ACC3", "ACC4")
			checkFound(t, st, tok("tok-carol", "carol"), lookup{"ticket", "N1", ""})
		})
	}
}

func (s suite) flowReadOnly(t *testing.T) {
	st := s.with(t, accounts())
	before := captureFull(t, st)
	writes := map[string]func(tx store.Tx) error{
		"UpdateTicket": func(tx store.Tx) error {
			return tx.UpdateTicket(store.Ticket{ID: "A1", TicketDetail: store.TicketDetail{Status: 3}})
		},
		"AddMessage": func(tx store.Tx) error {
			return tx.AddMessage("A1", store.Message{ID: "M", Replier: "alice", Content: "c", Created: at(1)})
		},
		"AddScore": func(tx store.Tx) error {
			return tx.AddScore("A1", store.Score{Author: "alice", Judgement: "j", Created: at(1)})
		},
		"PutAccessory": func(tx store.Tx) error {
			return tx.PutAccessory(store.Accessory{ID: "ACC9", Owner: "alice", Name: "n", From: "incident", Size: 1, Created: at(1)})
		},
		"PutCatalogue":  func(tx store.Tx) error { return tx.PutCatalogue(custom()) },
		"DeleteAccount": func(tx store.Tx) error { return tx.DeleteAccount("acme") },
		"NextID":        func(tx store.Tx) error { _, err := tx.NextID("ticket"); return err },
	}
	for name, w := range writes {
		if err := st.View(t.Context(), w); err == nil {
			t.Errorf("%s in View succeeded", name)
		}
	}
	after := captureFull(t, st)
	checkState(t, before.snap, after.snap)
	if !reflect.DeepEqual(before, after) {
		t.Errorf("after writes in View:\n  %+v\nwant\n  %+v", after, before)
	}
	if n := nextID(t, st, "ticket"); n != 1 {
		t.Errorf("first NextID after NextID in a View = %d, want 1", n)
	}
}

// snapshotLoadRoundtrip: a dataset with every field loads, snapshots as
// loaded (accounts set, relations mutual, sorted), and the snapshot loads
// into another store as the same state.
func (s suite) snapshotLoadRoundtrip(t *testing.T) {
	d := accounts()
	c := custom()
	d.Catalogue = &c
	d.Users[0].DomainID = "dom-alice"
	d.Users[0].Keys = append(d.Users[0].Keys, store.AccessKey{AK: "AK-temp", SK: "SK-temp", SecurityToken: "sec"})
	d.Tickets[1].TicketDetail = store.TicketDetail{Status: store.StatusFeedback, BusinessTypeID: "bt",
		ProductCategoryID: "ECS", RegionID: "cn-north-4", SeverityID: "2", SourceID: "83", Created: at(2),
		Pressed: at(3), Judgement: "j", AccessoryIDs: []string{"ACC1", "ACC2"}}
	d.Tickets[2].Account = "" // alice's, said explicitly
	d.Tickets[6].Account = "acme"

	st := s.with(t, d)
	got := snapshot(t, st)

	want := clone(d)
	slices.SortFunc(want.Users, func(a, b store.User) int { return strings.Compare(a.Name, b.Name) })
	slices.SortFunc(want.Tickets, func(a, b store.Ticket) int { return strings.Compare(a.ID, b.ID) })
	for i, tk := range want.Tickets {
		want.Tickets[i].Account = accountOf(tk.Owner)
	}
	want = withRelations(want, map[string][]string{"A1": ids("C1"), "C2": ids("C1")})
	checkState(t, want, got)
	checkInvariants(t, got)
	if sc := snapshotCatalogue(t, st); sc == nil || !reflect.DeepEqual(normCatalogue(*sc), normCatalogue(c)) {
		t.Errorf("Snapshot().Catalogue = %+v, want %+v", sc, c)
	}

	var full store.Dataset
	view(t, st, func(tx store.Tx) {
		var err error
		if full, err = tx.Snapshot(); err != nil {
			t.Fatal(err)
		}
	})
	again := s.with(t, full)
	// Load associates pairs in the order of the tickets, so a snapshot
	// loaded back may list a ticket's associations in another order.
	checkState(t, sortedRelations(got), sortedRelations(snapshot(t, again)))
	checkCatalogue(t, again, c)
	for _, account := range []string{"", "acme", "other"} {
		p1, n1 := query(t, st, store.TicketQuery{Account: account})
		p2, n2 := query(t, again, store.TicketQuery{Account: account})
		if !slices.Equal(p1, p2) || n1 != n2 {
			t.Errorf("account %q lists %q (%d) after the roundtrip, %q (%d) before", account, p2, n2, p1, n1)
		}
	}
}

func sortedRelations(d store.Dataset) store.Dataset {
	d = clone(d)
	for i := range d.Tickets {
		slices.Sort(d.Tickets[i].Relations)
	}
	return d
}

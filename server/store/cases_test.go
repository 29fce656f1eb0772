package store_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/osmstub/osmstub/server/store"
	"github.com/osmstub/osmstub/server/store/memory"
)

var t0 = time.Date(2026, 12, 7, 9, 30, 0, 0, time.UTC)

// flowStore holds alice and bob (group g) and carol in the default
// account, and dave in account "other".
func flowStore(t *testing.T) store.Store {
	t.Helper()
	s := memory.New()
	d := store.Dataset{Users: []store.User{
		{Name: "alice", Groups: []string{"g"}},
		{Name: "bob", Groups: []string{"g"}},
		{Name: "carol", Groups: []string{"h"}},
		{Name: "dave", Groups: []string{"g"}, Account: "other"},
	}}
	if _, err := store.Load(context.Background(), s, d, true); err != nil {
		t.Fatal(err)
	}
	return s
}

func newCase(t *testing.T, s store.Store, owner string, at time.Time) store.Ticket {
	t.Helper()
	tk, err := store.CreateCase(context.Background(), s, owner, at, store.NewCase{
		BusinessTypeID: "ECS-CONSULT", Description: "created by " + owner, SourceID: store.SourceID,
	}, store.DefaultAccessoryLimits)
	if err != nil {
		t.Fatal(err)
	}
	return tk
}

// wantRule checks err against want: nil, or a *RuleError wrapping want
// whose Detail mentions field (for ErrParam).
func wantRule(t *testing.T, err, want error, field string) {
	t.Helper()
	var re *store.RuleError
	switch {
	case want == nil && err != nil:
		t.Fatalf("err = %v, want none", err)
	case want == nil:
	case !errors.Is(err, want) || !errors.As(err, &re):
		t.Fatalf("err = %v, want a RuleError of %v", err, want)
	case field != "" && !strings.HasPrefix(re.Detail, field+":"):
		t.Fatalf("detail %q does not name %s", re.Detail, field)
	}
}

func TestCreateCaseRules(t *testing.T) {
	ok := store.NewCase{BusinessTypeID: "ECS-CONSULT", Description: "d", SourceID: store.SourceID}
	with := func(f func(*store.NewCase)) store.NewCase { c := ok; f(&c); return c }
	for _, tc := range []struct {
		name  string
		c     store.NewCase
		want  error
		field string
	}{
		{"minimal", ok, nil, ""},
		{"source_id empty, as the SDK sends an unset one", with(func(c *store.NewCase) { c.SourceID = "" }), nil, ""},
		{"source_id other", with(func(c *store.NewCase) { c.SourceID = "web" }), store.ErrParam, "source_id"},
		{"unknown problem type", with(func(c *store.NewCase) { c.BusinessTypeID = "NOPE" }), store.ErrParam, "business_type_id"},
		{"fault without region", with(func(c *store.NewCase) { c.BusinessTypeID = "ECS-FAULT" }), store.ErrParam, "region_id"},
		{"fault with region", with(func(c *store.NewCase) { c.BusinessTypeID = "ECS-FAULT"; c.RegionID = "cn-south-1" }), nil, ""},
		{"consultation without region", with(func(c *store.NewCase) { c.ProductCategoryID = "ECS" }), nil, ""},
		{"unknown category", with(func(c *store.NewCase) { c.ProductCategoryID = "NOPE" }), store.ErrParam, "product_category_id"},
		{"type not of category", with(func(c *store.NewCase) { c.ProductCategoryID = "OBS" }), store.ErrParam, "business_type_id"},
		{"blank description", with(func(c *store.NewCase) { c.Description = "  " }), store.ErrParam, "simple_description"},
		{"unknown attachment", with(func(c *store.NewCase) { c.AccessoryIDs = []string{"ACC99"} }), store.ErrParam, "accessory_ids[0]"},
		{"too many attachments", with(func(c *store.NewCase) { c.AccessoryIDs = make([]string, 6) }), store.ErrParam, "accessory_ids"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := flowStore(t)
			before := snapshot(t, s)
			tk, err := store.CreateCase(context.Background(), s, "alice", t0, tc.c, store.DefaultAccessoryLimits)
			wantRule(t, err, tc.want, tc.field)
			if tc.want != nil {
				if after := snapshot(t, s); !same(after, before) {
					t.Fatalf("a refused create changed the state:\n%v\n%v", before, after)
				}
				return
			}
			if tk.ID != "CS20261207000001" || tk.Status != store.StatusPending || !tk.Created.Equal(t0) || tk.Owner != "alice" || tk.Account != "" {
				t.Fatalf("created %+v", tk)
			}
			got, err := store.ShowCase(context.Background(), s, "alice", tk.ID, "")
			if err != nil || got.Description != tc.c.Description {
				t.Fatalf("show: %+v, %v", got, err)
			}
		})
	}
}

func snapshot(t *testing.T, s store.Store) store.Dataset {
	t.Helper()
	var d store.Dataset
	if err := s.View(context.Background(), func(tx store.Tx) (err error) { d, err = tx.Snapshot(); return err }); err != nil {
		t.Fatal(err)
	}
	return d
}

func same(a, b store.Dataset) bool {
	ja, _ := json.Marshal(a)
	jb, _ := json.Marshal(b)
	return string(ja) == string(jb)
}

func TestCaseIDsFollowTheDay(t *testing.T) {
	s := flowStore(t)
	a := newCase(t, s, "alice", t0)
	b := newCase(t, s, "dave", t0.Add(24*time.Hour))
	if a.ID != "CS20261207000001" || b.ID != "CS20261208000002" || b.Account != "other" {
		t.Fatalf("ids %s %s (account %q)", a.ID, b.ID, b.Account)
	}
}

func TestActions(t *testing.T) {
	all := []int{0, 1, 2, 3, 4, 5, 12, 13, 17}
	// action -> status before -> status after; absent: refused (ErrNotNow).
	want := map[string]map[int]int{
		"cancel": {0: 4, 1: 4, 17: 4},
		"close":  {1: 3, 2: 3, 17: 3},
		"press":  {0: 0, 1: 1, 17: 17},
		"delete": {3: 13, 4: 13, 12: 13},
	}
	for action, to := range want {
		for _, from := range all {
			t.Run(fmt.Sprintf("%s/from-%d", action, from), func(t *testing.T) {
				s := flowStore(t)
				tk := newCase(t, s, "alice", t0)
				if err := store.SetStatus(context.Background(), s, tk.ID, from); err != nil {
					t.Fatal(err)
				}
				err := store.Act(context.Background(), s, "alice", tk.ID, action, t0.Add(time.Hour), store.Action{})
				after, ok := to[from]
				if !ok {
					wantRule(t, err, store.ErrNotNow, "")
					after = from
				} else {
					wantRule(t, err, nil, "")
				}
				if st, err := store.CaseStatus(context.Background(), s, "alice", tk.ID); err != nil || st != after {
					t.Fatalf("status %d, %v; want %d", st, err, after)
				}
			})
		}
	}
}

func TestActionRefusals(t *testing.T) {
	for _, tc := range []struct {
		name, caller, action, group string
		other                       bool // the ticket is bob's
		id                          string
		want                        error
	}{
		{name: "unknown action", caller: "alice", action: "reopen", want: store.ErrUnknownAction},
		{name: "empty action", caller: "alice", action: "", want: store.ErrUnknownAction},
		{name: "unknown ticket", caller: "alice", action: "cancel", id: "CS20261207999999", want: store.ErrUnknownTicket},
		{name: "teammate without group", caller: "alice", action: "cancel", other: true, want: store.ErrNoPermission},
		{name: "teammate with group", caller: "alice", action: "cancel", other: true, group: "g", want: nil},
		{name: "group the caller is not in", caller: "carol", action: "cancel", other: true, group: "g", want: store.ErrNoPermission},
		{name: "other account, even with the group's name", caller: "dave", action: "cancel", other: true, group: "g", want: store.ErrUnknownTicket},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := flowStore(t)
			owner := "alice"
			if tc.other {
				owner = "bob"
			}
			tk := newCase(t, s, owner, t0)
			id := tk.ID
			if tc.id != "" {
				id = tc.id
			}
			before := snapshot(t, s)
			err := store.Act(context.Background(), s, tc.caller, id, tc.action, t0.Add(time.Hour), store.Action{Group: tc.group})
			wantRule(t, err, tc.want, "")
			if tc.want != nil && !same(snapshot(t, s), before) {
				t.Fatal("a refused action changed the state")
			}
		})
	}
}

func TestPressCooldown(t *testing.T) {
	s := flowStore(t)
	tk := newCase(t, s, "alice", t0)
	for _, step := range []struct {
		after time.Duration
		want  error
	}{
		{10 * time.Minute, store.ErrPressTooSoon}, // just created
		{store.PressCooldown - time.Second, store.ErrPressTooSoon},
		{store.PressCooldown, nil},
		{store.PressCooldown + 10*time.Minute, store.ErrPressTooSoon}, // just pressed
		{2 * store.PressCooldown, nil},
	} {
		err := store.Act(context.Background(), s, "alice", tk.ID, "press", t0.Add(step.after), store.Action{})
		wantRule(t, err, step.want, "")
	}
}

func TestVisibility(t *testing.T) {
	s := flowStore(t)
	alices := newCase(t, s, "alice", t0)
	bobs := newCase(t, s, "bob", t0)
	for _, tc := range []struct {
		caller, id, group string
		show, status      error
	}{
		{"alice", alices.ID, "", nil, nil},
		{"alice", bobs.ID, "", store.ErrNoPermission, nil}, // status: any shared group
		{"alice", bobs.ID, "g", nil, nil},
		{"alice", bobs.ID, "h", store.ErrNoPermission, nil},
		{"carol", bobs.ID, "g", store.ErrNoPermission, store.ErrNoPermission},
		{"dave", alices.ID, "g", store.ErrUnknownTicket, store.ErrUnknownTicket},
		{"alice", "CS20261207999999", "", store.ErrUnknownTicket, store.ErrUnknownTicket},
	} {
		t.Run(tc.caller+"/"+tc.id+"/"+tc.group, func(t *testing.T) {
			_, err := store.ShowCase(context.Background(), s, tc.caller, tc.id, tc.group)
			wantRule(t, err, tc.show, "")
			_, err = store.CaseStatus(context.Background(), s, tc.caller, tc.id)
			wantRule(t, err, tc.status, "")
			_, err = store.List(context.Background(), s, tc.caller, tc.id)
			wantRule(t, err, tc.status, "")
		})
	}
}

func TestRelationsBetweenCreatedTickets(t *testing.T) {
	s := flowStore(t)
	a, b := newCase(t, s, "alice", t0), newCase(t, s, "alice", t0)
	d := newCase(t, s, "dave", t0)
	ctx := context.Background()
	wantRule(t, store.Associate(ctx, s, "alice", a.ID, []string{b.ID}, ""), nil, "")
	wantRule(t, store.Associate(ctx, s, "alice", a.ID, []string{d.ID}, ""), store.ErrUnknownTicket, "")
	wantRule(t, store.Associate(ctx, s, "dave", d.ID, []string{a.ID}, "g"), store.ErrUnknownTicket, "")
	rels, err := store.List(ctx, s, "alice", b.ID)
	if err != nil || len(rels) != 1 || rels[0].CaseID != a.ID {
		t.Fatalf("relations of %s: %+v, %v", b.ID, rels, err)
	}
}

func TestListCases(t *testing.T) {
	s := flowStore(t)
	ctx := context.Background()
	var ids []string // newest first
	for i := range 5 {
		tk, err := store.CreateCase(ctx, s, "alice", t0.Add(time.Duration(i)*time.Minute), store.NewCase{
			BusinessTypeID: "QUOTA", Description: fmt.Sprintf("quota ticket %d", i),
		}, store.DefaultAccessoryLimits)
		if err != nil {
			t.Fatal(err)
		}
		ids = append([]string{tk.ID}, ids...)
	}
	bobs := newCase(t, s, "bob", t0.Add(time.Hour))
	newCase(t, s, "dave", t0.Add(time.Hour))
	if err := store.SetStatus(ctx, s, ids[1], store.StatusCanceled); err != nil {
		t.Fatal(err)
	}
	four := store.StatusCanceled
	for _, tc := range []struct {
		name   string
		caller string
		q      store.CaseQuery
		want   []string
		total  int
		err    error
	}{
		{name: "own, newest first", caller: "alice", q: store.CaseQuery{}, want: ids, total: 5},
		{name: "page", caller: "alice", q: store.CaseQuery{Offset: 1, Limit: 2}, want: ids[1:3], total: 5},
		{name: "past the end", caller: "alice", q: store.CaseQuery{Offset: 9, Limit: 2}, want: nil, total: 5},
		{name: "group", caller: "alice", q: store.CaseQuery{Group: "g", Limit: 2}, want: []string{bobs.ID, ids[0]}, total: 6},
		{name: "group not mine", caller: "carol", q: store.CaseQuery{Group: "g"}, err: store.ErrNoPermission},
		{name: "status", caller: "alice", q: store.CaseQuery{Statuses: []int{four}}, want: ids[1:2], total: 1},
		{name: "id", caller: "alice", q: store.CaseQuery{ID: ids[2]}, want: ids[2:3], total: 1},
		{name: "app key an id", caller: "alice", q: store.CaseQuery{AppKey: ids[3]}, want: ids[3:4], total: 1},
		{name: "labels: the stub has none", caller: "alice", q: store.CaseQuery{NoLabels: true}, want: nil, total: 0},
		{name: "id of another account", caller: "dave", q: store.CaseQuery{ID: ids[2]}, want: nil, total: 0},
		{name: "keys, all must match, any case", caller: "alice", q: store.CaseQuery{Keys: []string{"QUOTA 3"}}, want: ids[1:2], total: 1},
		{name: "keys repeated", caller: "alice", q: store.CaseQuery{Keys: []string{"ticket", "4"}}, want: ids[0:1], total: 1},
		{name: "time range inclusive", caller: "alice", q: store.CaseQuery{From: t0.Add(time.Minute), To: t0.Add(3 * time.Minute)}, want: ids[1:4], total: 3},
		{name: "other account sees its own only", caller: "dave", q: store.CaseQuery{Group: "g"}, want: nil, total: 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			page, total, err := store.ListCases(ctx, s, tc.caller, tc.q)
			wantRule(t, err, tc.err, "")
			if tc.err != nil {
				return
			}
			var got []string
			for _, p := range page {
				got = append(got, p.ID)
			}
			if tc.name == "other account sees its own only" {
				if total != 1 || len(got) != 1 || got[0] == bobs.ID {
					t.Fatalf("dave lists %v (%d)", got, total)
				}
				return
			}
			if fmt.Sprint(got) != fmt.Sprint(tc.want) || total != tc.total {
				t.Fatalf("got %v (%d), want %v (%d)", got, total, tc.want, tc.total)
			}
		})
	}
}

func TestMessages(t *testing.T) {
	s := flowStore(t)
	ctx := context.Background()
	tk := newCase(t, s, "alice", t0)
	up, err := store.Upload(ctx, s, "alice", t0, "boot.log", "message", []byte("kernel panic"), store.DefaultAccessoryLimits)
	if err != nil {
		t.Fatal(err)
	}
	daves, err := store.Upload(ctx, s, "dave", t0, "x.txt", "message", []byte("x"), store.DefaultAccessoryLimits)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, caller, group, content string
		acc                          []string
		want                         error
		field                        string
	}{
		{name: "with attachment", caller: "alice", content: "log attached", acc: []string{up.ID}},
		{name: "teammate with group", caller: "bob", group: "g", content: "me too"},
		{name: "teammate without group", caller: "bob", content: "me too", want: store.ErrNoPermission},
		{name: "blank", caller: "alice", content: " ", want: store.ErrParam, field: "message.content"},
		{name: "another account's upload", caller: "alice", content: "x", acc: []string{daves.ID}, want: store.ErrParam, field: "message.accessory_ids[0]"},
		{name: "other account", caller: "dave", group: "g", content: "x", want: store.ErrUnknownTicket},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := store.AddMessage(ctx, s, tc.caller, tk.ID, tc.group, t0, tc.content, tc.acc, store.DefaultAccessoryLimits)
			wantRule(t, err, tc.want, tc.field)
		})
	}
	if err := store.Reply(ctx, s, tk.ID, "engineer", "please reboot", t0.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	page, total, err := store.ListMessages(ctx, s, "alice", tk.ID, "", 2, 10)
	if err != nil || total != 4 || len(page) != 2 || page[0].Replier != "bob" || page[1].Type != 1 {
		t.Fatalf("messages %+v (%d), %v", page, total, err)
	}
	if err := store.SetStatus(ctx, s, tk.ID, store.StatusDeleted); err != nil {
		t.Fatal(err)
	}
	wantRule(t, store.AddMessage(ctx, s, "alice", tk.ID, "", t0, "x", nil, store.DefaultAccessoryLimits), store.ErrNotNow, "")
}

func TestUploadRules(t *testing.T) {
	lim := store.AccessoryLimits{Count: 2, SizeMB: 1, Types: []string{"txt", "log"}, DailyMB: 2}
	mb := make([]byte, 1<<20)
	for _, tc := range []struct {
		name  string
		sizes []int // earlier uploads of the day, then this one
		file  string
		want  error
		field string
	}{
		{name: "ok", sizes: []int{10}, file: "a.txt"},
		{name: "type by extension, any case", sizes: []int{10}, file: "A.LOG"},
		{name: "type not allowed", sizes: []int{10}, file: "a.exe", want: store.ErrParam, field: "accessory_name"},
		{name: "no extension", sizes: []int{10}, file: "README", want: store.ErrParam, field: "accessory_name"},
		{name: "empty", sizes: []int{0}, file: "a.txt", want: store.ErrParam, field: "accessory_data"},
		{name: "too large", sizes: []int{1<<20 + 1}, file: "a.txt", want: store.ErrParam, field: "accessory_data"},
		{name: "at the size limit", sizes: []int{1 << 20}, file: "a.txt"},
		{name: "daily budget reached", sizes: []int{1 << 20, 1 << 20, 1}, file: "a.txt", want: store.ErrUploadBudget},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := flowStore(t)
			ctx := context.Background()
			n := len(tc.sizes) - 1
			for _, size := range tc.sizes[:n] {
				if _, err := store.Upload(ctx, s, "alice", t0, "x.txt", "incident", mb[:size], lim); err != nil {
					t.Fatal(err)
				}
			}
			data := make([]byte, tc.sizes[n])
			a, err := store.Upload(ctx, s, "alice", t0, tc.file, "incident", data, lim)
			wantRule(t, err, tc.want, tc.field)
			if tc.want == nil && (a.Size != int64(len(data)) || a.Owner != "alice") {
				t.Fatalf("upload %+v", a)
			}
		})
	}
	t.Run("a new day, a new budget", func(t *testing.T) {
		s := flowStore(t)
		for _, at := range []time.Time{t0, t0, t0.Add(24 * time.Hour)} {
			if _, err := store.Upload(context.Background(), s, "alice", at, "x.txt", "incident", mb, lim); err != nil {
				t.Fatal(err)
			}
		}
	})
}

func TestScores(t *testing.T) {
	for _, tc := range []struct {
		name   string
		status int
		sat    []store.Satisfaction
		want   error
		field  string
	}{
		{name: "completed", status: store.StatusCompleted, sat: []store.Satisfaction{{ID: 1, Value: 5}, {ID: 3, Value: 4}}},
		{name: "to be confirmed, judgement only", status: store.StatusToConfirm},
		{name: "still pending", status: store.StatusPending, want: store.ErrNotNow},
		{name: "canceled", status: store.StatusCanceled, want: store.ErrNotNow},
		{name: "unknown dimension", status: store.StatusCompleted, sat: []store.Satisfaction{{ID: 2, Value: 5}}, want: store.ErrParam, field: "incident_satisfaction_list[0].satisfaction_id"},
		{name: "value over the dimension's", status: store.StatusCompleted, sat: []store.Satisfaction{{ID: 1, Value: 6}}, want: store.ErrParam, field: "incident_satisfaction_list[0].satisfaction_value"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := flowStore(t)
			ctx := context.Background()
			tk := newCase(t, s, "alice", t0)
			if err := store.SetStatus(ctx, s, tk.ID, tc.status); err != nil {
				t.Fatal(err)
			}
			err := store.AddScore(ctx, s, "alice", tk.ID, "", t0, "quick and right", tc.sat)
			wantRule(t, err, tc.want, tc.field)
			got, err := store.ShowCase(ctx, s, "alice", tk.ID, "")
			if err != nil {
				t.Fatal(err)
			}
			if scored := len(got.Scores) == 1 && got.Judgement == "quick and right"; scored != (tc.want == nil) {
				t.Fatalf("scores %+v judgement %q", got.Scores, got.Judgement)
			}
		})
	}
}

// TestCaseNames: ShowCase and ListCases name a ticket's problem type, case
// type and category from the catalogue, in their own transaction.
func TestCaseNames(t *testing.T) {
	s := flowStore(t)
	ctx := context.Background()
	tk, err := store.CreateCase(ctx, s, "alice", t0, store.NewCase{
		BusinessTypeID: "ECS-FAULT", ProductCategoryID: "ECS", RegionID: "r", Description: "d",
	}, store.DefaultAccessoryLimits)
	if err != nil {
		t.Fatal(err)
	}
	want := store.Names{ProblemType: "Instance unreachable", CaseType: "Fault report", Category: "Elastic Cloud Server"}
	got, err := store.ShowCase(ctx, s, "alice", tk.ID, "")
	if err != nil || got.Names != want {
		t.Errorf("ShowCase names %+v, %v; want %+v", got.Names, err, want)
	}
	page, _, err := store.ListCases(ctx, s, "alice", store.CaseQuery{})
	if err != nil || len(page) != 1 || page[0].Names != want {
		t.Errorf("ListCases names %+v, %v; want %+v", page, err, want)
	}
	consult := newCase(t, s, "alice", t0)
	if got, _ := store.ShowCase(ctx, s, "alice", consult.ID, ""); got.Names != (store.Names{ProblemType: "Product consultation", CaseType: "Consultation"}) {
		t.Errorf("a consultation without category: %+v", got.Names)
	}
}

// TestRelationsHideOtherAccounts: fixtures and the control API may relate
// tickets of two accounts; ListRelation still shows neither the other.
func TestRelationsHideOtherAccounts(t *testing.T) {
	s := flowStore(t)
	ctx := context.Background()
	a, b, d := newCase(t, s, "alice", t0), newCase(t, s, "alice", t0), newCase(t, s, "dave", t0)
	if err := store.Link(ctx, s, a.ID, b.ID, d.ID); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ caller, id, want string }{{"alice", a.ID, b.ID}, {"dave", d.ID, ""}} {
		rels, err := store.List(ctx, s, c.caller, c.id)
		var got []string
		for _, r := range rels {
			got = append(got, r.CaseID)
		}
		if err != nil || strings.Join(got, ",") != c.want {
			t.Errorf("List(%s, %s) = %v, %v; want %q", c.caller, c.id, got, err, c.want)
		}
	}
}

// TestMessageIDsUnique: a data set's message IDs never meet the stub's. A
// message ID the old counter would have given next (MSG000001) stays its
// own; one the stub gives next (ticket-position) is refused in a data set
// anywhere but at that position.
func TestMessageIDsUnique(t *testing.T) {
	ctx := context.Background()
	at := func(id string, msgs ...store.Message) store.Ticket {
		return store.Ticket{ID: id, Owner: "alice", Description: "d", Messages: msgs}
	}
	msg := func(id string) store.Message {
		return store.Message{ID: id, Replier: "alice", Content: "c", Created: t0}
	}
	s := memory.New()
	d := store.Dataset{Users: []store.User{{Name: "alice"}}, Tickets: []store.Ticket{at("T1", msg("MSG000001")), at("T2", msg("T2-1")), at("T3", msg(""))}}
	if _, err := store.Load(ctx, s, d, true); err != nil {
		t.Fatal(err)
	}
	if err := store.AddMessage(ctx, s, "alice", "T1", "", t0, "next", nil, store.DefaultAccessoryLimits); err != nil {
		t.Fatal(err)
	}
	tk := newCase(t, s, "alice", t0)
	seen := map[string]bool{}
	for _, tk := range snapshot(t, s).Tickets {
		for _, m := range tk.Messages {
			if seen[m.ID] {
				t.Errorf("message ID %s given twice", m.ID)
			}
			seen[m.ID] = true
		}
	}
	for _, id := range []string{"MSG000001", "T1-2", "T2-1", "T3-1" /* given by Load */, tk.ID + "-1"} {
		if !seen[id] {
			t.Errorf("no message %s in %v", id, seen)
		}
	}

	for _, c := range []struct {
		name    string
		tickets []store.Ticket
		ok      bool
	}{
		{"the stub's next ID on its ticket", []store.Ticket{at("T1", msg("T1-2"))}, false},
		{"the stub's next ID on another ticket", []store.Ticket{at("T1", msg("T1-1")), at("T2", msg("T1-2"))}, false},
		{"the stub's ID of another ticket's message", []store.Ticket{at("T1", msg("T1-1")), at("T2", msg("T1-1"))}, false},
		{"the stub's ID at its position", []store.Ticket{at("T1", msg("x"), msg("T1-2"))}, true},
		{"a dash without digits", []store.Ticket{at("T1", msg("T1-")), at("T2", msg("T1-x"))}, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			err := store.Dataset{Users: []store.User{{Name: "alice"}}, Tickets: c.tickets}.Validate()
			if c.ok != (err == nil) || err != nil && !strings.Contains(err.Error(), "message_id") {
				t.Errorf("Validate: %v, want ok %v", err, c.ok)
			}
		})
	}
}

// TestTicketLimits: a ticket holds at most MaxMessages messages (its
// description the first, the staff's replies too) and MaxScores scores.
func TestTicketLimits(t *testing.T) {
	s := flowStore(t)
	ctx := context.Background()
	tk := newCase(t, s, "alice", t0)
	for i := 1; i < store.MaxMessages-1; i++ {
		if err := store.Reply(ctx, s, tk.ID, "engineer", "r", t0); err != nil {
			t.Fatal(err)
		}
	}
	wantRule(t, store.AddMessage(ctx, s, "alice", tk.ID, "", t0, "the last", nil, store.DefaultAccessoryLimits), nil, "")
	wantRule(t, store.AddMessage(ctx, s, "alice", tk.ID, "", t0, "one more", nil, store.DefaultAccessoryLimits), store.ErrParam, "message")
	wantRule(t, store.Reply(ctx, s, tk.ID, "engineer", "one more", t0), store.ErrParam, "message")
	if _, total, err := store.ListMessages(ctx, s, "alice", tk.ID, "", 0, 1); err != nil || total != store.MaxMessages {
		t.Fatalf("%d messages, %v; want %d", total, err, store.MaxMessages)
	}
	if err := store.SetStatus(ctx, s, tk.ID, store.StatusCompleted); err != nil {
		t.Fatal(err)
	}
	for range store.MaxScores {
		wantRule(t, store.AddScore(ctx, s, "alice", tk.ID, "", t0, "ok", nil), nil, "")
	}
	wantRule(t, store.AddScore(ctx, s, "alice", tk.ID, "", t0, "ok", nil), store.ErrParam, "judgement")
}

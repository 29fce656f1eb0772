package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/osmstub/osmstub/server"
	"github.com/osmstub/osmstub/server/store"
)

// The control API's accounts (/_stub/accounts) and the support staff's
// side of a ticket (/_stub/tickets/{case_id}/status and /replies).

const ctlNoAccount = "STUB.0007"

type ctlAccount struct {
	Account string `json:"account"`
	Users   []struct {
		Name      string   `json:"name"`
		Groups    []string `json:"groups"`
		Token     string   `json:"token"`
		AccessKey string   `json:"access_key"`
		SecretKey string   `json:"secret_key"`
	} `json:"users"`
}

// ctlNewAccount creates an account through POST /_stub/accounts.
func ctlNewAccount(t testing.TB, h http.Handler, body string) ctlAccount {
	t.Helper()
	res := ctlDo(t, h, http.MethodPost, "/_stub/accounts", body)
	var acc ctlAccount
	if err := json.Unmarshal(res.body, &acc); err != nil || res.status != http.StatusCreated {
		t.Fatalf("POST /_stub/accounts %s: %d %s (%v)", body, res.status, res.body, err)
	}
	return acc
}

// openCase opens a ticket for caller through the store's rules, as
// CreateCases does.
func openCase(t testing.TB, srv *server.Server, caller, description string) string {
	t.Helper()
	tk, err := store.CreateCase(context.Background(), srv.Store(), caller, srv.Now(),
		store.NewCase{BusinessTypeID: "ECS-CONSULT", Description: description}, store.DefaultAccessoryLimits)
	if err != nil {
		t.Fatalf("CreateCase for %s: %v", caller, err)
	}
	return tk.ID
}

// listCases lists the IDs of the tickets caller sees, as ListCases does.
func listCases(t testing.TB, srv *server.Server, caller string, q store.CaseQuery) []string {
	t.Helper()
	page, total, err := store.ListCases(context.Background(), srv.Store(), caller, q)
	if err != nil {
		t.Fatalf("ListCases as %s: %v", caller, err)
	}
	if total != len(page) {
		t.Fatalf("ListCases as %s: total %d, page of %d", caller, total, len(page))
	}
	ids := []string{}
	for _, tk := range page {
		ids = append(ids, tk.ID)
	}
	return ids
}

func TestControlCreateAccount(t *testing.T) {
	var logs bytes.Buffer
	srv := ctlServer(t, server.Options{Logger: slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))})

	// No body: one user tester in group team. The contract checks the
	// shapes of the ID and of every credential (ctlDo).
	acc := ctlNewAccount(t, srv, "")
	if len(acc.Users) != 1 || acc.Users[0].Name != "tester@"+acc.Account || !slices.Equal(acc.Users[0].Groups, []string{"team"}) {
		t.Fatalf("default account = %+v, want one user tester@%s in group team", acc, acc.Account)
	}
	two := ctlNewAccount(t, srv, `{"users":[{"name":"alice","groups":["ops","team"]},{"name":"bob"}]}`)
	if two.Account == acc.Account {
		t.Fatalf("two accounts share ID %s", acc.Account)
	}
	if got := []string{two.Users[0].Name, two.Users[1].Name}; !slices.Equal(got, []string{"alice@" + two.Account, "bob@" + two.Account}) {
		t.Errorf("users = %v", got)
	}
	if two.Users[1].Groups == nil || len(two.Users[1].Groups) != 0 {
		t.Errorf("bob's groups = %#v, want []", two.Users[1].Groups)
	}

	// The users are in the state, in the account, with the account as
	// their domain, and their credentials work on the vendor API.
	state := ctlState(t, srv)
	for _, a := range []ctlAccount{acc, two} {
		for _, au := range a.Users {
			i := slices.IndexFunc(state.Users, func(u store.User) bool { return u.Name == au.Name })
			if i < 0 {
				t.Fatalf("%s is not in the state", au.Name)
			}
			u := state.Users[i]
			want := store.User{Name: au.Name, Groups: au.Groups, Tokens: []string{au.Token},
				Keys: []store.AccessKey{{AK: au.AccessKey, SK: au.SecretKey}}, DomainID: a.Account, Account: a.Account}
			if len(want.Groups) == 0 {
				want.Groups = u.Groups // absent or empty alike
			}
			if !reflect.DeepEqual(u, want) {
				t.Errorf("state has %+v, want %+v", u, want)
			}
		}
	}
	req := newReq(http.MethodGet, "/v2/servicerequest/cases", "", "X-Auth-Token", two.Users[0].Token)
	if status, _, body := do(t, srv, req); status != http.StatusOK || !strings.Contains(string(body), `"total_count":0`) {
		t.Errorf("ListCases with the new token: %d %s, want 200 and no tickets", status, body)
	}

	// The credentials are in the answer only: never in the log or the
	// journal.
	journal := ctlDo(t, srv, http.MethodGet, "/_stub/requests", "")
	if journal.status != http.StatusOK || !bytes.Contains(journal.body, []byte(`"operation":"ListCases"`)) {
		t.Fatalf("the journal: %d %s, want the ListCases call in it", journal.status, journal.body)
	}
	if !strings.Contains(logs.String(), "/_stub/accounts") {
		t.Fatalf("the access log has no line of the account calls: %s", logs.String())
	}
	for _, a := range []ctlAccount{acc, two} {
		for _, u := range a.Users {
			for _, secret := range []string{u.Token, u.SecretKey} {
				if strings.Contains(logs.String(), secret) || bytes.Contains(journal.body, []byte(secret)) {
					t.Errorf("a credential of %s was logged or journaled", u.Name)
				}
			}
		}
	}
}

func TestControlCreateAccountRefused(t *testing.T) {
	srv := ctlServer(t, server.Options{})
	for _, c := range []struct{ name, body, msg string }{
		{"no users", `{"users":[]}`, "users: minimum number of items is 1"},
		{"empty object", `{}`, "users: is required"},
		{"a name with @", `{"users":[{"name":"a@b"}]}`, `users[0].name: string doesn't match the regular expression "^[A-Za-z0-9._-]+$"`},
		{"an empty group", `{"users":[{"name":"a","groups":[""]}]}`, "users[0].groups[0]: minimum string length is 1"},
		{"a name twice", `{"users":[{"name":"a"},{"name":"a"}]}`, "users[1].name: user \"a@"},
	} {
		t.Run(c.name, func(t *testing.T) {
			before := len(ctlSnapshot(t, srv).Users)
			res := ctlDo(t, srv, http.MethodPost, "/_stub/accounts", c.body)
			code, msg := ctlError(t, res)
			if res.status != http.StatusBadRequest || code != "OSM.0001" || !strings.Contains(msg, c.msg) {
				t.Errorf("%s: %d %s %q, want 400 OSM.0001 with %q", c.body, res.status, code, msg, c.msg)
			}
			if after := len(ctlSnapshot(t, srv).Users); after != before {
				t.Errorf("a refused account left %d users, want %d", after, before)
			}
		})
	}
}

// Two accounts each open a ticket through the store's rules: neither sees
// the other's, and resetting one leaves the other's ticket.
func TestControlAccountsIsolated(t *testing.T) {
	srv := ctlServer(t, server.Options{Now: fixedNow})
	a := ctlNewAccount(t, srv, `{"users":[{"name":"alice","groups":["team"]},{"name":"amy","groups":["team"]}]}`)
	b := ctlNewAccount(t, srv, `{"users":[{"name":"bob","groups":["team"]}]}`)
	alice, amy, bob := a.Users[0].Name, a.Users[1].Name, b.Users[0].Name
	ta := openCase(t, srv, alice, "alice's ticket")
	tb := openCase(t, srv, bob, "bob's ticket")
	if !strings.HasPrefix(ta, "CS20261127") || ta == tb {
		t.Errorf("ticket IDs %s, %s: want distinct CS20261127…", ta, tb)
	}

	for _, c := range []struct {
		caller string
		q      store.CaseQuery
		want   []string
	}{
		{alice, store.CaseQuery{}, []string{ta}},
		{alice, store.CaseQuery{Group: "team"}, []string{ta}},
		{amy, store.CaseQuery{Group: "team"}, []string{ta}}, // a member of the group, in the account
		{amy, store.CaseQuery{}, []string{}},
		{bob, store.CaseQuery{}, []string{tb}},
		{bob, store.CaseQuery{Group: "team"}, []string{tb}}, // the same group name in another account
		{bob, store.CaseQuery{ID: ta}, []string{}},
		{"demo", store.CaseQuery{ID: ta}, []string{}}, // the default account's demo user
		{"demo", store.CaseQuery{Keys: []string{"ticket"}}, []string{}},
	} {
		if got := listCases(t, srv, c.caller, c.q); !slices.Equal(got, c.want) {
			t.Errorf("ListCases as %s %+v = %v, want %v", c.caller, c.q, got, c.want)
		}
	}
	if _, err := store.ShowCase(context.Background(), srv.Store(), bob, ta, ""); !errors.Is(err, store.ErrUnknownTicket) {
		t.Errorf("bob shows alice's ticket: %v, want it unknown", err)
	}

	ctlOK(t, srv, http.MethodPost, "/_stub/accounts/"+a.Account+"/reset", "")
	if got := listCases(t, srv, alice, store.CaseQuery{}); len(got) != 0 {
		t.Errorf("after resetting alice's account she sees %v", got)
	}
	if got := listCases(t, srv, bob, store.CaseQuery{}); !slices.Equal(got, []string{tb}) {
		t.Errorf("after resetting alice's account bob sees %v, want %v", got, []string{tb})
	}
	// The users stay, with their credentials, and a new ticket gets a new ID.
	req := newReq(http.MethodGet, "/v2/servicerequest/cases", "", "X-Auth-Token", a.Users[0].Token)
	if status, _, body := do(t, srv, req); status != http.StatusOK {
		t.Errorf("alice's token after the reset: %d %s", status, body)
	}
	if again := openCase(t, srv, alice, "again"); again == ta {
		t.Errorf("a ticket after the reset got the ID %s again", ta)
	}
	// The demo data is untouched.
	if len(listCases(t, srv, "demo", store.CaseQuery{})) == 0 {
		t.Error("resetting an account took the demo user's tickets")
	}
}

func TestControlDeleteAccount(t *testing.T) {
	srv := ctlServer(t, server.Options{Now: fixedNow})
	a := ctlNewAccount(t, srv, "")
	b := ctlNewAccount(t, srv, "")
	ta := openCase(t, srv, a.Users[0].Name, "a's")
	tb := openCase(t, srv, b.Users[0].Name, "b's")
	ctlOK(t, srv, http.MethodPost, "/_stub/relations", `{"case_id":"`+ta+`","related_ids":["`+tb+`"]}`)

	ctlOK(t, srv, http.MethodDelete, "/_stub/accounts/"+a.Account, "")
	state := ctlSnapshot(t, srv)
	for _, u := range state.Users {
		if u.Account == a.Account {
			t.Errorf("user %s of the deleted account is left", u.Name)
		}
	}
	if slices.ContainsFunc(state.Tickets, func(tk store.Ticket) bool { return tk.ID == ta }) {
		t.Errorf("ticket %s of the deleted account is left", ta)
	}
	if got := ctlRelations(t, srv, tb); len(got) != 0 {
		t.Errorf("the other account's ticket is still associated with %v", got)
	}
	if got := listCases(t, srv, b.Users[0].Name, store.CaseQuery{}); !slices.Equal(got, []string{tb}) {
		t.Errorf("the other account sees %v, want %v", got, []string{tb})
	}
	req := newReq(http.MethodGet, "/v2/servicerequest/cases", "", "X-Auth-Token", a.Users[0].Token)
	if status, _, _ := do(t, srv, req); status != http.StatusUnauthorized {
		t.Errorf("the deleted account's token: %d, want 401", status)
	}

	for _, path := range []string{
		"/_stub/accounts/" + a.Account,            // deleted already
		"/_stub/accounts/" + a.Account + "/reset", // so nothing to reset
		"/_stub/accounts/nobody",
	} {
		method := http.MethodDelete
		if strings.HasSuffix(path, "/reset") {
			method = http.MethodPost
		}
		account := strings.TrimSuffix(strings.TrimPrefix(path, "/_stub/accounts/"), "/reset")
		ctlRefused(t, srv, method, path, "", http.StatusNotFound, ctlNoAccount, "account: no user belongs to account "+account)
	}
	ctlRefused(t, srv, http.MethodDelete, "/_stub/accounts/"+strings.Repeat("x", 65), "", http.StatusBadRequest, "OSM.0001", "account: maximum string length is 64")
}

func TestControlTicketStatusAndReplies(t *testing.T) {
	srv := ctlServer(t, server.Options{Now: fixedNow})
	a := ctlNewAccount(t, srv, "")
	user := a.Users[0].Name
	id := openCase(t, srv, user, "needs an engineer")

	ctlOK(t, srv, http.MethodPut, "/_stub/tickets/"+id+"/status", `{"status":17}`)
	status, err := store.CaseStatus(context.Background(), srv.Store(), user, id)
	if err != nil || status != store.StatusFeedback {
		t.Errorf("status after PUT: %d, %v; want 17", status, err)
	}
	srv.Advance(time.Minute)
	_, before, err := store.ListMessages(context.Background(), srv.Store(), user, id, "", 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	ctlOK(t, srv, http.MethodPost, "/_stub/tickets/"+id+"/replies", `{"replier":"engineer","content":"Send the console log."}`)
	msgs, total, err := store.ListMessages(context.Background(), srv.Store(), user, id, "", 0, 0)
	if err != nil || total != before+1 || len(msgs) != total {
		t.Fatalf("after a reply: %d messages of %d (%v), want %d", len(msgs), total, err, before+1)
	}
	last := msgs[len(msgs)-1]
	want := store.Message{ID: last.ID, Type: 1, Replier: "engineer", Content: "Send the console log.", Created: clock.Add(time.Minute), AccessoryNames: []string{}}
	if last.ID != store.MessageID(id, total) || !reflect.DeepEqual(last, want) {
		t.Errorf("the reply = %+v, want %+v", last, want)
	}

	for _, c := range []struct {
		method, path, body string
		status             int
		code, msg          string
	}{
		{http.MethodPut, "/_stub/tickets/NOPE-1/status", `{"status":1}`, http.StatusNotFound, ctlNotFound, "case_id: ticket NOPE-1 not found"},
		{http.MethodPost, "/_stub/tickets/NOPE-1/replies", `{"replier":"e","content":"c"}`, http.StatusNotFound, ctlNotFound, "case_id: ticket NOPE-1 not found"},
		{http.MethodPut, "/_stub/tickets/" + id + "/status", `{"status":6}`, http.StatusBadRequest, "OSM.0001", "status: is not one of the allowed values [0,1,2,3,4,5,12,13,17]"},
		{http.MethodPut, "/_stub/tickets/" + id + "/status", `{}`, http.StatusBadRequest, "OSM.0001", "status: is required"},
		{http.MethodPost, "/_stub/tickets/" + id + "/replies", `{"replier":"e","content":""}`, http.StatusBadRequest, "OSM.0001", "content: minimum string length is 1"},
	} {
		ctlRefused(t, srv, c.method, c.path, c.body, c.status, c.code, c.msg)
	}
}

// POST /_stub/tickets takes the ticket's fields besides its ID, owner and
// description; the account is the owner's.
func TestControlAddTicketFields(t *testing.T) {
	srv := ctlServer(t, server.Options{Now: fixedNow})
	a := ctlNewAccount(t, srv, "")
	owner := a.Users[0].Name
	ctlOK(t, srv, http.MethodPost, "/_stub/tickets", `{"id":"OLD-1","owner":"`+owner+`","simple_description":"from last week",
		"status":3,"business_type_id":"ECS-FAULT","product_category_id":"ECS","region_id":"cn-north-4",
		"create_time":"2026-11-20T10:00:00Z","judgement":"fine"}`)
	got := ctlSnapshot(t, srv)
	i := slices.IndexFunc(got.Tickets, func(tk store.Ticket) bool { return tk.ID == "OLD-1" })
	if i < 0 {
		t.Fatal("OLD-1 is not in the state")
	}
	want := store.Ticket{ID: "OLD-1", Owner: owner, Description: "from last week", TicketDetail: store.TicketDetail{
		Account: a.Account, Status: 3, BusinessTypeID: "ECS-FAULT", ProductCategoryID: "ECS", RegionID: "cn-north-4",
		Created: time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC), Judgement: "fine",
	}}
	if tk := got.Tickets[i]; !reflect.DeepEqual(tk.TicketDetail, want.TicketDetail) || tk.Owner != owner {
		t.Errorf("OLD-1 = %+v, want %+v", tk, want)
	}
	if ids := listCases(t, srv, owner, store.CaseQuery{}); !slices.Equal(ids, []string{"OLD-1"}) {
		t.Errorf("the owner lists %v, want [OLD-1]", ids)
	}
	ctlRefused(t, srv, http.MethodPost, "/_stub/tickets", `{"id":"X-1","owner":"demo","simple_description":"d","status":7}`,
		http.StatusBadRequest, "OSM.0001", "status: is not one of the allowed values [0,1,2,3,4,5,12,13,17]")
}

// A data set with everything store.Dataset holds (accounts, the ticket
// flow's fields, messages, scores, a catalogue) loads and reads back.
func TestControlDatasetRoundTrip(t *testing.T) {
	const dataset = `{
  "users": [
    {"name": "alice", "groups": ["ops"], "tokens": ["alice-token"], "account": "acme"},
    {"name": "bob", "tokens": ["bob-token"]}
  ],
  "tickets": [
    {"id": "A-1", "owner": "alice", "simple_description": "Disk full", "status": 2,
     "business_type_id": "DISK", "product_category_id": "EVS", "region_id": "cn-north-4",
     "severity_id": "2", "source_id": "83aeb0f2834c4df49826c781d32a963e",
     "create_time": "2026-11-20T10:00:00Z", "pressed_time": "2026-11-20T11:00:00Z",
     "judgement": "ok", "account": "acme",
     "messages": [
       {"message_id": "MSG900001", "type": 0, "replier": "alice", "content": "Please help", "create_time": "2026-11-20T10:01:00Z"},
       {"message_id": "MSG900002", "type": 1, "replier": "engineer", "content": "Done", "create_time": "2026-11-20T12:00:00Z"}
     ],
     "scores": [
       {"author": "alice", "judgement": "ok", "create_time": "2026-11-21T08:00:00Z",
        "incident_satisfaction_list": [{"satisfaction_id": 1, "satisfaction_value": 5}]}
     ]},
    {"id": "B-1", "owner": "bob", "simple_description": "Quota", "create_time": "2026-11-21T09:00:00Z"}
  ],
  "catalogue": {
    "product_categories": [{"id": "EVS", "name": "Elastic Volume Service", "can_use_support_plan": true}],
    "problem_types": [{"id": "DISK", "name": "Disk problem", "case_type": "5", "product_categories": ["EVS"]}],
    "satisfaction_dimensions": [{"id": 1, "name": "Timeliness", "value": 5}]
  }
}`
	srv := ctlServer(t, server.Options{})
	ctlOK(t, srv, http.MethodPut, "/_stub/fixtures", dataset)
	var want store.Dataset
	if err := json.Unmarshal([]byte(dataset), &want); err != nil {
		t.Fatal(err)
	}
	got := ctlState(t, srv)
	if !reflect.DeepEqual(got, want) {
		gotJSON, _ := json.Marshal(got)
		wantJSON, _ := json.Marshal(want)
		t.Errorf("state after loading:\n got %s\nwant %s", gotJSON, wantJSON)
	}

	ctlRefused(t, srv, http.MethodPut, "/_stub/fixtures", `{"users":[{"name":"a","account":"`+strings.Repeat("x", 65)+`"}],"tickets":[],"catalogue":{"problem_types":[{"id":"P","name":"p","case_type":"3"}]}}`,
		http.StatusBadRequest, "OSM.0001", `catalogue.problem_types[0].case_type: is not one of the allowed values ["0","5"]; users[0].account: maximum string length is 64`)
}

package server_test

import (
	"bytes"
	"fmt"
	"net/http"
	"slices"
	"testing"

	"github.com/osmstub/osmstub/server"
	"github.com/osmstub/osmstub/server/store"
)

// rulesData: user alice owns A1..A9; P1 already holds P2 and P3.
func rulesData() *store.Dataset {
	d := &store.Dataset{Users: []store.User{{Name: "alice", Tokens: []string{"alice-token"}}}}
	for i := 1; i <= 9; i++ {
		d.Tickets = append(d.Tickets, store.Ticket{ID: fmt.Sprintf("A%d", i), Owner: "alice", Description: fmt.Sprintf("ticket A%d", i)})
	}
	d.Tickets = append(d.Tickets,
		store.Ticket{ID: "P1", Owner: "alice", Description: "preloaded one", Relations: []string{"P2", "P3"}},
		store.Ticket{ID: "P2", Owner: "alice", Description: "preloaded two"},
		store.Ticket{ID: "P3", Owner: "alice", Description: "preloaded three"},
	)
	return d
}

func rulesServer(t *testing.T) *server.Server {
	t.Helper()
	return newServer(t, server.Options{Fixtures: rulesData()})
}

const alice = "alice-token"

func associate(t *testing.T, srv *server.Server, caseID string, related ...string) {
	t.Helper()
	expectOK(t, srv, tokenReq(alice, "POST", caseID, createBody("any", related...)))
}

func wantRelations(t *testing.T, srv *server.Server, caseID string, want ...string) {
	t.Helper()
	got := ids(list(t, srv, alice, caseID))
	if want == nil {
		want = []string{}
	}
	if !slices.Equal(got, want) {
		t.Errorf("relations of %s = %q, want %q", caseID, got, want)
	}
}

// The service's business refusals, in its own words.
var (
	limitRefusal   = refusal{status: http.StatusOK, code: codeLimit, msg: "The same caseId relations should not be over 3."}
	selfRefusal    = refusal{status: http.StatusOK, code: codeSelf, msg: "The case can not bind itself."}
	unknownRefusal = refusal{status: http.StatusOK, code: codeUnknown, msg: "This case does not exist."}
)

func TestLimitCountsBothSides(t *testing.T) {
	srv := rulesServer(t)
	associate(t, srv, "A1", "A2", "A3", "A4")
	wantRelations(t, srv, "A1", "A2", "A3", "A4")

	// A1 is full as the ticket acted on...
	expectRefusal(t, srv, tokenReq(alice, "POST", "A1", createBody("any", "A5")),
		refusal{status: http.StatusOK, code: codeLimit, msg: "The same caseId relations should not be over 3."})
	// ...and as a related ticket: A5 has room, A1 does not.
	expectRefusal(t, srv, tokenReq(alice, "POST", "A5", createBody("any", "A1")),
		limitRefusal)

	// A2 holds A1; two more fill it, counted from the other side.
	associate(t, srv, "A6", "A2")
	associate(t, srv, "A7", "A2")
	wantRelations(t, srv, "A2", "A1", "A6", "A7")
	expectRefusal(t, srv, tokenReq(alice, "POST", "A8", createBody("any", "A2")),
		limitRefusal)
	expectRefusal(t, srv, tokenReq(alice, "POST", "A2", createBody("any", "A8")),
		refusal{status: http.StatusOK, code: codeLimit, msg: "The same caseId relations should not be over 3."})

	// Associations loaded from fixtures count too: P1 holds two.
	expectRefusal(t, srv, tokenReq(alice, "POST", "P1", createBody("any", "A8", "A9")),
		limitRefusal)
	associate(t, srv, "P1", "A8")
	wantRelations(t, srv, "P1", "P2", "P3", "A8")
}

func TestAllOrNothing(t *testing.T) {
	srv := rulesServer(t)
	associate(t, srv, "A1", "A2", "A3", "A4")
	tests := []struct {
		name    string
		caseID  string
		related []string
		want    refusal
	}{
		{"last item full", "A5", []string{"A6", "A7", "A1"}, limitRefusal},
		{"first item full", "A5", []string{"A1", "A6"}, limitRefusal},
		{"last item unknown", "A5", []string{"A6", "NOPE"}, unknownRefusal},
		{"last item is the ticket itself", "A5", []string{"A6", "A5"}, selfRefusal},
		{"would exceed on the ticket acted on", "P1", []string{"A5", "A6"}, limitRefusal},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			expectRefusal(t, srv, tokenReq(alice, "POST", tt.caseID, createBody("any", tt.related...)), tt.want)
		})
	}
	wantRelations(t, srv, "A5")
	wantRelations(t, srv, "A6")
	wantRelations(t, srv, "P1", "P2", "P3")
}

func TestIdempotentAndDuplicates(t *testing.T) {
	srv := rulesServer(t)
	associate(t, srv, "A1", "A2", "A3", "A4")

	t.Run("re-associating a full ticket's pairs changes nothing", func(t *testing.T) {
		before := snapshot(t, srv.Store())
		associate(t, srv, "A1", "A2", "A3", "A4")
		associate(t, srv, "A2", "A1") // from the other side
		associate(t, srv, "A1", "A3")
		checkUnchanged(t, before, snapshot(t, srv.Store()))
	})
	t.Run("duplicate IDs count once", func(t *testing.T) {
		associate(t, srv, "A5", "A6", "A6", "A6")
		wantRelations(t, srv, "A5", "A6")
		wantRelations(t, srv, "A6", "A5")
		// A5 holds one: two fresh IDs, each sent twice, fit exactly.
		associate(t, srv, "A5", "A7", "A8", "A7")
		wantRelations(t, srv, "A5", "A6", "A7", "A8")
	})
	t.Run("preloaded pair re-associated", func(t *testing.T) {
		before := snapshot(t, srv.Store())
		associate(t, srv, "P2", "P1")
		checkUnchanged(t, before, snapshot(t, srv.Store()))
	})
}

func TestRuleRefusals(t *testing.T) {
	srv := rulesServer(t)
	tests := []struct {
		name string
		req  *http.Request
		want refusal
	}{
		{"self", tokenReq(alice, "POST", "A1", createBody("any", "A1")),
			selfRefusal},
		{"self among others", tokenReq(alice, "POST", "A1", createBody("any", "A2", "A1")),
			selfRefusal},
		{"delete self", tokenReq(alice, "DELETE", "A1", deleteBody("", "A1")),
			selfRefusal},
		{"unknown case", tokenReq(alice, "POST", "NOPE", createBody("any", "A1")),
			refusal{status: http.StatusOK, code: codeUnknown, msg: "This case does not exist."}},
		{"unknown related ticket", tokenReq(alice, "POST", "A1", createBody("any", "NOPE")),
			refusal{status: http.StatusOK, code: codeUnknown, msg: "This case does not exist."}},
		{"unknown case on list", tokenReq(alice, "GET", "NOPE", ""),
			refusal{status: http.StatusOK, code: codeUnknown, msg: "This case does not exist."}},
		{"unknown case on delete", tokenReq(alice, "DELETE", "NOPE", deleteBody("", "A1")),
			refusal{status: http.StatusOK, code: codeUnknown, msg: "This case does not exist."}},
		{"unknown related on delete", tokenReq(alice, "DELETE", "A1", deleteBody("", "NOPE")),
			refusal{status: http.StatusOK, code: codeUnknown, msg: "This case does not exist."}},
		{"escaped case ID", tokenReq(alice, "GET", "A%2F1", ""),
			refusal{status: http.StatusOK, code: codeUnknown, msg: "This case does not exist."}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			expectRefusal(t, srv, tt.req, tt.want)
		})
	}
}

func TestDelete(t *testing.T) {
	srv := rulesServer(t)
	associate(t, srv, "A1", "A2", "A3")

	expectOK(t, srv, tokenReq(alice, "DELETE", "A1", deleteBody("", "A2")))
	wantRelations(t, srv, "A1", "A3")
	wantRelations(t, srv, "A2")
	wantRelations(t, srv, "A3", "A1")

	// From the other side, with a group_id.
	expectOK(t, srv, tokenReq(alice, "DELETE", "A3", deleteBody("any", "A1")))
	wantRelations(t, srv, "A1")
	wantRelations(t, srv, "A3")

	// A pair loaded from fixtures.
	expectOK(t, srv, tokenReq(alice, "DELETE", "P2", deleteBody("", "P1")))
	wantRelations(t, srv, "P1", "P3")
	wantRelations(t, srv, "P2")

	t.Run("a pair that is not associated", func(t *testing.T) {
		before := snapshot(t, srv.Store())
		expectOK(t, srv, tokenReq(alice, "DELETE", "A4", deleteBody("", "A5")))
		expectOK(t, srv, tokenReq(alice, "DELETE", "A1", deleteBody("", "A2"))) // again
		checkUnchanged(t, before, snapshot(t, srv.Store()))
	})

	t.Run("a freed slot can be used again", func(t *testing.T) {
		associate(t, srv, "A6", "A7", "A8", "A9")
		expectRefusal(t, srv, tokenReq(alice, "POST", "A6", createBody("any", "A1")), limitRefusal)
		expectOK(t, srv, tokenReq(alice, "DELETE", "A6", deleteBody("", "A8")))
		associate(t, srv, "A6", "A1")
		wantRelations(t, srv, "A6", "A7", "A9", "A1")
	})
}

func TestList(t *testing.T) {
	srv := rulesServer(t)

	t.Run("empty list", func(t *testing.T) {
		status, _, body := do(t, srv, tokenReq(alice, "GET", "A1", ""))
		if got := string(bytes.TrimSpace(body)); status != http.StatusOK || got != `{"case_relation_list":[]}` {
			t.Errorf("got %d %s, want 200 {\"case_relation_list\":[]}", status, got)
		}
	})

	associate(t, srv, "A1", "A3")
	associate(t, srv, "A1", "A2")
	associate(t, srv, "A4", "A1")

	t.Run("order and fields", func(t *testing.T) {
		got := list(t, srv, alice, "A1")
		want := []relation{
			{CaseID: "A3", Description: "ticket A3", UserName: "alice"},
			{CaseID: "A2", Description: "ticket A2", UserName: "alice"},
			{CaseID: "A4", Description: "ticket A4", UserName: "alice"},
		}
		if !slices.Equal(got, want) {
			t.Errorf("list A1 = %+v, want %+v", got, want)
		}
	})
	t.Run("exact body", func(t *testing.T) {
		_, _, body := do(t, srv, tokenReq(alice, "GET", "A4", ""))
		want := `{"case_relation_list":[{"case_id":"A1","simple_description":"ticket A1","user_name":"alice"}]}`
		if got := string(bytes.TrimSpace(body)); got != want {
			t.Errorf("body %s, want %s", got, want)
		}
	})
	t.Run("headers of the contract are accepted", func(t *testing.T) {
		status, _, body := do(t, srv, tokenReq(alice, "GET", "A1", "", "X-Language", "en-us", "X-Time-Zone", "GMT+8", "X-Site", "1"))
		if status != http.StatusOK || !bytes.Contains(body, []byte(`"A3"`)) {
			t.Errorf("got %d %s", status, body)
		}
	})
	t.Run("fixture associations listed in file order", func(t *testing.T) {
		wantRelations(t, srv, "P1", "P2", "P3")
		wantRelations(t, srv, "P3", "P1")
	})
}

func TestSuccessBodies(t *testing.T) {
	srv := rulesServer(t)
	for _, req := range []*http.Request{
		tokenReq(alice, "POST", "A1", createBody("any", "A2")),
		tokenReq(alice, "POST", "A1", createBody("any", "A2")),
		tokenReq(alice, "DELETE", "A1", deleteBody("", "A2")),
		tokenReq(alice, "DELETE", "A1", deleteBody("any", "A2")),
	} {
		status, header, body := do(t, srv, req)
		if status != http.StatusOK || string(bytes.TrimSpace(body)) != "{}" {
			t.Errorf("%s: %d %s, want 200 {}", req.Method, status, body)
		}
		if ct := header.Get("Content-Type"); ct != "application/json" {
			t.Errorf("%s: Content-Type %q", req.Method, ct)
		}
	}
}

// A 200's error_msg holds at most 32 characters, so a long ticket ID gets
// cut; the cut must never remove the rule's name. Realistic service ticket
// IDs have 16 characters (CS20261127000002).
func TestRuleMessagesKeepTheRuleWhenCut(t *testing.T) {
	d := rulesData()
	for _, id := range []string{"CS20261127000001", "CS20261127000002", "C0000000000000000000000000000032"} {
		d.Tickets = append(d.Tickets, store.Ticket{ID: id, Owner: "alice", Description: "ticket " + id})
	}
	d.Users = append(d.Users, store.User{Name: "bob", Tokens: []string{"bob-token"}})
	d.Tickets = append(d.Tickets, store.Ticket{ID: "CS20261127000009", Owner: "bob", Description: "bob's"})
	srv := newServer(t, server.Options{Fixtures: d})
	associate(t, srv, "CS20261127000001", "A1", "A2", "A3")

	tests := []struct {
		name string
		req  *http.Request
		want refusal
	}{
		{"unknown related ticket, realistic ID", tokenReq(alice, "POST", "A4", createBody("any", "CS20261127000003")),
			unknownRefusal},
		{"unknown related ticket, 32 characters", tokenReq(alice, "POST", "A4", createBody("any", "N0000000000000000000000000000032")),
			unknownRefusal},
		{"unknown case, 64 characters", tokenReq(alice, "GET", "N000000000000000000000000000000000000000000000000000000000000064", ""),
			unknownRefusal},
		{"limit on a related ticket, realistic ID", tokenReq(alice, "POST", "A4", createBody("any", "CS20261127000001")),
			limitRefusal},
		{"no permission, realistic ID", tokenReq(alice, "POST", "A4", createBody("any", "CS20261127000009")),
			refusal{status: http.StatusOK, code: codeNoPermission, msg: "No operation permission."}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			expectRefusal(t, srv, tt.req, tt.want)
		})
	}
}

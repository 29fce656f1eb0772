package osmstubtest_test

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/osmstub/osmstub/client"
	"github.com/osmstub/osmstub/osmstubtest"
	"github.com/osmstub/osmstub/server/store"
)

// An account lives as long as the test that made it, on a stub that may
// outlive that test.
func TestNewAccountDeletedAtCleanup(t *testing.T) {
	s := osmstubtest.Run(t)
	r := &recorder{}
	acc := s.NewAccount(r, "alice")
	id := s.CreateTicket(r, acc.User("alice").Name, "mine")
	if r.failed {
		t.Fatal(r.msg)
	}
	if !slices.ContainsFunc(s.State().Tickets, func(tk store.Ticket) bool { return tk.ID == id }) {
		t.Fatalf("ticket %s is not in the state", id)
	}
	for _, f := range r.clean {
		f()
	}
	if r.failed {
		t.Fatalf("cleanup: %s", r.msg)
	}
	for _, u := range s.State().Users {
		if u.Account == acc.ID {
			t.Errorf("user %s outlived the test that made its account", u.Name)
		}
	}
	if slices.ContainsFunc(s.State().Tickets, func(tk store.Ticket) bool { return tk.ID == id }) {
		t.Errorf("ticket %s outlived the test that made its account", id)
	}

	// Gone already (a Reset restores the fixtures, which have no such
	// account): the cleanup says nothing.
	r = &recorder{}
	s.NewAccount(r)
	s.Reset()
	for _, f := range r.clean {
		f()
	}
	if r.failed {
		t.Errorf("cleanup of an account a reset took: %s", r.msg)
	}
}

// The credentials authenticate a client of the caller's own, by token
// and signed with the AK/SK.
func TestAccountUserCredentials(t *testing.T) {
	s := osmstubtest.Run(t) // real time: a signature's date must be now
	acc := s.NewAccount(t, "alice", "bob")
	alice := acc.User("alice")
	if acc.User(alice.Name) != alice || acc.User("carol") != (osmstubtest.AccountUser{}) {
		t.Errorf("User by full name or of a stranger: %+v, %+v", acc.User(alice.Name), acc.User("carol"))
	}
	id := s.CreateTicket(t, alice.Name, "mine")
	for name, opts := range map[string][]client.Option{"token": alice.ClientOptions(), "signed": alice.SignedClientOptions()} {
		c, err := client.New(s.URL(), append(opts, client.WithHTTPClient(s.HTTPClient()), client.WithRetry(client.NoRetry))...)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := c.ListRelations(context.Background(), id); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
}

func TestTicketHelpersReport(t *testing.T) {
	s := osmstubtest.Run(t)
	acc := s.NewAccount(t)
	id := s.CreateTicket(t, acc.Users[0].Name, "mine")
	for _, c := range []struct {
		name string
		call func(osmstubtest.T)
		want string
	}{
		{"CreateTicket, unknown owner", func(r osmstubtest.T) { s.CreateTicket(r, "ghost", "d") }, "unknown caller"},
		{"CreateTicket, blank", func(r osmstubtest.T) { s.CreateTicket(r, acc.Users[0].Name, " ") }, "simple_description"},
		{"SetStatus, unknown ticket", func(r osmstubtest.T) { s.SetStatus(r, "NOPE-1", store.StatusProcessing) }, "unknown ticket"},
		{"SetStatus, no such status", func(r osmstubtest.T) { s.SetStatus(r, id, 6) }, "6 is not a ticket status"},
		{"Reply, unknown ticket", func(r osmstubtest.T) { s.Reply(r, "NOPE-1", "hello") }, "unknown ticket"},
		{"Reply, blank", func(r osmstubtest.T) { s.Reply(r, id, "  ") }, "blank"},
		{"ResetAccount, unknown", func(r osmstubtest.T) { s.ResetAccount(r, "nobody") }, "no such account"},
		{"NewAccount, a name twice", func(r osmstubtest.T) { s.NewAccount(r, "a", "a") }, "defined twice"},
	} {
		r := &recorder{}
		c.call(r)
		if !r.failed || !strings.Contains(r.msg, c.want) {
			t.Errorf("%s: failed=%v msg=%q, want a failure with %q", c.name, r.failed, r.msg, c.want)
		}
	}
	if status := s.State().Tickets; !slices.ContainsFunc(status, func(tk store.Ticket) bool { return tk.ID == id && tk.Status == store.StatusPending }) {
		t.Error("a refused SetStatus changed the ticket")
	}
}

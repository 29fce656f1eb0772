package osmstubtest

import (
	"context"
	"errors"
	"strings"

	"github.com/osmstub/osmstub/client"
	"github.com/osmstub/osmstub/server/store"
)

// Accounts and tickets as the test sees them: an account per test keeps
// tests that share one stub (a parallel suite, one stub in TestMain) from
// seeing each other's tickets, as accounts (domains) do on the live cloud.

// Engineer is the replier of the messages Reply adds.
const Engineer = "engineer"

// Account is an account made by NewAccount: its ID, which is also every
// user's domain ID, and its users with their credentials.
type Account struct {
	ID    string
	Users []AccountUser
}

// AccountUser is a user of an Account. Name is "<name>@<account ID>", the
// name Client, SignedClient and CreateTicket take.
type AccountUser struct {
	Name     string
	Token    string
	AK, SK   string
	DomainID string // the account's ID
}

// User returns the user of a called name (as given to NewAccount, or the
// full name), or the zero AccountUser if it has none.
func (a Account) User(name string) AccountUser {
	for _, u := range a.Users {
		if u.Name == name || u.Name == name+"@"+a.ID {
			return u
		}
	}
	return AccountUser{}
}

// ClientOptions authenticate a client.New as u with its token.
func (u AccountUser) ClientOptions() []client.Option {
	return []client.Option{client.WithToken(u.Token)}
}

// SignedClientOptions make a client.New sign as u with its AK/SK and send
// its domain ID, as the official SDKs do.
func (u AccountUser) SignedClientOptions() []client.Option {
	return []client.Option{client.WithAKSK(u.AK, u.SK), client.WithDomainID(u.DomainID)}
}

// NewAccount creates a fresh account holding users (none: one user,
// "tester"), every one in group "team", each with a new token and AK/SK
// pair, and deletes it with everything its users own when t ends. The
// account's users see only its tickets: the stub's others (the demo data,
// other tests' accounts) are unknown to them.
func (s *Stub) NewAccount(t T, users ...string) Account {
	t.Helper()
	spec := make([]store.NewAccountUser, len(users))
	for i, name := range users {
		spec[i] = store.NewAccountUser{Name: name, Groups: []string{"team"}}
	}
	acc, err := s.srv.CreateAccount(context.Background(), spec)
	if err != nil {
		t.Fatalf("osmstubtest: NewAccount(%q): %v", users, err)
		return Account{}
	}
	t.Cleanup(func() {
		// A test may have deleted it, or a Reset taken it, already.
		if err := s.srv.DeleteAccount(context.Background(), acc.ID); err != nil && !errors.Is(err, store.ErrNoAccount) {
			t.Fatalf("osmstubtest: deleting account %s: %v", acc.ID, err)
		}
	})
	out := Account{ID: acc.ID}
	for _, u := range acc.Users {
		out.Users = append(out.Users, AccountUser{Name: u.Name, Token: u.Tokens[0], AK: u.Keys[0].AK, SK: u.Keys[0].SK, DomainID: u.DomainID})
	}
	return out
}

// ResetAccount deletes the tickets of account (with their messages, scores
// and associations) and its users' uploads, and keeps its users; the
// stub's other accounts are untouched.
func (s *Stub) ResetAccount(t T, account string) {
	t.Helper()
	if err := s.srv.ResetAccount(context.Background(), account); err != nil {
		t.Fatalf("osmstubtest: ResetAccount(%q): %v", account, err)
	}
}

// CreateTicket opens a ticket for owner through the service's rules, as
// CreateCases does, and returns its ID ("CS", the day of the stub's clock
// and a sequence): status 0, created now by the stub's clock, with the
// catalogue's first consultation problem type (in the default catalogue,
// ECS-CONSULT).
func (s *Stub) CreateTicket(t T, owner, description string) string {
	t.Helper()
	id, err := s.srv.CreateTicket(context.Background(), owner, description)
	if err != nil {
		t.Fatalf("osmstubtest: CreateTicket(%q, %q): %v", owner, shorten(description), err)
		return ""
	}
	return id
}

// SetStatus moves ticket id to status (store.StatusProcessing and the
// others), as the support staff would: no permission checks and no
// transition rules, so that a test can reach any status.
func (s *Stub) SetStatus(t T, id string, status int) {
	t.Helper()
	if err := s.srv.SetTicketStatus(context.Background(), id, status); err != nil {
		t.Fatalf("osmstubtest: SetStatus(%q, %d): %v", id, status, err)
	}
}

// Reply adds an engineer's message (type 1, replier Engineer) to ticket
// id, dated by the stub's clock, as the support staff answering.
func (s *Stub) Reply(t T, id, content string) {
	t.Helper()
	if strings.TrimSpace(content) == "" {
		t.Fatalf("osmstubtest: Reply(%q): the content is blank", id)
		return
	}
	if err := s.srv.AddReply(context.Background(), id, Engineer, content); err != nil {
		t.Fatalf("osmstubtest: Reply(%q): %v", id, err)
	}
}

func shorten(s string) string {
	if r := []rune(s); len(r) > 40 {
		return string(r[:40]) + "…"
	}
	return s
}

package server_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/osmstub/osmstub/server"
	"github.com/osmstub/osmstub/server/store"
	"github.com/osmstub/osmstub/server/store/memory"
)

// TestCreateTicket: Server.CreateTicket opens a ticket by CreateCases's
// rules, with the catalogue's first consultation problem type (not the
// first problem type), dated by the server's clock.
func TestCreateTicket(t *testing.T) {
	ctx := context.Background()
	srv := newServer(t, server.Options{Now: fixedNow})
	cat := store.Catalogue{ProblemTypes: []store.ProblemType{
		{ID: "FAULT", Name: "Fault", CaseType: "5"},
		{ID: "ASK", Name: "Question", CaseType: "0"},
		{ID: "ASK-2", Name: "Another question", CaseType: "0"},
	}}
	if err := srv.LoadFixtures(ctx, store.Dataset{Users: []store.User{{Name: "alice", Groups: []string{"g"}}}, Catalogue: &cat}); err != nil {
		t.Fatal(err)
	}
	srv.Advance(time.Hour)

	id, err := srv.CreateTicket(ctx, "alice", "Which flavors have GPUs?")
	if err != nil {
		t.Fatal(err)
	}
	if want := "CS" + clock.Add(time.Hour).Format("20060102") + "000001"; id != want {
		t.Errorf("id = %q, want %q", id, want)
	}
	tk, err := store.ShowCase(ctx, srv.Store(), "alice", id, "")
	if err != nil {
		t.Fatal(err)
	}
	if tk.BusinessTypeID != "ASK" || tk.Status != store.StatusPending || !tk.Created.Equal(clock.Add(time.Hour)) ||
		tk.Description != "Which flavors have GPUs?" || tk.SourceID != store.SourceID || tk.Owner != "alice" {
		t.Errorf("the ticket = %+v; want problem type ASK, status 0, created an hour after %v, the description, source %s", tk, clock, store.SourceID)
	}
	msgs, _, err := store.ListMessages(ctx, srv.Store(), "alice", id, "", 0, 0)
	if err != nil || len(msgs) != 1 || msgs[0].Content != "Which flavors have GPUs?" {
		t.Errorf("messages = %+v (%v), want the description as the first", msgs, err)
	}

	for _, c := range []struct {
		name, owner, desc string
		want              error
	}{
		{"unknown owner", "ghost", "d", store.ErrUnknownCaller},
		{"blank description", "alice", " ", store.ErrParam},
	} {
		if _, err := srv.CreateTicket(ctx, c.owner, c.desc); !errors.Is(err, c.want) {
			t.Errorf("%s: err = %v, want %v", c.name, err, c.want)
		}
	}

	// A catalogue without a consultation type: refused, nothing made.
	noConsult := store.Catalogue{ProblemTypes: []store.ProblemType{{ID: "FAULT", Name: "Fault", CaseType: "5"}}}
	if err := srv.LoadFixtures(ctx, store.Dataset{Users: []store.User{{Name: "alice"}}, Catalogue: &noConsult}); err != nil {
		t.Fatal(err)
	}
	if id, err := srv.CreateTicket(ctx, "alice", "d"); err == nil {
		t.Errorf("without a consultation problem type: made %s", id)
	}
	if d := snapshot(t, srv.Store()); len(d.Tickets) != 0 {
		t.Errorf("a refused CreateTicket left tickets: %+v", d.Tickets)
	}
}

// TestCreateTicketGuarded: CreateTicket goes through the store as the
// requests see it, so an outage refuses it at once, as it does them.
func TestCreateTicketGuarded(t *testing.T) {
	fs := &flakyStore{Store: memory.New()}
	srv := newServer(t, server.Options{Store: fs, Now: fixedNow})
	server.SetOutageClock(srv, fixedNow) // no back-off passes
	fs.down.Store(true)
	before := fs.calls.Load()
	for i := range 3 {
		if _, err := srv.CreateTicket(context.Background(), "demo", "d"); !errors.Is(err, store.ErrUnavailable) {
			t.Fatalf("call %d during an outage: err = %v, want ErrUnavailable", i, err)
		}
	}
	if n := fs.calls.Load() - before; n != 1 {
		t.Errorf("%d calls reached the store during the outage; want 1 (the rest refused by the guard)", n)
	}
}

package osmstubtest_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"net/http"
	"time"

	"github.com/osmstub/osmstub/client"
	"github.com/osmstub/osmstub/osmstubtest"
	"github.com/osmstub/osmstub/server/store"
)

// at is the stub's clock in the examples: ticket IDs and times follow it.
func at() time.Time { return time.Date(2026, 12, 7, 9, 30, 0, 0, time.UTC) }

// Each test makes its own account: tests sharing one stub never see each
// other's tickets.
func ExampleStub_NewAccount() {
	t := &exampleT{}
	defer t.done()
	s := osmstubtest.RunWith(t, osmstubtest.Options{Now: at})
	ctx := context.Background()

	team := s.NewAccount(t, "alice", "bob") // both in group team; deleted when t ends
	other := s.NewAccount(t)                // one user, tester
	alice, bob := team.User("alice"), team.User("bob")
	fmt.Println(len(team.ID), alice.Name == "alice@"+team.ID, alice.DomainID == team.ID)

	first := s.CreateTicket(t, alice.Name, "Disk full on ecs-1")
	second := s.CreateTicket(t, bob.Name, "Disk full on ecs-2")
	err := s.Client(alice.Name).CreateRelations(ctx, first, []string{second}, "team")
	fmt.Println(first, second, err)

	// The credentials, for a client of your own: bob's token here;
	// SignedClientOptions sign with his AK/SK instead (on a stub whose
	// clock follows the real time, as a signature's date must).
	c, err := client.New(s.URL(), append(bob.ClientOptions(), client.WithHTTPClient(s.HTTPClient()))...)
	if err != nil {
		log.Fatal(err)
	}
	rels, err := c.ListRelations(ctx, second)
	fmt.Println(len(rels), rels[0].CaseID == first, err)

	// Another account's user does not know the tickets.
	_, err = s.Client(other.Users[0].Name).ListRelations(ctx, first)
	var apiErr *client.APIError
	fmt.Println(errors.As(err, &apiErr), apiErr.Code)
	// Output:
	// 32 true true
	// CS20261207000001 CS20261207000002 <nil>
	// 1 true <nil>
	// true OSM.01010015
}

// A ticket opened as CreateCases opens one, on the stub's clock.
func ExampleStub_CreateTicket() {
	t := &exampleT{}
	defer t.done()
	s := osmstubtest.RunWith(t, osmstubtest.Options{Now: at})
	acc := s.NewAccount(t)

	id := s.CreateTicket(t, acc.Users[0].Name, "Which ECS flavors support GPU passthrough?")
	tk, err := store.ShowCase(context.Background(), s.Server().Store(), acc.Users[0].Name, id, "")
	fmt.Println(id, tk.Status, tk.BusinessTypeID, tk.Created.Format(time.RFC3339), err)
	// Output:
	// CS20261207000001 0 ECS-CONSULT 2026-12-07T09:30:00Z <nil>
}

// The support staff takes a ticket: ShowCaseStatus answers the new status.
func ExampleStub_SetStatus() {
	t := &exampleT{}
	defer t.done()
	s := osmstubtest.RunWith(t, osmstubtest.Options{Now: at})
	acc := s.NewAccount(t)
	id := s.CreateTicket(t, acc.Users[0].Name, "Instance i-0abc reboots every night")

	s.SetStatus(t, id, store.StatusProcessing)
	fmt.Print(get(s, acc.Users[0], "/v2/servicerequest/cases/"+id+"/status"))
	// Output:
	// {"status":1}
}

// An engineer answers; the ticket's messages show it.
func ExampleStub_Reply() {
	t := &exampleT{}
	defer t.done()
	s := osmstubtest.RunWith(t, osmstubtest.Options{Now: at})
	acc := s.NewAccount(t)
	id := s.CreateTicket(t, acc.Users[0].Name, "OBS bucket returns 403")

	s.Advance(10 * time.Minute)
	s.Reply(t, id, "Please send the bucket policy.")
	msgs, total, err := store.ListMessages(context.Background(), s.Server().Store(), acc.Users[0].Name, id, "", 0, 0)
	fmt.Println(total, err)
	fmt.Println(msgs[0].Type, msgs[0].Replier, msgs[0].Content, msgs[0].Created.Format(time.RFC3339))
	// Output:
	// 1 <nil>
	// 1 engineer Please send the bucket policy. 2026-12-07T09:40:00Z
}

// Resetting an account takes its tickets and leaves its users, and every
// other account, as they are.
func ExampleStub_ResetAccount() {
	t := &exampleT{}
	defer t.done()
	s := osmstubtest.RunWith(t, osmstubtest.Options{Now: at})
	mine, theirs := s.NewAccount(t), s.NewAccount(t)
	s.CreateTicket(t, mine.Users[0].Name, "mine")
	s.CreateTicket(t, theirs.Users[0].Name, "theirs")

	s.ResetAccount(t, mine.ID)
	for _, acc := range []osmstubtest.Account{mine, theirs} {
		_, total, err := store.ListCases(context.Background(), s.Server().Store(), acc.Users[0].Name, store.CaseQuery{})
		fmt.Println(total, err)
	}
	// Output:
	// 0 <nil>
	// 1 <nil>
}

// get reads path from the stub's vendor API as u.
func get(s *osmstubtest.Stub, u osmstubtest.AccountUser, path string) string {
	req, err := http.NewRequest(http.MethodGet, s.URL()+path, nil)
	if err != nil {
		log.Fatal(err)
	}
	req.Header.Set("X-Auth-Token", u.Token)
	res, err := s.HTTPClient().Do(req)
	if err != nil {
		log.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		log.Fatal(err)
	}
	return string(b)
}

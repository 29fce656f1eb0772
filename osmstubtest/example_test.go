package osmstubtest_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"time"

	"github.com/osmstub/osmstub/client"
	"github.com/osmstub/osmstub/osmstubtest"
	"github.com/osmstub/osmstub/server/store"
)

// exampleT stands in for the *testing.T a real test passes to Run.
type exampleT struct{ cleanups []func() }

func (t *exampleT) Helper()                        {}
func (t *exampleT) Fatalf(format string, a ...any) { log.Fatalf(format, a...) }
func (t *exampleT) Cleanup(f func())               { t.cleanups = append(t.cleanups, f) }
func (t *exampleT) done() {
	for i := len(t.cleanups) - 1; i >= 0; i-- {
		t.cleanups[i]()
	}
}

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
	user := s.NewAccount(t).Users[0].Name

	id := s.CreateTicket(t, user, "Which ECS flavors support GPU passthrough?")
	tk, err := s.Client(user).ShowCase(context.Background(), id, "")
	fmt.Println(id, int(tk.Status), tk.Status, err)
	fmt.Println(tk.ProblemType, tk.Kind, tk.Created.Format(time.RFC3339))
	// Output:
	// CS20261207000001 0 pending <nil>
	// Product consultation Consultation 2026-12-07T09:30:00Z
}

// The support staff takes a ticket: ShowCaseStatus answers the new status.
func ExampleStub_SetStatus() {
	t := &exampleT{}
	defer t.done()
	s := osmstubtest.RunWith(t, osmstubtest.Options{Now: at})
	user := s.NewAccount(t).Users[0].Name
	id := s.CreateTicket(t, user, "Instance i-0abc reboots every night")

	s.SetStatus(t, id, store.StatusProcessing)
	status, err := s.Client(user).CaseStatus(context.Background(), id)
	fmt.Println(int(status), status, err)
	// Output:
	// 1 processing <nil>
}

// An engineer answers; the ticket's messages show it.
func ExampleStub_Reply() {
	t := &exampleT{}
	defer t.done()
	s := osmstubtest.RunWith(t, osmstubtest.Options{Now: at})
	user := s.NewAccount(t).Users[0].Name
	id := s.CreateTicket(t, user, "OBS bucket returns 403")

	s.Advance(10 * time.Minute)
	s.Reply(t, id, "Please send the bucket policy.")
	msgs, _, err := s.Client(user).ListMessages(context.Background(), id, client.ListMessagesOptions{})
	if err != nil {
		log.Fatal(err)
	}
	last := msgs[len(msgs)-1] // in the order added: the description first
	fmt.Println(last.Author, last.Replier, last.Content, last.Created.Format(time.RFC3339))
	// Output:
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
		_, total, err := s.Client(acc.Users[0].Name).ListCases(context.Background(), client.ListCasesOptions{})
		fmt.Println(total, err)
	}
	// Output:
	// 0 <nil>
	// 1 <nil>
}

func ExampleRun() {
	t := &exampleT{} // in a test: func TestX(t *testing.T)
	defer t.done()

	s := osmstubtest.Run(t)         // the demo data, on 127.0.0.1, closed at cleanup
	s.Associate("DEMO-1", "DEMO-2") // seed state without going through the API

	c := s.Client("demo") // a *client.Client authenticated as user demo
	err := c.CreateRelations(context.Background(), "DEMO-1", []string{"TEAM-1"}, "team")
	fmt.Println(err)

	s.CheckRelations(t, "DEMO-1", "DEMO-2", "TEAM-1") // fails t if not so
	fmt.Println(s.Relations("TEAM-1"))
	// Output:
	// <nil>
	// [DEMO-1]
}

// Two 503s and then a success: the client retries through them.
func ExampleStub_FailNext() {
	t := &exampleT{}
	defer t.done()
	s := osmstubtest.Run(t)

	s.FailNext(osmstubtest.ListRelation, 2, 503)
	c := s.Client("demo", client.WithRetry(client.RetryPolicy{MaxAttempts: 3, InitialBackoff: time.Millisecond, MaxBackoff: time.Millisecond}))
	rels, err := c.ListRelations(context.Background(), "DEMO-1")
	fmt.Println(len(rels), err)

	// Without retries the fault shows as a server error.
	s.FailNext(osmstubtest.ListRelation, 1, 503)
	_, err = s.Client("demo", client.WithRetry(client.NoRetry)).ListRelations(context.Background(), "DEMO-1")
	fmt.Println(errors.Is(err, client.ErrServer))
	// Output:
	// 0 <nil>
	// true
}

// Fixtures from a file, YAML or JSON, as osm-stub -fixtures takes them
// (ReadFixtures reads one by path).
func ExampleParseFixtures() {
	t := &exampleT{}
	defer t.done()
	d, err := osmstubtest.ParseFixtures([]byte(`
users:
  - {name: alice, groups: [ops], tokens: [alice-token]}
tickets:
  - {id: T-1, owner: alice, simple_description: "first"}
  - {id: T-2, owner: alice, simple_description: "second", relations: [T-1]}
`))
	if err != nil {
		log.Fatal(err)
	}
	s := osmstubtest.RunWith(t, osmstubtest.Options{Fixtures: &d})
	rels, err := s.Client("alice").ListRelations(context.Background(), "T-1")
	fmt.Println(len(rels), rels[0].CaseID, err)

	_, err = osmstubtest.ParseFixtures([]byte("users:\n  - name: bob\n    token: [x]\n"))
	fmt.Println(err)
	// Output:
	// 1 T-2 <nil>
	// fixtures data: line 3: unknown field "token" in a user; known: name, groups, tokens, access_keys, domain_id, account
}

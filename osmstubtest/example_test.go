package osmstubtest_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"time"

	"github.com/osmstub/osmstub/client"
	"github.com/osmstub/osmstub/osmstubtest"
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

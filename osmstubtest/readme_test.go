package osmstubtest_test

import (
	"context"
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/osmstub/osmstub/client"
	"github.com/osmstub/osmstub/osmstubtest"
)

// TestReadmeExample is the test function the README shows, verbatim.
func TestReadmeExample(t *testing.T) {
	s := osmstubtest.Run(t) // demo data on 127.0.0.1; closed when the test ends

	// Seed state directly, without permission checks (the rules still hold).
	s.Associate("DEMO-1", "DEMO-2")

	// The client your code would use, authenticated as user "demo".
	c := s.Client("demo", client.WithRetry(client.RetryPolicy{
		MaxAttempts: 3, InitialBackoff: time.Millisecond, MaxBackoff: time.Millisecond}))

	// Make the API misbehave: the next two creates get a 503, then it recovers.
	s.FailNext(osmstubtest.CreateRelations, 2, 503)
	if err := c.CreateRelations(context.Background(), "DEMO-1", []string{"TEAM-1"}, "team"); err != nil {
		t.Fatalf("the client should have retried through two 503s: %v", err)
	}

	// A fourth association is a business error, not a success.
	err := c.CreateRelations(context.Background(), "DEMO-1", []string{"DEMO-3", "DEMO-4"}, "team")
	if !errors.Is(err, client.ErrRuleViolation) {
		t.Fatalf("err = %v, want the association limit", err)
	}

	// Assert the final state; a mismatch fails t with both lists.
	s.CheckRelations(t, "DEMO-1", "DEMO-2", "TEAM-1")
	s.CheckRelations(t, "TEAM-1", "DEMO-1")
}

// TestReadmeExampleIsCurrent keeps the README's test function and the one
// above the same, so the README shows code that compiles and passes.
func TestReadmeExampleIsCurrent(t *testing.T) {
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	self, err := os.ReadFile("readme_test.go")
	if err != nil {
		t.Fatal(err)
	}
	body := func(src, name string) string {
		i := strings.Index(src, "func "+name+"(")
		if i < 0 {
			t.Fatalf("no func %s", name)
		}
		return src[i+len("func "+name) : i+strings.Index(src[i:], "\n}\n")]
	}
	if body(string(readme), "TestLinkTickets") != body(string(self), "TestReadmeExample") {
		t.Error("README.md's TestLinkTickets and TestReadmeExample differ: copy one to the other")
	}
}

// TestDocsJournalExamples keeps docs/testing.md's copies of the journal
// examples identical to the examples that run.
func TestDocsJournalExamples(t *testing.T) {
	page, err := os.ReadFile("../docs/testing.md")
	if err != nil {
		t.Fatal(err)
	}
	src, err := os.ReadFile("journal_example_test.go")
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"ExampleStub_CheckCalls", "ExampleStub_WaitForCalls", "ExampleStub_ForCase"} {
		i := strings.Index(string(src), "func "+name+"(")
		if i < 0 {
			t.Fatalf("no func %s", name)
		}
		fn := string(src[i : i+strings.Index(string(src[i:]), "\n}\n")+3])
		if !strings.Contains(string(page), fn) {
			t.Errorf("docs/testing.md lacks %s as in journal_example_test.go: copy it over", name)
		}
	}
}

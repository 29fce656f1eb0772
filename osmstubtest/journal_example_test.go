package osmstubtest_test

import (
	"context"
	"fmt"
	"time"

	"github.com/osmstub/osmstub/client"
	"github.com/osmstub/osmstub/osmstubtest"
)

// Verify a retry loop: two 503s and then a success must be exactly three
// creates, no more.
func ExampleStub_CheckCalls() {
	t := &exampleT{} // in a test: func TestX(t *testing.T)
	defer t.done()
	s := osmstubtest.Run(t)

	s.FailSequence(osmstubtest.CreateRelations, 503, 503) // then every call is served
	c := s.Client("demo", client.WithRetry(client.RetryPolicy{MaxAttempts: 5, InitialBackoff: time.Millisecond, MaxBackoff: time.Millisecond}))
	err := c.CreateRelations(context.Background(), "DEMO-1", []string{"DEMO-2"}, "team")
	fmt.Println(err)

	s.CheckCalls(t, osmstubtest.CreateRelations, 3) // fails t, listing every call, if not 3
	for _, r := range s.Requests(osmstubtest.Filter{Operation: osmstubtest.CreateRelations}) {
		fmt.Println(r.Status, r.ErrorCode, r.RequestBody)
	}
	// Output:
	// <nil>
	// 503 APIGW.0613 {"group_id":"team","related_id_list":["DEMO-2"]}
	// 503 APIGW.0613 {"group_id":"team","related_id_list":["DEMO-2"]}
	// 200  {"group_id":"team","related_id_list":["DEMO-2"]}
}

// Wait for a call the code under test makes in the background, without
// sleeping: WaitForCalls returns as soon as it has arrived.
func ExampleStub_WaitForCalls() {
	t := &exampleT{}
	defer t.done()
	s := osmstubtest.Run(t)
	s.Associate("DEMO-1", "DEMO-2")

	c := s.Client("demo")
	go func() { // the code under test, cleaning up asynchronously
		_ = c.DeleteRelation(context.Background(), "DEMO-1", "DEMO-2", "team")
	}()

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	calls, err := s.WaitForCalls(ctx, osmstubtest.Filter{Operation: osmstubtest.DeleteRelation, CaseID: "DEMO-1"}, 1)
	if err != nil {
		t.Fatalf("%v", err) // says what the stub received instead
	}
	fmt.Println(calls[0].Status, calls[0].User, calls[0].RequestBody)
	s.CheckRelations(t, "DEMO-1")
	// Output:
	// 200 demo {"group_id":"team","related_id":"DEMO-2"}
}

// A fault on one ticket only: a test breaking DEMO-1's creates does not
// disturb another test, on the same stub, that works on DEMO-4.
func ExampleStub_ForCase() {
	t := &exampleT{}
	defer t.done()
	s := osmstubtest.Run(t)
	c := s.Client("demo", client.WithRetry(client.NoRetry))
	ctx := context.Background()

	s.ForCase("DEMO-1").FailNext(osmstubtest.CreateRelations, 1, 500)

	fmt.Println(c.CreateRelations(ctx, "DEMO-4", []string{"DEMO-5"}, "team")) // served
	err := c.CreateRelations(ctx, "DEMO-1", []string{"DEMO-2"}, "team")       // broken
	fmt.Println(err != nil)
	fmt.Println(c.CreateRelations(ctx, "DEMO-1", []string{"DEMO-2"}, "team")) // used up
	// Output:
	// <nil>
	// true
	// <nil>
}

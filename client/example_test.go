package client_test

import (
	"context"
	"errors"
	"fmt"
	"net/http/httptest"

	"github.com/osmstub/osmstub/client"
	"github.com/osmstub/osmstub/server"
)

// startStub runs the stub with its demo data (users demo and teammate in
// group "team", tickets DEMO-1..DEMO-6 and TEAM-1).
func startStub() (url string, stop func()) {
	srv, err := server.New(server.Options{})
	if err != nil {
		panic(err)
	}
	ts := httptest.NewServer(srv)
	return ts.URL, ts.Close
}

func ExampleNew_token() {
	url, stop := startStub()
	defer stop()

	c, err := client.New(url, client.WithToken("demo-token"))
	if err != nil {
		panic(err)
	}
	ctx := context.Background()
	if err := c.CreateRelations(ctx, "DEMO-1", []string{"DEMO-2", "TEAM-1"}, "team"); err != nil {
		panic(err)
	}
	rels, err := c.ListRelations(ctx, "DEMO-1")
	if err != nil {
		panic(err)
	}
	for _, r := range rels {
		fmt.Println(r.CaseID, r.Owner)
	}
	fmt.Println(c.DeleteRelation(ctx, "DEMO-1", "DEMO-2", "team"))
	// Output:
	// DEMO-2 demo
	// TEAM-1 teammate
	// <nil>
}

func ExampleNew_aksk() {
	url, stop := startStub()
	defer stop()

	c, err := client.New(url,
		client.WithAKSK("DEMOAK0000000000000001", "demo-secret-key"),
		client.WithDomainID("demo-domain"))
	if err != nil {
		panic(err)
	}
	ctx := context.Background()
	if err := c.CreateRelations(ctx, "DEMO-3", []string{"DEMO-4"}, "team"); err != nil {
		panic(err)
	}
	rels, _ := c.ListRelations(ctx, "DEMO-4")
	fmt.Println(rels[0].CaseID, rels[0].Description)
	// Output:
	// DEMO-3 Elastic IP unbound after resize
}

// The fourth association of a ticket is refused with HTTP 200 and error
// code OSM.01010043; the client returns it as an error in the
// ErrRuleViolation class.
func ExampleAPIError_associationLimit() {
	url, stop := startStub()
	defer stop()

	c, _ := client.New(url, client.WithToken("demo-token"))
	ctx := context.Background()
	_ = c.CreateRelations(ctx, "DEMO-1", []string{"DEMO-2", "DEMO-3", "DEMO-4"}, "team")

	err := c.CreateRelations(ctx, "DEMO-1", []string{"DEMO-5"}, "team")
	var apiErr *client.APIError
	if errors.Is(err, client.ErrRuleViolation) && errors.As(err, &apiErr) {
		fmt.Println(apiErr.StatusCode, apiErr.Code, apiErr.Message)
	}
	fmt.Println(errors.Is(err, client.ErrUnauthenticated))
	// Output:
	// 200 OSM.01010043 The same caseId relations should not be over 3.
	// false
}

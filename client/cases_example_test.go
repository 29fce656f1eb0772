package client_test

import (
	"context"
	"errors"
	"fmt"
	"net/http/httptest"
	"time"

	"github.com/osmstub/osmstub/client"
	"github.com/osmstub/osmstub/server"
)

// startStubAt is startStub with the stub's clock stopped at now, so that
// new tickets' IDs and times are known.
func startStubAt(now time.Time) (url string, stop func()) {
	srv, err := server.New(server.Options{Now: func() time.Time { return now }})
	if err != nil {
		panic(err)
	}
	ts := httptest.NewServer(srv)
	return ts.URL, func() { ts.Close(); _ = srv.Close() }
}

func ExampleClient_CreateCase() {
	url, stop := startStubAt(time.Date(2026, 12, 7, 9, 30, 0, 0, time.UTC))
	defer stop()

	c, err := client.New(url, client.WithToken("demo-token"))
	if err != nil {
		panic(err)
	}
	ctx := context.Background()
	types, err := c.ListProblemTypes(ctx, "ECS")
	if err != nil {
		panic(err)
	}
	for _, t := range types {
		fmt.Println(t.ID, t.CaseType)
	}
	id, err := c.CreateCase(ctx, client.NewCase{
		ProblemTypeID:     "ECS-FAULT",
		ProductCategoryID: "ECS",
		RegionID:          "cn-south-1", // a fault report needs its region
		Description:       "Instance i-0abc does not answer on port 22",
	})
	if err != nil {
		panic(err)
	}
	detail, err := c.ShowCase(ctx, id, "")
	if err != nil {
		panic(err)
	}
	fmt.Println(id, detail.Status, detail.Kind, detail.Created.Format(time.RFC3339))

	// Without the region, the service refuses the ticket.
	_, err = c.CreateCase(ctx, client.NewCase{ProblemTypeID: "ECS-FAULT", Description: "Port 22 again"})
	fmt.Println(errors.Is(err, client.ErrInvalidParam), errors.Is(err, client.ErrRuleViolation))
	// Output:
	// ECS-CONSULT 0
	// ECS-FAULT 5
	// QUOTA 0
	// CS20261207000001 pending Fault report 2026-12-07T09:30:00Z
	// true true
}

func ExampleClient_Cases() {
	now := time.Date(2026, 12, 7, 9, 30, 0, 0, time.UTC)
	url, stop := startStubAt(now)
	defer stop()

	c, err := client.New(url, client.WithToken("demo-token"))
	if err != nil {
		panic(err)
	}
	ctx := context.Background()
	for _, d := range []string{"Disk full on db-1", "Disk full on db-2", "Bill question", "Disk slow on db-3"} {
		if _, err := c.CreateCase(ctx, client.NewCase{ProblemTypeID: "ECS-CONSULT", Description: d}); err != nil {
			panic(err)
		}
	}
	// Every ticket of today that mentions "disk", newest first, two a page.
	for cs, err := range c.Cases(ctx, client.ListCasesOptions{SearchKeys: []string{"disk"}, From: now, PageSize: 2}) {
		if err != nil {
			panic(err)
		}
		fmt.Println(cs.ID, cs.Status, cs.Description)
	}
	// Output:
	// CS20261207000004 pending Disk slow on db-3
	// CS20261207000002 pending Disk full on db-2
	// CS20261207000001 pending Disk full on db-1
}

package osmstubtest_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/osmstub/osmstub/client"
	"github.com/osmstub/osmstub/osmstubtest"
)

func TestCheckCallsReports(t *testing.T) {
	forEachMode(t, func(t *testing.T, s *osmstubtest.Stub) {
		c := s.Client("demo", client.WithRetry(client.NoRetry))
		s.FailNext(osmstubtest.ListRelation, 1, 500)
		_, _ = c.ListRelations(context.Background(), "DEMO-1")
		_, _ = c.ListRelations(context.Background(), "DEMO-1")
		_ = c.CreateRelations(context.Background(), "DEMO-1", []string{"DEMO-2"}, "team")

		s.CheckCalls(t, osmstubtest.ListRelation, 2)
		r := &recorder{}
		s.CheckCalls(r, osmstubtest.ListRelation, 3)
		for _, want := range []string{
			"2 requests match {operation=ListRelation}, want 3",
			"* #1 ", "GET /v2/servicerequest/cases/DEMO-1/relations (ListRelation) as demo -> 500 OSM.0004 [fault ListRelation: status 500 (0 more after this)]",
			"* #2 ", "-> 200",
			"  #3 ", "POST /v2/servicerequest/cases/DEMO-1/relations (CreateRelations) as demo -> 200",
		} {
			if !r.failed || !strings.Contains(r.msg, want) {
				t.Errorf("CheckCalls failure lacks %q:\n%s", want, r.msg)
			}
		}
		s.ClearRequests()
		s.CheckRequests(t, osmstubtest.Filter{}, 0)
	})
}

func TestWaitForCallsReports(t *testing.T) {
	s := osmstubtest.Run(t)
	_, _ = s.Client("demo").ListRelations(context.Background(), "DEMO-1")
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	got, err := s.WaitForCalls(ctx, osmstubtest.Filter{Operation: osmstubtest.DeleteRelation}, 1)
	if len(got) != 0 || !errors.Is(err, context.Canceled) || !strings.Contains(err.Error(), "(ListRelation) as demo -> 200") {
		t.Errorf("WaitForCalls: %d, %v", len(got), err)
	}
}

func TestTargetedFaultHelpers(t *testing.T) {
	s := osmstubtest.Run(t)
	ctx := context.Background()
	demo := s.Client("demo", client.WithRetry(client.NoRetry))
	mate := s.Client("teammate", client.WithRetry(client.NoRetry))
	s.ForCase("DEMO-1").ForUser("teammate").DropNext(osmstubtest.ListRelation, 1)
	s.ForUser("demo").RefuseNext(osmstubtest.ListRelation, 5, "OSM.01010002", "no")
	if _, err := mate.ListRelations(ctx, "DEMO-3"); err != nil {
		t.Errorf("teammate on DEMO-3: %v", err)
	}
	if _, err := demo.ListRelations(ctx, "DEMO-3"); err == nil {
		t.Error("demo's calls are refused, but one passed")
	}
	_, _ = mate.ListRelations(ctx, "DEMO-1") // dropped; net/http may send a GET again

	s.ForUser("demo").Clear(osmstubtest.ListRelation)
	if _, err := demo.ListRelations(ctx, "DEMO-3"); err != nil {
		t.Errorf("after Clear: %v", err)
	}
	if got := s.Requests(osmstubtest.Filter{CaseID: "DEMO-1"}); len(got) == 0 || !got[0].Dropped || got[0].User != "teammate" {
		t.Errorf("journal of DEMO-1: %+v", got)
	}
	if got := s.Requests(osmstubtest.Filter{User: "demo", ErrorCode: "OSM.01010002"}); len(got) != 1 {
		t.Errorf("journal of demo's refusals: %+v", got)
	}
}

func TestClockIsTheServers(t *testing.T) {
	s := osmstubtest.Run(t)
	at := s.Now().Add(-24 * 60 * 60 * 1e9)
	s.SetTime(at)
	if !s.Server().Now().Equal(at) {
		t.Errorf("server clock %v, want %v", s.Server().Now(), at)
	}
	s.FollowRealTime()
	if s.Now().Equal(at) {
		t.Error("FollowRealTime kept the fixed time")
	}
}

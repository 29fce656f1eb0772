package osmstubtest_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/osmstub/osmstub/client"
	"github.com/osmstub/osmstub/osmstubtest"
)

// The answers a user's test sees through the client are the live
// service's: status, code and class (docs/fidelity.md).
func TestFidelity(t *testing.T) {
	forEachMode(t, func(t *testing.T, s *osmstubtest.Stub) {
		ctx := context.Background()
		demo := s.Client("demo", client.WithRetry(client.NoRetry))
		tests := []struct {
			name   string
			call   func() error
			status int
			code   string
			class  error
		}{
			{"the owner without a group", func() error { return demo.CreateRelations(ctx, "DEMO-1", []string{"DEMO-2"}, "") }, 0, "", nil},
			{"a teammate's ticket without a group", func() error { return demo.CreateRelations(ctx, "DEMO-1", []string{"TEAM-1"}, "") }, 200, "OSM.01010002", client.ErrForbidden},
			{"a teammate's ticket with the group", func() error { return demo.CreateRelations(ctx, "DEMO-1", []string{"TEAM-1"}, "team") }, 0, "", nil},
			{"itself", func() error { return demo.CreateRelations(ctx, "DEMO-1", []string{"DEMO-1"}, "") }, 200, "OSM.01010044", client.ErrRuleViolation},
			{"an unknown ticket", func() error { return demo.CreateRelations(ctx, "DEMO-1", []string{"NOPE-1"}, "") }, 200, "OSM.01010015", client.ErrRuleViolation},
			{"a third", func() error { return demo.CreateRelations(ctx, "DEMO-1", []string{"DEMO-3"}, "") }, 0, "", nil},
			{"a fourth", func() error { return demo.CreateRelations(ctx, "DEMO-1", []string{"DEMO-4"}, "") }, 200, "OSM.01010043", client.ErrRuleViolation},
			{"delete without a group", func() error { return demo.DeleteRelation(ctx, "DEMO-1", "DEMO-3", "") }, 0, "", nil},
			{"an unknown token", func() error {
				_, err := s.Client("demo", client.WithToken("nope"), client.WithRetry(client.NoRetry)).ListRelations(ctx, "DEMO-1")
				return err
			}, 401, "APIGW.0301", client.ErrUnauthenticated},
		}
		for _, tt := range tests {
			err := tt.call()
			if tt.class == nil {
				if err != nil {
					t.Errorf("%s: %v", tt.name, err)
				}
				continue
			}
			var apiErr *client.APIError
			if !errors.As(err, &apiErr) || apiErr.StatusCode != tt.status || apiErr.Code != tt.code || !errors.Is(err, tt.class) || apiErr.RequestID == "" {
				t.Errorf("%s: %#v, want %d %s in %v with a request id", tt.name, err, tt.status, tt.code, tt.class)
			}
		}
		s.CheckRelations(t, "DEMO-1", "DEMO-2", "TEAM-1")
	})
}

// With a rate limit the stub throttles as the gateway does, and the
// client's retry waits as long as Retry-After says.
func TestRateLimitAndRetry(t *testing.T) {
	s := osmstubtest.RunWith(t, osmstubtest.Options{RateLimit: 1})
	ctx := context.Background()
	// A stopped clock: both calls fall in the same second however slow
	// the machine is.
	s.SetTime(time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC))
	once := s.Client("demo", client.WithRetry(client.NoRetry))
	if _, err := once.ListRelations(ctx, "DEMO-1"); err != nil {
		t.Fatal(err)
	}
	_, err := once.ListRelations(ctx, "DEMO-1")
	var apiErr *client.APIError
	if !errors.Is(err, client.ErrRateLimited) || !errors.As(err, &apiErr) || apiErr.Code != "APIGW.0308" {
		t.Fatalf("second call in the second: %v, want ErrRateLimited APIGW.0308", err)
	}
	// With the real clock, a client that retries gets through: it waits
	// Retry-After (1 s) rather than its own 1 ms back-off.
	s.FollowRealTime()
	retrying := s.Client("demo", client.WithRetry(client.RetryPolicy{MaxAttempts: 3, InitialBackoff: time.Millisecond, MaxBackoff: time.Millisecond}))
	for range 2 {
		if _, err := retrying.ListRelations(ctx, "DEMO-1"); err != nil {
			t.Fatalf("with retries honouring Retry-After: %v", err)
		}
	}
}

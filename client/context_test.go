package client_test

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/osmstub/osmstub/client"
)

// Group 4: contexts.

// within fails the test instead of hanging when f does not return.
func within(t *testing.T, f func() error) error {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- f() }()
	select {
	case err := <-done:
		return err
	case <-time.After(20 * time.Second):
		t.Fatal("the call did not return")
		return nil
	}
}

// Cancelling the context while the client waits between attempts ends the
// call at once: the wait never ends by itself here.
func TestCancelDuringBackoff(t *testing.T) {
	for _, o := range allOps {
		s := newScripted(t, respond(503, `{}`))
		ctx, cancel := context.WithCancel(context.Background())
		entered := make(chan time.Duration, 10)
		never := func(d time.Duration) <-chan time.Time {
			entered <- d
			return make(chan time.Time) // never fires
		}
		c := s.newClient(t, client.WithRetry(testPolicy), client.WithSleep(never))
		go func() {
			<-entered
			cancel()
		}()
		err := within(t, func() error { return o.call(ctx, c) })
		if !errors.Is(err, context.Canceled) {
			t.Errorf("%s: err = %v, want context.Canceled", o.name, err)
		}
		if !strings.Contains(err.Error(), o.name) || !strings.Contains(err.Error(), "after 1 attempts") {
			t.Errorf("%s: message %q should name the operation and the attempts made", o.name, err)
		}
		if s.Count() != 1 || len(entered) != 0 {
			t.Errorf("%s: %d attempts, %d further waits; want 1 and 0", o.name, s.Count(), len(entered))
		}
		cancel()
	}
}

func TestCanceledBeforeCall(t *testing.T) {
	s := newScripted(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	ft := newFakeTime()
	c := s.newClient(t, append(ft.options(), client.WithRetry(testPolicy))...)
	for _, o := range allOps {
		if err := o.call(ctx, c); !errors.Is(err, context.Canceled) {
			t.Errorf("%s: err = %v, want context.Canceled", o.name, err)
		}
	}
	if s.Count() != 0 || len(ft.Waits()) != 0 {
		t.Errorf("%d requests, %d waits with a cancelled context; want 0", s.Count(), len(ft.Waits()))
	}
}

// A deadline that ends while the server is still working: the transport
// error stays wrapped, so it is both context.DeadlineExceeded and a
// net.Error whose Timeout is true, and it is not retried.
func TestDeadlineDuringRequest(t *testing.T) {
	slow := func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-time.After(10 * time.Second):
		}
	}
	for _, o := range allOps {
		s := newScripted(t, slow)
		ft := newFakeTime()
		c := s.newClient(t, append(ft.options(), client.WithRetry(client.RetryPolicy{MaxAttempts: 4, RetryUnsafe: true}))...)
		ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
		err := within(t, func() error { return o.call(ctx, c) })
		cancel()

		if !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("%s: err = %v, want context.DeadlineExceeded", o.name, err)
		}
		var netErr net.Error
		if !errors.As(err, &netErr) || !netErr.Timeout() {
			t.Errorf("%s: err = %v, want a net.Error with Timeout() true", o.name, err)
		}
		var urlErr *url.Error
		var apiErr *client.APIError
		if !errors.As(err, &urlErr) || errors.As(err, &apiErr) {
			t.Errorf("%s: err = %#v, want a wrapped *url.Error and no *APIError", o.name, err)
		}
		if !strings.HasPrefix(err.Error(), "osm "+o.name+": ") {
			t.Errorf("%s: message %q should start with the operation", o.name, err)
		}
		if s.Count() != 1 || len(ft.Waits()) != 0 {
			t.Errorf("%s: %d attempts, %d waits after the deadline; want 1 and 0", o.name, s.Count(), len(ft.Waits()))
		}
	}
}

// A per-attempt timeout (http.Client.Timeout) is a transport failure, not
// the caller's deadline: the caller's context is still live, so a list is
// retried like any other transport error.
func TestPerAttemptTimeoutRetried(t *testing.T) {
	slow := func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-time.After(10 * time.Second):
		}
	}
	s := newScripted(t, slow, respond(200, `{"case_relation_list":[]}`))
	ft := newFakeTime()
	hc := &http.Client{Timeout: 100 * time.Millisecond, Transport: s.Client().Transport}
	c := s.newClient(t, append(ft.options(), client.WithRetry(testPolicy), client.WithHTTPClient(hc))...)
	rels, err := c.ListRelations(context.Background(), "CS1")
	if err != nil || rels == nil {
		t.Errorf("ListRelations = %v, %v; want the second attempt's empty list", rels, err)
	}
	if s.Count() != 2 || len(ft.Waits()) != 1 {
		t.Errorf("%d attempts, %d waits; want 2 and 1", s.Count(), len(ft.Waits()))
	}

	// A create whose request may have reached the server is not repeated.
	s = newScripted(t, slow, respond(200, `{}`))
	hc = &http.Client{Timeout: 100 * time.Millisecond, Transport: s.Client().Transport}
	c = s.newClient(t, append(ft.options(), client.WithRetry(testPolicy), client.WithHTTPClient(hc))...)
	err = c.CreateRelations(context.Background(), "CS1", []string{"CS2"}, "g")
	var netErr net.Error
	if !errors.As(err, &netErr) || !netErr.Timeout() || s.Count() != 1 {
		t.Errorf("create: err = %v after %d attempts; want a timeout after 1", err, s.Count())
	}
}

package server

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"runtime"
	"testing"
	"time"
)

// TestLongPollEndsWithItsClient: a client that leaves a long poll of the
// journal leaves nothing behind. The wait cap is raised to an hour, so
// a handler that outlived its client would hold ts.Close (and the test)
// until the test binary's timeout.
func TestLongPollEndsWithItsClient(t *testing.T) {
	s, err := New(Options{})
	if err != nil {
		t.Fatal(err)
	}
	s.control.MaxWait = time.Hour
	defer s.Close()
	ts := httptest.NewServer(s)

	ctx, cancel := context.WithCancel(context.Background())
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, ts.URL+"/_stub/requests?case_id=NEVER&wait=3600s&min=1", nil)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error)
	go func() {
		res, err := ts.Client().Do(req)
		if err == nil {
			res.Body.Close()
		}
		done <- err
	}()
	for s.journal.Waiters() == 0 { // until the handler waits
		select {
		case err := <-done:
			t.Fatalf("the long poll answered at once (%v)", err)
		default:
			runtime.Gosched()
		}
	}
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Errorf("the client's call ended with %v, want context.Canceled", err)
	}
	ts.Close() // returns once every handler has
	if n := s.journal.Waiters(); n != 0 {
		t.Errorf("%d waiters after the client left", n)
	}
}

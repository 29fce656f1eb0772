package server

import (
	"context"
	"testing"
	"time"
)

func TestBodyBudget(t *testing.T) {
	b := newBodyBudget(10)
	ctx := context.Background()
	if !b.acquire(ctx, 6) || !b.acquire(ctx, 4) {
		t.Fatal("10 bytes of a 10-byte budget were refused")
	}
	// A request that does not fit waits for a release.
	got := make(chan bool)
	go func() { got <- b.acquire(ctx, 5) }()
	select {
	case <-got:
		t.Fatal("acquired past the budget")
	case <-time.After(20 * time.Millisecond): // only shows it did not return early
	}
	b.release(6)
	if !<-got {
		t.Fatal("not acquired after a release")
	}
	// A waiter whose request goes away gives up.
	cctx, cancel := context.WithCancel(ctx)
	go func() { got <- b.acquire(cctx, 9) }()
	cancel()
	if <-got {
		t.Fatal("acquired after the request was cancelled")
	}
	// More than the whole budget is capped at the budget.
	b.release(4)
	b.release(5)
	if !b.acquire(ctx, 1<<30) {
		t.Fatal("a body larger than the budget waits forever")
	}
}

func TestLimiter(t *testing.T) {
	l := newLimiter(2)
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := range 2 {
		if w := l.take("a", now); w != 0 {
			t.Fatalf("take %d: wait %v", i, w)
		}
	}
	if w := l.take("a", now); w != 500*time.Millisecond {
		t.Errorf("third take: wait %v, want 500ms", w)
	}
	if w := l.take("b", now); w != 0 {
		t.Errorf("another key: wait %v", w)
	}
	if w := l.take("a", now.Add(500*time.Millisecond)); w != 0 {
		t.Errorf("after 500ms: wait %v", w)
	}
	if newLimiter(0) != nil {
		t.Error("rate 0 is no limiter")
	}
}

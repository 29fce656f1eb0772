package server

import (
	"context"
	"testing"
	"time"
)

func TestBodyBudget(t *testing.T) {
	b := newBodyBudget(10, 10)
	a := credential{name: "a"}
	ctx := context.Background()
	if !b.acquire(ctx, a, 6) || !b.acquire(ctx, a, 4) {
		t.Fatal("10 bytes of a 10-byte budget were refused")
	}
	// A request that does not fit waits for a release.
	got := make(chan bool)
	go func() { got <- b.acquire(ctx, a, 5) }()
	select {
	case <-got:
		t.Fatal("acquired past the budget")
	case <-time.After(20 * time.Millisecond): // only shows it did not return early
	}
	b.release(a, 6)
	if !<-got {
		t.Fatal("not acquired after a release")
	}
	// A waiter whose request goes away gives up.
	cctx, cancel := context.WithCancel(ctx)
	go func() { got <- b.acquire(cctx, a, 9) }()
	cancel()
	if <-got {
		t.Fatal("acquired after the request was cancelled")
	}
	// More than the whole budget is capped at the budget.
	b.release(a, 4)
	b.release(a, 5)
	if !b.acquire(ctx, a, 1<<30) {
		t.Fatal("a body larger than the budget waits forever")
	}
}

// TestBodyBudgetShares: one credential holds at most its share of the
// budget, so that another always finds room.
func TestBodyBudgetShares(t *testing.T) {
	b := newBodyBudget(12, 4)
	ctx := context.Background()
	gone, cancel := context.WithCancel(ctx) // a request that cannot wait: acquire answers at once
	cancel()
	token, key := credential{name: "demo"}, credential{accessKey: true, name: "demo"}
	other, third := credential{name: "teammate"}, credential{name: "outsider"}
	steps := []struct {
		name string
		who  credential
		n    int64
		want bool
	}{
		{"a share", token, 4, true},
		{"past the share", token, 1, false},
		{"another credential", other, 3, true},
		{"an access key is a credential of its own", key, 4, true},
		{"the rest of a share", other, 1, true},
		{"the budget is full", third, 1, false},
	}
	for _, s := range steps {
		if got := b.acquire(gone, s.who, s.n); got != s.want {
			t.Fatalf("%s: acquire(%v, %d) = %v, want %v", s.name, s.who, s.n, got, s.want)
		}
	}
	b.release(token, 4)
	if !b.acquire(gone, third, 4) {
		t.Fatal("a released share is not free for another credential")
	}
	// A body larger than a share is capped at the share.
	b.release(third, 4)
	if !b.acquire(gone, token, 1<<20) {
		t.Fatal("a body larger than a share cannot be read")
	}
	for _, r := range []struct {
		who credential
		n   int64
	}{{token, 1 << 20}, {other, 3}, {other, 1}, {key, 4}} {
		b.release(r.who, r.n)
	}
	if b.free != b.total || len(b.held) != 0 {
		t.Errorf("all released: free %d of %d, held %v", b.free, b.total, b.held)
	}
}

package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/osmstub/osmstub/server/store"
)

// Back-off between attempts to reach a store that is down.
const (
	firstRetry = 250 * time.Millisecond
	maxRetry   = 5 * time.Second
)

// guardedStore is the store as the server uses it. When a call fails with
// store.ErrUnavailable (the database is down), the outage starts: one log
// line, and from then on calls fail at once, without waiting for the
// database, except one call per back-off interval (250ms doubling to 5s),
// which tries the database again. The first call that gets through ends the
// outage: one more log line. Nothing needs a restart.
type guardedStore struct {
	store.Store
	log *slog.Logger
	now func() time.Time

	// down is read without mu on every call, the fast path; it changes
	// only under mu.
	down atomic.Bool

	mu      sync.Mutex
	since   time.Time     // when the outage started
	next    time.Time     // when a call may try the store again
	wait    time.Duration // the current back-off
	probing bool          // a call is trying the store
	refused int           // calls refused during the outage
}

func newGuardedStore(s store.Store, log *slog.Logger) *guardedStore {
	return &guardedStore{Store: s, log: log, now: time.Now}
}

func (g *guardedStore) Update(ctx context.Context, fn func(store.Tx) error) error {
	return g.call(ctx, true, fn)
}

func (g *guardedStore) View(ctx context.Context, fn func(store.Tx) error) error {
	return g.call(ctx, false, fn)
}

// call runs fn in an Update or a View of the store (a flag, not a method
// value: that would be an allocation per call).
func (g *guardedStore) call(ctx context.Context, update bool, fn func(store.Tx) error) error {
	probe, err := g.admit()
	if err != nil {
		return err
	}
	if update {
		err = g.Store.Update(ctx, fn)
	} else {
		err = g.Store.View(ctx, fn)
	}
	switch {
	case errors.Is(err, store.ErrUnavailable):
		g.failed(err, probe)
	case probe && ctx.Err() != nil:
		g.release() // the caller left: that says nothing about the store
	default:
		g.succeeded(probe)
	}
	return err
}

// admit lets a call through unless the store is down and it is not yet
// time for another attempt; probe says the call is that attempt.
func (g *guardedStore) admit() (probe bool, err error) {
	if !g.down.Load() {
		return false, nil
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if !g.down.Load() {
		return false, nil
	}
	now := g.now()
	if g.probing || now.Before(g.next) {
		g.refused++
		return false, &unavailableError{retryAfter: max(g.next.Sub(now), 0)}
	}
	g.probing = true
	return true, nil
}

// failed starts an outage, or after a failed attempt doubles the back-off.
// Calls that were already under way when the outage started change
// nothing.
func (g *guardedStore) failed(err error, probe bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	now := g.now()
	switch {
	case !g.down.Load():
		g.down.Store(true)
		g.since, g.wait, g.refused = now, firstRetry, 0
		g.log.Warn("store unavailable: answering 502 until it is back", slog.Any("error", err))
	case probe:
		g.probing = false
		g.wait = min(2*g.wait, maxRetry)
	default:
		return
	}
	g.next = now.Add(g.wait)
}

func (g *guardedStore) succeeded(probe bool) {
	if !probe {
		return // the store was up, or this call was let in before it went down
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	g.probing = false
	if g.down.Load() {
		g.down.Store(false)
		g.log.Info("store available again",
			slog.Duration("outage", g.now().Sub(g.since)), slog.Int("refused", g.refused))
	}
}

func (g *guardedStore) release() {
	g.mu.Lock()
	g.probing = false
	g.mu.Unlock()
}

// unavailableError is a call refused during an outage, without trying the
// store.
type unavailableError struct{ retryAfter time.Duration }

func (e *unavailableError) Error() string {
	return fmt.Sprintf("%v: next attempt in %v", store.ErrUnavailable, e.retryAfter)
}

func (e *unavailableError) Unwrap() error { return store.ErrUnavailable }

// unavailable is the answer to a call during a store outage: what the API
// gateway answers when the service behind it is down, 502 APIGW.0201
// "Backend unavailable." (docs/fidelity.md). No source shows the gateway
// sending Retry-After with it, so the stub sends none; clients retry a
// 502 on their own back-off.
func unavailable(error) *apiError {
	return gatewayError(http.StatusBadGateway, CodeBackend, msgUnavailable+" The stub's store cannot be reached; retry later.")
}

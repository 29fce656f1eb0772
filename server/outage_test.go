package server_test

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/osmstub/osmstub/server"
	"github.com/osmstub/osmstub/server/store"
	"github.com/osmstub/osmstub/server/store/memory"
)

// flakyStore is a memory store that can be switched off: while down, every
// call fails as a database that cannot be reached does. It counts the
// calls that reach it, and fails calls whose context is done.
type flakyStore struct {
	*memory.Store
	down  atomic.Bool
	calls atomic.Int64
}

func (f *flakyStore) check(ctx context.Context) error {
	f.calls.Add(1)
	if err := ctx.Err(); err != nil {
		return err
	}
	if f.down.Load() {
		return fmt.Errorf("%w: dial tcp 127.0.0.1:5432: connection refused", store.ErrUnavailable)
	}
	return nil
}

func (f *flakyStore) Update(ctx context.Context, fn func(store.Tx) error) error {
	if err := f.check(ctx); err != nil {
		return err
	}
	return f.Store.Update(ctx, fn)
}

func (f *flakyStore) View(ctx context.Context, fn func(store.Tx) error) error {
	if err := f.check(ctx); err != nil {
		return err
	}
	return f.Store.View(ctx, fn)
}

type logBuffer struct {
	mu  sync.Mutex
	buf strings.Builder
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// TestStoreOutage: while the store is down, requests get what the gateway
// answers when the service behind it is down, 502 APIGW.0201 "Backend
// unavailable." and no Retry-After, without each waiting for the store (one attempt per
// back-off interval reaches it); the outage makes one log line when it
// starts and one when it ends; the first attempt after the store is back
// succeeds, with no restart.
func TestStoreOutage(t *testing.T) {
	fs := &flakyStore{Store: memory.New()}
	logs := &logBuffer{}
	srv := newServer(t, server.Options{Store: fs, Now: fixedNow,
		Logger: slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	var mu sync.Mutex
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	server.SetOutageClock(srv, func() time.Time { mu.Lock(); defer mu.Unlock(); return now })
	advance := func(d time.Duration) { mu.Lock(); now = now.Add(d); mu.Unlock() }
	listReq := func() *http.Request { return tokenReq("demo-token", http.MethodGet, "DEMO-1", "") }

	expectUnavailable := func(when string) {
		t.Helper()
		status, h, body := do(t, srv, listReq())
		code, msg := decodeError(t, body)
		if status != http.StatusBadGateway || code != server.CodeBackend || !strings.HasPrefix(msg, "Backend unavailable.") {
			t.Fatalf("%s: %d %s; want 502 %s Backend unavailable.", when, status, body, server.CodeBackend)
		}
		if requestIDOf(t, body) != h.Get("X-Request-Id") {
			t.Errorf("%s: request_id is not X-Request-Id: %s", when, body)
		}
		if ra := h.Get("Retry-After"); ra != "" {
			t.Errorf("%s: Retry-After %q; no source shows the gateway sending one", when, ra)
		}
	}

	fs.down.Store(true)
	before := fs.calls.Load()
	for i := range 20 {
		expectUnavailable(fmt.Sprintf("request %d of the outage", i))
	}
	if n := fs.calls.Load() - before; n != 1 {
		t.Errorf("%d calls reached the store during the outage; want 1 (the rest refused at once)", n)
	}
	advance(300 * time.Millisecond) // past the first back-off: one more attempt
	expectUnavailable("the second attempt")
	if n := fs.calls.Load() - before; n != 2 {
		t.Errorf("%d calls reached the store after one back-off; want 2", n)
	}

	fs.down.Store(false)
	expectUnavailable("before the next attempt is due") // the back-off is now 500ms
	advance(600 * time.Millisecond)
	for i := range 2 {
		if status, _, body := do(t, srv, listReq()); status != http.StatusOK || strings.Contains(string(body), "error_code") {
			t.Errorf("request %d after the store is back: %d %s", i, status, body)
		}
	}

	out := logs.String()
	if n := strings.Count(out, `msg="store unavailable`); n != 1 {
		t.Errorf("%d log lines say the store is unavailable; want 1:\n%s", n, out)
	}
	if n := strings.Count(out, `msg="store available again"`); n != 1 {
		t.Errorf("%d log lines say the store is back; want 1:\n%s", n, out)
	}
	if strings.Contains(out, "level=ERROR") {
		t.Errorf("an outage logged errors:\n%s", out)
	}
}

// TestClientClosed: a request whose client hung up is logged at debug
// level with status 499, not as a 500 error.
func TestClientClosed(t *testing.T) {
	fs := &flakyStore{Store: memory.New()}
	logs := &logBuffer{}
	srv := newServer(t, server.Options{Store: fs, Now: fixedNow,
		Logger: slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	for _, req := range []*http.Request{
		tokenReq("demo-token", http.MethodGet, "DEMO-1", ""),
		tokenReq("demo-token", http.MethodPost, "DEMO-1", createBody("team", "DEMO-2")),
	} {
		srv.ServeHTTP(httptest.NewRecorder(), req.WithContext(ctx))
	}
	out := logs.String()
	if strings.Contains(out, "level=ERROR") || strings.Contains(out, "status=500") {
		t.Errorf("a client that hung up was logged as a server error:\n%s", out)
	}
	if n := strings.Count(out, "level=DEBUG msg=request"); n != 2 || strings.Count(out, "status=499") != 2 {
		t.Errorf("want 2 debug lines with status=499:\n%s", out)
	}
}

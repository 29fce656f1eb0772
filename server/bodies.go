package server

import (
	"context"
	"errors"
	"io"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// Request bodies hold memory while they arrive and while they are served.
// The budget bounds that memory, and what one credential may hold of it,
// so that a caller uploading slowly cannot starve everyone else's writes;
// a body whose bytes stop arriving loses its reservation (watchedBody).
// The control API has a budget of its own.

const (
	// bodyShares: one credential may hold at most 1/bodyShares of the
	// API's budget, so that others always find room.
	bodyShares = 4
	// controlBodyMemory is the control API's own budget: four bodies of
	// the largest size.
	controlBodyMemory = 4 * defaultBodyLimit
	// defaultBodyStall is how long a body may send nothing before its
	// read fails and the request is answered 408.
	defaultBodyStall = 5 * time.Second
	// maxBodyWait is how long a request waits for room in the budget.
	maxBodyWait = 5 * time.Second
)

// errBodyStalled is the read error of a body that sent nothing for the
// stall interval.
var errBodyStalled = errors.New("no byte of the body arrived in time")

// bodyBudget bounds the bytes that bodies being read or served may hold
// at once (total), and what one credential may hold of them (share). A
// request that does not fit waits, as long as its context allows, up to
// maxBodyWait; then it is refused with a 503.
type bodyBudget struct {
	mu    sync.Mutex
	free  int64
	held  map[credential]int64 // what each credential holds; no entry for 0
	wake  chan struct{}        // closed and replaced when bytes are released and someone waits
	waits bool                 // someone took wake since it was last replaced
	total int64
	share int64
}

func newBodyBudget(total, share int64) *bodyBudget {
	return &bodyBudget{free: total, total: total, share: min(share, total),
		held: map[credential]int64{}, wake: make(chan struct{})}
}

// acquire reserves n bytes for who; more than a share is capped at a
// share, so that any body can be read.
func (b *bodyBudget) acquire(ctx context.Context, who credential, n int64) bool {
	n = min(n, b.share)
	var timeout <-chan time.Time
	for {
		b.mu.Lock()
		if b.free >= n && b.held[who]+n <= b.share {
			b.free -= n
			b.held[who] += n
			b.mu.Unlock()
			return true
		}
		wake := b.wake
		b.waits = true
		b.mu.Unlock()
		if timeout == nil {
			t := time.NewTimer(maxBodyWait)
			defer t.Stop()
			timeout = t.C
		}
		select {
		case <-wake:
		case <-timeout:
			return false
		case <-ctx.Done():
			return false
		}
	}
}

func (b *bodyBudget) release(who credential, n int64) {
	n = min(n, b.share)
	b.mu.Lock()
	b.free += n
	if b.held[who] -= n; b.held[who] <= 0 {
		delete(b.held, who) // the map holds only the credentials with bodies in flight
	}
	if b.waits { // a new channel per release only when it wakes someone
		close(b.wake)
		b.wake, b.waits = make(chan struct{}), false
	}
	b.mu.Unlock()
}

func busy() *apiError {
	e := gatewayError(http.StatusServiceUnavailable, CodeUnavailable, msgUnavailable+" Too many request bodies in flight; retry later.")
	e.RetryAfter = 1
	return e
}

// watchedBody is a request body that must keep arriving: a Read that has
// waited the stall interval for a byte is interrupted, by a read deadline
// in the past on the connection, and fails with errBodyStalled. So a
// stalled body loses its reservation at once rather than at the server's
// read timeout. Each Read only notes when it will have stalled; one
// timer per body, pooled with it, is started by the first Read and
// checks the note when it fires, starting again while Reads progress.
type watchedBody struct {
	io.ReadCloser
	timer   *time.Timer // runs interrupt
	started bool        // the timer runs for this body (the reader's own)

	due      atomic.Int64 // sinceStart when the waiting Read stalls; 0 when none waits
	finished atomic.Bool  // a Read returned an error (EOF too): no Read will wait
	stalled  atomic.Bool

	mu    sync.Mutex          // orders interrupt and release
	w     http.ResponseWriter // the request's, which reaches its connection; nil once released
	stall time.Duration       // how long a Read may wait
}

// start is the origin of watchedBody's monotonic times.
var start = time.Now()

func sinceStart() int64 { return int64(time.Since(start)) }

var watchedBodies = sync.Pool{New: func() any {
	b := &watchedBody{}
	b.timer = time.AfterFunc(time.Hour, b.interrupt)
	b.timer.Stop()
	return b
}}

func watchBody(body io.ReadCloser, w http.ResponseWriter, stall time.Duration) *watchedBody {
	b := watchedBodies.Get().(*watchedBody)
	b.ReadCloser, b.started = body, false
	b.due.Store(0)
	b.finished.Store(false)
	b.stalled.Store(false)
	b.mu.Lock() // a late interrupt of the body's last request may read them
	b.w, b.stall = w, stall
	b.mu.Unlock()
	return b
}

func (b *watchedBody) Read(p []byte) (int, error) {
	if b.stalled.Load() {
		return 0, errBodyStalled
	}
	b.due.Store(sinceStart() + int64(b.stall))
	if !b.started {
		b.started = true
		b.timer.Reset(b.stall)
	}
	n, err := b.ReadCloser.Read(p)
	b.due.Store(0)
	if b.stalled.Load() {
		return n, errBodyStalled
	}
	if err != nil {
		b.finished.Store(true)
	}
	return n, err
}

// interrupt, the timer's function, fails the Read that has waited past
// its due time, or starts the timer again for the Read to come. A call
// for an earlier request of the pooled body finds the state of the
// current one, and acts on it rightly.
func (b *watchedBody) interrupt() {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.w == nil || b.finished.Load() {
		return
	}
	due, now := b.due.Load(), sinceStart()
	switch {
	case due == 0: // between two Reads
		b.timer.Reset(b.stall)
	case due > now: // the waiting Read began after the timer did
		b.timer.Reset(time.Duration(due - now))
	default:
		b.stalled.Store(true)
		// The connection is lost to further requests: the answer closes it.
		_ = http.NewResponseController(b.w).SetReadDeadline(time.Now())
	}
}

// release stops watching and pools b; the caller no longer reads it.
func (b *watchedBody) release() {
	b.mu.Lock()
	b.w = nil
	b.mu.Unlock()
	b.timer.Stop() // after w: an interrupt running now does not start it again
	b.ReadCloser = nil
	watchedBodies.Put(b)
}

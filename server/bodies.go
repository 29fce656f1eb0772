package server

import (
	"context"
	"errors"
	"io"
	"net/http"
	"os"
	"sync"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/osmstub/osmstub/server/control"
	"github.com/osmstub/osmstub/server/store"
)

// Request bodies hold memory while they arrive and while they are served.
// The budget bounds that memory, and what one credential may hold of it,
// so that a caller uploading slowly cannot starve everyone else's writes;
// a body whose bytes stop arriving loses its reservation (stallingBody).
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

// stallingBody is a request body that must keep arriving: each Read may
// wait at most stall for a byte, by net/http's read deadline on the
// connection, and then fails with errBodyStalled. So a stalled body loses
// its reservation at once rather than at the server's read timeout. A
// handler without a connection (in process) cannot set deadlines and is
// not watched.
type stallingBody struct {
	io.ReadCloser
	rc    *http.ResponseController
	stall time.Duration
	done  bool
}

func (b *stallingBody) Read(p []byte) (int, error) {
	watched := !b.done && b.rc.SetReadDeadline(time.Now().Add(b.stall)) == nil
	b.done = !watched // a writer without deadlines will not have them on the next Read
	n, err := b.ReadCloser.Read(p)
	if watched && err != nil {
		// Read to its end or failed: the deadline must not cut the
		// connection's background read while the request is served.
		b.done = true
		_ = b.rc.SetReadDeadline(time.Time{})
	}
	if errors.Is(err, os.ErrDeadlineExceeded) {
		return n, errBodyStalled
	}
	return n, err
}

// limitBody caps what validation may read; a longer body is a 413. It
// applies to the routes that read a body (the contract's operations and
// the control API), so an unknown path is still a 404. The body's bytes
// are reserved in budget until the request has been answered: the API's,
// where each credential has a share, or the control API's own. The body
// must keep arriving (stallingBody): a stalled one is a 408. A route that
// takes no body refuses one: nothing would read it, and a long poll would
// hold its reservation for its whole wait. limit is the most a body may
// hold, 0 for a route that takes none.
func (s *Server) limitBody(budget *bodyBudget, limit int64) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			req := c.Request()
			switch {
			case !control.HasBody(req):
				return next(c)
			case limit == 0:
				return newAPIError(http.StatusBadRequest, CodeInvalid, "body: %s %s takes none", req.Method, req.URL.Path)
			case req.ContentLength > limit:
				return tooLarge()
			}
			n := req.ContentLength
			if n <= 0 { // chunked: as much as the limit allows
				n = limit
			}
			req.Body = http.MaxBytesReader(c.Response(), &stallingBody{ReadCloser: req.Body, rc: http.NewResponseController(c.Response()), stall: s.bodyStall}, limit)
			who := exchangeOf(req.Context()).auth.credential() // resolved by the gate; none on the control API
			if !budget.acquire(req.Context(), who, n) {
				return busy()
			}
			defer budget.release(who, n)
			return next(c)
		}
	}
}

// uploadBodyLimit is the body of UploadJsonAccessories: a file of the
// largest size allowed, Base64-encoded (4 bytes for 3), and its name.
func uploadBodyLimit(l store.AccessoryLimits) int64 {
	return int64(l.SizeMB)<<20*4/3 + 64<<10
}

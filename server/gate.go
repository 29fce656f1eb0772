package server

import (
	"context"
	"math"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/labstack/echo/v4"
)

// The gate: what the API gateway in front of the service does before the
// service reads a request. Nobody without a credential that may succeed
// gets a byte of their body read, every credential can be throttled, and
// the memory that bodies in flight hold is bounded.

// gate refuses a contract request whose headers carry no credential that
// could succeed, then applies the caller's rate limit. The body is read
// later, by validation, which finishes authentication.
func (s *Server) gate(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if s.contractRoute(c) == nil {
			return next(c)
		}
		req := c.Request()
		x := exchangeOf(req.Context())
		if s.proxy != nil && crossSite(req) {
			return s.guardProxy(req, &x.auth) // before any credential is looked at
		}
		s.auth.resolve(req.Context(), req, &x.auth)
		if !x.auth.hopeful() {
			return x.auth.failure()
		}
		if err := s.guardProxy(req, &x.auth); err != nil {
			return err
		}
		if s.limiter != nil {
			if wait := s.limiter.take(x.auth.credential(), s.auth.now()); wait > 0 {
				return throttled(s.limiter.rate, wait)
			}
		}
		return next(c)
	}
}

// credential names the credential a hopeful request carries, for the rate
// limit: the access key when one is known, else the token's user.
func (a *authAttempt) credential() string {
	if a.keyFound {
		return "ak:" + a.header.Access
	}
	return "token:" + a.tokenUser
}

func throttled(rate int, wait time.Duration) *apiError {
	e := gatewayError(http.StatusTooManyRequests, CodeThrottled,
		msgThrottled+"policy user over ratelimit, limit:"+strconv.Itoa(rate)+", time:1 second")
	e.RetryAfter = int(math.Ceil(wait.Seconds()))
	return e
}

// limiter is a token bucket per credential: rate requests a second, with
// a burst of rate.
type limiter struct {
	rate    int
	mu      sync.Mutex
	buckets map[string]*bucket
}

type bucket struct {
	tokens float64
	last   time.Time
}

func newLimiter(rate int) *limiter {
	if rate <= 0 {
		return nil
	}
	return &limiter{rate: rate, buckets: map[string]*bucket{}}
}

// take spends one token of key's bucket and returns 0, or how long until
// a token is there when there is none. Only credentials the store knows
// reach it, so the map is as large as the set of credentials.
func (l *limiter) take(key string, now time.Time) time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	b := l.buckets[key]
	if b == nil {
		b = &bucket{tokens: float64(l.rate), last: now}
		l.buckets[key] = b
	}
	if elapsed := now.Sub(b.last).Seconds(); elapsed > 0 {
		b.tokens = math.Min(float64(l.rate), b.tokens+elapsed*float64(l.rate))
		b.last = now
	}
	if b.tokens >= 1 {
		b.tokens--
		return 0
	}
	return time.Duration((1 - b.tokens) / float64(l.rate) * float64(time.Second))
}

// bodyBudget bounds the bytes that bodies being read or served may hold
// at once. A request that does not fit waits, as long as its context
// allows, up to maxBodyWait; then it is refused with a 503.
type bodyBudget struct {
	mu    sync.Mutex
	free  int64
	wake  chan struct{} // closed and replaced when bytes are released and someone waits
	waits bool          // someone took wake since it was last replaced
	total int64
}

const maxBodyWait = 5 * time.Second

func newBodyBudget(total int64) *bodyBudget {
	return &bodyBudget{free: total, total: total, wake: make(chan struct{})}
}

// acquire reserves n bytes (at most the whole budget).
func (b *bodyBudget) acquire(ctx context.Context, n int64) bool {
	n = min(n, b.total)
	var timeout <-chan time.Time
	for {
		b.mu.Lock()
		if b.free >= n {
			b.free -= n
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

func (b *bodyBudget) release(n int64) {
	n = min(n, b.total)
	b.mu.Lock()
	b.free += n
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

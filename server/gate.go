package server

import (
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
		req := c.Request()
		x := exchangeOf(req.Context())
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
// limit and the body budget: the access key when one is known, else the
// token's user. A struct, so that using it as a map key allocates nothing.
type credential struct {
	accessKey bool
	name      string
}

func (a *authAttempt) credential() credential {
	if a.keyFound {
		return credential{accessKey: true, name: a.header.Access}
	}
	return credential{name: a.tokenUser}
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
	buckets map[credential]*bucket
}

type bucket struct {
	tokens float64
	last   time.Time
}

func newLimiter(rate int) *limiter {
	if rate <= 0 {
		return nil
	}
	return &limiter{rate: rate, buckets: map[credential]*bucket{}}
}

// maxBuckets bounds the credentials the limiter keeps: tokens passed to
// an upstream (-proxy-pass-tokens) are not the store's, so a caller could
// send a new one with every request.
const maxBuckets = 4096

// overflow is the bucket every credential shares once maxBuckets are kept
// and none of them is full (an access key is never empty).
var overflow = credential{accessKey: true}

// take spends one token of key's bucket and returns 0, or how long until
// a token is there when there is none.
func (l *limiter) take(key credential, now time.Time) time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	b := l.buckets[key]
	if b == nil && len(l.buckets) >= maxBuckets {
		l.prune(now)
		if len(l.buckets) >= maxBuckets {
			key, b = overflow, l.buckets[overflow]
		}
	}
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

// prune forgets the buckets that are full again: a new bucket is full too.
func (l *limiter) prune(now time.Time) {
	for k, b := range l.buckets {
		if b.tokens+now.Sub(b.last).Seconds()*float64(l.rate) >= float64(l.rate) {
			delete(l.buckets, k)
		}
	}
}

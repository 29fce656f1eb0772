package server

import (
	"math"
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/osmstub/osmstub/internal/ratelimit"
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
			if wait := s.limiter.Take(x.auth.credential(), s.auth.now()); wait > 0 {
				return throttled(s.rateLimit, wait)
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

// newLimiter is the API's rate limit, a token bucket per credential: rate
// requests a second, with a burst of rate; nil without one. It keeps at
// most maxBuckets credentials: tokens passed to an upstream
// (-proxy-pass-tokens) are not the store's, so a caller could send a new
// one with every request. Past that, they share one bucket (an access key
// is never empty).
func newLimiter(rate int) *ratelimit.Limiter[credential] {
	if rate <= 0 {
		return nil
	}
	return ratelimit.New(float64(rate), float64(rate), maxBuckets, credential{accessKey: true})
}

const maxBuckets = 4096

package client

import (
	"context"
	"errors"
	"math"
	"math/rand/v2"
	"net"
	"net/http"
	"strconv"
	"time"
)

// RetryPolicy says when and how often a call is repeated. Waits grow
// exponentially from InitialBackoff to MaxBackoff, each drawn at random
// from its upper half (jitter), and a Retry-After header lengthens a wait.
// No retry starts whose wait would end more than MaxElapsed after the first
// attempt began (0: no such limit).
//
// Reads (every GET: ListRelation, ListCases, ShowCaseDetail, ...) are
// retried on transport errors and on 429, 500, 502, 503 and 504. Calls that
// change state are retried only where a repeat cannot do harm: the
// connection was never established, 429, 503, and, for the idempotent
// relation calls, 502 (the gateway's "Backend unavailable.", which a proxy
// may also answer after the service acted; the creates and actions below
// are not repeated on it). RetryUnsafe retries CreateRelations and DeleteRelation like reads (the
// service's create and delete of an association are idempotent, so this is
// usually safe). It never applies to CreateCases, CreateMessages,
// UploadJsonAccessories, CreateScores and UpdateCases: a repeat that
// reached the service would open a second ticket, add a second message or
// upload, or be refused (a second cancel, a second press).
// Nothing is retried once the call's context is done.
type RetryPolicy struct {
	MaxAttempts    int // including the first; 1 disables retries
	InitialBackoff time.Duration
	MaxBackoff     time.Duration
	MaxElapsed     time.Duration
	RetryUnsafe    bool
}

// DefaultRetry is the policy of a Client built without WithRetry.
var DefaultRetry = RetryPolicy{
	MaxAttempts:    4,
	InitialBackoff: 100 * time.Millisecond,
	MaxBackoff:     2 * time.Second,
	MaxElapsed:     15 * time.Second,
}

// NoRetry makes every call a single attempt.
var NoRetry = RetryPolicy{MaxAttempts: 1}

func (p RetryPolicy) check() error {
	switch {
	case p.MaxAttempts < 1:
		return &ArgumentError{"RetryPolicy.MaxAttempts", "must be at least 1"}
	case p.InitialBackoff < 0 || p.MaxBackoff < 0 || p.MaxElapsed < 0:
		return &ArgumentError{"RetryPolicy", "durations must not be negative"}
	case p.MaxBackoff < p.InitialBackoff:
		return &ArgumentError{"RetryPolicy.MaxBackoff", "must not be below InitialBackoff"}
	}
	return nil
}

// backoff is the wait before retry number n (1-based).
func (p RetryPolicy) backoff(n int) time.Duration {
	d := p.InitialBackoff
	for i := 1; i < n && d < p.MaxBackoff; i++ {
		if d > p.MaxBackoff/2 {
			d = p.MaxBackoff // doubling would pass the cap (or overflow)
			break
		}
		d *= 2
	}
	if d <= 1 {
		return d
	}
	return d/2 + rand.N(d/2+1)
}

// repeat is what sending an operation's request twice would do.
type repeat int

const (
	repeatHarmless   repeat = iota // reads
	repeatIdempotent               // CreateRelations, DeleteRelation: the same state again
	repeatTwice                    // creates and actions: a second ticket, message, refusal
)

type repeatKey struct{}

// actsTwice marks ctx's request as one that must not reach the service
// twice (repeatTwice), whatever RetryPolicy.RetryUnsafe says.
func actsTwice(ctx context.Context) context.Context {
	return context.WithValue(ctx, repeatKey{}, repeatTwice)
}

// repeatOf tells what repeating req would do: as marked by actsTwice, else
// by its method (the relation calls' writes are idempotent).
func repeatOf(req *http.Request) repeat {
	if r, ok := req.Context().Value(repeatKey{}).(repeat); ok {
		return r
	}
	if req.Method == http.MethodGet {
		return repeatHarmless
	}
	return repeatIdempotent
}

// retryable reports whether an attempt's outcome may be repeated.
func (p RetryPolicy) retryable(r repeat, resp *http.Response, err error) bool {
	safe := r == repeatHarmless || r == repeatIdempotent && p.RetryUnsafe
	if err != nil {
		// The caller's own cancellation or deadline is checked by send on
		// the context itself: a per-attempt timeout (http.Client.Timeout,
		// a dial timeout) also matches context.DeadlineExceeded but is a
		// transport failure like any other.
		return safe || neverConnected(err)
	}
	switch resp.StatusCode {
	case http.StatusTooManyRequests, http.StatusServiceUnavailable:
		return true
	case http.StatusBadGateway:
		// A gateway may answer 502 after the service acted (a proxy
		// refusing the answer, a body cut short): not for a create.
		return r != repeatTwice
	case http.StatusInternalServerError, http.StatusGatewayTimeout:
		return safe
	}
	return false
}

// neverConnected reports a failure to establish the connection: the
// request cannot have reached the service.
func neverConnected(err error) bool {
	var op *net.OpError
	if errors.As(err, &op) && op.Op == "dial" {
		return true
	}
	var dns *net.DNSError
	return errors.As(err, &dns)
}

// retryAfter reads a Retry-After header in seconds or as an HTTP date.
func retryAfter(resp *http.Response, now time.Time) time.Duration {
	if resp == nil {
		return 0
	}
	v := resp.Header.Get("Retry-After")
	if s, err := strconv.Atoi(v); err == nil && s >= 0 {
		if int64(s) > math.MaxInt64/int64(time.Second) {
			return math.MaxInt64 // would overflow: wait "forever", not at all
		}
		return time.Duration(s) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(t.Sub(now), 0)
	}
	return 0
}

package client

import "time"

// Test-only hooks: they let tests make backoff waits instant and observable
// and give the client a fake clock, so that tests assert requested waits and
// attempt counts, never wall time.

// WithSleep replaces the function the client waits with between attempts.
func WithSleep(f func(time.Duration) <-chan time.Time) Option {
	return func(c *config) error {
		c.sleep = f
		return nil
	}
}

// WithClock replaces the client's clock (AK/SK dates, Retry-After dates,
// MaxElapsed).
func WithClock(now func() time.Time) Option {
	return func(c *config) error {
		c.now = now
		return nil
	}
}

// Backoff exposes RetryPolicy.backoff.
func (p RetryPolicy) Backoff(n int) time.Duration { return p.backoff(n) }

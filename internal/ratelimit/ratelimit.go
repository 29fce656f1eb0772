// Package ratelimit is a token bucket per key with a bound on the keys it
// keeps: the API's rate limit per credential and the control API's
// throttle of wrong tokens per address. Past the bound, the buckets that
// are full again are forgotten (a new bucket is full too) and, if none
// is, every new key shares one bucket, so that many keys can neither grow
// the map nor get more tokens.
package ratelimit

import (
	"math"
	"sync"
	"time"
)

// Limiter is a token bucket per key: rate tokens a second, at most burst.
type Limiter[K comparable] struct {
	rate, burst float64
	maxKeys     int
	overflow    K // the key every new key shares past maxKeys

	mu      sync.Mutex
	buckets map[K]*bucket
	pruned  time.Time // the last scan for full buckets: at most one a second
}

type bucket struct {
	tokens float64
	last   time.Time
}

// New is a Limiter of rate tokens a second and burst at most, keeping at
// most maxKeys keys besides overflow.
func New[K comparable](rate, burst float64, maxKeys int, overflow K) *Limiter[K] {
	return &Limiter[K]{rate: rate, burst: burst, maxKeys: maxKeys, overflow: overflow, buckets: map[K]*bucket{}}
}

// Take spends one of key's tokens and returns 0, or when it has none,
// how long until it has one.
func (l *Limiter[K]) Take(key K, now time.Time) time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	b := l.bucket(key, now)
	if b.tokens >= 1 {
		b.tokens--
		return 0
	}
	return l.until(b)
}

// Wait returns 0 when key has a token, else how long until it has one;
// it spends nothing, and keeps nothing for a key it does not know while
// there is room for it.
func (l *Limiter[K]) Wait(key K, now time.Time) time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.buckets[key] == nil && len(l.buckets) < l.maxKeys {
		return 0
	}
	if b := l.bucket(key, now); b.tokens < 1 {
		return l.until(b)
	}
	return 0
}

// Spend takes one of key's tokens, if need be below zero: the key then
// waits that much longer.
func (l *Limiter[K]) Spend(key K, now time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.bucket(key, now).tokens--
}

// Len is how many keys the limiter keeps.
func (l *Limiter[K]) Len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.buckets)
}

func (l *Limiter[K]) until(b *bucket) time.Duration {
	return time.Duration((1 - b.tokens) / l.rate * float64(time.Second))
}

// bucket returns key's bucket, refilled up to now. Call with mu held.
func (l *Limiter[K]) bucket(key K, now time.Time) *bucket {
	b := l.buckets[key]
	if b == nil && len(l.buckets) >= l.maxKeys {
		if now.Sub(l.pruned) >= time.Second { // a flood of new keys scans once a second, not once a call
			l.pruned = now
			for k, b := range l.buckets { // forget the full ones
				if b.tokens+now.Sub(b.last).Seconds()*l.rate >= l.burst {
					delete(l.buckets, k)
				}
			}
		}
		if len(l.buckets) >= l.maxKeys {
			key, b = l.overflow, l.buckets[l.overflow]
		}
	}
	if b == nil {
		b = &bucket{tokens: l.burst, last: now}
		l.buckets[key] = b
	}
	if elapsed := now.Sub(b.last).Seconds(); elapsed > 0 {
		b.tokens = math.Min(l.burst, b.tokens+elapsed*l.rate)
		b.last = now
	}
	return b
}

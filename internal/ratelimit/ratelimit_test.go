package ratelimit

import (
	"strconv"
	"testing"
	"time"
)

var t0 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

func TestTake(t *testing.T) {
	l := New(2, 2, 10, "")
	tests := []struct {
		key  string
		at   time.Duration
		want time.Duration
	}{
		{"a", 0, 0},
		{"a", 0, 0},
		{"a", 0, 500 * time.Millisecond}, // the burst is spent
		{"b", 0, 0},                      // another key has its own
		{"a", 500 * time.Millisecond, 0}, // one token back
		{"a", 500 * time.Millisecond, 500 * time.Millisecond},
	}
	for i, tt := range tests {
		if got := l.Take(tt.key, t0.Add(tt.at)); got != tt.want {
			t.Errorf("step %d: Take(%q) at +%v = %v, want %v", i, tt.key, tt.at, got, tt.want)
		}
	}
}

// TestWaitAndSpend: Wait spends nothing and keeps nothing for a key it
// does not know; Spend may go below zero, which makes the key wait longer.
func TestWaitAndSpend(t *testing.T) {
	l := New(1, 2, 10, "")
	if w := l.Wait("a", t0); w != 0 || l.Len() != 0 {
		t.Fatalf("Wait of a new key: %v, %d keys kept; want 0 and none", w, l.Len())
	}
	for range 3 {
		l.Spend("a", t0)
	}
	if w := l.Wait("a", t0); w != 2*time.Second {
		t.Errorf("after 3 spends of a burst of 2: wait %v, want 2s", w)
	}
	if w := l.Wait("a", t0.Add(2*time.Second)); w != 0 {
		t.Errorf("2s later: wait %v, want 0", w)
	}
}

// TestBounded: a new key with every call keeps at most maxKeys buckets
// (and the shared one); full ones give way, and while every kept one is
// in use, new keys share one bucket, so that many keys cannot get more
// tokens.
func TestBounded(t *testing.T) {
	const maxKeys = 100
	for _, spend := range []bool{false, true} {
		l := New(1, 1, maxKeys, "overflow")
		for i := range 3 * maxKeys {
			if spend {
				l.Spend(strconv.Itoa(i), t0)
			} else {
				l.Take(strconv.Itoa(i), t0)
			}
		}
		if n := l.Len(); n > maxKeys+1 {
			t.Fatalf("spend=%v: %d buckets kept, want at most %d", spend, n, maxKeys+1)
		}
		if w := l.Wait("yet another", t0); w == 0 {
			t.Errorf("spend=%v: a new key while every bucket is in use: no wait, want the shared bucket's", spend)
		}
		if w := l.Take("after", t0.Add(time.Hour)); w != 0 { // every bucket is full again
			t.Errorf("spend=%v: after the buckets refilled: wait %v", spend, w)
		}
		if n := l.Len(); n != 1 {
			t.Errorf("spend=%v: %d buckets after pruning, want 1", spend, n)
		}
	}
}

package server

import (
	"sync"
	"time"
)

// clock is the server's settable clock, which AK/SK date checks read: a
// base (Options.Now, or the real time) that can be stopped and moved, in
// process (Server.SetTime, Advance, FollowRealTime) or over HTTP
// (/_stub/clock). It is per process.
type clock struct {
	mu     sync.Mutex
	base   func() time.Time
	fixed  bool
	at     time.Time // where the clock stopped, when fixed
	offset time.Duration
}

func newClock(base func() time.Time) *clock {
	if base == nil {
		base = time.Now
	}
	return &clock{base: base}
}

func (c *clock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.fixed {
		return c.at.Add(c.offset)
	}
	return c.base().Add(c.offset)
}

// state is the time now, whether the clock is stopped and by how much it
// was moved.
func (c *clock) state() (now time.Time, fixed bool, offset time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.fixed {
		return c.at.Add(c.offset), true, c.offset
	}
	return c.base().Add(c.offset), false, c.offset
}

// Now is the server's time, which AK/SK date checks read.
func (s *Server) Now() time.Time { return s.clock.now() }

// SetTime stops the server's clock at t.
func (s *Server) SetTime(t time.Time) {
	s.clock.mu.Lock()
	defer s.clock.mu.Unlock()
	s.clock.fixed, s.clock.at, s.clock.offset = true, t, 0
}

// Advance moves the server's clock by d (which may be negative), stopped
// or not.
func (s *Server) Advance(d time.Duration) {
	s.clock.mu.Lock()
	defer s.clock.mu.Unlock()
	s.clock.offset += d
}

// FollowRealTime undoes SetTime and Advance: the clock follows its base
// (Options.Now, or the real time) again.
func (s *Server) FollowRealTime() {
	s.clock.mu.Lock()
	defer s.clock.mu.Unlock()
	s.clock.fixed, s.clock.at, s.clock.offset = false, time.Time{}, 0
}

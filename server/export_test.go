package server

import "time"

// SetOutageClock sets the clock of the server's outage back-off.
func SetOutageClock(s *Server, now func() time.Time) { s.store.(*guardedStore).now = now }

// SetControlTriesClock sets the clock that gives back control token tries.
func SetControlTriesClock(s *Server, now func() time.Time) { s.guard.tries.now = now }

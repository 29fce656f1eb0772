package server

import (
	"time"

	"github.com/osmstub/osmstub/server/control"
)

// SetOutageClock sets the clock of the server's outage back-off.
func SetOutageClock(s *Server, now func() time.Time) { s.store.(*guardedStore).now = now }

// SetControlTriesClock sets the clock that gives back control token tries.
func SetControlTriesClock(s *Server, now func() time.Time) { s.guard.SetClock(now) }

// JournalWaiters is how many long polls of the journal are waiting.
func JournalWaiters(s *Server) int { return s.journal.Waiters() }

// Journal caps, the page bounds and the busy code, for the tests of
// GET /_stub/requests.
const (
	MaxJournalPage     = control.MaxPage
	DefaultJournalPage = control.DefaultPage
	MaxJournalReaders  = control.MaxReaders
	MaxJournalWaiters  = control.MaxWaiters
)

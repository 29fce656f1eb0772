package control

import (
	"strconv"
	"testing"
	"time"
)

// The addresses tracked are bounded: past controlTriesAddrs, those whose
// tries have all come back are forgotten, and if none has, new addresses
// share one bucket, so that many addresses cannot grow the map or get
// more tries.
func TestTokenTriesBounded(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	tries := newTokenTries()
	tries.now = func() time.Time { return now }
	addr := func(i int) string { return "10.0." + strconv.Itoa(i/256) + "." + strconv.Itoa(i%256) }
	for i := range controlTriesAddrs {
		if tries.wait(addr(i)) != 0 {
			t.Fatalf("address %d: its first try was refused", i)
		}
		tries.fail(addr(i))
	}
	for i := range controlTriesBurst {
		if wait := tries.wait(addr(controlTriesAddrs + i)); wait != 0 {
			t.Fatalf("shared bucket, try %d: wait %v", i+1, wait)
		}
		tries.fail(addr(controlTriesAddrs + i))
	}
	if wait := tries.wait(addr(controlTriesAddrs + 99)); wait <= 0 {
		t.Error("a new address past the bound got more tries than the shared bucket holds")
	}
	if n := len(tries.buckets); n > controlTriesAddrs+1 {
		t.Errorf("%d buckets, want at most %d", n, controlTriesAddrs+1)
	}
	now = now.Add(time.Minute) // every try back: the next new address prunes them
	if wait := tries.wait("192.0.2.9"); wait != 0 {
		t.Errorf("after a minute, a new address: wait %v", wait)
	}
	if n := len(tries.buckets); n != 1 {
		t.Errorf("%d buckets after pruning, want 1", n)
	}
}

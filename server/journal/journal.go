// Package journal is the stub's request journal: a bounded ring of the
// requests it served, with what it answered, that tests can read, filter
// and wait on. The ring is the only store: once full, each new entry
// replaces the oldest, so its memory is bounded by its size times the
// body caps (RequestBodyCap, ResponseBodyCap). Reading copies only the
// entries selected, not their bodies; a waiter costs a filter match per
// entry added and is woken only by the entry that completes it.
package journal

import (
	"context"
	"iter"
	"net/http"
	"sync"
	"time"
)

// DefaultSize is how many entries a journal keeps unless told otherwise.
const DefaultSize = 1000

// Body caps: a longer body is kept up to the cap and marked truncated.
const (
	RequestBodyCap  = 8 << 10
	ResponseBodyCap = 8 << 10
)

// Redacted replaces a secret in a kept header.
const Redacted = "[redacted]"

// Entry is one request the stub served and its answer. Secrets in the
// request headers are replaced by Redacted before the entry is kept.
type Entry struct {
	// Seq numbers the entries of a journal from 1, in the order they were
	// recorded (when the answer was complete).
	Seq uint64 `json:"seq"`
	// Time is when the request arrived, in real time (not the stub's
	// settable clock).
	Time      time.Time `json:"time"`
	RequestID string    `json:"request_id"`
	// Operation is the contract operation (CreateRelations, ListRelation,
	// DeleteRelation), empty for any other path.
	Operation string `json:"operation,omitempty"`
	Method    string `json:"method"`
	Path      string `json:"path"`
	Query     string `json:"query,omitempty"`
	// CaseID is the ticket in the path, unescaped.
	CaseID string `json:"case_id,omitempty"`
	// User is the authenticated caller and Auth how it authenticated
	// ("token" or "aksk"); both empty when authentication did not succeed.
	User string `json:"user,omitempty"`
	Auth string `json:"auth,omitempty"`
	// RequestHeaders are the request's headers with X-Auth-Token,
	// X-Security-Token, Cookie, Proxy-Authorization and the secret of
	// Authorization (an AK/SK
	// signature, a bearer token) redacted.
	RequestHeaders       http.Header `json:"request_headers"`
	RequestBody          string      `json:"request_body,omitempty"`
	RequestBodyTruncated bool        `json:"request_body_truncated,omitempty"`
	// Status is the HTTP status answered; 0 when the connection was
	// dropped (Dropped).
	Status                int           `json:"status"`
	ErrorCode             string        `json:"error_code,omitempty"`
	ResponseBody          string        `json:"response_body,omitempty"`
	ResponseBodyTruncated bool          `json:"response_body_truncated,omitempty"`
	Duration              time.Duration `json:"duration_ns"`
	// Fault describes the injected fault that applied, if one did; Prefer
	// is the Prefer header that chose the answer, if one did.
	Fault   string `json:"fault,omitempty"`
	Prefer  string `json:"prefer,omitempty"`
	Dropped bool   `json:"dropped,omitempty"`
}

// Filter selects entries; its zero value selects every entry. Set fields
// must all match.
type Filter struct {
	Operation string
	CaseID    string
	User      string
	Status    int
	ErrorCode string
	// After keeps the entries recorded after the one with this request ID;
	// if that entry is no longer in the journal (the ring wrapped, or it
	// was cleared), every entry kept is after it.
	After string
	// Since keeps the entries of requests that arrived at or after it.
	Since time.Time
	// Limit keeps the first Limit matching entries (oldest first); 0 keeps
	// them all.
	Limit int
}

func (f *Filter) match(e *Entry, after uint64) bool {
	return e.Seq > after &&
		(f.Operation == "" || e.Operation == f.Operation) &&
		(f.CaseID == "" || e.CaseID == f.CaseID) &&
		(f.User == "" || e.User == f.User) &&
		(f.Status == 0 || e.Status == f.Status) &&
		(f.ErrorCode == "" || e.ErrorCode == f.ErrorCode) &&
		(f.Since.IsZero() || !e.Time.Before(f.Since))
}

// Journal is a ring of entries, safe for concurrent use.
type Journal struct {
	mu      sync.Mutex
	ring    []Entry // grows to size, then wraps
	next    int     // where the next entry goes once the ring is full
	size    int
	seq     uint64
	waiting map[*waiter]struct{} // the calls of WaitSelect waiting
}

// waiter is a call of WaitSelect. Add and Clear keep its count of matching
// entries up to date, so that a waiter is woken only when a matching
// entry brings the count to need, and nothing rereads the ring for it.
type waiter struct {
	f     *Filter
	after uint64 // the Seq of the entry f.After names, 0 if none is kept
	need  int
	count int           // entries kept that f selects
	ready chan struct{} // closed when count reaches need; nil once closed
}

// New returns a journal of size entries (DefaultSize if size <= 0).
func New(size int) *Journal {
	if size <= 0 {
		size = DefaultSize
	}
	return &Journal{size: size, waiting: map[*waiter]struct{}{}}
}

// Size is how many entries the journal keeps at most.
func (j *Journal) Size() int { return j.size }

// Record is Add for a request's entry and headers: it keeps the headers
// redacted (RedactHeaders) and ignores e.RequestHeaders.
func (j *Journal) Record(e Entry, h http.Header) {
	e.RequestHeaders = RedactHeaders(h)
	j.Add(e)
}

// Add records r, replacing the oldest entry once the ring is full, and
// wakes the waiters it completes. r must not share mutable memory with
// anything the caller keeps using.
func (j *Journal) Add(r Entry) {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.seq++
	r.Seq = j.seq
	var old Entry // the entry r replaces, if any
	if len(j.ring) < j.size {
		j.ring = append(j.ring, r)
	} else {
		old = j.ring[j.next]
		j.ring[j.next] = r
		j.next = (j.next + 1) % j.size
	}
	for w := range j.waiting {
		if w.f.After != "" && (r.RequestID == w.f.After || old.RequestID == w.f.After) {
			j.recount(w) // where After points has changed
		} else {
			if old.Seq != 0 && w.f.match(&old, w.after) {
				w.count--
			}
			if w.f.match(&r, w.after) {
				w.count++
			}
		}
		w.wake()
	}
}

// recount sets w's after and count from the entries kept.
func (j *Journal) recount(w *waiter) {
	w.after = j.afterSeq(w.f)
	w.count = 0
	j.each(func(r *Entry) bool {
		if w.f.match(r, w.after) {
			w.count++
		}
		return true
	})
}

func (w *waiter) wake() {
	if w.count >= w.need && w.ready != nil {
		close(w.ready)
		w.ready = nil
	}
}

// Clear removes every entry. Numbering goes on.
func (j *Journal) Clear() {
	j.mu.Lock()
	defer j.mu.Unlock()
	clear(j.ring)
	j.ring, j.next = j.ring[:0], 0
	for w := range j.waiting {
		w.after, w.count = 0, 0
	}
}

// Select returns the entries f selects, oldest first: it takes them when
// called, and yields each with its own copy of the headers. Ranging over
// it again yields the same entries.
func (j *Journal) Select(f Filter) iter.Seq[Entry] {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.query(&f)
}

// afterSeq is the Seq of the oldest entry kept with the request ID
// f.After, 0 if there is none.
func (j *Journal) afterSeq(f *Filter) uint64 {
	var after uint64
	if f.After != "" {
		j.each(func(r *Entry) bool {
			if r.RequestID == f.After {
				after = r.Seq
				return false
			}
			return true
		})
	}
	return after
}

// query takes the entries f selects; the caller holds j.mu.
func (j *Journal) query(f *Filter) iter.Seq[Entry] {
	after := j.afterSeq(f)
	var es []Entry
	j.each(func(e *Entry) bool {
		if f.match(e, after) {
			es = append(es, *e)
		}
		return f.Limit <= 0 || len(es) < f.Limit
	})
	return func(yield func(Entry) bool) {
		for _, e := range es {
			e.RequestHeaders = e.RequestHeaders.Clone()
			if !yield(e) {
				return
			}
		}
	}
}

// each calls fn on the entries oldest first until it returns false.
func (j *Journal) each(fn func(*Entry) bool) {
	n := len(j.ring)
	start := 0
	if n == j.size {
		start = j.next
	}
	for i := range n {
		if !fn(&j.ring[(start+i)%n]) {
			return
		}
	}
}

// WaitSelect returns the entries f selects, as Select does, as soon as
// there are at least n of them, or what there is when ctx ends, with
// ctx's error. It blocks the calling goroutine only and starts none. A
// waiter costs the journal a filter match per entry added, and is woken
// only by the entry that completes it.
func (j *Journal) WaitSelect(ctx context.Context, f Filter, n int) (iter.Seq[Entry], error) {
	if f.Limit > 0 && f.Limit < n {
		f.Limit = n
	}
	w := &waiter{f: &f, need: n}
	j.mu.Lock()
	defer j.mu.Unlock()
	j.recount(w)
	if w.count >= n {
		return j.query(&f), nil
	}
	j.waiting[w] = struct{}{}
	defer delete(j.waiting, w)
	for w.count < n {
		ready := make(chan struct{})
		w.ready = ready
		j.mu.Unlock()
		select {
		case <-ready:
		case <-ctx.Done():
			j.mu.Lock()
			if w.count >= n { // completed as ctx ended
				return j.query(&f), nil
			}
			return j.query(&f), ctx.Err()
		}
		j.mu.Lock() // entries may have gone since: count again
	}
	return j.query(&f), nil
}

// Waiters is how many calls of WaitSelect are waiting.
func (j *Journal) Waiters() int {
	j.mu.Lock()
	defer j.mu.Unlock()
	return len(j.waiting)
}

package journal

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

func entry(op, caseID string, status int) Entry {
	return Entry{Operation: op, CaseID: caseID, Status: status, RequestHeaders: http.Header{"A": {"b"}}}
}

func ids(es []Entry) []uint64 {
	out := make([]uint64, len(es))
	for i, e := range es {
		out[i] = e.Seq
	}
	return out
}

func TestRingWrapsAround(t *testing.T) {
	j := New(3)
	for i := range 7 {
		j.Add(Entry{RequestID: fmt.Sprint(i)})
	}
	if got := fmt.Sprint(ids(slices.Collect(j.Select(Filter{})))); got != "[5 6 7]" {
		t.Errorf("after 7 adds to a ring of 3: seqs %s, want [5 6 7]", got)
	}
	if len(j.ring) != 3 {
		t.Errorf("ring holds %d entries, want 3", len(j.ring))
	}
	j.Clear()
	if got := slices.Collect(j.Select(Filter{})); len(got) != 0 {
		t.Errorf("after Clear: %d entries", len(got))
	}
	j.Add(Entry{})
	if got := fmt.Sprint(ids(slices.Collect(j.Select(Filter{})))); got != "[8]" {
		t.Errorf("after Clear and one add: %s, want [8] (numbering goes on)", got)
	}
	if New(0).Size() != DefaultSize {
		t.Errorf("New(0).Size() = %d", New(0).Size())
	}
}

func TestFilters(t *testing.T) {
	j := New(10)
	t0 := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	add := func(op, caseID, user string, status int, code string, at int) {
		e := entry(op, caseID, status)
		e.User, e.ErrorCode, e.Time, e.RequestID = user, code, t0.Add(time.Duration(at)*time.Second), fmt.Sprint("r", at)
		j.Add(e)
	}
	add("CreateRelations", "A-1", "alice", 200, "", 1)
	add("CreateRelations", "B-1", "bob", 503, "OSM.0004", 2)
	add("ListRelation", "A-1", "alice", 200, "OSM.01010015", 3)
	add("CreateRelations", "A-1", "alice", 200, "", 4)
	add("", "", "", 404, "APIGW.0101", 5)
	tests := []struct {
		name string
		f    Filter
		want string
	}{
		{"all", Filter{}, "[1 2 3 4 5]"},
		{"operation", Filter{Operation: "CreateRelations"}, "[1 2 4]"},
		{"case", Filter{CaseID: "A-1"}, "[1 3 4]"},
		{"user", Filter{User: "bob"}, "[2]"},
		{"status", Filter{Status: 200}, "[1 3 4]"},
		{"error code", Filter{ErrorCode: "OSM.0004"}, "[2]"},
		{"after", Filter{After: "r2"}, "[3 4 5]"},
		{"after unknown", Filter{After: "gone"}, "[1 2 3 4 5]"},
		{"since", Filter{Since: t0.Add(4 * time.Second)}, "[4 5]"},
		{"limit", Filter{Operation: "CreateRelations", Limit: 2}, "[1 2]"},
		{"all at once", Filter{Operation: "CreateRelations", CaseID: "A-1", User: "alice", Status: 200, After: "r1"}, "[4]"},
		{"none", Filter{Operation: "DeleteRelation"}, "[]"},
	}
	for _, tc := range tests {
		if got := fmt.Sprint(ids(slices.Collect(j.Select(tc.f)))); got != tc.want {
			t.Errorf("%s: %s, want %s", tc.name, got, tc.want)
		}
	}
	got := slices.Collect(j.Select(Filter{}))
	got[0].RequestHeaders.Set("A", "changed")
	if v := slices.Collect(j.Select(Filter{}))[0].RequestHeaders.Get("A"); v != "b" {
		t.Errorf("changing a returned entry changed the journal: %q", v)
	}
}

// TestConcurrentAdds is for -race: 64 writers, readers and waiters at once.
func TestConcurrentAdds(t *testing.T) {
	const writers, each = 64, 50
	j := New(100)
	var wg sync.WaitGroup
	done := make(chan []Entry)
	go func() {
		got, err := wait(j, context.Background(), Filter{Operation: "op"}, 100)
		if err != nil {
			t.Error(err)
		}
		done <- got
	}()
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				j.Add(entry("op", fmt.Sprint(w), i))
				_ = slices.Collect(j.Select(Filter{CaseID: fmt.Sprint(w)}))
			}
		}()
	}
	wg.Wait()
	if got := <-done; len(got) < 100 {
		t.Errorf("waiter got %d entries, want >= 100", len(got))
	}
	all := slices.Collect(j.Select(Filter{}))
	if len(all) != 100 || all[99].Seq != writers*each {
		t.Errorf("%d entries, last seq %d; want 100 and %d", len(all), all[len(all)-1].Seq, writers*each)
	}
	for i := 1; i < len(all); i++ {
		if all[i].Seq != all[i-1].Seq+1 {
			t.Fatalf("entries out of order: %d after %d", all[i].Seq, all[i-1].Seq)
		}
	}
}

func TestWait(t *testing.T) {
	t.Run("returns when the entries arrive", func(t *testing.T) {
		j := New(10)
		j.Add(entry("op", "other", 200))
		got := make(chan []Entry)
		go func() {
			es, err := wait(j, context.Background(), Filter{CaseID: "A-1"}, 2)
			if err != nil {
				t.Error(err)
			}
			got <- es
		}()
		j.Add(entry("op", "A-1", 200))
		j.Add(entry("op", "other", 200))
		j.Add(entry("op", "A-1", 503))
		if es := <-got; fmt.Sprint(ids(es)) != "[2 4]" {
			t.Errorf("got %v, want [2 4]", ids(es))
		}
	})
	t.Run("already there", func(t *testing.T) {
		j := New(10)
		j.Add(entry("op", "A-1", 200))
		es, err := wait(j, context.Background(), Filter{Limit: 1}, 1)
		if err != nil || len(es) != 1 {
			t.Errorf("got %d entries, %v", len(es), err)
		}
	})
	t.Run("ends with its context", func(t *testing.T) {
		j := New(10)
		j.Add(entry("op", "A-1", 200))
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		es, err := wait(j, ctx, Filter{}, 2)
		if !errors.Is(err, context.Canceled) || len(es) != 1 {
			t.Errorf("got %d entries, %v; want what there is and context.Canceled", len(es), err)
		}
		if j.Waiters() != 0 {
			t.Errorf("%d waiters left", j.Waiters())
		}
	})
	t.Run("leaves nothing behind", func(t *testing.T) {
		j := New(10)
		ctx, cancel := context.WithCancel(context.Background())
		ended := make(chan error)
		go func() {
			_, err := wait(j, ctx, Filter{}, 1)
			ended <- err
		}()
		for j.Waiters() == 0 {
			runtime.Gosched()
		}
		cancel()
		if err := <-ended; !errors.Is(err, context.Canceled) {
			t.Errorf("WaitSelect ended with %v", err)
		}
		if j.Waiters() != 0 {
			t.Errorf("%d waiters left", j.Waiters())
		}
	})
}

func TestRedactHeaders(t *testing.T) {
	const sig = "0f1e2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c4b5a69788796a5b4c3d2e1f0"
	h := http.Header{
		"X-Auth-Token":     {"tok-secret-1"},
		"X-Security-Token": {"sts-secret-2"},
		"Cookie":           {"session=secret-3"},
		"Authorization": {
			"SDK-HMAC-SHA256 Access=AK1, SignedHeaders=host;x-sdk-date, Signature=" + sig,
			"Bearer control-secret-4",
			"sdk-hmac-sha256 Signature=" + sig + ",Access=AK1",
			"secret-5",
		},
		"X-Sdk-Date": {"20261201T000000Z"},
	}
	got := RedactHeaders(h)
	dump := fmt.Sprint(got)
	for _, secret := range []string{sig, "secret-1", "secret-2", "secret-3", "secret-4", "secret-5"} {
		if strings.Contains(dump, secret) {
			t.Errorf("redacted headers still carry %q: %s", secret, dump)
		}
	}
	want := []string{
		"SDK-HMAC-SHA256 Access=AK1, SignedHeaders=host;x-sdk-date, Signature=[redacted]",
		"Bearer [redacted]",
		"sdk-hmac-sha256 Signature=[redacted],Access=AK1",
		"[redacted]",
	}
	if fmt.Sprint(got["Authorization"]) != fmt.Sprint(want) {
		t.Errorf("Authorization = %q, want %q", got["Authorization"], want)
	}
	if got.Get("X-Sdk-Date") != "20261201T000000Z" || got.Get("X-Auth-Token") != Redacted {
		t.Errorf("got %v", got)
	}
	if h.Get("X-Auth-Token") != "tok-secret-1" {
		t.Error("RedactHeaders changed its argument")
	}
}

// TestWaiterCountsFollowTheRing: the count Add and Clear keep for each
// waiter is always what a query of the ring would count, through wraps,
// clears, and the After entry arriving late and leaving.
func TestWaiterCountsFollowTheRing(t *testing.T) {
	filters := []Filter{
		{},
		{CaseID: "A"},
		{Operation: "op", Status: 503},
		{After: "r7"},
		{After: "r7", CaseID: "B"},
		{After: "never"},
		{Since: time.Unix(50, 0)},
	}
	j := New(8)
	var ws []*waiter
	for i := range filters {
		w := &waiter{f: &filters[i], need: 1 << 30} // never completed
		j.mu.Lock()
		j.recount(w)
		j.waiting[w] = struct{}{}
		j.mu.Unlock()
		ws = append(ws, w)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for step := range 2000 {
		switch rng.IntN(20) {
		case 0:
			j.Clear()
		default:
			e := entry([]string{"op", "other"}[rng.IntN(2)], []string{"A", "B", "C"}[rng.IntN(3)], []int{200, 503}[rng.IntN(2)])
			e.RequestID = fmt.Sprint("r", rng.IntN(10)) // "r7" comes and goes, now and then twice
			e.Time = time.Unix(int64(rng.IntN(100)), 0)
			j.Add(e)
		}
		for i, w := range ws {
			want := len(slices.Collect(j.Select(filters[i])))
			j.mu.Lock()
			got := w.count
			j.mu.Unlock()
			if got != want {
				t.Fatalf("step %d, filter %+v: waiter counts %d, the ring holds %d", step, filters[i], got, want)
			}
		}
	}
}

// TestWaitWakesOnlyOnMatch: an entry the waiter's filter does not select
// leaves it asleep, and so does a match that does not complete it.
func TestWaitWakesOnlyOnMatch(t *testing.T) {
	j := New(4)
	done := make(chan []Entry)
	go func() {
		es, err := wait(j, context.Background(), Filter{CaseID: "A"}, 2)
		if err != nil {
			t.Error(err)
		}
		done <- es
	}()
	for j.Waiters() == 0 {
		runtime.Gosched()
	}
	j.mu.Lock()
	var ready chan struct{}
	for w := range j.waiting {
		ready = w.ready
	}
	j.mu.Unlock()
	asleep := func(when string) {
		t.Helper()
		select {
		case <-ready:
			t.Fatalf("%s: the waiter was woken", when)
		default:
		}
	}
	for range 10 { // wraps the ring of 4 twice
		j.Add(entry("op", "B", 200))
	}
	asleep("after 10 entries it does not select")
	j.Add(entry("op", "A", 200))
	asleep("after 1 of the 2 entries it waits for")
	j.Add(entry("op", "A", 503))
	if es := <-done; fmt.Sprint(ids(es)) != "[11 12]" {
		t.Errorf("got %v, want [11 12]", ids(es))
	}
}

// TestSelectIsASnapshot: Select takes the entries when called; what is
// added or cleared afterwards does not change them, and each entry is the
// caller's own.
func TestSelectIsASnapshot(t *testing.T) {
	j := New(3)
	for range 3 {
		j.Add(entry("op", "A", 200))
	}
	seq := j.Select(Filter{Limit: 2})
	for range 3 {
		j.Add(entry("op", "B", 200)) // replaces every entry
	}
	j.Clear()
	var got []Entry
	for e := range seq {
		e.RequestHeaders.Set("A", "changed")
		got = append(got, e)
	}
	if fmt.Sprint(ids(got)) != "[1 2]" || got[0].CaseID != "A" {
		t.Errorf("got %v, want [1 2] on A", ids(got))
	}
	for e := range seq {
		if v := e.RequestHeaders.Get("A"); v != "b" {
			t.Errorf("changing an entry changed the snapshot: %q", v)
		}
	}
}

// wait is WaitSelect's entries as a slice.
func wait(j *Journal, ctx context.Context, f Filter, n int) ([]Entry, error) {
	seq, err := j.WaitSelect(ctx, f, n)
	return slices.Collect(seq), err
}

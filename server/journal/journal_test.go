package journal

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"runtime"
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
	if got := fmt.Sprint(ids(j.Query(Filter{}))); got != "[5 6 7]" {
		t.Errorf("after 7 adds to a ring of 3: seqs %s, want [5 6 7]", got)
	}
	if len(j.ring) != 3 {
		t.Errorf("ring holds %d entries, want 3", len(j.ring))
	}
	j.Clear()
	if got := j.Query(Filter{}); len(got) != 0 {
		t.Errorf("after Clear: %d entries", len(got))
	}
	j.Add(Entry{})
	if got := fmt.Sprint(ids(j.Query(Filter{}))); got != "[8]" {
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
		if got := fmt.Sprint(ids(j.Query(tc.f))); got != tc.want {
			t.Errorf("%s: %s, want %s", tc.name, got, tc.want)
		}
	}
	got := j.Query(Filter{})
	got[0].RequestHeaders.Set("A", "changed")
	if v := j.Query(Filter{})[0].RequestHeaders.Get("A"); v != "b" {
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
		got, err := j.Wait(context.Background(), Filter{Operation: "op"}, 100)
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
				_ = j.Query(Filter{CaseID: fmt.Sprint(w)})
			}
		}()
	}
	wg.Wait()
	if got := <-done; len(got) < 100 {
		t.Errorf("waiter got %d entries, want >= 100", len(got))
	}
	all := j.Query(Filter{})
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
			es, err := j.Wait(context.Background(), Filter{CaseID: "A-1"}, 2)
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
		es, err := j.Wait(context.Background(), Filter{Limit: 1}, 1)
		if err != nil || len(es) != 1 {
			t.Errorf("got %d entries, %v", len(es), err)
		}
	})
	t.Run("ends with its context", func(t *testing.T) {
		j := New(10)
		j.Add(entry("op", "A-1", 200))
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		es, err := j.Wait(ctx, Filter{}, 2)
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
			_, err := j.Wait(ctx, Filter{}, 1)
			ended <- err
		}()
		for j.Waiters() == 0 {
			runtime.Gosched()
		}
		cancel()
		if err := <-ended; !errors.Is(err, context.Canceled) {
			t.Errorf("Wait ended with %v", err)
		}
		if j.Waiters() != 0 || j.changed == nil {
			t.Errorf("waiters %d, channel %v", j.Waiters(), j.changed)
		}
		j.Add(Entry{}) // closes the channel nobody listens to any more
		if j.changed != nil {
			t.Error("Add left the channel")
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

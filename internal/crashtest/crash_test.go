package crashtest

import (
	"context"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/osmstub/osmstub/internal/pgtest"
	"github.com/osmstub/osmstub/server/store"
)

// Crash-test sizes: workers each own ticketsPerWorker tickets and associate
// only among them, so each worker knows the exact state of its pairs.
const (
	workers          = 8
	ticketsPerWorker = 12
	rounds           = 3   // kill and restart this many times
	ackedPerRound    = 150 // acknowledged changes before the kill
)

func TestCrashSQLite(t *testing.T) {
	crashTest(t, "sqlite:"+filepath.Join(t.TempDir(), "osm.db"))
}

func TestCrashPostgres(t *testing.T) {
	crashTest(t, pgtest.Schema(t))
}

// pair is an association, its IDs in order.
type pair [2]string

func pairOf(a, b string) pair { return pair{min(a, b), max(a, b)} }

// worker drives creates and deletes on its own tickets, one request at a
// time, and keeps the state those tickets must have.
type worker struct {
	ids     []string
	present map[pair]bool
	// pending is the request that was in flight when the stub died: its
	// pairs may or may not have changed, but all of them together.
	pending *pendingOp
	rng     *rand.Rand
}

type pendingOp struct {
	what  string
	pairs []pair // create: the pairs it would add; delete: the one it would remove
}

func (w *worker) count(id string) int {
	n := 0
	for p, ok := range w.present {
		if ok && (p[0] == id || p[1] == id) {
			n++
		}
	}
	return n
}

// predictCreate returns the pairs a create would add, and whether the rules
// let it (all or nothing).
func (w *worker) predictCreate(caseID string, related []string) ([]pair, bool) {
	var fresh []pair
	for _, r := range related {
		if p := pairOf(caseID, r); !w.present[p] {
			if w.count(r) >= store.MaxRelations {
				return nil, false
			}
			fresh = append(fresh, p)
		}
	}
	return fresh, w.count(caseID)+len(fresh) <= store.MaxRelations
}

func crashTest(t *testing.T, spec string) {
	d := store.Dataset{Users: []store.User{user()}}
	var all []string
	ws := make([]*worker, workers)
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	for i := range ws {
		w := &worker{present: map[pair]bool{}, rng: rand.New(rand.NewPCG(seed, uint64(i)))}
		for j := range ticketsPerWorker {
			id := fmt.Sprintf("W%d-%02d", i, j)
			w.ids = append(w.ids, id)
			d.Tickets = append(d.Tickets, store.Ticket{ID: id, Owner: "crash", Description: "ticket " + id})
		}
		all = append(all, w.ids...)
		ws[i] = w
	}
	fixtures := writeFixtures(t, d)

	s := start(t, "stub #1", spec, fixtures)
	for round := 1; round <= rounds; round++ {
		began := time.Now()
		acked := drive(t, s, ws)
		drove := time.Since(began)
		s = start(t, fmt.Sprintf("stub #%d", round+1), spec, fixtures)
		state := s.state(t, all)
		checkInvariants(t, state)
		inFlight := 0
		for _, w := range ws {
			if w.pending != nil {
				inFlight++
			}
			w.check(t, state)
		}
		t.Logf("round %d: %d changes acknowledged in %v, %d in flight at the kill; restart and check took %v",
			round, acked, drove.Round(time.Millisecond), inFlight, (time.Since(began) - drove).Round(time.Millisecond))
		if t.Failed() {
			return
		}
	}
}

// drive runs the workers against s until ackedPerRound changes have been
// acknowledged, then kills s with SIGKILL while they are still sending.
// It returns how many changes were acknowledged.
func drive(t *testing.T, s *stub, ws []*worker) int64 {
	t.Helper()
	var acked atomic.Int64
	var killing atomic.Bool
	ctx := t.Context()
	var wg sync.WaitGroup
	for _, w := range ws {
		w.pending = nil
		wg.Go(func() {
			for ctx.Err() == nil {
				err := w.step(ctx, s, &acked)
				if err != nil {
					if !killing.Load() {
						t.Errorf("request failed before the kill: %v", err)
					}
					return
				}
			}
		})
	}
	deadline := time.Now().Add(20 * time.Second)
	for acked.Load() < ackedPerRound && time.Now().Before(deadline) {
		time.Sleep(2 * time.Millisecond)
	}
	if acked.Load() < ackedPerRound {
		t.Errorf("only %d changes acknowledged in 20s", acked.Load())
	}
	killing.Store(true)
	s.kill()
	wg.Wait()
	return acked.Load()
}

// step sends one create or delete and updates the model from the answer.
// On a failed request it records the pending change and returns the error.
func (w *worker) step(ctx context.Context, s *stub, acked *atomic.Int64) error {
	r := w.rng
	if r.IntN(100) < 55 {
		perm := r.Perm(len(w.ids))
		caseID := w.ids[perm[0]]
		var related []string
		for _, j := range perm[1 : 2+r.IntN(3)] {
			related = append(related, w.ids[j])
		}
		fresh, allowed := w.predictCreate(caseID, related)
		out, err := s.create(ctx, caseID, related)
		if err != nil {
			if allowed && len(fresh) > 0 {
				w.pending = &pendingOp{what: fmt.Sprintf("create %s %q", caseID, related), pairs: fresh}
			}
			return err
		}
		switch {
		case allowed && out.code == "":
			for _, p := range fresh {
				w.present[p] = true
			}
			acked.Add(1)
		case !allowed && out.code == "OSM.01010043":
			// Refused by the limit, as predicted: nothing changed.
		default:
			return fmt.Errorf("create %s %q: answer %q, but the model says allowed=%v", caseID, related, out.code, allowed)
		}
		return nil
	}
	// Delete: mostly an existing pair.
	var p pair
	var existing []pair
	for q, ok := range w.present {
		if ok {
			existing = append(existing, q)
		}
	}
	slices.SortFunc(existing, func(a, b pair) int {
		if a[0] != b[0] {
			return compare(a[0], b[0])
		}
		return compare(a[1], b[1])
	})
	if len(existing) > 0 && r.IntN(100) < 85 {
		p = existing[r.IntN(len(existing))]
	} else {
		perm := r.Perm(len(w.ids))
		p = pairOf(w.ids[perm[0]], w.ids[perm[1]])
	}
	caseID, related := p[0], p[1]
	if r.IntN(2) == 0 {
		caseID, related = related, caseID
	}
	out, err := s.remove(ctx, caseID, related)
	if err != nil {
		if w.present[p] {
			w.pending = &pendingOp{what: fmt.Sprintf("delete %s %s", caseID, related), pairs: []pair{p}}
		}
		return err
	}
	if out.code != "" {
		return fmt.Errorf("delete %s %s: refused with %q", caseID, related, out.code)
	}
	if w.present[p] {
		acked.Add(1)
	}
	delete(w.present, p)
	return nil
}

func compare(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// check compares the restarted stub's state with the worker's model: every
// acknowledged change is there; the change in flight is there entirely or
// not at all; nothing links to another worker's tickets. Then the model
// takes the observed state.
func (w *worker) check(t *testing.T, state map[string][]string) {
	t.Helper()
	observed := map[pair]bool{}
	mine := map[string]bool{}
	for _, id := range w.ids {
		mine[id] = true
	}
	for _, id := range w.ids {
		for _, r := range state[id] {
			if !mine[r] {
				t.Errorf("%s is associated with %s, which no request of its worker named", id, r)
				continue
			}
			observed[pairOf(id, r)] = true
		}
	}
	uncertain := map[pair]bool{}
	if w.pending != nil {
		changed := 0
		for _, p := range w.pending.pairs {
			uncertain[p] = true
			if observed[p] != w.present[p] {
				changed++
			}
		}
		if changed != 0 && changed != len(w.pending.pairs) {
			t.Errorf("in-flight %s was half applied: %d of pairs %q changed", w.pending.what, changed, w.pending.pairs)
		}
	}
	for p := range union(observed, w.present) {
		if !uncertain[p] && observed[p] != w.present[p] {
			if w.present[p] {
				t.Errorf("acknowledged association %s-%s is lost", p[0], p[1])
			} else {
				t.Errorf("association %s-%s is there, but was never created or was acknowledged as deleted", p[0], p[1])
			}
		}
	}
	w.present = observed
	w.pending = nil
}

func union(a, b map[pair]bool) map[pair]bool {
	out := map[pair]bool{}
	for p, ok := range a {
		if ok {
			out[p] = true
		}
	}
	for p, ok := range b {
		if ok {
			out[p] = true
		}
	}
	return out
}

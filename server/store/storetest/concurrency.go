package storetest

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/osmstub/osmstub/server/store"
)

func (s suite) concurrency(t *testing.T) {
	t.Run("RaceForTheLastSlots", s.raceForTheLastSlots)
	t.Run("SamePairAtOnce", s.samePairAtOnce)
	t.Run("Churn", s.churn)
}

// racers is how many goroutines compete for one ticket's associations.
const racers = 64

// raceForTheLastSlots: racers goroutines each associate a different ticket
// with HUB at once. Exactly MaxRelations win; the rest are refused with
// ErrLimit naming HUB, and HUB ends with exactly the winners, each mutual.
func (s suite) raceForTheLastSlots(t *testing.T) {
	f := build().user("owner").tickets("owner", "HUB")
	spokes := make([]string, racers)
	for i := range spokes {
		spokes[i] = fmt.Sprintf("T%02d", i)
	}
	st := s.with(t, f.tickets("owner", spokes...).dataset())
	ctx := t.Context()

	errs := make([]error, racers)
	together(racers, func(i int) {
		// Half name HUB as the case, half as the related ticket: the
		// case's limit and the related ticket's limit are both raced.
		if i%2 == 0 {
			errs[i] = store.Associate(ctx, st, "owner", "HUB", ids(spokes[i]), "")
		} else {
			errs[i] = store.Associate(ctx, st, "owner", spokes[i], ids("HUB"), "")
		}
	})

	var won []string
	limited := 0
	for i, err := range errs {
		switch {
		case err == nil:
			won = append(won, spokes[i])
		case errors.Is(err, store.ErrLimit):
			limited++
			checkRuleErr(t, err, store.ErrLimit, "HUB")
		default:
			t.Errorf("associating %s with HUB: unexpected error %v", spokes[i], err)
		}
	}
	if len(won) != store.MaxRelations || limited != racers-store.MaxRelations {
		t.Errorf("%d succeeded (%q) and %d hit the limit, want %d and %d",
			len(won), won, limited, store.MaxRelations, racers-store.MaxRelations)
	}

	d := snapshot(t, st)
	checkInvariants(t, d)
	rels := relations(d)
	hub := slices.Sorted(slices.Values(rels["HUB"]))
	if !slices.Equal(hub, won) { // won is in spokes order, which is sorted
		t.Errorf("HUB relations = %q, want the winners %q", rels["HUB"], won)
	}
	for _, id := range spokes {
		want := []string(nil)
		if slices.Contains(won, id) {
			want = ids("HUB")
		}
		if !slices.Equal(rels[id], want) {
			t.Errorf("%s relations = %q, want %q", id, rels[id], want)
		}
	}
	got, err := store.List(ctx, st, "owner", "HUB")
	if err != nil || len(got) != len(rels["HUB"]) {
		t.Errorf("List(HUB) = %+v, %v; want %d relations", got, err, len(rels["HUB"]))
	}
}

// samePairAtOnce: many goroutines associate the same pair, from both sides,
// at once: all succeed and the pair exists once. Then they all dissociate
// it at once: all succeed and it is gone.
func (s suite) samePairAtOnce(t *testing.T) {
	st := s.with(t, base().dataset())
	ctx := t.Context()
	before := snapshot(t, st)
	run := func(what string, do func(i int) error) {
		t.Helper()
		errs := make([]error, racers)
		together(racers, func(i int) { errs[i] = do(i) })
		for i, err := range errs {
			if err != nil {
				t.Errorf("%s #%d: %v", what, i, err)
			}
		}
	}

	run("associate", func(i int) error {
		if i%2 == 0 {
			return store.Associate(ctx, st, "alice", "A1", ids("A2"), "")
		}
		return store.Associate(ctx, st, "alice", "A2", ids("A1", "A1"), "")
	})
	checkState(t, withRelations(before, map[string][]string{"A1": {"A2"}, "A2": {"A1"}}), snapshot(t, st))

	run("dissociate", func(i int) error {
		if i%2 == 0 {
			return store.Dissociate(ctx, st, "alice", "A1", "A2", "")
		}
		return store.Dissociate(ctx, st, "alice", "A2", "A1", "")
	})
	checkState(t, before, snapshot(t, st))
}

// churn: workers associate, dissociate and list overlapping tickets at
// random, as two members of one group. No request may fail other than by
// the limit; every list and snapshot seen meanwhile, and the state at the
// end, must be consistent.
func (s suite) churn(t *testing.T) {
	f := build().user("owner", "team").user("mate", "team")
	tickets := []string{"P0", "P1", "P2", "P3", "P4", "P5"}
	f.tickets("owner", tickets[:4]...).tickets("mate", tickets[4:]...)
	f.rel("P0", "P1", "P2").rel("P3", "P4")
	st := s.with(t, f.dataset())
	ctx := t.Context()

	workers, ops := 16, 300
	if testing.Short() {
		ops = 50
	}
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)

	var associated, dissociated, listed atomic.Int64
	together(workers, func(w int) {
		r := rand.New(rand.NewPCG(seed, uint64(w)))
		callers := []string{"owner", "mate"}
		for op := range ops {
			caller := callers[r.IntN(len(callers))]
			perm := r.Perm(len(tickets))
			caseID := tickets[perm[0]]
			switch n := r.IntN(100); {
			case n < 45:
				var related []string
				for _, j := range perm[1 : 2+r.IntN(3)] {
					related = append(related, tickets[j])
				}
				err := store.Associate(ctx, st, caller, caseID, related, "team")
				if err == nil {
					associated.Add(1)
				} else if !errors.Is(err, store.ErrLimit) {
					t.Errorf("Associate(%s, %q): %v", caseID, related, err)
				}
			case n < 85:
				related := tickets[perm[1]]
				if err := store.Dissociate(ctx, st, caller, caseID, related, "team"); err != nil {
					t.Errorf("Dissociate(%s, %s): %v", caseID, related, err)
				} else {
					dissociated.Add(1)
				}
			case n < 97:
				got, err := store.List(ctx, st, caller, caseID)
				if err != nil {
					t.Errorf("List(%s): %v", caseID, err)
				}
				checkListed(t, caseID, got)
				listed.Add(1)
			default:
				var d store.Dataset
				err := st.View(ctx, func(tx store.Tx) (err error) {
					d, err = tx.Snapshot()
					return err
				})
				if err != nil {
					t.Errorf("Snapshot during churn (op %d): %v", op, err)
				}
				checkInvariants(t, d)
			}
		}
	})
	t.Logf("%d associations, %d dissociations, %d lists succeeded", associated.Load(), dissociated.Load(), listed.Load())
	if associated.Load() == 0 || dissociated.Load() == 0 {
		t.Error("churn did not exercise both associating and dissociating")
	}

	d := snapshot(t, st)
	checkInvariants(t, d)
	rels := relations(d)
	for _, id := range tickets {
		checkList(t, st, "owner", id, relsFor(d, rels[id]))
	}
}

// together runs fn(0) to fn(n-1) in goroutines released at once and waits
// for them all.
func together(n int, fn func(i int)) {
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			<-start
			fn(i)
		})
	}
	close(start)
	wg.Wait()
}

// checkListed checks one List result on its own: at most MaxRelations,
// no repeats, not the ticket itself.
func checkListed(t *testing.T, caseID string, got []store.Relation) {
	t.Helper()
	if len(got) > store.MaxRelations {
		t.Errorf("List(%s) returned %d relations: %+v", caseID, len(got), got)
	}
	seen := map[string]bool{}
	for _, r := range got {
		if r.CaseID == caseID || seen[r.CaseID] {
			t.Errorf("List(%s) = %+v: self or repeated ticket %s", caseID, got, r.CaseID)
		}
		seen[r.CaseID] = true
	}
}

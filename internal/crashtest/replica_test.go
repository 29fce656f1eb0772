package crashtest

import (
	"fmt"
	"sync"
	"testing"

	"github.com/osmstub/osmstub/internal/pgtest"
	"github.com/osmstub/osmstub/server/store"
)

// TestReplicasPostgres: two stub processes, started at once on one new
// PostgreSQL schema (both migrate, one loads the fixtures), take 64
// concurrent creates on one ticket between them: exactly three succeed,
// the rest are refused by the limit, and both see the same three mutual
// associations.
func TestReplicasPostgres(t *testing.T) {
	spec := pgtest.Schema(t)
	const racers = 64
	d := store.Dataset{Users: []store.User{user()}, Tickets: []store.Ticket{{ID: "HUB", Owner: "crash", Description: "the hub"}}}
	var spokes []string
	for i := range racers {
		id := fmt.Sprintf("S%02d", i)
		spokes = append(spokes, id)
		d.Tickets = append(d.Tickets, store.Ticket{ID: id, Owner: "crash", Description: "spoke " + id})
	}
	fixtures := writeFixtures(t, d)

	stubs := make([]*stub, 2)
	var wg sync.WaitGroup
	var mu sync.Mutex
	for i := range stubs {
		wg.Go(func() {
			s := start(t, fmt.Sprintf("replica %d", i), spec, fixtures)
			mu.Lock()
			stubs[i] = s
			mu.Unlock()
		})
	}
	wg.Wait()
	if stubs[0] == nil || stubs[1] == nil {
		t.FailNow()
	}

	outs := make([]outcome, racers)
	errs := make([]error, racers)
	start := make(chan struct{})
	for i, id := range spokes {
		s := stubs[i%2]
		wg.Go(func() {
			<-start
			if i%4 < 2 {
				outs[i], errs[i] = s.create(t.Context(), "HUB", []string{id})
			} else {
				outs[i], errs[i] = s.create(t.Context(), id, []string{"HUB"})
			}
		})
	}
	close(start)
	wg.Wait()
	var won []string
	for i, err := range errs {
		switch {
		case err != nil:
			t.Errorf("create %s-HUB: %v", spokes[i], err)
		case outs[i].code == "":
			won = append(won, spokes[i])
		case outs[i].code != "OSM.01010043":
			t.Errorf("create %s-HUB: refused with %q, want the limit (OSM.01010043)", spokes[i], outs[i].code)
		}
	}
	if len(won) != store.MaxRelations {
		t.Errorf("%d creates succeeded (%q), want exactly %d", len(won), won, store.MaxRelations)
	}
	all := append([]string{"HUB"}, spokes...)
	for _, s := range stubs {
		state := s.state(t, all)
		checkInvariants(t, state)
		if len(state["HUB"]) != store.MaxRelations {
			t.Errorf("%s: HUB has %q, want %d associations", s.name, state["HUB"], store.MaxRelations)
		}
		for _, id := range won {
			if l := state[id]; len(l) != 1 || l[0] != "HUB" {
				t.Errorf("%s: winner %s has %q, want [HUB]", s.name, id, l)
			}
		}
	}
}

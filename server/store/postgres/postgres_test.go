package postgres_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/osmstub/osmstub/internal/pgtest"
	"github.com/osmstub/osmstub/server/store"
	"github.com/osmstub/osmstub/server/store/postgres"
	"github.com/osmstub/osmstub/server/store/storetest"
)

func open(t *testing.T, url string) *postgres.Store {
	t.Helper()
	s, err := postgres.Open(t.Context(), url)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	return s
}

func TestConformance(t *testing.T) {
	pgtest.ServerURL(t)
	storetest.Run(t, func(t *testing.T) store.Store { return open(t, pgtest.Schema(t)) })
}

// TestTwoStoresOneDatabase runs the suite's hardest race with two Stores
// (two pools, as two processes would have) on one schema: 64 creates on
// one ticket, split across both, end with exactly three mutual
// associations.
func TestTwoStoresOneDatabase(t *testing.T) {
	url := pgtest.Schema(t)
	a, b := open(t, url), open(t, url)
	defer a.Close()
	defer b.Close()
	d := store.Dataset{Users: []store.User{{Name: "owner"}}, Tickets: []store.Ticket{{ID: "HUB", Owner: "owner", Description: "hub"}}}
	for i := range 64 {
		d.Tickets = append(d.Tickets, store.Ticket{ID: fmt.Sprintf("T%02d", i), Owner: "owner", Description: "spoke"})
	}
	// Both load at once into the empty schema: one loads, the other finds
	// it loaded.
	var wg sync.WaitGroup
	loaded := make([]bool, 2)
	for i, s := range []store.Store{a, b} {
		wg.Go(func() {
			var err error
			loaded[i], err = store.Load(t.Context(), s, d, false)
			if err != nil {
				t.Errorf("Load #%d: %v", i, err)
			}
		})
	}
	wg.Wait()
	if loaded[0] == loaded[1] {
		t.Fatalf("loaded = %v; want exactly one store to load", loaded)
	}

	errs := make([]error, 64)
	for i := range 64 {
		s := []store.Store{a, b}[i%2]
		id := fmt.Sprintf("T%02d", i)
		wg.Go(func() {
			if i%4 < 2 {
				errs[i] = store.Associate(t.Context(), s, "owner", "HUB", []string{id}, "")
			} else {
				errs[i] = store.Associate(t.Context(), s, "owner", id, []string{"HUB"}, "")
			}
		})
	}
	wg.Wait()
	won := 0
	for i, err := range errs {
		switch {
		case err == nil:
			won++
		case !errors.Is(err, store.ErrLimit):
			t.Errorf("Associate #%d: %v", i, err)
		}
	}
	if won != store.MaxRelations {
		t.Errorf("%d creates succeeded, want %d", won, store.MaxRelations)
	}
	var snap store.Dataset
	if err := b.View(t.Context(), func(tx store.Tx) (err error) { snap, err = tx.Snapshot(); return err }); err != nil {
		t.Fatal(err)
	}
	rels := map[string][]string{}
	for _, tk := range snap.Tickets {
		rels[tk.ID] = tk.Relations
	}
	if len(rels["HUB"]) != store.MaxRelations {
		t.Errorf("HUB has %q", rels["HUB"])
	}
	for _, id := range rels["HUB"] {
		if len(rels[id]) != 1 || rels[id][0] != "HUB" {
			t.Errorf("%s has %q, want [HUB]", id, rels[id])
		}
	}
}

// TestMigrations: opening again migrates nothing twice; several stores
// opening one new schema at once all succeed; a schema from a newer
// osm-stub is refused; a search_path naming no schema is refused clearly.
func TestMigrations(t *testing.T) {
	url := pgtest.Schema(t)
	var wg sync.WaitGroup
	for i := range 6 {
		wg.Go(func() {
			s, err := postgres.Open(t.Context(), url)
			if err != nil {
				t.Errorf("Open #%d: %v", i, err)
				return
			}
			s.Close()
		})
	}
	wg.Wait()
	s := open(t, url)
	var n, v int
	err := s.Pool().QueryRow(t.Context(), `SELECT COUNT(*), MAX(version) FROM schema_migrations`).Scan(&n, &v)
	if err != nil {
		t.Fatal(err)
	}
	if n != len(store.Migrations) || v != len(store.Migrations) {
		t.Errorf("schema_migrations has %d rows, version %d; want %d", n, v, len(store.Migrations))
	}
	if _, err := s.Pool().Exec(t.Context(), `INSERT INTO schema_migrations (version) VALUES (999)`); err != nil {
		t.Fatal(err)
	}
	s.Close()
	if _, err := postgres.Open(t.Context(), url); err == nil || !strings.Contains(err.Error(), "newer") {
		t.Errorf("Open of a schema from a newer osm-stub: %v, want an error saying so", err)
	}

	missing := pgtest.WithParam(t, pgtest.ServerURL(t), "search_path", "osmstub_no_such_schema")
	if _, err := postgres.Open(t.Context(), missing); err == nil || !strings.Contains(err.Error(), "search_path") {
		t.Errorf("Open with a search_path naming no schema: %v, want an error naming search_path", err)
	}
}

// TestStrangeKeys: IDs PostgreSQL cannot store (NUL, invalid UTF-8) are
// simply unknown, as in the memory store, not internal errors.
func TestStrangeKeys(t *testing.T) {
	s := open(t, pgtest.Schema(t))
	defer s.Close()
	d := store.Dataset{Users: []store.User{{Name: "u", Tokens: []string{"tok"}}},
		Tickets: []store.Ticket{{ID: "A", Owner: "u", Description: "a"}}}
	if _, err := store.Load(t.Context(), s, d, false); err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"a\x00b", "\xff\xfe"} {
		err := store.Associate(t.Context(), s, "u", "A", []string{id}, "")
		if !errors.Is(err, store.ErrUnknownTicket) {
			t.Errorf("Associate(A, %q): %v, want ErrUnknownTicket", id, err)
		}
		if _, err := store.List(t.Context(), s, "u", id); !errors.Is(err, store.ErrUnknownTicket) {
			t.Errorf("List(%q): %v, want ErrUnknownTicket", id, err)
		}
		err = s.View(t.Context(), func(tx store.Tx) error {
			if _, err := tx.UserByToken(id); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("UserByToken(%q): %v", id, err)
			}
			if _, _, err := tx.UserByAccessKey(id); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("UserByAccessKey(%q): %v", id, err)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
}

func TestCanceledContextReleasesConnection(t *testing.T) {
	s := open(t, pgtest.Schema(t))
	defer s.Close()
	for range 50 {
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		_ = s.Update(ctx, func(tx store.Tx) error { return nil })
	}
	if err := s.Update(t.Context(), func(tx store.Tx) error { return tx.PutUser(store.User{Name: "x"}) }); err != nil {
		t.Errorf("Update after canceled ones: %v", err)
	}
}

// TestUpgradeFromV010: a schema written by v0.1.0 opens, migrates in
// place and keeps every user, ticket and relation.
func TestUpgradeFromV010(t *testing.T) {
	url := pgtest.Schema(t)
	// v0.1.0's schema, made by this package's own migrate knowing only
	// migration 1. Not parallel: store.Migrations is the package's global.
	all := store.Migrations
	store.Migrations = all[:1]
	s, err := postgres.Open(t.Context(), url)
	store.Migrations = all
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Pool().Exec(t.Context(), storetest.V010Rows); err != nil {
		t.Fatal(err)
	}
	s.Close()

	s = open(t, url)
	defer s.Close()
	storetest.CheckUpgraded(t, s)
	var v int
	if err := s.Pool().QueryRow(t.Context(), `SELECT MAX(version) FROM schema_migrations`).Scan(&v); err != nil || v != len(all) {
		t.Errorf("schema version %d, %v; want %d", v, err, len(all))
	}
}

// TestTwoStoresNextIDAndMessages: two Stores (two pools, as two processes
// would have) taking IDs and appending messages to one ticket at once get
// every ID once and every message its own place.
func TestTwoStoresNextIDAndMessages(t *testing.T) {
	url := pgtest.Schema(t)
	a, b := open(t, url), open(t, url)
	defer a.Close()
	defer b.Close()
	d := store.Dataset{Users: []store.User{{Name: "u"}}, Tickets: []store.Ticket{{ID: "T", Owner: "u", Description: "t"}}}
	if _, err := store.Load(t.Context(), a, d, false); err != nil {
		t.Fatal(err)
	}
	const n = 32
	ids := make([]int64, n)
	var wg sync.WaitGroup
	for i := range n {
		s := []store.Store{a, b}[i%2]
		wg.Go(func() {
			err := s.Update(t.Context(), func(tx store.Tx) (err error) {
				if ids[i], err = tx.NextID("message"); err != nil {
					return err
				}
				return tx.AddMessage("T", store.Message{ID: fmt.Sprintf("MSG%d", ids[i]), Replier: "u", Content: "c"})
			})
			if err != nil {
				t.Errorf("Update #%d: %v", i, err)
			}
		})
	}
	wg.Wait()
	seen := map[int64]bool{}
	for _, id := range ids {
		if id < 1 || id > n || seen[id] {
			t.Fatalf("IDs %v; want 1..%d once each", ids, n)
		}
		seen[id] = true
	}
	err := b.View(t.Context(), func(tx store.Tx) error {
		msgs, total, err := tx.Messages("T", 0, 0)
		if err != nil || total != n || len(msgs) != n {
			t.Errorf("Messages(T) = %d of %d, %v; want %d", len(msgs), total, err, n)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

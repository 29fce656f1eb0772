package storeopen_test

import (
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/osmstub/osmstub/internal/pgtest"
	"github.com/osmstub/osmstub/server/store"
	"github.com/osmstub/osmstub/server/store/storeopen"
)

// BenchmarkStore measures the three operations through the rules on every
// backend, with 1k and 100k tickets:
//
//	BenchmarkStore/<memory|sqlite|postgres>/<1k|100k>/<create|list|delete>
//
// create associates a fresh pair (1 ID), delete removes one, list lists a
// ticket that has one association. The store is loaded with store.Load (the
// bulk path) outside the timer, and reloaded when the benchmark has used up
// the pairs. PostgreSQL runs when OSM_STUB_TEST_POSTGRES is set.
func BenchmarkStore(b *testing.B) {
	backends := []struct {
		name string
		spec func(b *testing.B) string
	}{
		{"memory", func(b *testing.B) string { return "memory" }},
		{"sqlite", func(b *testing.B) string { return "sqlite:" + filepath.Join(b.TempDir(), "bench.db") }},
		{"postgres", func(b *testing.B) string { return pgtest.Schema(b) }},
	}
	for _, be := range backends {
		b.Run(be.name, func(b *testing.B) {
			for _, n := range []int{1_000, 100_000} {
				b.Run(fmt.Sprintf("%dk", n/1000), func(b *testing.B) {
					st, err := storeopen.Open(b.Context(), be.spec(b))
					if err != nil {
						b.Fatal(err)
					}
					defer st.Close()
					x := &bench{st: st, n: n}
					b.Run("create", x.create)
					b.Run("list", x.list)
					b.Run("delete", x.delete)
				})
			}
		})
	}
}

type bench struct {
	st     store.Store
	n      int
	loaded string // "plain" (no associations) or "paired"
	next   int    // the next pair k: T[k] - T[k+n/2]
}

func (x *bench) id(i int) string { return fmt.Sprintf("T%06d", i) }

// ensure loads kind unless it is loaded and has unused pairs left.
func (x *bench) ensure(b *testing.B, kind string, consumes bool) {
	if x.loaded == kind && (!consumes || x.next < x.n/2) {
		return
	}
	b.StopTimer()
	defer b.StartTimer()
	d := store.Dataset{Users: []store.User{{Name: "owner", Tokens: []string{"tok"}}}}
	half := x.n / 2
	for i := range x.n {
		tk := store.Ticket{ID: x.id(i), Owner: "owner", Description: "benchmark ticket " + x.id(i)}
		if kind == "paired" && i < half {
			tk.Relations = []string{x.id(i + half)}
		}
		d.Tickets = append(d.Tickets, tk)
	}
	began := time.Now()
	if _, err := store.Load(b.Context(), x.st, d, true); err != nil {
		b.Fatal(err)
	}
	b.Logf("loaded %d tickets (%s) in %v", x.n, kind, time.Since(began).Round(time.Millisecond))
	x.loaded, x.next = kind, 0
}

func (x *bench) create(b *testing.B) {
	for b.Loop() {
		x.ensure(b, "plain", true)
		k := x.next
		x.next++
		if err := store.Associate(b.Context(), x.st, "owner", x.id(k), []string{x.id(k + x.n/2)}, ""); err != nil {
			b.Fatal(err)
		}
	}
}

func (x *bench) delete(b *testing.B) {
	for b.Loop() {
		x.ensure(b, "paired", true)
		k := x.next
		x.next++
		if err := store.Dissociate(b.Context(), x.st, "owner", x.id(k), x.id(k+x.n/2), ""); err != nil {
			b.Fatal(err)
		}
	}
}

func (x *bench) list(b *testing.B) {
	i := 0
	for b.Loop() {
		x.ensure(b, "paired", false)
		id := x.id(i % x.n)
		i += 7919 // a prime: spread over the tickets
		rels, err := store.List(b.Context(), x.st, "owner", id)
		if err != nil || len(rels) != 1 {
			b.Fatalf("List(%s) = %v, %v", id, rels, err)
		}
	}
}

package memory

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

// TestIndex checks the treap against a sorted slice through random inserts
// and deletes: order, length, count and cursors at every position.
func TestIndex(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 25))
	base := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	var x index
	var want []key // in list order
	for step := range 2000 {
		if len(want) > 0 && r.IntN(3) == 0 {
			i := r.IntN(len(want))
			x.delete(want[i])
			want = slices.Delete(want, i, i+1)
		} else {
			// Few distinct times, so that IDs decide many comparisons.
			k := keyOf(base.Add(time.Duration(r.IntN(20))*time.Second), fmt.Sprintf("T%04d", step))
			x.insert(k)
			i, _ := slices.BinarySearchFunc(want, k, compare)
			want = slices.Insert(want, i, k)
		}
		if step%97 != 0 {
			continue
		}
		if x.len() != len(want) {
			t.Fatalf("step %d: len = %d, want %d", step, x.len(), len(want))
		}
		for pos := 0; pos <= len(want); pos++ {
			for _, limit := range []int{0, 1, 3, len(want)} {
				var got []key
				c := x.from(pos, limit)
				for k, ok := c.peek(); ok; k, ok = c.peek() {
					got = append(got, k)
					c.next()
				}
				w := want[pos:min(len(want), pos+limit)]
				if !slices.Equal(got, w) {
					t.Fatalf("step %d: from(%d, %d) = %v, want %v", step, pos, limit, got, w)
				}
			}
		}
		for s := range 21 {
			bound := base.Add(time.Duration(s) * time.Second)
			after := func(k key) bool { return k.created.After(bound) }
			n := 0
			for n < len(want) && after(want[n]) {
				n++
			}
			if got := x.count(after); got != n {
				t.Fatalf("step %d: count(after %v) = %d, want %d", step, bound, got, n)
			}
		}
	}
	// Out-of-range cursors visit nothing.
	for _, p := range [][2]int{{len(want), 5}, {len(want) + 3, 5}, {0, 0}, {0, -1}} {
		if _, ok := x.from(p[0], p[1]).peek(); ok {
			t.Errorf("from(%d, %d) has a key", p[0], p[1])
		}
	}
}

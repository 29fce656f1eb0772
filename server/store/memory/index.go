package memory

import (
	"math/rand/v2"
	"strings"
	"time"
)

// key orders tickets as ListCases lists them: newest first (Created
// descending), then by ID descending.
type key struct {
	created time.Time
	id      string
}

func keyOf(created time.Time, id string) key { return key{created: created, id: id} }

// compare returns a negative number if a comes before b in list order.
func compare(a, b key) int {
	if c := b.created.Compare(a.created); c != 0 {
		return c
	}
	return strings.Compare(b.id, a.id)
}

// index is a set of keys in list order: a treap whose nodes count their
// subtree, so that a page at any offset, and the number of keys before a
// bound, cost O(log n) whatever the size. A sorted slice would cost O(n)
// per insertion out of order (a fixtures file lists tickets in any order).
type index struct {
	root *node
}

type node struct {
	key         key
	pri         uint64
	size        int
	left, right *node
}

func size(n *node) int {
	if n == nil {
		return 0
	}
	return n.size
}

func (n *node) fix() { n.size = 1 + size(n.left) + size(n.right) }

func (x *index) len() int { return size(x.root) }

// insert adds k, which must not be in x.
func (x *index) insert(k key) {
	l, r := split(x.root, k)
	x.root = merge(merge(l, &node{key: k, pri: rand.Uint64(), size: 1}), r)
}

// delete removes k if it is in x.
func (x *index) delete(k key) { x.root = remove(x.root, k) }

// split returns the keys of n before k and the others.
func split(n *node, k key) (l, r *node) {
	if n == nil {
		return nil, nil
	}
	if compare(n.key, k) < 0 {
		n.right, r = split(n.right, k)
		n.fix()
		return n, r
	}
	l, n.left = split(n.left, k)
	n.fix()
	return l, n
}

// merge joins l and r, every key of l coming before every key of r.
func merge(l, r *node) *node {
	switch {
	case l == nil:
		return r
	case r == nil:
		return l
	case l.pri > r.pri:
		l.right = merge(l.right, r)
		l.fix()
		return l
	default:
		r.left = merge(l, r.left)
		r.fix()
		return r
	}
}

func remove(n *node, k key) *node {
	if n == nil {
		return nil
	}
	switch c := compare(k, n.key); {
	case c < 0:
		n.left = remove(n.left, k)
	case c > 0:
		n.right = remove(n.right, k)
	default:
		return merge(n.left, n.right)
	}
	n.fix()
	return n
}

// count returns how many keys of x come before the first for which in is
// false; in must hold for a prefix of x in list order.
func (x *index) count(in func(key) bool) int {
	c := 0
	for n := x.root; n != nil; {
		if in(n.key) {
			c += size(n.left) + 1
			n = n.right
		} else {
			n = n.left
		}
	}
	return c
}

// cursor walks x in list order from a position on.
type cursor struct {
	stack []*node // the next node on top, then its ancestors still to visit
	left  int     // keys still to visit
}

// from returns a cursor on the key at position pos (0 the first) that visits
// at most limit keys.
func (x *index) from(pos, limit int) *cursor {
	c := &cursor{left: max(0, min(limit, x.len()-pos))}
	if c.left == 0 {
		return c
	}
	for n := x.root; n != nil; {
		ls := size(n.left)
		switch {
		case pos < ls:
			c.stack = append(c.stack, n)
			n = n.left
		case pos == ls:
			c.stack = append(c.stack, n)
			return c
		default:
			pos -= ls + 1
			n = n.right
		}
	}
	return c
}

// peek returns the key the cursor is on, if any.
func (c *cursor) peek() (key, bool) {
	if c.left == 0 || len(c.stack) == 0 {
		return key{}, false
	}
	return c.stack[len(c.stack)-1].key, true
}

// next moves the cursor to the following key.
func (c *cursor) next() {
	if c.left == 0 || len(c.stack) == 0 {
		return
	}
	n := c.stack[len(c.stack)-1]
	c.stack = c.stack[:len(c.stack)-1]
	c.left--
	for n = n.right; n != nil; n = n.left {
		c.stack = append(c.stack, n)
	}
}

package client

import (
	"fmt"
	"iter"
)

// pages iterates over the items of the pages fetch returns, from offset
// on, size (0: DefaultPageSize) at a time, until a page comes back short.
// An error, fetch's or that of an offset past MaxOffset, is yielded once
// and ends the iteration; so does the consumer's break, before any further
// request.
func pages[T any](offset, size int, fetch func(offset int) ([]T, error)) iter.Seq2[T, error] {
	return func(yield func(T, error) bool) {
		var zero T
		want := size
		if want == 0 {
			want = DefaultPageSize
		}
		for {
			page, err := fetch(offset)
			if err != nil {
				yield(zero, err)
				return
			}
			for _, v := range page {
				if !yield(v, nil) {
					return
				}
			}
			if len(page) < want {
				return
			}
			offset += len(page)
			if offset > MaxOffset {
				yield(zero, &ArgumentError{"Offset", fmt.Sprintf("the next page starts at %d, past the service's %d", offset, MaxOffset)})
				return
			}
		}
	}
}

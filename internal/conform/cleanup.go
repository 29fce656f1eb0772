package conform

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"
)

// cleanupTimeout bounds the cleanup, which runs even after the run's
// context ended.
const cleanupTimeout = 2 * time.Minute

// cleanup cancels the ticket the run opened, if any, removes every pair
// the run may have created and that exists, then checks that each given
// ticket holds what it held at the start. It runs with a context of its
// own, so that an interrupted run still cleans up; after an interruption
// it records no checks.
func (r *runner) cleanup(interrupted bool) {
	ctx, cancel := context.WithTimeout(context.Background(), cleanupTimeout)
	defer cancel()
	r.rep.Restored = true
	r.cancelOpened(ctx, !interrupted && r.ref != nil)
	if len(r.created) == 0 {
		r.note("the run sent nothing that could change a given ticket")
		return
	}
	var owners []string
	for _, p := range r.created {
		if !slices.Contains(owners, p[0]) {
			owners = append(owners, p[0])
		}
	}
	for _, a := range owners {
		r.removeCreated(ctx, a)
	}
	for _, id := range r.cfg.Cases {
		r.verifyRestored(ctx, id)
	}
}

// removeCreated deletes the pairs of a that the run may have created and
// that a's list shows; when the list cannot be read it deletes them all
// (deleting a pair that does not exist changes nothing).
func (r *runner) removeCreated(ctx context.Context, a string) {
	present, known := map[string]bool{}, false
	if resp, err := r.live.send(ctx, listCall(a)); err == nil && resp.succeeded() {
		known = true
		for _, id := range resp.relatedIDs() {
			present[id] = true
		}
	}
	for _, p := range r.created {
		if p[0] != a || (known && !present[p[1]]) {
			continue
		}
		resp, err := r.live.send(ctx, r.del(a, p[1]))
		switch {
		case err != nil:
			r.note("could not remove %s-%s: %v", a, p[1], err)
		case !resp.succeeded():
			r.note("could not remove %s-%s: %d %s %s", a, p[1], resp.Status, resp.Code, resp.Message)
		default:
			r.note("removed %s-%s", a, p[1])
		}
	}
}

// verifyRestored lists id and compares it with the list at the start.
func (r *runner) verifyRestored(ctx context.Context, id string) {
	var want []string
	for _, l := range r.before[id] {
		want = append(want, l.CaseID)
	}
	resp, err := r.live.send(ctx, listCall(id))
	if err == nil && !resp.succeeded() {
		err = fmt.Errorf("%d %s %s", resp.Status, resp.Code, resp.Message)
	}
	if err != nil {
		r.rep.Restored = false
		r.note("%s: could not read its associations to confirm them (%v)", id, err)
		return
	}
	got := resp.relatedIDs()
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		r.rep.Restored = false
		r.note("%s: holds [%s], held [%s] at the start: remove the difference by hand", id, strings.Join(got, " "), strings.Join(want, " "))
		return
	}
	r.note("%s: as at the start ([%s])", id, strings.Join(want, " "))
}

func (r *runner) note(format string, args ...any) {
	r.rep.Cleanup = append(r.rep.Cleanup, fmt.Sprintf(format, args...))
}

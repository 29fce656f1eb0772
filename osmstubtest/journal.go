package osmstubtest

import (
	"context"
	"fmt"
	"strings"

	"github.com/osmstub/osmstub/server/journal"
)

// Request is one request the stub received and what it answered, secrets
// redacted; see journal.Entry.
type Request = journal.Entry

// Filter selects requests: by operation, case ID, user, status, error
// code, after a request ID or since a time; see journal.Filter.
type Filter = journal.Filter

// Requests returns what the stub received that f selects, oldest first:
// every request outside the control API, up to Options.JournalSize (1000)
// most recent.
func (s *Stub) Requests(f Filter) []Request { return s.srv.Requests(f) }

// ClearRequests empties the journal, e.g. after a test's set-up calls.
func (s *Stub) ClearRequests() { s.srv.ClearRequests() }

// CheckCalls fails t unless the stub received exactly n calls of
// operation (whatever it answered), listing every call it received.
func (s *Stub) CheckCalls(t T, operation string, n int) {
	t.Helper()
	s.CheckRequests(t, Filter{Operation: operation}, n)
}

// CheckRequests fails t unless exactly n requests match f, listing every
// request the stub received and marking those that match.
func (s *Stub) CheckRequests(t T, f Filter, n int) {
	t.Helper()
	f.Limit = 0
	if got := s.srv.Requests(f); len(got) != n {
		t.Fatalf("osmstubtest: %d requests match %s, want %d; the stub received:\n%s",
			len(got), describeFilter(f), n, listing(s.srv.Requests(Filter{}), got))
	}
}

// WaitForCalls returns the requests f selects as soon as there are at
// least n, for code under test that calls the API asynchronously: no
// sleeping, no polling. When ctx ends first, it returns what there is and
// an error that lists what the stub received.
func (s *Stub) WaitForCalls(ctx context.Context, f Filter, n int) ([]Request, error) {
	got, err := s.srv.WaitForRequests(ctx, f, n)
	if err != nil {
		return got, fmt.Errorf("osmstubtest: %d of %d requests matching %s before %w; the stub received:\n%s",
			len(got), n, describeFilter(f), err, listing(s.srv.Requests(Filter{}), got))
	}
	return got, nil
}

// maxListed is how many of the most recent requests a failure lists.
const maxListed = 50

// listing is one line per request, the matching ones marked with "*".
func listing(all, match []Request) string {
	if len(all) == 0 {
		return "  (nothing)"
	}
	matched := map[uint64]bool{}
	for _, m := range match {
		matched[m.Seq] = true
	}
	var b strings.Builder
	if len(all) > maxListed {
		fmt.Fprintf(&b, "  ... %d earlier requests\n", len(all)-maxListed)
		all = all[len(all)-maxListed:]
	}
	for _, e := range all {
		mark := " "
		if matched[e.Seq] {
			mark = "*"
		}
		fmt.Fprintf(&b, "%s %s\n", mark, describeRequest(e))
	}
	return strings.TrimRight(b.String(), "\n")
}

// describeRequest is one request on one line.
func describeRequest(e Request) string {
	var b strings.Builder
	fmt.Fprintf(&b, "#%d %s %s %s", e.Seq, e.Time.Format("15:04:05.000"), e.Method, e.Path)
	if e.Operation != "" {
		fmt.Fprintf(&b, " (%s)", e.Operation)
	}
	if e.User != "" {
		fmt.Fprintf(&b, " as %s", e.User)
	}
	if e.Dropped {
		b.WriteString(" -> dropped")
	} else {
		fmt.Fprintf(&b, " -> %d", e.Status)
	}
	if e.ErrorCode != "" {
		b.WriteString(" " + e.ErrorCode)
	}
	if e.Fault != "" {
		b.WriteString(" [fault " + e.Fault + "]")
	}
	if e.Prefer != "" {
		b.WriteString(" [Prefer " + e.Prefer + "]")
	}
	return b.String()
}

func describeFilter(f Filter) string {
	var parts []string
	add := func(name, v string) {
		if v != "" {
			parts = append(parts, name+"="+v)
		}
	}
	add("operation", f.Operation)
	add("case_id", f.CaseID)
	add("user", f.User)
	if f.Status != 0 {
		add("status", fmt.Sprint(f.Status))
	}
	add("error_code", f.ErrorCode)
	add("after", f.After)
	if !f.Since.IsZero() {
		add("since", f.Since.Format("15:04:05.000"))
	}
	if len(parts) == 0 {
		return "{any}"
	}
	return "{" + strings.Join(parts, " ") + "}"
}

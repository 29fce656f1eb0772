package server

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/osmstub/osmstub/server/control"
	"github.com/osmstub/osmstub/server/journal"
)

// The request journal (package journal): what each request sent and what
// it was answered, recorded in one place of the middleware chain, right
// after the request ID, so that every answer is seen: refusals of any
// kind, faults, Prefer examples, dropped connections. The control API and
// /healthz are left out: they are the test's own calls, and a long poll
// of the journal would otherwise fill it.

// recordRequests is the journal's middleware; without a journal it is
// not in the chain at all.
func (s *Server) recordRequests(next echo.HandlerFunc) echo.HandlerFunc {
	if s.journal == nil {
		return next
	}
	return func(c echo.Context) error {
		req := c.Request()
		if strings.HasPrefix(req.URL.Path, control.Prefix) || req.URL.Path == "/healthz" {
			return next(c)
		}
		start := time.Now()
		res := c.Response()
		w := &capture{ResponseWriter: res.Writer, limit: journal.ResponseBodyCap}
		res.Writer = w
		completed := false
		defer func() {
			// Also when a fault drops the connection (a panic on its way
			// to net/http).
			res.Writer = w.ResponseWriter
			s.journal.Record(s.entry(c, start, w, !completed), req.Header)
		}()
		if err := next(c); err != nil {
			c.Error(err)
		}
		completed = true
		return nil
	}
}

// entry builds the journal entry of a request; it copies what it keeps.
func (s *Server) entry(c echo.Context, start time.Time, w *capture, dropped bool) journal.Entry {
	req := c.Request()
	x := exchangeOf(req.Context())
	e := journal.Entry{
		Time:      start.UTC(),
		RequestID: x.id,
		Method:    req.Method,
		Path:      req.URL.EscapedPath(),
		Query:     req.URL.RawQuery,
		User:      x.caller,
		Auth:      x.authKind,
		Status:    c.Response().Status,
		ErrorCode: x.errorCode,
		Duration:  time.Since(start),
		Fault:     x.fault,
		Prefer:    x.prefer,
		Dropped:   dropped,
	}
	if x.route != nil {
		e.Operation = x.route.Operation.OperationID
		if id, err := url.PathUnescape(c.Param("case_id")); err == nil {
			e.CaseID = id
		}
	}
	e.RequestBody, e.RequestBodyTruncated = capped(x.body, journal.RequestBodyCap)
	e.ResponseBody, e.ResponseBodyTruncated = string(w.body), w.truncated
	if dropped {
		e.Status, e.ResponseBody, e.ResponseBodyTruncated = 0, "", false
	}
	if e.ErrorCode == "" && x.prefer != "" {
		// An example answer, whose error_code no handler set.
		var body struct {
			ErrorCode string `json:"error_code"`
		}
		_ = json.Unmarshal(w.body, &body)
		e.ErrorCode = body.ErrorCode
	}
	return e
}

// capped copies at most n bytes of b, and tells whether it cut.
func capped(b []byte, n int) (string, bool) {
	if len(b) > n {
		return string(b[:n]), true
	}
	return string(b), false
}

// capture passes a response through and keeps its first limit bytes,
// for the journal and the response checks.
type capture struct {
	http.ResponseWriter
	limit     int
	body      []byte
	truncated bool
}

func (w *capture) Write(p []byte) (int, error) {
	if room := w.limit - len(w.body); room < len(p) {
		w.body = append(w.body, p[:max(room, 0)]...)
		w.truncated = true
	} else {
		w.body = append(w.body, p...)
	}
	return w.ResponseWriter.Write(p)
}

// Flush and Unwrap keep what the wrapped writer can do reachable.
func (w *capture) Flush() {
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

func (w *capture) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// Requests returns the journal's entries that f selects, oldest first
// (none when the journal is off).
func (s *Server) Requests(f journal.Filter) []journal.Entry {
	if s.journal == nil {
		return []journal.Entry{}
	}
	return slices.AppendSeq([]journal.Entry{}, s.journal.Select(f))
}

// ClearRequests empties the journal.
func (s *Server) ClearRequests() {
	if s.journal != nil {
		s.journal.Clear()
	}
}

// WaitForRequests returns the entries f selects as soon as there are at
// least n, or what there is when ctx ends, with ctx's error. It returns
// ErrNoJournal at once when the journal is off.
func (s *Server) WaitForRequests(ctx context.Context, f journal.Filter, n int) ([]journal.Entry, error) {
	if s.journal == nil {
		return []journal.Entry{}, ErrNoJournal
	}
	seq, err := s.journal.WaitSelect(ctx, f, n)
	return slices.AppendSeq([]journal.Entry{}, seq), err
}

// ErrNoJournal is WaitForRequests' error on a server without a journal.
var ErrNoJournal = errors.New("server: the request journal is off (Options.DisableJournal)")

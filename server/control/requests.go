package control

import (
	"bytes"
	"context"
	"encoding/json"
	"iter"
	"net/http"
	"runtime"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/osmstub/osmstub/gen/controlapi"
	"github.com/osmstub/osmstub/internal/apierror"
	"github.com/osmstub/osmstub/server/journal"
)

// The journal and the clock over HTTP: /_stub/requests and /_stub/clock.

// DefaultMaxWait caps a long poll of the journal, below the binary's 30 s
// write timeout (cmd/osm-stub), after which its answer could not be sent.
const DefaultMaxWait = 20 * time.Second

// The bounds of GET /_stub/requests (control.openapi.yaml says the same):
// a page's entries by default and at most, and how many replies are
// written and long polls wait at once. A reply of 1000 entries with the
// largest bodies is about 16 MB of JSON, written entry by entry; the cap on
// replies keeps their encoding from starving the vendor API of CPU.
const (
	DefaultPage    = 100
	MaxPage        = 1000
	journalBusyFor = 1 // seconds, the 429's Retry-After
	MaxReaders     = 8
	MaxWaiters     = 64
)

// CodeBusy is the control API's code for a journal read or long poll
// beyond the caps.
const CodeBusy = "STUB.0006" // 429: too many reads or long polls of the journal at once

// journalSlots bounds the concurrent calls of ListRequests: a plain read
// holds a reader's slot, a long poll a waiter's slot and, once its wait
// is over, a reader's slot to write its reply (requestPage), so that at
// most MaxReaders replies are written at once. limit is a route
// middleware so that a call holds its slot until its reply is written,
// not only while the handler runs.
type journalSlots struct {
	readers, waiters chan struct{}
}

func newJournalSlots() journalSlots {
	return journalSlots{make(chan struct{}, MaxReaders), make(chan struct{}, MaxWaiters)}
}

func (js journalSlots) limit(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		slots, what := js.readers, "reads of the journal are being served"
		if c.QueryParams().Has("wait") {
			slots, what = js.waiters, "long polls of the journal are waiting"
		}
		select {
		case slots <- struct{}{}:
			defer func() { <-slots }()
			return next(c)
		default:
			e := apierror.New(http.StatusTooManyRequests, CodeBusy,
				"control API: %d %s already; retry after %d s", cap(slots), what, journalBusyFor)
			e.RetryAfter = journalBusyFor
			return e
		}
	}
}

// ListRequests implements controlapi.StrictServerInterface.
func (c *API) ListRequests(ctx context.Context, req controlapi.ListRequestsRequestObject) (controlapi.ListRequestsResponseObject, error) {
	p := req.Params
	f := journal.Filter{}
	set(&f.Operation, (*string)(p.Operation))
	set(&f.CaseID, p.CaseId)
	set(&f.User, p.User)
	set(&f.ErrorCode, p.ErrorCode)
	set(&f.After, p.After)
	set(&f.Status, p.Status)
	if p.Since != nil {
		f.Since = *p.Since
	}
	page := DefaultPage
	set(&page, p.Limit)
	if (p.Wait == nil) != (p.Min == nil) {
		return nil, apierror.New(http.StatusBadRequest, apierror.CodeInvalid, "wait, min: give both, or neither")
	}
	if c.s.Journal() == nil {
		return nil, apierror.New(http.StatusBadRequest, apierror.CodeInvalid, "the request journal is off (-journal 0)")
	}
	if p.Wait == nil {
		// One more than the page tells whether there is a next page. The
		// call holds a reader's slot already (limit).
		f.Limit = page + 1
		return requestPage{entries: c.s.Journal().Select(f), size: page}, nil
	}
	wait, err := time.ParseDuration(*p.Wait)
	if err != nil || wait > c.MaxWait {
		return nil, apierror.New(http.StatusBadRequest, apierror.CodeInvalid, "wait: must be at most %s", c.MaxWait)
	}
	if *p.Min > c.s.Journal().Size() {
		return nil, apierror.New(http.StatusBadRequest, apierror.CodeInvalid, "min: must be at most the journal's size, %d", c.s.Journal().Size())
	}
	page = max(page, *p.Min)
	f.Limit = page + 1
	// The wait ends with the request's context too: when the client
	// leaves, nothing is left waiting.
	wctx, cancel := context.WithTimeout(ctx, wait)
	defer cancel()
	got, err := c.s.Journal().WaitSelect(wctx, f, *p.Min) // an error: the wait ended, or the client left
	return requestPage{entries: got, size: page, timedOut: err != nil, ctx: ctx, slots: c.journal.readers}, nil
}

// requestPage is ListRequests' 200, a controlapi.RequestList written
// entry by entry: the generated response would hold the whole encoding
// in memory, about 16 MB for a page of the largest bodies.
type requestPage struct {
	entries  iter.Seq[journal.Entry] // up to size+1
	size     int
	timedOut bool
	// A long poll's reply first waits for a slot of slots, while ctx, the
	// request's, lasts.
	ctx   context.Context
	slots chan struct{}
}

func (p requestPage) VisitListRequestsResponse(w http.ResponseWriter) error {
	if p.slots != nil {
		select {
		case p.slots <- struct{}{}:
			defer func() { <-p.slots }()
		case <-p.ctx.Done():
			return nil // the client left: nobody to answer
		}
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf) // escapes HTML, as the generated code does
	buf.WriteString(`{"requests":[`)
	n, last, more := 0, "", false
	for e := range p.entries {
		if n == p.size { // the one beyond the page
			more = true
			break
		}
		if n > 0 {
			buf.WriteByte(',')
		}
		if err := enc.Encode(e); err != nil {
			return err
		}
		buf.Truncate(buf.Len() - 1) // Encode's newline
		if _, err := buf.WriteTo(w); err != nil {
			return err // the client left
		}
		n, last = n+1, e.RequestID
		// A page can take a while to encode: let the vendor API's
		// requests run between its entries rather than after them.
		runtime.Gosched()
	}
	buf.WriteString(`],"timed_out":` + strconv.FormatBool(p.timedOut))
	if more {
		buf.WriteString(`,"next_after":`)
		if err := enc.Encode(last); err != nil {
			return err
		}
		buf.Truncate(buf.Len() - 1)
	}
	buf.WriteString("}\n")
	_, err := buf.WriteTo(w)
	return err
}

func set[T any](dst *T, v *T) {
	if v != nil {
		*dst = *v
	}
}

// ClearRequests implements controlapi.StrictServerInterface.
func (c *API) ClearRequests(context.Context, controlapi.ClearRequestsRequestObject) (controlapi.ClearRequestsResponseObject, error) {
	c.s.ClearRequests()
	return controlapi.ClearRequests204Response{}, nil
}

// GetClock implements controlapi.StrictServerInterface.
func (c *API) GetClock(context.Context, controlapi.GetClockRequestObject) (controlapi.GetClockResponseObject, error) {
	return controlapi.GetClock200JSONResponse{ClockStateJSONResponse: c.clockState()}, nil
}

// SetClock implements controlapi.StrictServerInterface.
func (c *API) SetClock(_ context.Context, req controlapi.SetClockRequestObject) (controlapi.SetClockResponseObject, error) {
	b := req.Body
	switch {
	case b.Real != nil && (!*b.Real || b.Time != nil || b.AdvanceMs != nil):
		return nil, apierror.New(http.StatusBadRequest, apierror.CodeInvalid, "real: must be true, and alone")
	case b.Real == nil && b.Time == nil && b.AdvanceMs == nil:
		return nil, apierror.New(http.StatusBadRequest, apierror.CodeInvalid, "body: set time, advance_ms or real")
	case b.Real != nil:
		c.s.FollowRealTime()
	}
	if b.Time != nil {
		c.s.SetTime(*b.Time)
	}
	if b.AdvanceMs != nil {
		c.s.Advance(time.Duration(*b.AdvanceMs) * time.Millisecond)
	}
	return controlapi.SetClock200JSONResponse{ClockStateJSONResponse: c.clockState()}, nil
}

func (c *API) clockState() controlapi.ClockStateJSONResponse {
	now, fixed, offset := c.s.ClockState()
	return controlapi.ClockStateJSONResponse{Body: controlapi.Clock{Now: now.UTC(), Fixed: fixed, OffsetMs: offset.Milliseconds()}}
}

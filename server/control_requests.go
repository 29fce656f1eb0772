package server

import (
	"context"
	"net/http"
	"time"

	"github.com/osmstub/osmstub/gen/controlapi"
	"github.com/osmstub/osmstub/server/journal"
)

// The journal and the clock over HTTP: /_stub/requests and /_stub/clock.

// maxWait caps a long poll of the journal, below the binary's 30 s write
// timeout (cmd/osm-stub), after which its answer could not be sent. A
// variable for the leak test only.
var maxWait = 20 * time.Second

// ListRequests implements controlapi.StrictServerInterface.
func (c *control) ListRequests(ctx context.Context, req controlapi.ListRequestsRequestObject) (controlapi.ListRequestsResponseObject, error) {
	p := req.Params
	f := journal.Filter{}
	set(&f.Operation, (*string)(p.Operation))
	set(&f.CaseID, p.CaseId)
	set(&f.User, p.User)
	set(&f.ErrorCode, p.ErrorCode)
	set(&f.After, p.After)
	set(&f.Status, p.Status)
	set(&f.Limit, p.Limit)
	if p.Since != nil {
		f.Since = *p.Since
	}
	if (p.Wait == nil) != (p.Min == nil) {
		return nil, newAPIError(http.StatusBadRequest, CodeInvalid, "wait, min: give both, or neither")
	}
	if c.s.journal == nil {
		return nil, newAPIError(http.StatusBadRequest, CodeInvalid, "the request journal is off (-journal 0)")
	}
	if p.Wait == nil {
		return controlapi.ListRequests200JSONResponse{Body: controlapi.RequestList{Requests: c.s.journal.Query(f)}}, nil
	}
	wait, err := time.ParseDuration(*p.Wait)
	if err != nil || wait > maxWait {
		return nil, newAPIError(http.StatusBadRequest, CodeInvalid, "wait: must be at most %s", maxWait)
	}
	// The wait ends with the request's context too: when the client
	// leaves, nothing is left waiting.
	wctx, cancel := context.WithTimeout(ctx, wait)
	defer cancel()
	got, err := c.s.journal.Wait(wctx, f, *p.Min) // an error: the wait ended, or the client left
	return controlapi.ListRequests200JSONResponse{Body: controlapi.RequestList{Requests: got, TimedOut: err != nil}}, nil
}

func set[T any](dst *T, v *T) {
	if v != nil {
		*dst = *v
	}
}

// ClearRequests implements controlapi.StrictServerInterface.
func (c *control) ClearRequests(context.Context, controlapi.ClearRequestsRequestObject) (controlapi.ClearRequestsResponseObject, error) {
	c.s.ClearRequests()
	return controlapi.ClearRequests204Response{}, nil
}

// GetClock implements controlapi.StrictServerInterface.
func (c *control) GetClock(context.Context, controlapi.GetClockRequestObject) (controlapi.GetClockResponseObject, error) {
	return controlapi.GetClock200JSONResponse{ClockStateJSONResponse: c.clockState()}, nil
}

// SetClock implements controlapi.StrictServerInterface.
func (c *control) SetClock(_ context.Context, req controlapi.SetClockRequestObject) (controlapi.SetClockResponseObject, error) {
	b := req.Body
	switch {
	case b.Real != nil && (!*b.Real || b.Time != nil || b.AdvanceMs != nil):
		return nil, newAPIError(http.StatusBadRequest, CodeInvalid, "real: must be true, and alone")
	case b.Real == nil && b.Time == nil && b.AdvanceMs == nil:
		return nil, newAPIError(http.StatusBadRequest, CodeInvalid, "body: set time, advance_ms or real")
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

func (c *control) clockState() controlapi.ClockStateJSONResponse {
	now, fixed, offset := c.s.clock.state()
	return controlapi.ClockStateJSONResponse{Body: controlapi.Clock{Now: now.UTC(), Fixed: fixed, OffsetMs: offset.Milliseconds()}}
}

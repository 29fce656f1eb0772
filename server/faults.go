package server

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/osmstub/osmstub/gen"
)

// Fault makes the stub misbehave on purpose for one operation, so that a
// client's retry and error paths can be tested. It applies after the
// request has been validated and authenticated.
type Fault struct {
	// Status answers with this status instead of serving the call; 0 serves
	// the call normally (after Latency).
	Status int
	// Code and Message fill the error body; with Status 200 and a Code the
	// answer looks like a business failure.
	Code    string
	Message string
	// RetryAfter, when set, is sent as a Retry-After header in seconds.
	RetryAfter time.Duration
	// Latency delays the answer (or the normal call).
	Latency time.Duration
	// Drop closes the connection without answering.
	Drop bool
	// Times is how many calls the fault affects; 0 means every call until
	// it is cleared.
	Times int
}

// Operation IDs a fault can target.
var operationIDs = map[string]bool{"CreateRelations": true, "ListRelation": true, "DeleteRelation": true}

func (f Fault) check(op string) error {
	switch {
	case !operationIDs[op]:
		return fmt.Errorf("fault: unknown operation %q (want CreateRelations, ListRelation or DeleteRelation)", op)
	case f.Status != 0 && (f.Status < 200 || f.Status > 599):
		return fmt.Errorf("fault: status %d is not an HTTP status", f.Status)
	case f.Times < 0 || f.Latency < 0 || f.RetryAfter < 0:
		return fmt.Errorf("fault: times, latency and retry_after must not be negative")
	case f.Status == 0 && f.Latency == 0 && !f.Drop:
		return fmt.Errorf("fault: set a status, a latency or drop")
	}
	return nil
}

type faults struct {
	mu sync.Mutex
	m  map[string]*Fault
}

func (fs *faults) set(op string, f Fault) {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	if fs.m == nil {
		fs.m = map[string]*Fault{}
	}
	fs.m[op] = &f
}

func (fs *faults) clear() {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	fs.m = nil
}

func (fs *faults) remove(op string) {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	delete(fs.m, op)
}

func (fs *faults) list() map[string]Fault {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	out := make(map[string]Fault, len(fs.m))
	for op, f := range fs.m {
		out[op] = *f
	}
	return out
}

// take returns the fault for op, counting one use.
func (fs *faults) take(op string) (Fault, bool) {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	f, ok := fs.m[op]
	if !ok {
		return Fault{}, false
	}
	taken := *f
	if f.Times > 0 {
		if f.Times--; f.Times == 0 {
			delete(fs.m, op)
		}
	}
	return taken, true
}

// SetFault installs a fault for an operation (CreateRelations, ListRelation
// or DeleteRelation), replacing any it had.
func (s *Server) SetFault(operationID string, f Fault) error {
	if err := f.check(operationID); err != nil {
		return err
	}
	s.faults.set(operationID, f)
	return nil
}

// ClearFaults removes every fault.
func (s *Server) ClearFaults() { s.faults.clear() }

// ClearFault removes the fault of one operation, if it has one.
func (s *Server) ClearFault(operationID string) { s.faults.remove(operationID) }

// Faults returns the faults in force, by operation.
func (s *Server) Faults() map[string]Fault { return s.faults.list() }

// injectFaults runs after validation, so a fault never hides a request
// the contract refuses.
func (s *Server) injectFaults(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		route := s.contractRoute(c)
		if route == nil {
			return next(c)
		}
		f, ok := s.faults.take(route.Operation.OperationID)
		if !ok {
			return next(c)
		}
		if f.Latency > 0 {
			select {
			case <-time.After(f.Latency):
			case <-c.Request().Context().Done():
				return c.Request().Context().Err()
			}
		}
		switch {
		case f.Drop:
			// net/http closes the connection without a response.
			panic(http.ErrAbortHandler)
		case f.Status == 0:
			return next(c)
		}
		x := exchangeOf(c.Request().Context())
		x.errorCode = f.Code
		x.injected = true
		if f.RetryAfter > 0 {
			c.Response().Header().Set("Retry-After", strconv.Itoa(int((f.RetryAfter+time.Second-1)/time.Second)))
		}
		body := gen.ErrorBody{ErrorCode: &f.Code, ErrorMsg: &f.Message}
		if strings.HasPrefix(f.Code, gatewayCodePrefix) {
			body.RequestId = &x.id // as the gateway's own refusals carry it
		}
		return c.JSON(f.Status, body)
	}
}

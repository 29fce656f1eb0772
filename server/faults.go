package server

import (
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/url"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/osmstub/osmstub/gen"
	"github.com/osmstub/osmstub/gen/controlapi"
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

	// CaseID and User, when set, limit the fault to the calls on that
	// ticket (the path's case_id) and/or by that user (however it
	// authenticated), so that tests sharing one stub do not disturb each
	// other. An operation can have one fault per target; a call takes the
	// most specific one that matches it: case and user, then case, then
	// user, then the operation's untargeted fault.
	CaseID string
	User   string
	// Probability, when above 0, applies the fault to that fraction of the
	// matching calls (at most 1); the others are served normally and use
	// up neither Times nor Sequence. The draws come from a generator
	// seeded with Seed (0: a random seed), so that with a seed the same
	// calls fail on every run.
	Probability float64
	Seed        uint64
	// Sequence answers the matching calls in turn with these statuses, 0
	// meaning "serve this one normally", e.g. 503, 503, 0; after the last
	// the fault is used up. It replaces Status and Times.
	//
	// A status is answered with Code and Message, or when Code is empty
	// with the gateway's or the service's own (FaultDefault), with
	// request_id for a gateway code and Retry-After for a 429.
	Sequence []int
}

// Operation IDs a fault can target.
// setWireFault puts w under op in out: controlapi.Faults has a field per
// operation, named as its operationId (TestFaultsCoverTheContract).
func setWireFault(out *controlapi.Faults, op string, w *controlapi.Fault) {
	reflect.ValueOf(out).Elem().FieldByName(op).Set(reflect.ValueOf(w))
}

func (f Fault) check(op string) error {
	switch {
	case !controlapi.OperationId(op).Valid():
		return fmt.Errorf("fault: unknown operation %q (want an operationId of openapi.yaml, such as CreateCases)", op)
	case f.Status != 0 && (f.Status < 200 || f.Status > 599):
		return fmt.Errorf("fault: status %d is not an HTTP status", f.Status)
	case f.Times < 0 || f.Latency < 0 || f.RetryAfter < 0:
		return fmt.Errorf("fault: times, latency and retry_after must not be negative")
	case f.Probability < 0 || f.Probability > 1:
		return fmt.Errorf("fault: probability %v is not between 0 and 1", f.Probability)
	case len(f.Sequence) > 0 && (f.Status != 0 || f.Times != 0 || f.Drop):
		return fmt.Errorf("fault: a sequence replaces status and times, and cannot drop")
	case f.Status == 0 && f.Latency == 0 && !f.Drop && len(f.Sequence) == 0:
		return fmt.Errorf("fault: set a status, a sequence, a latency or drop")
	case f.Status != 0 && f.Status < 400 && f.Code == "":
		return fmt.Errorf("fault: status %d answers a business refusal: give its code (e.g. OSM.01010001) and message", f.Status)
	}
	for i, st := range f.Sequence {
		if st != 0 && (st < 200 || st > 599) {
			return fmt.Errorf("fault: sequence[%d]: %d is not an HTTP status (or 0, to serve the call)", i, st)
		}
		if st != 0 && st < 400 && f.Code == "" {
			return fmt.Errorf("fault: sequence[%d]: status %d answers a business refusal: give its code (e.g. OSM.01010001) and message", i, st)
		}
	}
	return nil
}

// FaultAnswer is how a fault answers a status when it names no code: the
// code and message the API gateway (APIGW.*) or the service (OSM.*) sends
// with that status, as docs/fidelity.md's Codes table lists them. The
// gateway's answers carry request_id (set by injectFaults for every
// APIGW.* code); RetryAfter is sent only where the stub's own answer of
// that status sends it.
type FaultAnswer struct {
	Code, Message string
	RetryAfter    time.Duration
}

// faultAnswers is the one table every way of arming a fault uses
// (SetFault, PUT /_stub/faults, sequences, osmstubtest).
var faultAnswers = map[int]FaultAnswer{
	400: {Code: CodeInvalid, Message: "Failed"},
	401: {Code: CodeUnauthorized, Message: "Incorrect IAM authentication information."},
	403: {Code: CodeForbidden, Message: "The IAM user is not authorized to access the API."},
	404: {Code: CodeNoSuchAPI, Message: msgNoSuchAPI},
	408: {Code: CodeRequestTimeout, Message: "Request timeout."},
	413: {Code: CodeTooLarge, Message: msgTooLarge},
	415: {Code: CodeInvalid, Message: "Content-Type must be " + contentTypeJSON},
	429: {Code: CodeThrottled, Message: "The throttling threshold has been reached.", RetryAfter: time.Second},
	500: {Code: CodeInternal, Message: "Internal Server Error"},
	502: {Code: CodeBackend, Message: msgUnavailable},
	503: {Code: CodeIAMUnavailable, Message: "The IAM service is currently unavailable."},
	504: {Code: CodeBackend, Message: msgBackendTimeout},
}

// FaultDefault is the answer of a fault of status that names no code:
// faultAnswers' row, else OSM.0001 "Failed" for another 4xx and OSM.0004
// "Internal Server Error" for another 5xx (the service's own codes for
// its failures), and nothing below 400.
func FaultDefault(status int) FaultAnswer {
	if a, ok := faultAnswers[status]; ok {
		return a
	}
	switch {
	case status >= 500:
		return faultAnswers[500]
	case status >= 400:
		return faultAnswers[400]
	}
	return FaultAnswer{}
}

// withDefaults fills what the fault leaves to its status.
func (f Fault) withDefaults() Fault {
	if f.Status == 0 || f.Code != "" {
		return f
	}
	d := FaultDefault(f.Status)
	f.Code = d.Code
	if f.Message == "" {
		f.Message = d.Message
	}
	if f.RetryAfter == 0 {
		f.RetryAfter = d.RetryAfter
	}
	return f
}

// TargetedFault is a fault in force and the operation it applies to.
type TargetedFault struct {
	Operation string
	Fault
}

// activeFault is a fault in force: what is left of its Times or Sequence,
// and its generator.
type activeFault struct {
	op  string
	f   Fault
	rng *rand.Rand // with Probability
}

type faults struct {
	mu   sync.Mutex
	list []*activeFault // in the order they were set
}

func (a *activeFault) sameTarget(op, caseID, user string) bool {
	return a.op == op && a.f.CaseID == caseID && a.f.User == user
}

func (fs *faults) set(op string, f Fault) {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	f.Sequence = slices.Clone(f.Sequence)
	a := &activeFault{op: op, f: f}
	if f.Probability > 0 {
		seed := f.Seed
		if seed == 0 {
			seed = rand.Uint64()
		}
		a.rng = rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	}
	for i, old := range fs.list {
		if old.sameTarget(op, f.CaseID, f.User) {
			fs.list[i] = a
			return
		}
	}
	fs.list = append(fs.list, a)
}

func (fs *faults) clear() {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	fs.list = nil
}

// remove removes the faults of op: every one, or with target only the
// one of that case and user.
func (fs *faults) remove(op string, target bool, caseID, user string) {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	fs.list = slices.DeleteFunc(fs.list, func(a *activeFault) bool {
		return a.op == op && (!target || a.sameTarget(op, caseID, user))
	})
}

func (fs *faults) all() []TargetedFault {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	out := make([]TargetedFault, 0, len(fs.list))
	for _, a := range fs.list {
		f := a.f
		f.Sequence = slices.Clone(f.Sequence)
		out = append(out, TargetedFault{Operation: a.op, Fault: f})
	}
	return out
}

// take returns the fault a call of op on caseID by user meets, counting
// one use, and a description of it for the journal.
func (fs *faults) take(op, caseID, user string) (Fault, string, bool) {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	best, score := -1, -1
	for i, a := range fs.list {
		f := &a.f
		if a.op != op || (f.CaseID != "" && f.CaseID != caseID) || (f.User != "" && f.User != user) {
			continue
		}
		s := 0
		if f.CaseID != "" {
			s += 2
		}
		if f.User != "" {
			s++
		}
		if s > score {
			best, score = i, s
		}
	}
	if best < 0 {
		return Fault{}, "", false
	}
	a := fs.list[best]
	if a.rng != nil && a.rng.Float64() >= a.f.Probability {
		return Fault{}, "", false
	}
	taken := a.f
	var step string
	switch {
	case len(a.f.Sequence) > 0:
		taken.Status, taken.Sequence = a.f.Sequence[0], nil
		step = fmt.Sprintf(" (sequence, %d more after this)", len(a.f.Sequence)-1)
		if a.f.Sequence = a.f.Sequence[1:]; len(a.f.Sequence) == 0 {
			fs.list = slices.Delete(fs.list, best, best+1)
		}
	case a.f.Times > 0:
		step = fmt.Sprintf(" (%d more after this)", a.f.Times-1)
		if a.f.Times--; a.f.Times == 0 {
			fs.list = slices.Delete(fs.list, best, best+1)
		}
	}
	return taken.withDefaults(), describe(op, taken) + step, true
}

// describe says what a fault does to a call, for the journal.
func describe(op string, f Fault) string {
	var b strings.Builder
	b.WriteString(op)
	if f.CaseID != "" {
		b.WriteString(" case_id=" + f.CaseID)
	}
	if f.User != "" {
		b.WriteString(" user=" + f.User)
	}
	b.WriteString(":")
	if f.Latency > 0 {
		b.WriteString(" latency " + f.Latency.String())
	}
	switch {
	case f.Drop:
		b.WriteString(" drop")
	case f.Status != 0:
		b.WriteString(" status " + strconv.Itoa(f.Status))
	default:
		b.WriteString(" served")
	}
	return b.String()
}

// SetFault installs a fault for an operation (an operationId of the
// contract, such as CreateCases), replacing the one it had for the same
// target (the same CaseID and User).
func (s *Server) SetFault(operationID string, f Fault) error {
	if err := f.check(operationID); err != nil {
		return err
	}
	s.faults.set(operationID, f)
	return nil
}

// ClearFaults removes every fault.
func (s *Server) ClearFaults() { s.faults.clear() }

// ClearFault removes every fault of one operation, targeted or not.
func (s *Server) ClearFault(operationID string) { s.faults.remove(operationID, false, "", "") }

// ClearTargetedFault removes the fault of one operation for one target
// (caseID and user as set in Fault; "" for either means the fault that
// does not target it).
func (s *Server) ClearTargetedFault(operationID, caseID, user string) {
	s.faults.remove(operationID, true, caseID, user)
}

// Faults returns the untargeted faults in force, by operation; AllFaults
// returns the targeted ones too.
func (s *Server) Faults() map[string]Fault {
	out := map[string]Fault{}
	for _, f := range s.faults.all() {
		if f.CaseID == "" && f.User == "" {
			out[f.Operation] = f.Fault
		}
	}
	return out
}

// AllFaults returns every fault in force, in the order they were set.
// Times and Sequence show what is left of them.
func (s *Server) AllFaults() []TargetedFault { return s.faults.all() }

// injectFaults runs after validation, so a fault never hides a request
// the contract refuses.
func (s *Server) injectFaults(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		x := exchangeOf(c.Request().Context())
		caseID, _ := url.PathUnescape(c.Param("case_id"))
		f, desc, ok := s.faults.take(x.route.Operation.OperationID, caseID, x.caller)
		if !ok {
			return next(c)
		}
		x.fault = desc
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
		x.errorCode = f.Code
		x.injected = true
		if f.RetryAfter > 0 {
			c.Response().Header().Set("Retry-After", strconv.Itoa(int((f.RetryAfter+time.Second-1)/time.Second)))
		}
		code, msg := f.Code, f.Message // copies, so that f stays off the heap when no fault applies
		body := gen.ErrorBody{ErrorCode: &code, ErrorMsg: &msg}
		if strings.HasPrefix(code, gatewayCodePrefix) {
			body.RequestId = &x.id // as the gateway's own refusals carry it
		}
		return c.JSON(f.Status, body)
	}
}

// wireFaults lists the faults set as the control API shows them.
func (s *Server) wireFaults() controlapi.Faults {
	var out controlapi.Faults
	for _, tf := range s.AllFaults() {
		op, f := tf.Operation, tf.Fault
		w := faultToWire(f)
		if f.CaseID != "" || f.User != "" {
			if out.Targeted == nil {
				out.Targeted = &[]controlapi.TargetedFault{}
			}
			*out.Targeted = append(*out.Targeted, controlapi.TargetedFault{OperationId: controlapi.OperationId(op), Fault: w})
			continue
		}
		setWireFault(&out, op, &w)
	}
	return out
}

// faultFromWire maps the control API's Fault (whole milliseconds and
// seconds) to a Fault.
func faultFromWire(w controlapi.Fault) Fault {
	var f Fault
	if w.Status != nil {
		f.Status = *w.Status
	}
	if w.ErrorCode != nil {
		f.Code = *w.ErrorCode
	}
	if w.ErrorMsg != nil {
		f.Message = *w.ErrorMsg
	}
	if w.RetryAfterS != nil {
		f.RetryAfter = time.Duration(*w.RetryAfterS) * time.Second
	}
	if w.LatencyMs != nil {
		f.Latency = time.Duration(*w.LatencyMs) * time.Millisecond
	}
	if w.Drop != nil {
		f.Drop = *w.Drop
	}
	if w.Times != nil {
		f.Times = *w.Times
	}
	if w.CaseId != nil {
		f.CaseID = *w.CaseId
	}
	if w.User != nil {
		f.User = *w.User
	}
	if w.Probability != nil {
		f.Probability = *w.Probability
	}
	if w.Seed != nil {
		f.Seed = uint64(*w.Seed)
	}
	if w.Sequence != nil {
		f.Sequence = *w.Sequence
	}
	return f
}

// faultToWire is faultFromWire's inverse; zero fields are left out.
// Durations set in process are rounded up to the unit, as Retry-After is.
func faultToWire(f Fault) controlapi.Fault {
	var w controlapi.Fault
	set := func(v int) *int {
		if v == 0 {
			return nil
		}
		return &v
	}
	w.Status = set(f.Status)
	w.RetryAfterS = set(int((f.RetryAfter + time.Second - 1) / time.Second))
	w.LatencyMs = set(int((f.Latency + time.Millisecond - 1) / time.Millisecond))
	w.Times = set(f.Times)
	if f.Code != "" {
		w.ErrorCode = &f.Code
	}
	if f.Message != "" {
		w.ErrorMsg = &f.Message
	}
	if f.Drop {
		w.Drop = &f.Drop
	}
	if f.CaseID != "" {
		w.CaseId = &f.CaseID
	}
	if f.User != "" {
		w.User = &f.User
	}
	if f.Probability != 0 {
		w.Probability = &f.Probability
	}
	if f.Seed != 0 {
		seed := int64(f.Seed)
		w.Seed = &seed
	}
	if len(f.Sequence) > 0 {
		w.Sequence = &f.Sequence
	}
	return w
}

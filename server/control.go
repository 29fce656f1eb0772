package server

import (
	"bytes"
	"context"
	_ "embed"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/labstack/echo/v4"

	"github.com/osmstub/osmstub/gen/controlapi"
	"github.com/osmstub/osmstub/internal/contract"
	"github.com/osmstub/osmstub/server/store"
	"github.com/osmstub/osmstub/server/web"
)

// The control API: the state and fault controls of Server over HTTP under
// /_stub/, for the binary. It is described by control.openapi.yaml, its
// interface is generated into gen/controlapi, and every request is
// validated against that document (not against the vendor contract, whose
// validation and authentication never see these routes). It has no
// authentication: Options.DisableControl removes it.

// controlOpenAPI is control.openapi.yaml exactly as written, served at
// GET /_stub/openapi.yaml.
//
//go:embed control.openapi.yaml
var controlOpenAPI []byte

// Error codes the control API adds to the contract's.
const (
	CodeStubConflict = "STUB.0001" // 409: the state refuses the change
	CodeStubNotFound = "STUB.0002" // 404: the ticket named in the path does not exist
)

var loadControlSpec = sync.OnceValues(func() (*openapi3.T, error) {
	doc, err := controlapi.GetSpec()
	if err != nil {
		return nil, fmt.Errorf("control: load embedded spec: %w", err)
	}
	if err := doc.Validate(context.Background()); err != nil {
		return nil, fmt.Errorf("control: embedded spec is invalid: %w", err)
	}
	return doc, nil
})

// control implements the control API's strict server over a Server. It is
// a type of its own because the operation names (LoadFixtures, SetFault,
// ...) are also Server's Go methods.
type control struct {
	s       *Server
	routes  map[string]*routers.Route // "METHOD echo-path" -> control route
	options *openapi3filter.Options
	journal journalSlots
}

var _ controlapi.StrictServerInterface = (*control)(nil)

func newControl(s *Server) (*control, error) {
	doc, err := loadControlSpec()
	if err != nil {
		return nil, err
	}
	c := &control{s: s, routes: contract.Routes(doc), journal: newJournalSlots()}
	c.options = contract.RequestOptions(openapi3filter.NoopAuthenticationFunc)
	return c, nil
}

// mount registers every control operation on e, each behind the limits
// of its body and validation.
func (c *control) mount(e *echo.Echo) {
	mw := map[string][]echo.MiddlewareFunc{}
	for _, r := range c.routes {
		mw[r.Operation.OperationID] = []echo.MiddlewareFunc{c.s.limitBody(c.s.controlBodies, r.Operation.RequestBody != nil), c.validate(r)}
	}
	mw["GetLiveView"] = append(mw["GetLiveView"], web.Headers)
	mw["ListRequests"] = append(mw["ListRequests"], c.journal.limit) // after validate: a bad call gets its 400
	controlapi.RegisterHandlersWithOptions(e, controlapi.NewStrictHandler(c, nil),
		controlapi.RegisterHandlersOptions{OperationMiddlewares: mw})
}

// validate checks a control request against control.openapi.yaml and
// refuses it as the vendor API's validation does: 415, 400 naming every
// field and rule.
func (c *control) validate(route *routers.Route) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(ec echo.Context) error {
			if err := c.s.check(ec, route, c.options); err != nil {
				return err
			}
			return next(ec)
		}
	}
}

// ResetState implements controlapi.StrictServerInterface.
func (c *control) ResetState(ctx context.Context, _ controlapi.ResetStateRequestObject) (controlapi.ResetStateResponseObject, error) {
	if err := c.s.Reset(ctx); err != nil {
		return nil, err
	}
	return controlapi.ResetState204Response{}, nil
}

// LoadFixtures implements controlapi.StrictServerInterface.
func (c *control) LoadFixtures(ctx context.Context, req controlapi.LoadFixturesRequestObject) (controlapi.LoadFixturesResponseObject, error) {
	if err := c.s.LoadFixtures(ctx, *req.Body); err != nil {
		return nil, invalidDataset(err, "")
	}
	return controlapi.LoadFixtures204Response{}, nil
}

// GetState implements controlapi.StrictServerInterface.
func (c *control) GetState(ctx context.Context, _ controlapi.GetStateRequestObject) (controlapi.GetStateResponseObject, error) {
	d, err := c.s.Snapshot(ctx)
	if err != nil {
		return nil, err
	}
	if d.Users == nil {
		d.Users = []store.User{}
	}
	if d.Tickets == nil {
		d.Tickets = []store.Ticket{}
	}
	return controlapi.GetState200JSONResponse{Body: d}, nil
}

// PutUser implements controlapi.StrictServerInterface.
func (c *control) PutUser(ctx context.Context, req controlapi.PutUserRequestObject) (controlapi.PutUserResponseObject, error) {
	u := *req.Body
	err := c.s.AddUser(ctx, u)
	switch {
	case err == nil:
		return controlapi.PutUser204Response{}, nil
	case errors.Is(err, store.ErrExists):
		return nil, conflict("%s", c.credentialInUse(ctx, u))
	}
	return nil, invalidDataset(err, "users[0].")
}

// credentialInUse names the first token or access key of u that another
// user holds, for a refused PutUser.
func (c *control) credentialInUse(ctx context.Context, u store.User) string {
	msg := "tokens, access_keys: a credential is already used by another user"
	_ = c.s.store.View(ctx, func(tx store.Tx) error {
		for i, tok := range u.Tokens {
			if other, err := tx.UserByToken(tok); err == nil && other.Name != u.Name {
				msg = fmt.Sprintf("tokens[%d]: is already used by user %q", i, other.Name)
				return nil
			}
		}
		for i, k := range u.Keys {
			if other, _, err := tx.UserByAccessKey(k.AK); err == nil && other.Name != u.Name {
				msg = fmt.Sprintf("access_keys[%d].ak: is already used by user %q", i, other.Name)
				return nil
			}
		}
		return nil
	})
	return msg
}

// AddTicket implements controlapi.StrictServerInterface.
func (c *control) AddTicket(ctx context.Context, req controlapi.AddTicketRequestObject) (controlapi.AddTicketResponseObject, error) {
	t := *req.Body
	err := c.s.AddTicket(ctx, t)
	switch {
	case err == nil:
		return controlapi.AddTicket204Response{}, nil
	case errors.Is(err, store.ErrExists):
		return nil, conflict("id: ticket %q already exists", t.ID)
	case errors.Is(err, store.ErrNotFound):
		return nil, conflict("owner: unknown user %q", t.Owner)
	}
	return nil, invalidDataset(err, "tickets[0].")
}

// AddRelations implements controlapi.StrictServerInterface.
func (c *control) AddRelations(ctx context.Context, req controlapi.AddRelationsRequestObject) (controlapi.AddRelationsResponseObject, error) {
	caseID, related := req.Body.CaseId, req.Body.RelatedIds
	err := c.s.Associate(ctx, caseID, related...)
	if err == nil {
		return controlapi.AddRelations204Response{}, nil
	}
	var re *store.RuleError
	if !errors.As(err, &re) {
		return nil, err
	}
	field := "case_id"
	if i := slices.Index(related, re.Ticket); i >= 0 && (re.Ticket != caseID || errors.Is(err, store.ErrSelf)) {
		field = fmt.Sprintf("related_ids[%d]", i)
	}
	switch {
	case errors.Is(err, store.ErrLimit) && field == "case_id":
		return nil, conflict("%s: %s would have more than %d associations", field, re.Ticket, store.MaxRelations)
	case errors.Is(err, store.ErrLimit):
		return nil, conflict("%s: %s already has %d associations", field, re.Ticket, store.MaxRelations)
	case errors.Is(err, store.ErrSelf):
		return nil, conflict("%s: a ticket cannot be associated with itself", field)
	case errors.Is(err, store.ErrUnknownTicket):
		return nil, conflict("%s: ticket %s not found", field, re.Ticket)
	}
	return nil, conflict("%s: %v", field, re.Err)
}

// GetRelations implements controlapi.StrictServerInterface.
func (c *control) GetRelations(ctx context.Context, req controlapi.GetRelationsRequestObject) (controlapi.GetRelationsResponseObject, error) {
	ids, err := c.s.Relations(ctx, req.CaseId)
	if errors.Is(err, store.ErrNotFound) {
		return nil, newAPIError(http.StatusNotFound, CodeStubNotFound, "case_id: ticket %s not found", req.CaseId)
	} else if err != nil {
		return nil, err
	}
	if ids == nil {
		ids = []string{}
	}
	return controlapi.GetRelations200JSONResponse{Body: controlapi.RelatedIds{CaseId: req.CaseId, RelatedIds: ids}}, nil
}

// ListFaults implements controlapi.StrictServerInterface.
func (c *control) ListFaults(context.Context, controlapi.ListFaultsRequestObject) (controlapi.ListFaultsResponseObject, error) {
	var out controlapi.Faults
	for _, tf := range c.s.AllFaults() {
		op, f := tf.Operation, tf.Fault
		w := faultToWire(f)
		if f.CaseID != "" || f.User != "" {
			if out.Targeted == nil {
				out.Targeted = &[]controlapi.TargetedFault{}
			}
			*out.Targeted = append(*out.Targeted, controlapi.TargetedFault{OperationId: controlapi.OperationId(op), Fault: w})
			continue
		}
		switch controlapi.OperationId(op) {
		case controlapi.CreateRelations:
			out.CreateRelations = &w
		case controlapi.ListRelation:
			out.ListRelation = &w
		case controlapi.DeleteRelation:
			out.DeleteRelation = &w
		}
	}
	return controlapi.ListFaults200JSONResponse{Body: out}, nil
}

// SetFault implements controlapi.StrictServerInterface.
func (c *control) SetFault(_ context.Context, req controlapi.SetFaultRequestObject) (controlapi.SetFaultResponseObject, error) {
	f := faultFromWire(*req.Body)
	if f.Status == 0 && f.Latency == 0 && !f.Drop && len(f.Sequence) == 0 {
		return nil, newAPIError(http.StatusBadRequest, CodeInvalid, "body: set status, sequence, latency_ms or drop")
	}
	if err := c.s.SetFault(string(req.OperationId), f); err != nil {
		return nil, newAPIError(http.StatusBadRequest, CodeInvalid, "%v", err)
	}
	return controlapi.SetFault204Response{}, nil
}

// ClearFault implements controlapi.StrictServerInterface.
func (c *control) ClearFault(_ context.Context, req controlapi.ClearFaultRequestObject) (controlapi.ClearFaultResponseObject, error) {
	if p := req.Params; p.CaseId != nil || p.User != nil {
		var caseID, user string
		set(&caseID, p.CaseId)
		set(&user, p.User)
		c.s.ClearTargetedFault(string(req.OperationId), caseID, user)
		return controlapi.ClearFault204Response{}, nil
	}
	c.s.ClearFault(string(req.OperationId))
	return controlapi.ClearFault204Response{}, nil
}

// ClearFaults implements controlapi.StrictServerInterface.
func (c *control) ClearFaults(context.Context, controlapi.ClearFaultsRequestObject) (controlapi.ClearFaultsResponseObject, error) {
	c.s.ClearFaults()
	return controlapi.ClearFaults204Response{}, nil
}

// GetControlSpec implements controlapi.StrictServerInterface.
func (c *control) GetControlSpec(context.Context, controlapi.GetControlSpecRequestObject) (controlapi.GetControlSpecResponseObject, error) {
	return controlapi.GetControlSpec200ApplicationyamlResponse{
		Body: bytes.NewReader(controlOpenAPI), ContentLength: int64(len(controlOpenAPI)),
	}, nil
}

// GetLiveView implements controlapi.StrictServerInterface.
func (c *control) GetLiveView(context.Context, controlapi.GetLiveViewRequestObject) (controlapi.GetLiveViewResponseObject, error) {
	return controlapi.GetLiveView200TexthtmlResponse{
		Body: bytes.NewReader(web.LiveView), ContentLength: int64(len(web.LiveView)),
	}, nil
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
	set(&f.CaseID, w.CaseId)
	set(&f.User, w.User)
	set(&f.Probability, w.Probability)
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

func conflict(format string, args ...any) *apiError {
	return newAPIError(http.StatusConflict, CodeStubConflict, format, args...)
}

// invalidDataset turns the *store.FieldErrors in err into a 400 naming each
// entry.field (without prefix, for a body that is a single entry). Any
// other error is returned as it is, for the error mapper.
func invalidDataset(err error, prefix string) error {
	var problems []contract.Problem
	var walk func(error)
	walk = func(err error) {
		switch e := err.(type) {
		case *store.FieldError:
			problems = append(problems, contract.Problem{Field: strings.TrimPrefix(e.Entry+"."+e.Field, prefix), Rule: e.Rule})
		case interface{ Unwrap() []error }:
			for _, inner := range e.Unwrap() {
				walk(inner)
			}
		case interface{ Unwrap() error }:
			walk(e.Unwrap())
		}
	}
	walk(err)
	if len(problems) == 0 {
		return err
	}
	return newAPIError(http.StatusBadRequest, CodeInvalid, "%s", contract.Message(problems))
}

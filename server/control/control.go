// Package control is the stub's control API under /_stub/: its state,
// faults, journal, clock and violations over HTTP, for the binary and for
// tests in other languages. It is described by control.openapi.yaml, its
// interface is generated into gen/controlapi, and it reaches the stub only
// through Stub.
//
// A control request goes: the server's own middleware (request id,
// recovery, access log), then Guard (every path under /_stub/, routed or
// not: token or loopback, never a web page), then the route's middleware
// (the server's body limits, then validation against control.openapi.yaml
// with the server's checks), then the strict handler here. Refusals are
// *apierror.Error, which the server's error mapper writes.
package control

import (
	"bytes"
	"context"
	_ "embed"
	"errors"
	"fmt"
	"net/http"
	"reflect"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/labstack/echo/v4"

	"github.com/osmstub/osmstub/gen/controlapi"
	"github.com/osmstub/osmstub/internal/apierror"
	"github.com/osmstub/osmstub/internal/contract"
	"github.com/osmstub/osmstub/internal/violation"
	"github.com/osmstub/osmstub/server/journal"
	"github.com/osmstub/osmstub/server/store"
	"github.com/osmstub/osmstub/server/web"
)

// OpenAPI is control.openapi.yaml exactly as written, served at
// GET /_stub/openapi.yaml.
//
//go:embed control.openapi.yaml
var OpenAPI []byte

// Error codes the control API adds to the contract's.
const (
	CodeConflict = "STUB.0001" // 409: the state refuses the change
	CodeNotFound = "STUB.0002" // 404: the ticket named in the path does not exist
)

// Stub is what the control API needs of the stub: its state, faults,
// journal, clock and violations, and the request checks of its own API.
type Stub interface {
	Reset(ctx context.Context) error
	LoadFixtures(ctx context.Context, d store.Dataset) error
	Snapshot(ctx context.Context) (store.Dataset, error)
	AddUser(ctx context.Context, u store.User) error
	AddTicket(ctx context.Context, t store.Ticket) error
	Associate(ctx context.Context, caseID string, related ...string) error
	Relations(ctx context.Context, caseID string) ([]string, error)
	Store() store.Store

	// Accounts, and tickets moved and answered as the support staff.
	CreateAccount(ctx context.Context, users []store.NewAccountUser) (store.Account, error)
	DeleteAccount(ctx context.Context, account string) error
	ResetAccount(ctx context.Context, account string) error
	SetTicketStatus(ctx context.Context, caseID string, status int) error
	AddReply(ctx context.Context, caseID, replier, content string) error

	// Faults in the control API's terms.
	WireFaults() controlapi.Faults
	SetWireFault(operationID string, f controlapi.Fault) error
	ClearFault(operationID string)
	ClearTargetedFault(operationID, caseID, user string)
	ClearFaults()

	// Journal is nil when the journal is off.
	Journal() *journal.Journal
	ClearRequests()
	ClockState() (now time.Time, fixed bool, offset time.Duration)
	SetTime(t time.Time)
	Advance(d time.Duration)
	FollowRealTime()
	Violations() ([]violation.Violation, int)
	ClearViolations()

	// Check reads and validates a request against route with opts, as
	// the server checks its own; LimitBody bounds a route's body.
	Check(c echo.Context, route *routers.Route, opts *openapi3filter.Options) error
	LimitBody(takesBody bool) echo.MiddlewareFunc
}

// API implements the control API's strict server over a Stub.
type API struct {
	s       Stub
	routes  map[string]*routers.Route // "METHOD echo-path" -> control route
	options *openapi3filter.Options
	journal journalSlots
	// MaxWait caps a long poll of the journal (DefaultMaxWait); set it
	// before serving.
	MaxWait time.Duration
}

var _ controlapi.StrictServerInterface = (*API)(nil)

// routes are the control API's operations, parsed once per process.
var routes = sync.OnceValues(func() (map[string]*routers.Route, error) {
	doc, err := controlapi.GetSpec()
	if err != nil {
		return nil, fmt.Errorf("control: load embedded spec: %w", err)
	}
	return contract.Routes(doc), nil
})

// New builds the control API of s.
func New(s Stub) (*API, error) {
	r, err := routes()
	if err != nil {
		return nil, err
	}
	return &API{s: s, routes: r, options: contract.RequestOptions(openapi3filter.NoopAuthenticationFunc), journal: newJournalSlots(), MaxWait: DefaultMaxWait}, nil
}

// Mount registers every control operation on e, each behind the limits
// of its body and validation.
func (c *API) Mount(e *echo.Echo) {
	mw := map[string][]echo.MiddlewareFunc{}
	for _, r := range c.routes {
		mw[r.Operation.OperationID] = []echo.MiddlewareFunc{c.s.LimitBody(r.Operation.RequestBody != nil), c.validate(r)}
	}
	mw["GetLiveView"] = append(mw["GetLiveView"], web.Headers)
	mw["ListRequests"] = append(mw["ListRequests"], c.journal.limit) // after validate: a bad call gets its 400
	controlapi.RegisterHandlersWithOptions(e, controlapi.NewStrictHandler(c, nil),
		controlapi.RegisterHandlersOptions{OperationMiddlewares: mw})
}

// validate checks a control request against control.openapi.yaml and
// refuses it as the vendor API's validation does: 415, 400 naming every
// field and rule.
func (c *API) validate(route *routers.Route) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(ec echo.Context) error {
			if err := c.s.Check(ec, route, c.options); err != nil {
				return err
			}
			return next(ec)
		}
	}
}

// ResetState implements controlapi.StrictServerInterface.
func (c *API) ResetState(ctx context.Context, _ controlapi.ResetStateRequestObject) (controlapi.ResetStateResponseObject, error) {
	if err := c.s.Reset(ctx); err != nil {
		return nil, err
	}
	return controlapi.ResetState204Response{}, nil
}

// LoadFixtures implements controlapi.StrictServerInterface.
func (c *API) LoadFixtures(ctx context.Context, req controlapi.LoadFixturesRequestObject) (controlapi.LoadFixturesResponseObject, error) {
	if err := c.s.LoadFixtures(ctx, *req.Body); err != nil {
		return nil, invalidDataset(err, "")
	}
	return controlapi.LoadFixtures204Response{}, nil
}

// GetState implements controlapi.StrictServerInterface.
func (c *API) GetState(ctx context.Context, _ controlapi.GetStateRequestObject) (controlapi.GetStateResponseObject, error) {
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
	// Absent means the default catalogue, in a data set as in the state:
	// the state stays short and loads back the same.
	if d.Catalogue != nil && reflect.DeepEqual(*d.Catalogue, store.DefaultCatalogue()) {
		d.Catalogue = nil
	}
	return controlapi.GetState200JSONResponse{Body: d}, nil
}

// PutUser implements controlapi.StrictServerInterface.
func (c *API) PutUser(ctx context.Context, req controlapi.PutUserRequestObject) (controlapi.PutUserResponseObject, error) {
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
func (c *API) credentialInUse(ctx context.Context, u store.User) string {
	msg := "tokens, access_keys: a credential is already used by another user"
	_ = c.s.Store().View(ctx, func(tx store.Tx) error {
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
func (c *API) AddTicket(ctx context.Context, req controlapi.AddTicketRequestObject) (controlapi.AddTicketResponseObject, error) {
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
func (c *API) AddRelations(ctx context.Context, req controlapi.AddRelationsRequestObject) (controlapi.AddRelationsResponseObject, error) {
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
func (c *API) GetRelations(ctx context.Context, req controlapi.GetRelationsRequestObject) (controlapi.GetRelationsResponseObject, error) {
	ids, err := c.s.Relations(ctx, req.CaseId)
	if errors.Is(err, store.ErrNotFound) {
		return nil, apierror.New(http.StatusNotFound, CodeNotFound, "case_id: ticket %s not found", req.CaseId)
	} else if err != nil {
		return nil, err
	}
	if ids == nil {
		ids = []string{}
	}
	return controlapi.GetRelations200JSONResponse{Body: controlapi.RelatedIds{CaseId: req.CaseId, RelatedIds: ids}}, nil
}

// ListFaults implements controlapi.StrictServerInterface.
func (c *API) ListFaults(context.Context, controlapi.ListFaultsRequestObject) (controlapi.ListFaultsResponseObject, error) {
	return controlapi.ListFaults200JSONResponse{Body: c.s.WireFaults()}, nil
}

// SetFault implements controlapi.StrictServerInterface.
func (c *API) SetFault(_ context.Context, req controlapi.SetFaultRequestObject) (controlapi.SetFaultResponseObject, error) {
	f := *req.Body
	if f.Status == nil && f.LatencyMs == nil && (f.Drop == nil || !*f.Drop) && (f.Sequence == nil || len(*f.Sequence) == 0) {
		return nil, apierror.New(http.StatusBadRequest, apierror.CodeInvalid, "body: set status, sequence, latency_ms or drop")
	}
	if err := c.s.SetWireFault(string(req.OperationId), f); err != nil {
		return nil, apierror.New(http.StatusBadRequest, apierror.CodeInvalid, "%v", err)
	}
	return controlapi.SetFault204Response{}, nil
}

// ClearFault implements controlapi.StrictServerInterface.
func (c *API) ClearFault(_ context.Context, req controlapi.ClearFaultRequestObject) (controlapi.ClearFaultResponseObject, error) {
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
func (c *API) ClearFaults(context.Context, controlapi.ClearFaultsRequestObject) (controlapi.ClearFaultsResponseObject, error) {
	c.s.ClearFaults()
	return controlapi.ClearFaults204Response{}, nil
}

// GetControlSpec implements controlapi.StrictServerInterface.
func (c *API) GetControlSpec(context.Context, controlapi.GetControlSpecRequestObject) (controlapi.GetControlSpecResponseObject, error) {
	return controlapi.GetControlSpec200ApplicationyamlResponse{
		Body: bytes.NewReader(OpenAPI), ContentLength: int64(len(OpenAPI)),
	}, nil
}

// GetLiveView implements controlapi.StrictServerInterface.
func (c *API) GetLiveView(context.Context, controlapi.GetLiveViewRequestObject) (controlapi.GetLiveViewResponseObject, error) {
	return controlapi.GetLiveView200TexthtmlResponse{
		Body: bytes.NewReader(web.LiveView), ContentLength: int64(len(web.LiveView)),
	}, nil
}

func conflict(format string, args ...any) *apierror.Error {
	return apierror.New(http.StatusConflict, CodeConflict, format, args...)
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
	return apierror.New(http.StatusBadRequest, apierror.CodeInvalid, "%s", contract.Message(problems))
}

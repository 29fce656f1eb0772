// Package server is the OSM v2 service-ticket stub as a library: New returns an
// http.Handler (Echo inside) that validates every request against the
// contract with kin-openapi, authenticates the caller, applies the service's
// rules through a store.Store and answers in the contract's formats.
//
// newEcho wires one request's way through, in this order:
//
//   - every request (e.Use): requestID (the exchange, X-Request-Id) ->
//     recordRequests (journal.go) -> refuseOptions -> recoverPanics ->
//     checkResponses (respcheck.go, with Options.ValidateResponses) ->
//     accessLog (which also answers the errors, through handleError) ->
//     the control API's guard for paths under /_stub/ (package control);
//   - a contract operation (operationChain): operation (names the route)
//     -> gate (gate.go: credential headers, proxy exposure, rate limit) ->
//     limitBody (bodies.go: size, budget, stall) -> validate (validate.go:
//     the body read once, strict JSON, openapi3filter.ValidateRequest,
//     which finishes authentication in auth.go) -> preferExample
//     (prefer.go) -> injectFaults (faults.go) -> forward (proxy.go, in
//     proxy mode) -> the generated strict handler (handler.go) -> the store,
//     seen through guardedStore (outage.go);
//   - the control API (package control, through controlStub in state.go)
//     and the web pages (package web) mount their own routes.
//
// Every failure on the way leaves through one error mapper (errors.go).
package server

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"sync"
	"time"

	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/labstack/echo/v4"

	"github.com/osmstub/osmstub/gen"
	"github.com/osmstub/osmstub/internal/contract"
	"github.com/osmstub/osmstub/internal/fixtures"
	"github.com/osmstub/osmstub/internal/ratelimit"
	"github.com/osmstub/osmstub/internal/violation"
	"github.com/osmstub/osmstub/server/control"
	"github.com/osmstub/osmstub/server/journal"
	"github.com/osmstub/osmstub/server/store"
	"github.com/osmstub/osmstub/server/store/memory"
	"github.com/osmstub/osmstub/server/web"
)

// Options configure a Server. The zero value serves the built-in demo data
// set from memory.
type Options struct {
	// Store holds the state; nil means a new in-memory store.
	Store store.Store
	// Fixtures are loaded at start into an empty store (or always, with
	// ResetFixtures); nil means the built-in demo data set.
	Fixtures      *store.Dataset
	ResetFixtures bool
	// Logger receives the access log and unexpected errors; nil discards.
	Logger *slog.Logger
	// Now is the clock for AK/SK date checks; nil means time.Now. The
	// server can stop and move it (SetTime, Advance; PUT /_stub/clock).
	Now func() time.Time
	// DisableControl leaves out the control API under /_stub/ (reset,
	// fixtures, users, tickets, relations, accounts, state, faults; described by
	// control.openapi.yaml); its paths then answer 404 like any other
	// unknown path.
	DisableControl bool
	// ControlToken, when set, is the bearer token every control call must
	// send (Authorization: Bearer TOKEN). Without one the control API
	// serves loopback callers only: a Host that is not a loopback name or
	// one of ControlHosts, a cross-site Origin or Sec-Fetch-Site, and a
	// body that is not JSON are refused. The control API reads every
	// secret and resets all state: give it a token wherever others can
	// reach the stub (cmd/osm-stub refuses to start otherwise). It must
	// have MinControlTokenLen characters or more (CheckControlToken);
	// wrong tokens are throttled per remote address, 429 STUB.0005.
	ControlToken string
	// ControlHosts are more Host values the token-less control API
	// accepts, such as the name the stub was started on.
	ControlHosts []string
	// RateLimit, when positive, throttles each credential to that many
	// requests a second (burst the same), as the API gateway does: 429
	// APIGW.0308 with Retry-After.
	RateLimit int
	// BodyMemory bounds the bytes that request bodies in flight may hold
	// together, one credential at most a quarter of it; a request that
	// does not fit waits up to 5 s, then gets a 503. 0 means 64 MiB. The
	// control API has a budget of its own (4 MiB). A body that sends
	// nothing for 5 s loses its place: the request is answered 408.
	BodyMemory int64

	// Proxy mode (proxy.go). Upstream, when set, forwards every contract
	// request that passes authentication and validation to that base URL
	// instead of serving it, checks the answer against the contract and
	// passes it on unchanged. Tokens pass unverified (the upstream checks
	// them); signed requests are checked against the stub's keys and
	// signed again with UpstreamKey. Replay answers from a cassette
	// instead of an upstream. UpstreamTimeout bounds each exchange
	// (DefaultUpstreamTimeout when 0); Strict answers an upstream answer
	// that breaks the contract with 502 APIGW.0201; Record, when set,
	// receives every exchange as a cassette line, secrets redacted.
	Upstream        *url.URL
	UpstreamKey     *UpstreamKey
	UpstreamTimeout time.Duration
	Strict          bool
	Record          io.Writer
	Replay          http.RoundTripper
	// Who may use the upstream proxy (proxy.go, "Who the proxy serves").
	// ProxyCaller is the operator's credential for callers of the proxy:
	// their requests are signed again with UpstreamKey. The fixtures'
	// credentials, which are public demo data, are refused in proxy mode
	// unless ProxyUnsafeFixtureCredentials says otherwise; a token the stub
	// cannot verify is refused unless ProxyPassTokens passes it to the
	// upstream as it is. Neither applies to Replay, which reaches nothing
	// real.
	ProxyCaller                   *ProxyCaller
	ProxyUnsafeFixtureCredentials bool
	ProxyPassTokens               bool
	// ValidateResponses checks every answer the stub itself gives to a
	// contract request against the contract (respcheck.go); a broken
	// rule is logged and listed at GET /_stub/violations.
	ValidateResponses bool

	// JournalSize is how many requests the request journal keeps (the
	// oldest go first); 0 means journal.DefaultSize. DisableJournal turns
	// the journal off, and with it its small cost per request.
	JournalSize    int
	DisableJournal bool
}

// The control API's names that callers of this package use.
var (
	// CheckControlToken refuses a control token that is too weak.
	CheckControlToken = control.CheckControlToken
	// ErrWeakControlToken is CheckControlToken's refusal.
	ErrWeakControlToken = control.ErrWeakControlToken
)

// MinControlTokenLen is the fewest characters a control token may have.
const MinControlTokenLen = control.MinControlTokenLen

// Server is the stub. It is an http.Handler.
type Server struct {
	echo          *echo.Echo
	store         store.Store // backend, seen through a guardedStore (outage.go)
	backend       store.Store
	log           *slog.Logger
	auth          *authenticator
	options       *openapi3filter.Options
	fixtures      store.Dataset // what Reset restores
	fixturesMu    sync.Mutex    // orders Reset and LoadFixtures
	faults        faults
	control       *control.API                   // nil with Options.DisableControl
	limiter       *ratelimit.Limiter[credential] // nil without Options.RateLimit
	rateLimit     int
	bodies        *bodyBudget // the API's, shared per credential
	controlBodies *bodyBudget
	bodyStall     time.Duration // how long a body may send nothing (stallingBody)
	guard         *control.Guard
	web           *web.Pages // the API page, /docs

	proxy             *proxy // nil unless Options.Upstream or Replay
	violations        *violation.Log
	validateResponses bool
	journal           *journal.Journal // nil with Options.DisableJournal
	clock             *clock
}

var _ gen.StrictServerInterface = (*Server)(nil)

// New builds a Server and loads its fixtures.
func New(opts Options) (*Server, error) {
	s := &Server{store: opts.Store, log: opts.Logger}
	if s.store == nil {
		s.store = memory.New()
	}
	s.backend = s.store
	if s.log == nil {
		s.log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	s.store = newGuardedStore(s.backend, s.log)
	s.clock = newClock(opts.Now)
	s.auth = &authenticator{store: s.store, now: s.clock.now}
	if !opts.DisableJournal {
		s.journal = journal.New(opts.JournalSize)
	}
	s.limiter, s.rateLimit = newLimiter(opts.RateLimit), opts.RateLimit
	memory := cmp.Or(opts.BodyMemory, defaultBodyMemory)
	s.bodies = newBodyBudget(memory, memory/bodyShares)
	s.controlBodies = newBodyBudget(controlBodyMemory, controlBodyMemory)
	s.bodyStall = defaultBodyStall
	s.guard = control.NewGuard(opts.ControlToken, opts.ControlHosts)
	if opts.ControlToken != "" && !opts.DisableControl { // a token that guards nothing is not checked
		if err := control.CheckControlToken(opts.ControlToken); err != nil {
			return nil, fmt.Errorf("server: Options.ControlToken: %w", err)
		}
	}
	s.violations, s.validateResponses = violation.NewLog(s.log), opts.ValidateResponses
	var err error
	if s.proxy, err = newProxy(opts, s.clock.now); err != nil {
		return nil, err
	}
	if err := s.auth.proxyMode(opts, s.proxy); err != nil {
		return nil, err
	}
	if err := s.loadFixtures(opts); err != nil {
		return nil, err
	}
	s.options = contract.RequestOptions(s.auth.authenticate)
	var controlDoc []byte // offered by the API page when the control API is mounted
	if !opts.DisableControl {
		if s.control, err = control.New(controlStub{s}); err != nil {
			return nil, err
		}
		controlDoc = control.OpenAPI
	}
	if s.web, err = web.New(controlDoc); err != nil {
		return nil, err
	}
	if s.echo, err = s.newEcho(); err != nil {
		return nil, err
	}
	return s, nil
}

func (s *Server) loadFixtures(opts Options) error {
	s.fixtures = fixtures.Demo()
	if opts.Fixtures != nil {
		s.fixtures = *opts.Fixtures
	}
	s.fixtures = s.fixtures.Stamped(s.clock.now())
	loaded, err := store.Load(context.Background(), s.store, s.fixtures, opts.ResetFixtures)
	if err != nil {
		return fmt.Errorf("server: load fixtures: %w", err)
	}
	if !loaded {
		// A persistent store that already holds data keeps it. Say so:
		// fixtures given and silently not loaded look like a bug.
		level := slog.LevelInfo
		if opts.Fixtures != nil {
			level = slog.LevelWarn
		}
		s.log.Log(context.Background(), level, "fixtures not loaded: the store already holds data",
			slog.String("replace", "POST /_stub/reset loads the fixtures in place of the data"))
	}
	return nil
}

func (s *Server) newEcho() (*echo.Echo, error) {
	doc, err := contract.Spec()
	if err != nil {
		return nil, err
	}
	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	e.HTTPErrorHandler = s.handleError
	e.Use(s.requestID)
	if s.journal != nil {
		e.Use(s.recordRequests)
	}
	e.Use(refuseOptions, s.recoverPanics)
	if s.validateResponses {
		e.Use(s.checkResponses)
	}
	e.Use(s.accessLog)
	if s.control != nil {
		e.Use(s.guard.Middleware)
	}
	e.GET("/healthz", func(c echo.Context) error {
		return c.JSON(http.StatusOK, map[string]string{"status": "ok"})
	})
	e.GET("/openapi.yaml", func(c echo.Context) error {
		return c.Blob(http.StatusOK, "application/yaml", gen.OpenAPI)
	})
	ops := map[string][]echo.MiddlewareFunc{}
	for _, route := range contract.Routes(doc) {
		ops[route.Operation.OperationID] = s.operationChain(route)
	}
	gen.RegisterHandlersWithOptions(e, gen.NewStrictHandler(s, nil), gen.RegisterHandlersOptions{OperationMiddlewares: ops})
	s.web.Mount(e)
	if s.control != nil {
		s.control.Mount(e)
	}
	return e, nil
}

// operationChain is what a contract operation's request goes through
// after the middleware every request does: the gate, the body's limits,
// validation, then a Prefer example, a fault, the upstream (proxy mode)
// or the strict handler.
func (s *Server) operationChain(route *routers.Route) []echo.MiddlewareFunc {
	limit := int64(defaultBodyLimit)
	if route.Operation.OperationID == "UploadJsonAccessories" {
		limit = uploadBodyLimit(store.DefaultAccessoryLimits)
	}
	return []echo.MiddlewareFunc{operation(route), s.gate, s.limitBody(s.bodies, limit), s.validate, s.preferExample, s.injectFaults, s.forward}
}

// ServeHTTP serves one request. Echo routes on the escaped path only when
// RawPath is set: set always, so that a case ID such as "a%2Fb" reaches
// the handlers unescaped exactly once.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	r.URL.RawPath = r.URL.EscapedPath()
	s.echo.ServeHTTP(w, r)
}

// Store returns the server's store, for tests and control endpoints.
func (s *Server) Store() store.Store { return s.backend }

// Close releases the store.
func (s *Server) Close() error { return s.backend.Close() }

// NewHTTPServer returns the http.Server osm-stub serves h with: limits
// against slow or greedy clients (headers within 5 s, the whole request
// within 30 s, the answer written within 30 s, an idle connection kept
// 120 s, headers of at most 64 KiB) and net/http's own errors logged to log
// at warning level (nil: the standard logger).
func NewHTTPServer(h http.Handler, log *slog.Logger) *http.Server {
	hs := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 5 * time.Second, ReadTimeout: 30 * time.Second,
		WriteTimeout: 30 * time.Second, IdleTimeout: 120 * time.Second,
		MaxHeaderBytes: 64 << 10,
	}
	if log != nil {
		hs.ErrorLog = slog.NewLogLogger(log.Handler(), slog.LevelWarn)
	}
	return hs
}

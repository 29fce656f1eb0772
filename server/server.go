// Package server is the OSM association stub as a library: New returns an
// http.Handler (Echo inside) that validates every request against the
// contract with kin-openapi, authenticates the caller, applies the service's
// rules through a store.Store and answers in the contract's formats.
//
// One request goes: request id -> recover -> access log -> body limit ->
// contract validation (which authenticates) -> strict handler -> store. Every
// failure on the way leaves through one error mapper (errors.go).
package server

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/labstack/echo/v4"

	"github.com/osmstub/osmstub"
	"github.com/osmstub/osmstub/gen"
	"github.com/osmstub/osmstub/internal/contract"
	"github.com/osmstub/osmstub/internal/fixtures"
	"github.com/osmstub/osmstub/server/store"
	"github.com/osmstub/osmstub/server/store/memory"
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
	// Now is the clock for AK/SK date checks; nil means time.Now.
	Now func() time.Time
	// DisableControl leaves out the control API under /_stub/ (reset,
	// fixtures, users, tickets, relations, state, faults; described by
	// control.openapi.yaml). It has no authentication, so set this wherever
	// others can reach the stub; its paths then answer 404 like any other
	// unknown path.
	DisableControl bool
}

// Server is the stub. It is an http.Handler.
type Server struct {
	echo       *echo.Echo
	store      store.Store // backend, seen through a guardedStore (outage.go)
	backend    store.Store
	log        *slog.Logger
	auth       *authenticator
	routes     map[string]*routers.Route // "METHOD echo-path" -> contract route
	options    *openapi3filter.Options
	fixtures   store.Dataset // what Reset restores
	fixturesMu sync.Mutex    // orders Reset and LoadFixtures
	faults     faults
	control    *control // the control API; nil with Options.DisableControl
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
	now := opts.Now
	if now == nil {
		now = time.Now
	}
	s.auth = &authenticator{store: s.store, now: now}
	if err := s.loadFixtures(opts); err != nil {
		return nil, err
	}
	if err := s.buildRoutes(); err != nil {
		return nil, err
	}
	s.options = contract.RequestOptions(s.auth.authenticate)
	s.options.KeepValidatedValue = true
	if !opts.DisableControl {
		c, err := newControl(s)
		if err != nil {
			return nil, err
		}
		s.control = c
	}
	s.echo = s.newEcho()
	return s, nil
}

func (s *Server) loadFixtures(opts Options) error {
	s.fixtures = fixtures.Demo()
	if opts.Fixtures != nil {
		s.fixtures = *opts.Fixtures
	}
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

// buildRoutes maps each contract operation to the Echo route that serves
// it, so that the validator needs no second router: Echo has already
// matched the path when validation runs.
func (s *Server) buildRoutes() error {
	doc, err := contract.Spec()
	if err != nil {
		return err
	}
	s.routes = map[string]*routers.Route{}
	for path, item := range doc.Paths.Map() {
		echoPath := strings.NewReplacer("{", ":", "}", "").Replace(path)
		for method, op := range item.Operations() {
			s.routes[method+" "+echoPath] = &routers.Route{
				Spec: doc, Path: path, PathItem: item, Method: method, Operation: op,
			}
		}
	}
	return nil
}

func (s *Server) newEcho() *echo.Echo {
	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	e.HTTPErrorHandler = s.handleError
	e.Pre(routeOnEscapedPath)
	e.Use(s.requestID, refuseOptions, s.recoverPanics, s.accessLog, s.limitBody, s.preferExample, s.validate, s.injectFaults)
	e.GET("/healthz", func(c echo.Context) error {
		return c.JSON(http.StatusOK, map[string]string{"status": "ok"})
	})
	e.GET("/openapi.yaml", func(c echo.Context) error {
		return c.Blob(http.StatusOK, "application/yaml", osmstub.OpenAPI)
	})
	gen.RegisterHandlers(e, gen.NewStrictHandler(s, nil))
	if s.control != nil {
		s.control.mount(e)
	}
	return e
}

// ServeHTTP serves one request.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.echo.ServeHTTP(w, r) }

// Store returns the server's store, for tests and control endpoints.
func (s *Server) Store() store.Store { return s.backend }

// Close releases the store.
func (s *Server) Close() error { return s.backend.Close() }

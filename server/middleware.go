package server

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/getkin/kin-openapi/routers"
	"github.com/labstack/echo/v4"
)

// exchange is what the middleware learns about one request; it travels in
// the request's context so that the strict handler and the error mapper
// can reach it.
type exchange struct {
	id        string
	route     *routers.Route // the contract operation; nil on other routes
	caller    string         // user name, set by authentication
	authKind  string         // schemeToken or schemeAKSK, once authenticated
	body      []byte         // the request body, read once
	bodyRead  bool           // the body was read to its end (check)
	errorCode string         // error_code of the answer, for the access log
	auth      authAttempt
	forwarded bool   // proxy mode: the answer came from the upstream (proxy.go)
	injected  bool   // a fault answered (faults.go)
	fault     string // the injected fault that applied (journal)
	prefer    string // the Prefer header that chose the answer (journal)
}

type exchangeKey struct{}

func exchangeOf(ctx context.Context) *exchange {
	if x, ok := ctx.Value(exchangeKey{}).(*exchange); ok {
		return x
	}
	return &exchange{}
}

var (
	idPrefix  = newIDPrefix()
	idCounter atomic.Uint64
)

func newIDPrefix() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// newRequestID is the per-process random prefix and the next value of the
// counter: 32 hex digits like the service's own.
func newRequestID() string { return fmt.Sprintf("%s%016x", idPrefix, idCounter.Add(1)) }

// requestID gives every request its exchange, and every response an
// X-Request-Id and X-Content-Type-Options: no browser may take a JSON or
// YAML answer (which can echo what a caller sent) for a script or a page.
func (s *Server) requestID(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		x := &exchange{id: newRequestID()}
		h := c.Response().Header()
		h.Set(headerRequestID, x.id)
		h.Set("X-Content-Type-Options", "nosniff")
		req := c.Request()
		c.SetRequest(req.WithContext(context.WithValue(req.Context(), exchangeKey{}, x)))
		return next(c)
	}
}

// contractRoute returns the contract operation the request was routed to,
// or nil on the other routes.
func (s *Server) contractRoute(c echo.Context) *routers.Route {
	return exchangeOf(c.Request().Context()).route
}

// operation is the first middleware of a contract operation's route: it
// names the operation for everything after it.
func operation(route *routers.Route) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			exchangeOf(c.Request().Context()).route = route
			return next(c)
		}
	}
}

func (s *Server) recoverPanics(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) (err error) {
		defer func() {
			if r := recover(); r != nil {
				if r == http.ErrAbortHandler {
					panic(r)
				}
				// Echo's middleware.Recover does this too, but would bring
				// golang.org/x/time into every user's module with its
				// package.
				err = fmt.Errorf("panic: %v", r)
			}
		}()
		return next(c)
	}
}

// statusClientClosed is what the access log records for a request whose
// client went away before the answer: not an HTTP status anyone receives.
const statusClientClosed = 499

// accessLog writes one line per request, and answers the errors that
// reach it (Echo's error handler), so that it logs the status sent.
func (s *Server) accessLog(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		start := time.Now()
		err := next(c)
		req := c.Request()
		level, status := slog.LevelInfo, 0
		if err != nil && errors.Is(req.Context().Err(), context.Canceled) && !isRequestTimeout(err) {
			// The client hung up: nobody reads an answer, and it is no
			// server error. Logged as nginx's 499 "client closed request".
			// A body that did not arrive cancels the context too, but its
			// client may still read the 408.
			level, status = slog.LevelDebug, statusClientClosed
		} else if err != nil {
			c.Error(err)
		}
		if status == 0 {
			status = c.Response().Status
		}
		x := exchangeOf(req.Context())
		s.log.LogAttrs(req.Context(), level, "request",
			slog.String("method", req.Method),
			slog.String("path", req.URL.Path),
			slog.Int("status", status),
			slog.Duration("duration", time.Since(start)),
			slog.String("request_id", x.id),
			slog.String("error_code", x.errorCode),
		)
		return nil
	}
}

// refuseOptions answers OPTIONS like any other method the API lacks; Echo
// would otherwise answer it with a 204 that no contract declares.
func refuseOptions(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if c.Request().Method == http.MethodOptions {
			if p := c.Path(); p != "" && p != "/*" { // Echo matched the path
				return noSuchMethod()
			}
			return noSuchAPI()
		}
		return next(c)
	}
}

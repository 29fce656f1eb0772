package server

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"time"

	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/labstack/echo/v4"

	"github.com/osmstub/osmstub/gen"
	"github.com/osmstub/osmstub/internal/contract"
)

// exchange is what the middleware chain learns about one request; it
// travels in the request's context so the strict handler can reach it.
type exchange struct {
	id        string
	caller    string // user name, set by authentication
	body      []byte // the request body, read once
	errorCode string // error_code of the answer, for the access log
	auth      authAttempt
}

type exchangeKey struct{}

func exchangeOf(ctx context.Context) *exchange {
	x, _ := ctx.Value(exchangeKey{}).(*exchange)
	if x == nil {
		return &exchange{}
	}
	return x
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

// requestID gives every response an X-Request-Id: a per-process random
// prefix and a counter, 32 hex characters like the service's own.
func (s *Server) requestID(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		x := &exchange{id: fmt.Sprintf("%s%016x", idPrefix, idCounter.Add(1))}
		c.Response().Header().Set(headerRequestID, x.id)
		req := c.Request()
		c.SetRequest(req.WithContext(context.WithValue(req.Context(), exchangeKey{}, x)))
		return next(c)
	}
}

func (s *Server) recoverPanics(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) (err error) {
		defer func() {
			if r := recover(); r != nil {
				if r == http.ErrAbortHandler {
					panic(r)
				}
				err = fmt.Errorf("panic: %v", r)
			}
		}()
		return next(c)
	}
}

func (s *Server) accessLog(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		start := time.Now()
		err := next(c)
		if err != nil {
			c.Error(err)
		}
		x := exchangeOf(c.Request().Context())
		s.log.LogAttrs(c.Request().Context(), slog.LevelInfo, "request",
			slog.String("method", c.Request().Method),
			slog.String("path", c.Request().URL.Path),
			slog.Int("status", c.Response().Status),
			slog.Duration("duration", time.Since(start)),
			slog.String("request_id", x.id),
			slog.String("error_code", x.errorCode),
		)
		return nil
	}
}

// routeOnEscapedPath makes Echo match routes on the escaped path, always:
// Echo uses RawPath only when it is set, so a case ID such as "a%b" would
// otherwise reach the handlers unescaped once and be unescaped again.
func routeOnEscapedPath(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		u := c.Request().URL
		u.RawPath = u.EscapedPath()
		return next(c)
	}
}

// refuseOptions answers OPTIONS like any other method the API lacks; Echo
// would otherwise answer it with a 204 that no contract declares.
func refuseOptions(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if c.Request().Method == http.MethodOptions {
			return echo.ErrMethodNotAllowed
		}
		return next(c)
	}
}

// controlPrefix is where the control API lives (control.go).
const controlPrefix = "/_stub/"

// limitBody caps what validation may read; a longer body is a 413. It
// applies to the routes that read a body (the contract's operations and
// the control API), so an unknown path is still a 404.
func (s *Server) limitBody(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		req := c.Request()
		if s.routes[req.Method+" "+c.Path()] == nil && !strings.HasPrefix(c.Path(), controlPrefix) {
			return next(c)
		}
		if req.ContentLength > defaultBodyLimit {
			return tooLarge()
		}
		req.Body = http.MaxBytesReader(c.Response(), req.Body, defaultBodyLimit)
		return next(c)
	}
}

// validate checks a contract operation's request with kin-openapi, which
// also authenticates the caller (authenticator.authenticate), and refuses
// it with the contract's error body. Other routes pass through.
func (s *Server) validate(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		route := s.routes[c.Request().Method+" "+c.Path()]
		if route == nil {
			return next(c)
		}
		if err := s.check(c, route, s.options); err != nil {
			return err
		}
		return next(c)
	}
}

// check validates one request against its route with kin-openapi, after
// reading the body once (kept for AK/SK verification), and maps a failure
// to the contract's refusal. The control API uses it too.
func (s *Server) check(c echo.Context, route *routers.Route, opts *openapi3filter.Options) error {
	req := c.Request()
	x := exchangeOf(req.Context())
	body, err := io.ReadAll(req.Body)
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return tooLarge()
		}
		return newAPIError(http.StatusBadRequest, CodeInvalid, "body: could not be read")
	}
	x.body = body
	req.Body = io.NopCloser(bytes.NewReader(body))
	req.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }

	params := make(map[string]string, len(c.ParamNames()))
	for i, name := range c.ParamNames() {
		v, err := url.PathUnescape(c.ParamValues()[i])
		if err != nil {
			return newAPIError(http.StatusBadRequest, CodeInvalid, "%s: is not a valid path segment", name)
		}
		params[name] = v
	}
	err = openapi3filter.ValidateRequest(req.Context(), &openapi3filter.RequestValidationInput{
		Request: req, PathParams: params, Route: route, Options: opts,
	})
	if err != nil {
		return s.refuse(x, err)
	}
	return nil
}

// refuse maps a validation failure: authentication first (an unknown
// caller learns nothing about the request), then media type, then schema.
func (s *Server) refuse(x *exchange, err error) error {
	var secErr *openapi3filter.SecurityRequirementsError
	if errors.As(err, &secErr) {
		return x.auth.failure()
	}
	switch contract.Classify(err) {
	case contract.WrongContentType:
		return newAPIError(http.StatusUnsupportedMediaType, CodeInvalid, "Content-Type must be %s", contentTypeJSON)
	case contract.Malformed:
		return newAPIError(http.StatusBadRequest, CodeInvalid, "body: is not valid JSON")
	}
	problems := contract.Problems(err)
	if len(problems) == 0 {
		return newAPIError(http.StatusBadRequest, CodeInvalid, "request does not match the contract")
	}
	return newAPIError(http.StatusBadRequest, CodeInvalid, "%s", contract.Message(problems))
}

// handleError is Echo's error handler: the one place a failure becomes a
// response.
func (s *Server) handleError(err error, c echo.Context) {
	if c.Response().Committed {
		return
	}
	x := exchangeOf(c.Request().Context())
	e, unexpected := toAPIError(err, x.id)
	if unexpected {
		s.log.Error("unexpected failure", slog.String("request_id", x.id), slog.Any("error", err))
	}
	x.errorCode = e.Code
	if err := c.JSON(e.Status, gen.ErrorBody{ErrorCode: &e.Code, ErrorMsg: &e.Msg}); err != nil {
		s.log.Error("write error response", slog.String("request_id", x.id), slog.Any("error", err))
	}
}

package server

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
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
	authKind  string // schemeToken or schemeAKSK, once authenticated
	body      []byte // the request body, read once
	bodyRead  bool   // the body was read to its end (check)
	errorCode string // error_code of the answer, for the access log
	auth      authAttempt
	forwarded bool   // proxy mode: the answer came from the upstream (proxy.go)
	injected  bool   // a fault answered (faults.go)
	fault     string // the injected fault that applied (journal)
	prefer    string // the Prefer header that chose the answer (journal)
	groupID   string // the bound body's group_id points here (bind.go)

	// The rest saves allocations on the request path: the header value,
	// the route looked up once, the body kin-openapi replays.
	idHeader  [1]string
	route     *routers.Route
	routed    bool
	replay    replayBody
	validated validatedBody
}

type exchangeKey struct{}

// exchangeCtx is a request's context carrying its exchange: one
// allocation for both, where context.WithValue would make two.
type exchangeCtx struct {
	context.Context
	x exchange
}

func (c *exchangeCtx) Value(key any) any {
	if _, ok := key.(exchangeKey); ok {
		return &c.x
	}
	return c.Context.Value(key)
}

func exchangeOf(ctx context.Context) *exchange {
	if c, ok := ctx.(*exchangeCtx); ok {
		return &c.x
	}
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

// newRequestID is the per-process random prefix and the next value of the
// counter in 16 hex digits: 32 hex characters like the service's own.
func newRequestID() string {
	const digits = "0123456789abcdef"
	var b [32]byte
	copy(b[:16], idPrefix)
	n := idCounter.Add(1)
	for i := len(b) - 1; i >= 16; i-- {
		b[i] = digits[n&0xf]
		n >>= 4
	}
	return string(b[:])
}

// nosniff is shared by every answer: header values are replaced, never
// written to in place.
var nosniff = []string{"nosniff"}

const headerContentTypeOptions = "X-Content-Type-Options"

// requestID gives every response an X-Request-Id and X-Content-Type-Options,
// and every request its exchange.
func (s *Server) requestID(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		req := c.Request()
		ctx := &exchangeCtx{Context: req.Context()}
		x := &ctx.x
		x.id = newRequestID()
		x.idHeader[0] = x.id
		h := c.Response().Header()
		h[headerRequestID] = x.idHeader[:] // Set, without allocating
		// No browser may take a JSON or YAML answer (which can echo what
		// a caller sent) for a script or a page.
		h[headerContentTypeOptions] = nosniff
		c.SetRequest(req.WithContext(ctx))
		return next(c)
	}
}

// contractRoute returns the contract operation the request was routed to,
// or nil on the other routes. It is looked up once per request.
func (s *Server) contractRoute(c echo.Context) *routers.Route {
	x := exchangeOf(c.Request().Context())
	if !x.routed {
		x.route, x.routed = s.lookupRoute(c.Request().Method, c.Path()), true
	}
	return x.route
}

// lookupRoute finds s.routes["METHOD echo-path"] without building the key
// on the heap.
func (s *Server) lookupRoute(method, path string) *routers.Route {
	var buf [96]byte
	key := append(append(append(buf[:0], method...), ' '), path...)
	return s.routes[string(key)]
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

// statusClientClosed is what the access log records for a request whose
// client went away before the answer: not an HTTP status anyone receives.
const statusClientClosed = 499

func (s *Server) accessLog(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		start := time.Now()
		err := next(c)
		level, status := slog.LevelInfo, 0
		if err != nil && errors.Is(c.Request().Context().Err(), context.Canceled) && !isRequestTimeout(err) {
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
		x := exchangeOf(c.Request().Context())
		now := time.Now()
		s.logAccess(c.Request().Context(), &accessEntry{
			at:        now,
			level:     level,
			method:    c.Request().Method,
			path:      c.Request().URL.Path,
			status:    status,
			duration:  now.Sub(start),
			requestID: x.id,
			errorCode: x.errorCode,
		})
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
			if p := c.Path(); p != "" && p != "/*" { // Echo matched the path
				return noSuchMethod()
			}
			return noSuchAPI()
		}
		return next(c)
	}
}

// controlPrefix is where the control API lives (control.go).
const controlPrefix = "/_stub/"

// limitBody caps what validation may read; a longer body is a 413. It
// applies to the routes that read a body (the contract's operations and
// the control API), so an unknown path is still a 404. The body's bytes
// are reserved in a body budget until the request has been answered: the
// API's, where each credential has a share, or the control API's own.
// The body must keep arriving (watchedBody): a stalled one is a 408.
func (s *Server) limitBody(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		req := c.Request()
		budget, who := s.bodies, credential{}
		if s.contractRoute(c) != nil {
			who = exchangeOf(req.Context()).auth.credential() // resolved by the gate
		} else if strings.HasPrefix(c.Path(), controlPrefix) {
			budget = s.controlBodies
			if hasBody(req) && s.control != nil && !s.control.takesBody(req.Method, c.Path()) {
				// Nothing would read it; a long poll would hold its
				// reservation for its whole wait.
				return newAPIError(http.StatusBadRequest, CodeInvalid, "body: %s %s takes none", req.Method, req.URL.Path)
			}
		} else {
			return next(c)
		}
		if req.ContentLength > defaultBodyLimit {
			return tooLarge()
		}
		if req.Body == http.NoBody || req.Body == nil { // nothing to limit
			return next(c)
		}
		orig := req.Body
		body := watchBody(orig, c.Response(), s.bodyStall)
		defer func() {
			req.Body = orig // the pooled reader leaves the request with its watch
			body.release()
		}()
		req.Body = body
		n := req.ContentLength
		if n <= 0 { // chunked: as much as the limit allows
			// An announced length needs no reader of its own: net/http
			// stops the body there, and readBody refuses more.
			req.Body = http.MaxBytesReader(c.Response(), body, defaultBodyLimit)
			n = defaultBodyLimit
		}
		if !budget.acquire(req.Context(), who, n) {
			return busy()
		}
		defer budget.release(who, n)
		return next(c)
	}
}

// validate checks a contract operation's request with kin-openapi, which
// also authenticates the caller (authenticator.authenticate), and refuses
// it with the contract's error body. Other routes pass through.
func (s *Server) validate(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		route := s.contractRoute(c)
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
	var parsed any
	if req.Body != http.NoBody && req.Body != nil {
		body, err := readBody(req.Body, req.ContentLength)
		if err != nil {
			return s.unreadable(req, err)
		}
		x.bodyRead = true
		if parsed, err = decodeJSON(req.Header.Get("Content-Type"), body); err != nil {
			return err
		}
		x.body = body
		if len(body) == 0 {
			// kin-openapi reads NoBody as it reads an empty body, without
			// copying it in its security step.
			req.Body, req.GetBody = http.NoBody, nil
		} else {
			x.replay = replayBody{data: body}
			req.Body, req.GetBody = &x.replay, nil // kinValidateBody sets GetBody when it is needed
		}
	}

	v := validationPool.Get().(*validation)
	defer v.release()
	for i, name := range c.ParamNames() {
		p, err := url.PathUnescape(c.ParamValues()[i])
		if err != nil {
			return newAPIError(http.StatusBadRequest, CodeInvalid, "%s: is not a valid path segment", name)
		}
		v.params[name] = p
	}
	v.input = openapi3filter.RequestValidationInput{Request: req, PathParams: v.params, Route: route, Options: opts}
	if err := validateRequest(req.Context(), &v.input, parsed, &v.auth); err != nil {
		return s.refuse(x, err) // which keeps nothing of err
	}
	return nil
}

// unreadable maps the error of a body that could not be read: too long
// (413), never complete (408: it stalled, outlived the server's read
// timeout, or its connection ended or failed first), or malformed (400).
func (s *Server) unreadable(req *http.Request, err error) error {
	var tooBig *http.MaxBytesError
	switch {
	case errors.As(err, &tooBig):
		return tooLarge()
	case errors.Is(err, errBodyStalled):
		return requestTimeout(fmt.Sprintf("no byte of the body arrived for %v", s.bodyStall))
	case errors.Is(err, os.ErrDeadlineExceeded):
		return requestTimeout("the body did not arrive within the server's read timeout")
	case errors.Is(err, io.ErrUnexpectedEOF) || req.Context().Err() != nil:
		// net/http cancels the context when the connection fails.
		if req.ContentLength > 0 {
			return requestTimeout(fmt.Sprintf("the body ended before the %d bytes of its Content-Length", req.ContentLength))
		}
		return requestTimeout("the body ended before its last chunk")
	}
	return newAPIError(http.StatusBadRequest, CodeInvalid, "body: could not be read")
}

// validation is what one kin-openapi validation needs and nothing keeps
// once it has returned, reused across requests.
type validation struct {
	params map[string]string
	input  openapi3filter.RequestValidationInput
	auth   openapi3filter.AuthenticationInput
}

var validationPool = sync.Pool{New: func() any { return &validation{params: map[string]string{}} }}

func (v *validation) release() {
	clear(v.params)
	v.input = openapi3filter.RequestValidationInput{}
	v.auth = openapi3filter.AuthenticationInput{}
	validationPool.Put(v)
}

// readBody is io.ReadAll sized by the request's Content-Length, so that a
// body is read into one allocation of its own size.
func readBody(r io.Reader, size int64) ([]byte, error) {
	if size <= 0 || size > defaultBodyLimit {
		return io.ReadAll(r)
	}
	b := make([]byte, 0, size+1) // +1: room to read the EOF without growing
	for {
		n, err := r.Read(b[len(b):cap(b)])
		b = b[:len(b)+n]
		if len(b) > defaultBodyLimit { // longer than announced (in process)
			return b, &http.MaxBytesError{Limit: defaultBodyLimit}
		}
		if err == io.EOF {
			return b, nil
		} else if err != nil {
			return b, err
		}
		if len(b) == cap(b) {
			b = append(b, 0)[:len(b)]
		}
	}
}

// replayBody is a request body read once and replayed: kin-openapi reads
// it to validate it and then calls GetBody to put it back, and the handler
// may bind it again; GetBody hands out the same bytes, without a copy.
type replayBody struct {
	data []byte
	off  int
}

func (b *replayBody) Read(p []byte) (int, error) {
	if b.off >= len(b.data) {
		return 0, io.EOF
	}
	n := copy(p, b.data[b.off:])
	b.off += n
	return n, nil
}

func (b *replayBody) Close() error { return nil }

// rewind is the request's GetBody.
func (b *replayBody) rewind() (io.ReadCloser, error) {
	b.off = 0
	return b, nil
}

// refuse maps a validation failure: authentication first (an unknown
// caller learns nothing about the request), then media type, then schema.
func (s *Server) refuse(x *exchange, err error) error {
	var secErr *openapi3filter.SecurityRequirementsError
	if errors.As(err, &secErr) {
		return x.auth.failure()
	}
	s.requestViolations(x, err)
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
	req := c.Request()
	x := exchangeOf(req.Context())
	e, unexpected := toAPIError(err, x.id)
	if unexpected {
		s.log.Error("unexpected failure", slog.String("request_id", x.id), slog.Any("error", err))
	}
	x.errorCode = e.Code
	h := c.Response().Header()
	h.Del("Allow") // Echo's 405 sets it; the gateway answers 404 and no Allow
	if !x.bodyRead && req.Body != nil && req.Body != http.NoBody {
		// A refusal before the body was read (or of a body that never
		// arrived) ends the connection: net/http would otherwise read up
		// to 256 KiB of the body, before answering and again before
		// closing, as long as its read timeout allows. A read deadline
		// in the past stops the second read.
		h.Set("Connection", "close")
		_ = http.NewResponseController(c.Response()).SetReadDeadline(time.Now())
	}
	if e.RetryAfter > 0 {
		h.Set("Retry-After", strconv.Itoa(e.RetryAfter))
	}
	body := gen.ErrorBody{ErrorCode: &e.Code, ErrorMsg: &e.Msg}
	if e.Gateway {
		body.RequestId = &x.id
	}
	if err := c.JSON(e.Status, body); err != nil {
		s.log.Error("write error response", slog.String("request_id", x.id), slog.Any("error", err))
	}
}

package server

import (
	"errors"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/osmstub/osmstub/gen"
	"github.com/osmstub/osmstub/internal/apierror"
	"github.com/osmstub/osmstub/server/store"
)

// Error codes. The service's own (OSM.*) and those of the API gateway in
// front of it (APIGW.*), which answers authentication failures, unknown
// APIs, throttling and oversized bodies before the service sees the
// request. docs/fidelity.md says where each one comes from.
const (
	CodeInvalid        = apierror.CodeInvalid // 400, 415: the request broke the contract
	CodeInternal       = "OSM.0004"           // 500: internal error
	CodeParam          = "OSM.01010001"       // 200: a value breaks a rule of the service
	CodeNoPermission   = "OSM.01010002"       // 200: no permission on a ticket, or an action its status does not allow
	CodePressTooSoon   = "OSM.01010004"       // 200: a ticket urged too soon
	CodeUploadBudget   = "OSM.01010005"       // 200: the day's uploads exceed the budget
	CodeUnknownAction  = "OSM.01010013"       // 200: action_id is not cancel, close, press or delete
	CodeUnknownTicket  = "OSM.01010015"       // 200: a ticket does not exist
	CodeLimit          = "OSM.01010043"       // 200: a ticket would hold more than three associations
	CodeSelf           = "OSM.01010044"       // 200: a ticket associated with itself
	CodeNoSuchAPI      = "APIGW.0101"         // 404: unknown path, or a method the API lacks
	CodeTooLarge       = "APIGW.0201"         // 413: body over the limit
	CodeUnavailable    = "APIGW.0202"         // 503: too many request bodies in flight (a stub limit)
	CodeIAMUnavailable = "APIGW.0613"         // 503: the gateway's only 503; faults of status 503
	CodeUnauthorized   = "APIGW.0301"         // 401: every authentication failure
	CodeForbidden      = "APIGW.0302"         // 403: X-Domain-Id is not the key's account
	CodeThrottled      = "APIGW.0308"         // 429: the caller's rate limit was reached
	headerRequestID    = "X-Request-Id"
	contentTypeJSON    = "application/json"
	defaultBodyLimit   = 1 << 20
	defaultBodyMemory  = 64 << 20
)

// CodeBackend is the gateway's code for a backend that is unavailable
// (502) or did not answer in time (504), which its list files under the
// code of a body too large: the answer to a store outage (outage.go) and
// the proxy's when its upstream fails (proxy.go).
const CodeBackend = CodeTooLarge

// CodeRequestTimeout is the code of a body that never arrived (408): the
// gateway's list has no 408 row, and files the other refusals of a broken
// request (400, 413, 414, 494) under this code (docs/fidelity.md).
const CodeRequestTimeout = CodeTooLarge

// gatewayCodePrefix marks the codes the API gateway answers itself.
const gatewayCodePrefix = "APIGW."

// The messages of the gateway and of the service, as the vendor words them.
const (
	msgNoSuchAPI     = "The API does not exist or has not been published in the environment."
	msgNoSuchMethod  = "The API does not exist."
	msgTooLarge      = "Request entity too large."
	msgTimeout       = "Request timeout: "
	msgUnavailable   = "Backend unavailable."
	msgUnauthorized  = "Incorrect IAM authentication information: "
	msgForbidden     = "The IAM user is not authorized to access the API: "
	msgThrottled     = "The throttling threshold has been reached: "
	msgLimit         = "The same caseId relations should not be over 3."
	msgSelf          = "The case can not bind itself."
	msgUnknown       = "This case does not exist."
	msgNoPermission  = "No operation permission."
	msgParam         = "Param validation failed."
	msgPressTooSoon  = "You have asked for the order. Please ask for it later."
	msgUploadBudget  = "Uploaded accessory size exceeded limit today."
	msgUnknownAction = "The operation must be canceled or closed or pressed or deleted."
)

// apiError is a refusal with a status the contract declares and its
// error body. Every 4xx/5xx the stub sends is one of these.
type apiError = apierror.Error

func newAPIError(status int, code, format string, args ...any) *apiError {
	return apierror.New(status, code, format, args...)
}

// gatewayError is a refusal the API gateway would answer itself.
func gatewayError(status int, code, msg string) *apiError { return apierror.Gateway(status, code, msg) }

// toAPIError turns any error that reached Echo into the contract's error
// body. Anything unforeseen becomes a 500 that names only the request id;
// the error itself goes to the log.
func toAPIError(err error, requestID string) (e *apiError, unexpected bool) {
	if errors.As(err, &e) {
		return e, false
	}
	if errors.Is(err, store.ErrUnavailable) {
		return unavailable(err), false
	}
	if errors.Is(err, store.ErrUnknownCaller) {
		return unauthorized("the authenticated user no longer exists"), false
	}
	var he *echo.HTTPError
	if errors.As(err, &he) {
		switch he.Code {
		case http.StatusNotFound:
			return noSuchAPI(), false
		case http.StatusMethodNotAllowed:
			return noSuchMethod(), false
		case http.StatusRequestEntityTooLarge:
			return tooLarge(), false
		}
	}
	return newAPIError(http.StatusInternalServerError, CodeInternal, "internal error; request id %s", requestID), true
}

func noSuchAPI() *apiError {
	return gatewayError(http.StatusNotFound, CodeNoSuchAPI, msgNoSuchAPI)
}

// noSuchMethod is the gateway's answer to a known path with a method the
// API does not define: the same code, a message of its own, no 405.
func noSuchMethod() *apiError {
	return gatewayError(http.StatusNotFound, CodeNoSuchAPI, msgNoSuchMethod)
}

func tooLarge() *apiError {
	return gatewayError(http.StatusRequestEntityTooLarge, CodeTooLarge, msgTooLarge)
}

// requestTimeout refuses a request whose body did not arrive entirely.
func requestTimeout(why string) *apiError {
	return gatewayError(http.StatusRequestTimeout, CodeRequestTimeout, msgTimeout+why)
}

func isRequestTimeout(err error) bool {
	var e *apiError
	return errors.As(err, &e) && e.Status == http.StatusRequestTimeout
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

package server

import (
	"errors"
	"fmt"
	"net/http"
	"unicode/utf8"

	"github.com/labstack/echo/v4"

	"github.com/osmstub/osmstub/server/store"
)

// Error codes of the contract's error table.
const (
	CodeInvalid       = "OSM.0001"     // 400: parameter validation failed
	CodeUnauthorized  = "OSM.0002"     // 401: not authenticated
	CodeForbidden     = "OSM.0003"     // 403: operation not allowed
	CodeInternal      = "OSM.0004"     // 500: internal error
	CodeRuleBroken    = "OSM.01010001" // 200: a business rule refused the request
	CodeNoPermission  = "OSM.01010002" // 200: no permission on a ticket
	CodeNoSuchAPI     = "APIGW.0101"   // 404/405: what the API gateway answers for an unknown API
	CodeUnavailable   = "APIGW.0202"   // 503: the stub's store is down (Retry-After)
	maxResultMessage  = 32             // error_msg limit in a 200 body
	maxErrorMessage   = 1024           // error_msg limit in a 4xx/5xx body
	headerRequestID   = "X-Request-Id"
	contentTypeJSON   = "application/json"
	defaultBodyLimit  = 1 << 20
	bodyLimitReadable = "1 MiB"
)

// apiError is a refusal with a status the contract declares and its
// error body. Every 4xx/5xx the stub sends is one of these.
type apiError struct {
	Status int
	Code   string
	Msg    string

	retryAfter int // seconds, sent as Retry-After when set
}

func (e *apiError) Error() string { return fmt.Sprintf("%d %s: %s", e.Status, e.Code, e.Msg) }

func newAPIError(status int, code, format string, args ...any) *apiError {
	return &apiError{Status: status, Code: code, Msg: trim(fmt.Sprintf(format, args...), maxErrorMessage)}
}

// ruleResult maps a refusal by the association rules to the 200 body the
// service sends: an error code and a message of at most 32 characters.
// It reports false for any other error.
func ruleResult(err error, caseID string) (code, msg string, ok bool) {
	var re *store.RuleError
	if !errors.As(err, &re) {
		return "", "", false
	}
	switch {
	case errors.Is(err, store.ErrLimit) && re.Ticket == caseID:
		code, msg = CodeRuleBroken, fmt.Sprintf("association limit is %d", store.MaxRelations)
	case errors.Is(err, store.ErrLimit):
		code, msg = CodeRuleBroken, fit(fmt.Sprintf("limit %d reached on ", store.MaxRelations), re.Ticket, "")
	case errors.Is(err, store.ErrSelf):
		code, msg = CodeRuleBroken, "cannot relate a ticket to itself"
	case errors.Is(err, store.ErrUnknownTicket):
		code, msg = CodeRuleBroken, fit("ticket ", re.Ticket, " not found")
	case errors.Is(err, store.ErrNoPermission):
		code, msg = CodeNoPermission, fit("no permission on ", re.Ticket, "")
	default:
		return "", "", false
	}
	return code, msg, true
}

// fit builds a 200 body's error_msg around a ticket ID, shortening the ID
// rather than the rule when the whole would exceed 32 characters.
func fit(prefix, id, suffix string) string {
	room := maxResultMessage - utf8.RuneCountInString(prefix) - utf8.RuneCountInString(suffix)
	return prefix + trim(id, room) + suffix
}

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
		return newAPIError(http.StatusUnauthorized, CodeUnauthorized, "the authenticated user no longer exists"), false
	}
	var he *echo.HTTPError
	if errors.As(err, &he) {
		switch he.Code {
		case http.StatusNotFound:
			return newAPIError(http.StatusNotFound, CodeNoSuchAPI, "no such API"), false
		case http.StatusMethodNotAllowed:
			return newAPIError(http.StatusMethodNotAllowed, CodeNoSuchAPI, "method not allowed on this path"), false
		case http.StatusRequestEntityTooLarge:
			return tooLarge(), false
		}
	}
	return newAPIError(http.StatusInternalServerError, CodeInternal, "internal error; request id %s", requestID), true
}

func tooLarge() *apiError {
	return newAPIError(http.StatusRequestEntityTooLarge, CodeInvalid, "request body is larger than %s", bodyLimitReadable)
}

// trim shortens s to at most n characters, marking the cut with "...".
func trim(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-3]) + "..."
}

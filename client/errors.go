package client

import (
	"cmp"
	"errors"
	"fmt"
	"net/http"
	"strings"
)

// Classes of failure, for errors.Is. An *APIError matches the class of its
// code's family, or of its status when the code is unknown; an
// *ArgumentError matches ErrValidation.
var (
	// ErrUnauthenticated: the credential is missing, unknown, expired or
	// its signature did not verify (any 401; the gateway's APIGW.0301).
	ErrUnauthenticated = errors.New("not authenticated")
	// ErrForbidden: the credential may not be used here (403) or the
	// caller has no permission on a ticket (200, OSM.01010002).
	ErrForbidden = errors.New("no permission")
	// ErrRuleViolation: a business rule refused the request: any
	// OSM.0101xxxx code other than the permission one, such as the limit
	// of three associations (OSM.01010043) or an unknown ticket
	// (OSM.01010015).
	ErrRuleViolation = errors.New("rule violation")
	// ErrValidation: the request broke the contract (400, 413, 415), or an
	// argument was refused before anything was sent.
	ErrValidation = errors.New("validation failed")
	// ErrServer: the service failed (5xx).
	ErrServer = errors.New("server error")
	// ErrRateLimited: the service asked the client to slow down (429, the
	// gateway's APIGW.0308).
	ErrRateLimited = errors.New("rate limited")
)

// Refusals of particular rules, for errors.Is. An *APIError with the code
// named matches one of them as well as its class, ErrRuleViolation.
var (
	// ErrInvalidParam: a value the contract allows broke one of the
	// service's own rules (OSM.01010001), such as a fault report without a
	// region or a file type the attachment limits do not list; the message
	// names the field. Not to be confused with ErrValidation (the contract).
	ErrInvalidParam = errors.New("parameter refused")
	// ErrPressTooSoon: the ticket was urged (ActionPress), or opened, too
	// recently (OSM.01010004); try again later.
	ErrPressTooSoon = errors.New("urged too soon")
	// ErrUploadBudget: the caller's uploads of the day would pass the
	// service's daily budget (OSM.01010005).
	ErrUploadBudget = errors.New("daily upload budget exceeded")
	// ErrUnknownAction: the action is not cancel, close, press or delete
	// (OSM.01010013).
	ErrUnknownAction = errors.New("unknown action")
	// ErrUnknownTicket: the ticket does not exist, or belongs to another
	// account (OSM.01010015).
	ErrUnknownTicket = errors.New("unknown ticket")
)

// Error codes the service and its API gateway send; docs/fidelity.md says
// where each comes from.
const (
	CodeParamInvalid  = "OSM.01010001" // 200: business-level parameter validation
	CodeNoPermission  = "OSM.01010002" // 200: no permission on a ticket
	CodePressTooSoon  = "OSM.01010004" // 200: a ticket urged too soon
	CodeUploadBudget  = "OSM.01010005" // 200: the day's upload budget is spent
	CodeUnknownAction = "OSM.01010013" // 200: action_id is not one the service knows
	CodeUnknownTicket = "OSM.01010015" // 200: a ticket does not exist
	CodeLimit         = "OSM.01010043" // 200: more than three associations
	CodeSelf          = "OSM.01010044" // 200: a ticket associated with itself
	CodeUnauthorized  = "APIGW.0301"   // 401: the credential was refused
	CodeThrottled     = "APIGW.0308"   // 429: the rate limit was reached
)

// ruleFamily is the prefix of the service's business codes.
const ruleFamily = "OSM.0101"

// ruleErrors are the refusals that have a sentinel of their own.
var ruleErrors = map[string]error{
	CodeParamInvalid:  ErrInvalidParam,
	CodePressTooSoon:  ErrPressTooSoon,
	CodeUploadBudget:  ErrUploadBudget,
	CodeUnknownAction: ErrUnknownAction,
	CodeUnknownTicket: ErrUnknownTicket,
}

// APIError is any answer of the service that is not a success: a 4xx or
// 5xx, or a 200 whose body carries an error_code (which the official SDK
// returns as a success; this client does not).
type APIError struct {
	Operation  string // the API's operation, such as CreateCases or ListRelation
	StatusCode int
	Code       string // error_code, e.g. OSM.01010043; may be empty
	Message    string // error_msg
	// RequestID is the body's request_id when the gateway sent one, else
	// the X-Request-Id header: the ID to quote when reporting a problem.
	RequestID string
}

func (e *APIError) Error() string {
	msg := fmt.Sprintf("osm %s: %d %s", e.Operation, e.StatusCode, cmp.Or(e.Code, http.StatusText(e.StatusCode)))
	if e.Message != "" {
		msg += ": " + e.Message
	}
	if e.RequestID != "" {
		msg += " (request id " + e.RequestID + ")"
	}
	return msg
}

// Is matches the error classes above, and the sentinel of its code.
func (e *APIError) Is(target error) bool {
	if e.class() == target {
		return true
	}
	rule, ok := ruleErrors[e.Code]
	return ok && rule == target
}

func (e *APIError) class() error {
	switch {
	case e.Code == CodeNoPermission:
		return ErrForbidden
	case strings.HasPrefix(e.Code, ruleFamily):
		return ErrRuleViolation
	case e.StatusCode == http.StatusUnauthorized || e.Code == CodeUnauthorized:
		return ErrUnauthenticated
	case e.StatusCode == http.StatusForbidden:
		return ErrForbidden
	case e.StatusCode == http.StatusTooManyRequests || e.Code == CodeThrottled:
		return ErrRateLimited
	case e.StatusCode >= 500:
		return ErrServer
	case e.StatusCode >= 400:
		return ErrValidation
	}
	return nil
}

// ArgumentError is an argument refused before the request was sent,
// because the contract would refuse it.
type ArgumentError struct {
	Arg  string
	Rule string
}

func (e *ArgumentError) Error() string { return "osm: argument " + e.Arg + ": " + e.Rule }

// Is matches ErrValidation.
func (e *ArgumentError) Is(target error) bool { return target == ErrValidation }

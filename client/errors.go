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

// Error codes the service and its API gateway send; docs/fidelity.md says
// where each comes from.
const (
	CodeParamInvalid  = "OSM.01010001" // 200: business-level parameter validation
	CodeNoPermission  = "OSM.01010002" // 200: no permission on a ticket
	CodeUnknownTicket = "OSM.01010015" // 200: a ticket does not exist
	CodeLimit         = "OSM.01010043" // 200: more than three associations
	CodeSelf          = "OSM.01010044" // 200: a ticket associated with itself
	CodeUnauthorized  = "APIGW.0301"   // 401: the credential was refused
	CodeThrottled     = "APIGW.0308"   // 429: the rate limit was reached
)

// ruleFamily is the prefix of the service's business codes.
const ruleFamily = "OSM.0101"

// APIError is any answer of the service that is not a success: a 4xx or
// 5xx, or a 200 whose body carries an error_code (which the official SDK
// returns as a success; this client does not).
type APIError struct {
	Operation  string // CreateRelations, ListRelation or DeleteRelation
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

// Is matches the error classes above.
func (e *APIError) Is(target error) bool { return e.class() == target }

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

package client

import (
	"errors"
	"fmt"
	"net/http"
)

// Classes of failure, for errors.Is. An *APIError matches the class of its
// status and code; an *ArgumentError matches ErrValidation.
var (
	// ErrUnauthenticated: the credential is missing, unknown, expired or
	// its signature did not verify (401, OSM.0002).
	ErrUnauthenticated = errors.New("not authenticated")
	// ErrForbidden: the credential may not be used here (403, OSM.0003) or
	// the caller has no permission on a ticket (200, OSM.01010002).
	ErrForbidden = errors.New("no permission")
	// ErrRuleViolation: a business rule refused the request (200,
	// OSM.01010001), such as the limit of three associations per ticket.
	ErrRuleViolation = errors.New("rule violation")
	// ErrValidation: the request broke the contract (400, 413, 415), or an
	// argument was refused before anything was sent.
	ErrValidation = errors.New("validation failed")
	// ErrServer: the service failed (5xx).
	ErrServer = errors.New("server error")
	// ErrRateLimited: the service asked the client to slow down (429).
	ErrRateLimited = errors.New("rate limited")
)

// Business error codes the service sends with HTTP 200.
const (
	CodeRuleBroken   = "OSM.01010001"
	CodeNoPermission = "OSM.01010002"
)

// APIError is any answer of the service that is not a success: a 4xx or
// 5xx, or a 200 whose body carries an error_code (which the official SDK
// returns as a success; this client does not).
type APIError struct {
	Operation  string // CreateRelations, ListRelation or DeleteRelation
	StatusCode int
	Code       string // error_code, e.g. OSM.01010001; may be empty
	Message    string // error_msg
	RequestID  string // X-Request-Id, to quote when reporting a problem
}

func (e *APIError) Error() string {
	code := e.Code
	if code == "" {
		code = http.StatusText(e.StatusCode)
	}
	msg := fmt.Sprintf("osm %s: %d %s", e.Operation, e.StatusCode, code)
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
	case e.Code == CodeRuleBroken:
		return ErrRuleViolation
	case e.Code == CodeNoPermission:
		return ErrForbidden
	case e.StatusCode == http.StatusUnauthorized:
		return ErrUnauthenticated
	case e.StatusCode == http.StatusForbidden:
		return ErrForbidden
	case e.StatusCode == http.StatusTooManyRequests:
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

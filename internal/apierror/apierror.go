// Package apierror is the refusal both APIs of the stub answer with: a
// status the contract declares, an error code and a message. Handlers
// return an *Error; the server's one error mapper writes it as the
// contract's error body (server/errors.go).
package apierror

import (
	"fmt"
	"unicode/utf8"
)

// CodeInvalid is the service's code for a request that breaks the
// contract (400, 415), which the control API uses too.
const CodeInvalid = "OSM.0001"

// maxMessage is the contract's limit of error_msg.
const maxMessage = 1024

// Error is a refusal. Gateway refusals carry the request id in the body
// too, as the API gateway does.
type Error struct {
	Status  int
	Code    string
	Msg     string
	Gateway bool // the body carries request_id
	// RetryAfter, when positive, is sent as Retry-After in seconds.
	RetryAfter int
}

func (e *Error) Error() string { return fmt.Sprintf("%d %s: %s", e.Status, e.Code, e.Msg) }

// New is a refusal with a formatted message, cut to the contract's limit.
func New(status int, code, format string, args ...any) *Error {
	return &Error{Status: status, Code: code, Msg: Trim(fmt.Sprintf(format, args...), maxMessage)}
}

// Gateway is a refusal the API gateway would answer itself.
func Gateway(status int, code, msg string) *Error {
	return &Error{Status: status, Code: code, Msg: Trim(msg, maxMessage), Gateway: true}
}

// Trim shortens s to at most n characters, marking the cut with "...".
func Trim(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-3]) + "..."
}

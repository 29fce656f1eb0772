package osmstubtest

import (
	"time"

	"github.com/osmstub/osmstub/server"
)

// Operation IDs, to name a fault's target.
const (
	CreateRelations = "CreateRelations"
	ListRelation    = "ListRelation"
	DeleteRelation  = "DeleteRelation"
)

// Fault is how an operation misbehaves; see server.Fault.
type Fault = server.Fault

// SetFault makes operation misbehave as f says until the fault is used
// up (f.Times calls) or cleared.
func (s *Stub) SetFault(operation string, f Fault) {
	s.helper()
	if err := s.srv.SetFault(operation, f); err != nil {
		s.fatalf("SetFault: %v", err)
	}
}

// FailNext answers the next n calls of operation with status and the
// error code the status has in the contract and docs/fidelity.md
// (OSM.0001 for 400 and 415, APIGW.0301 for 401, APIGW.0302 for 403,
// APIGW.0101 for 404, APIGW.0201 for 413, APIGW.0308 for 429, APIGW.0202
// for 503, OSM.0004 for other 5xx).
func (s *Stub) FailNext(operation string, n, status int) {
	s.helper()
	s.SetFault(operation, Fault{Status: status, Code: codeFor(status), Message: "injected fault", Times: n})
}

// RefuseNext answers the next n calls of operation as the service answers
// a business failure: HTTP 200 with code (e.g. OSM.01010043) and msg.
func (s *Stub) RefuseNext(operation string, n int, code, msg string) {
	s.helper()
	s.SetFault(operation, Fault{Status: 200, Code: code, Message: msg, Times: n})
}

// Delay makes every call of operation wait d before being served.
func (s *Stub) Delay(operation string, d time.Duration) {
	s.helper()
	s.SetFault(operation, Fault{Latency: d})
}

// DropNext closes the connection of the next n calls of operation
// without answering.
func (s *Stub) DropNext(operation string, n int) {
	s.helper()
	s.SetFault(operation, Fault{Drop: true, Times: n})
}

// ClearFaults removes every fault.
func (s *Stub) ClearFaults() { s.srv.ClearFaults() }

func codeFor(status int) string {
	switch status {
	case 400, 415:
		return server.CodeInvalid
	case 401:
		return server.CodeUnauthorized
	case 403:
		return server.CodeForbidden
	case 404:
		return server.CodeNoSuchAPI
	case 413:
		return server.CodeTooLarge
	case 429:
		return server.CodeThrottled
	case 503:
		return server.CodeUnavailable
	}
	if status >= 500 {
		return server.CodeInternal
	}
	return ""
}

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
// error body the status has in the contract (OSM.0001 for 400, OSM.0002
// for 401, OSM.0003 for 403, OSM.0004 for 5xx).
func (s *Stub) FailNext(operation string, n, status int) {
	s.helper()
	s.SetFault(operation, Fault{Status: status, Code: codeFor(status), Message: "injected fault", Times: n})
}

// RefuseNext answers the next n calls of operation as the service answers
// a business failure: HTTP 200 with code (e.g. OSM.01010001) and msg.
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

func codeFor(status int) string { return server.FaultCode(status) }

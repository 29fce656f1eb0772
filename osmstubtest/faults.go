package osmstubtest

import (
	"time"

	"github.com/osmstub/osmstub/server"
)

// Operation IDs, to name a fault's target.
const (
	CreateRelations       = "CreateRelations"
	ListRelation          = "ListRelation"
	DeleteRelation        = "DeleteRelation"
	ListProductCategories = "ListProductCategories"
	ListProblemTypes      = "ListProblemTypes"
	CreateCases           = "CreateCases"
	ShowCaseDetail        = "ShowCaseDetail"
	ListCases             = "ListCases"
	ShowCaseStatus        = "ShowCaseStatus"
	UpdateCases           = "UpdateCases"
	CreateMessages        = "CreateMessages"
	ListMessages          = "ListMessages"
	UploadJsonAccessories = "UploadJsonAccessories"
	ShowAccessoryLimits   = "ShowAccessoryLimits"
	CreateScores          = "CreateScores"
)

// Fault is how an operation misbehaves; see server.Fault.
type Fault = server.Fault

// Faults are the fault helpers for the calls on one ticket and/or by one
// user (ForCase, ForUser), so that parallel tests sharing a stub each
// break only their own calls. Stub's own fault helpers, the same methods,
// target every call.
type Faults struct{ faultTarget }

// faultTarget carries the fault helpers; Stub embeds one with no target.
type faultTarget struct {
	s            *Stub
	caseID, user string
}

// ForCase returns the fault helpers for the calls on caseID only.
func (s *Stub) ForCase(caseID string) *Faults { return &Faults{faultTarget{s: s, caseID: caseID}} }

// ForUser returns the fault helpers for the calls by user only.
func (s *Stub) ForUser(user string) *Faults { return &Faults{faultTarget{s: s, user: user}} }

// ForUser narrows the helpers to the calls by user too.
func (f *Faults) ForUser(user string) *Faults { return &Faults{faultTarget{f.s, f.caseID, user}} }

// SetFault makes operation misbehave as fault says for the helpers'
// target, until the fault is used up or cleared; it replaces the fault the
// target had.
func (f *faultTarget) SetFault(operation string, fault Fault) {
	f.s.t.Helper()
	fault.CaseID, fault.User = f.caseID, f.user
	if err := f.s.srv.SetFault(operation, fault); err != nil {
		f.s.fatalf("SetFault: %v", err)
	}
}

// FailNext answers the next n calls of operation with status and the
// error body the gateway or the service sends with it
// (server.FaultDefault, as docs/fidelity.md lists them), with request_id
// for the gateway's.
func (f *faultTarget) FailNext(operation string, n, status int) {
	f.s.t.Helper()
	f.SetFault(operation, Fault{Status: status, Times: n})
}

// FailSequence answers the next calls of operation with statuses in turn,
// 0 meaning "serve this one": FailSequence(op, 503, 503) fails two calls
// and then serves every one.
func (f *faultTarget) FailSequence(operation string, statuses ...int) {
	f.s.t.Helper()
	f.SetFault(operation, Fault{Sequence: statuses})
}

// RefuseNext answers the next n calls of operation as the service answers
// a business failure: HTTP 200 with code (e.g. OSM.01010043) and msg.
func (f *faultTarget) RefuseNext(operation string, n int, code, msg string) {
	f.s.t.Helper()
	f.SetFault(operation, Fault{Status: 200, Code: code, Message: msg, Times: n})
}

// Delay makes every call of operation wait d before being served.
func (f *faultTarget) Delay(operation string, d time.Duration) {
	f.s.t.Helper()
	f.SetFault(operation, Fault{Latency: d})
}

// DropNext closes the connection of the next n calls of operation
// without answering.
func (f *faultTarget) DropNext(operation string, n int) {
	f.s.t.Helper()
	f.SetFault(operation, Fault{Drop: true, Times: n})
}

// Clear removes the target's fault of operation.
func (f *Faults) Clear(operation string) { f.s.srv.ClearTargetedFault(operation, f.caseID, f.user) }

// SetFault makes operation misbehave as f says until the fault is used
// up (f.Times calls) or cleared; f.CaseID and f.User, when set, target it.
func (s *Stub) SetFault(operation string, f Fault) {
	s.t.Helper()
	if err := s.srv.SetFault(operation, f); err != nil {
		s.fatalf("SetFault: %v", err)
	}
}

// ClearFaults removes every fault.
func (s *Stub) ClearFaults() { s.srv.ClearFaults() }

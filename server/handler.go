package server

import (
	"context"
	"encoding/json"
	"net/http"
	"sync"

	"github.com/osmstub/osmstub/gen"
	"github.com/osmstub/osmstub/server/store"
)

// The strict handler: each operation maps the request to one store call
// with the authenticated caller, and the outcome to the contract's answer.

// CreateRelations implements gen.StrictServerInterface.
func (s *Server) CreateRelations(ctx context.Context, req gen.CreateRelationsRequestObject) (gen.CreateRelationsResponseObject, error) {
	err := store.Associate(ctx, s.store, exchangeOf(ctx).caller, req.CaseId, req.Body.RelatedIdList, deref(req.Body.GroupId))
	if err == nil {
		return succeeded{}, nil
	}
	return refusal(ctx, err)
}

// DeleteRelation implements gen.StrictServerInterface.
func (s *Server) DeleteRelation(ctx context.Context, req gen.DeleteRelationRequestObject) (gen.DeleteRelationResponseObject, error) {
	err := store.Dissociate(ctx, s.store, exchangeOf(ctx).caller, req.CaseId, req.Body.RelatedId, deref(req.Body.GroupId))
	if err == nil {
		return succeeded{}, nil
	}
	return refusal(ctx, err)
}

// ListRelation implements gen.StrictServerInterface.
func (s *Server) ListRelation(ctx context.Context, req gen.ListRelationRequestObject) (gen.ListRelationResponseObject, error) {
	rels, err := store.List(ctx, s.store, exchangeOf(ctx).caller, req.CaseId)
	if err != nil {
		return refusal(ctx, err)
	}
	return relationList(rels), nil
}

// refusal turns a failed store call into the 200 body of a business
// refusal. Any other error is returned for the error mapper (a 500 or, for
// a vanished caller, a 401).
func refusal(ctx context.Context, err error) (*refused, error) {
	r, ok := ruleResult(err)
	if !ok {
		return nil, err
	}
	exchangeOf(ctx).errorCode = r.code
	return r, nil
}

// deref is an optional group_id: absent is "", which acts on the caller's
// own tickets only.
func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// The answers of the three operations, written directly: byte for byte
// what the generated responses (gen.CreateRelations200JSONResponse,
// gen.DeleteRelation200JSONResponse and gen.ListRelation200JSONResponse)
// write for them (TestFastResponsesMatchGenerated), without encoding/json's
// reflection on the path every request takes.

// jsonContentType is the Content-Type value of every answer, shared so
// that setting it does not allocate; net/http and Echo only read it.
var jsonContentType = []string{contentTypeJSON}

// succeeded is the 200 {} of a CreateRelations or DeleteRelation that
// changed what it had to: an empty gen.OperationResult.
type succeeded struct{}

var succeededBody = []byte(succeededText)

func (succeeded) write(w http.ResponseWriter) error { return write200(w, succeededBody) }

func (r succeeded) VisitCreateRelationsResponse(w http.ResponseWriter) error { return r.write(w) }
func (r succeeded) VisitDeleteRelationResponse(w http.ResponseWriter) error  { return r.write(w) }

// relationList is ListRelation's 200 with its case_relation_list (empty
// or not): a gen.RelationList whose every relation has its three fields.
type relationList []store.Relation

func (l relationList) VisitListRelationResponse(w http.ResponseWriter) error {
	return writeOK(w, l.appendJSON)
}

func (l relationList) appendJSON(b []byte) []byte {
	b = append(b, `{"case_relation_list":[`...)
	for i := range l {
		r := &l[i]
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"case_id":`...)
		b = appendJSONString(b, r.CaseID)
		b = append(b, `,"simple_description":`...)
		b = appendJSONString(b, r.Description)
		b = append(b, `,"user_name":`...)
		b = appendJSONString(b, r.Owner)
		b = append(b, '}')
	}
	return append(b, "]}\n"...)
}

// refused is the 200 of a business refusal, of any of the three
// operations: a gen.OperationResult (or a gen.RelationList without its
// list) with both fields. A refusal's code and message are constants, so
// its body is built once (newRefused, ruleResult): answering allocates
// nothing, and the journal shares the text (knownAnswers).
type refused struct {
	code, msg string
	body      []byte
}

func newRefused(code, msg string) *refused {
	r := &refused{code: code, msg: msg}
	r.body = r.appendJSON(nil)
	return r
}

func (r *refused) write(w http.ResponseWriter) error { return write200(w, r.body) }

func (r *refused) appendJSON(b []byte) []byte {
	b = append(b, `{"error_code":`...)
	b = appendJSONString(b, r.code)
	b = append(b, `,"error_msg":`...)
	b = appendJSONString(b, r.msg)
	return append(b, "}\n"...)
}

func (r *refused) VisitCreateRelationsResponse(w http.ResponseWriter) error { return r.write(w) }
func (r *refused) VisitDeleteRelationResponse(w http.ResponseWriter) error  { return r.write(w) }
func (r *refused) VisitListRelationResponse(w http.ResponseWriter) error    { return r.write(w) }

// writeOK answers 200 with the JSON body body appends, built in a pooled
// buffer.
func writeOK(w http.ResponseWriter, body func([]byte) []byte) error {
	buf := bodyPool.Get().(*[]byte)
	defer func() { bodyPool.Put(buf) }()
	b := body((*buf)[:0])
	if cap(b) <= maxPooledBody {
		*buf = b
	}
	return write200(w, b)
}

// write200 answers 200 with the JSON body b, which the Writer copies (it
// must not keep it): b may be pooled or shared.
func write200(w http.ResponseWriter, b []byte) error {
	w.Header()["Content-Type"] = jsonContentType
	w.WriteHeader(http.StatusOK)
	_, err := w.Write(b)
	return err
}

// bodyPool holds the buffers writeOK builds bodies in.
var bodyPool = sync.Pool{New: func() any { b := make([]byte, 0, 512); return &b }}

const maxPooledBody = 16 << 10

// appendJSONString appends s as encoding/json writes it: printable ASCII
// that needs no escape (encoding/json also escapes <, > and &) as it is,
// anything else through encoding/json itself.
func appendJSONString(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x7f || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			q, err := json.Marshal(s)
			if err != nil { // a string always encodes
				panic(err)
			}
			return append(b, q...)
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}

package server

import (
	"context"
	"errors"

	"github.com/osmstub/osmstub/gen"
	"github.com/osmstub/osmstub/server/store"
)

// The strict handler: each operation maps the request to one store call
// with the authenticated caller, and the outcome to the contract's answer.

// CreateRelations implements gen.StrictServerInterface.
func (s *Server) CreateRelations(ctx context.Context, req gen.CreateRelationsRequestObject) (gen.CreateRelationsResponseObject, error) {
	err := store.Associate(ctx, s.store, exchangeOf(ctx).caller, req.CaseId, req.Body.RelatedIdList, deref(req.Body.GroupId))
	if err == nil {
		return gen.CreateRelations200JSONResponse{}, nil
	}
	r, err := refusal(ctx, err)
	if err != nil {
		return nil, err
	}
	return gen.CreateRelations200JSONResponse{Body: r}, nil
}

// DeleteRelation implements gen.StrictServerInterface.
func (s *Server) DeleteRelation(ctx context.Context, req gen.DeleteRelationRequestObject) (gen.DeleteRelationResponseObject, error) {
	err := store.Dissociate(ctx, s.store, exchangeOf(ctx).caller, req.CaseId, req.Body.RelatedId, deref(req.Body.GroupId))
	if err == nil {
		return gen.DeleteRelation200JSONResponse{}, nil
	}
	r, err := refusal(ctx, err)
	if err != nil {
		return nil, err
	}
	return gen.DeleteRelation200JSONResponse{Body: r}, nil
}

// ListRelation implements gen.StrictServerInterface.
func (s *Server) ListRelation(ctx context.Context, req gen.ListRelationRequestObject) (gen.ListRelationResponseObject, error) {
	rels, err := store.List(ctx, s.store, exchangeOf(ctx).caller, req.CaseId)
	if err != nil {
		r, err := refusal(ctx, err)
		if err != nil {
			return nil, err
		}
		return gen.ListRelation200JSONResponse{Body: gen.RelationList{ErrorCode: r.ErrorCode, ErrorMsg: r.ErrorMsg}}, nil
	}
	list := make([]gen.CaseRelation, len(rels))
	for i := range rels {
		r := &rels[i]
		list[i] = gen.CaseRelation{CaseId: &r.CaseID, SimpleDescription: &r.Description, UserName: &r.Owner}
	}
	return gen.ListRelation200JSONResponse{Body: gen.RelationList{CaseRelationList: &list}}, nil
}

// refusal turns a failed store call into the 200 body of a business
// refusal, in the service's words. Any other error is returned for the
// error mapper (a 500 or, for a vanished caller, a 401).
func refusal(ctx context.Context, err error) (gen.OperationResult, error) {
	var code, msg string
	switch {
	case !errors.As(err, new(*store.RuleError)):
		return gen.OperationResult{}, err
	case errors.Is(err, store.ErrLimit):
		code, msg = CodeLimit, msgLimit
	case errors.Is(err, store.ErrSelf):
		code, msg = CodeSelf, msgSelf
	case errors.Is(err, store.ErrUnknownTicket):
		code, msg = CodeUnknownTicket, msgUnknown
	case errors.Is(err, store.ErrNoPermission), errors.Is(err, store.ErrNotNow):
		code, msg = CodeNoPermission, msgNoPermission
	case errors.Is(err, store.ErrParam):
		var re *store.RuleError
		errors.As(err, &re)
		code, msg = CodeParam, msgParam+" "+re.Detail
		if r := []rune(msg); len(r) > 256 { // the contract's bound, in characters
			msg = string(r[:253]) + "..."
		}
	case errors.Is(err, store.ErrUnknownAction):
		code, msg = CodeUnknownAction, msgUnknownAction
	case errors.Is(err, store.ErrPressTooSoon):
		code, msg = CodePressTooSoon, msgPressTooSoon
	case errors.Is(err, store.ErrUploadBudget):
		code, msg = CodeUploadBudget, msgUploadBudget
	default:
		return gen.OperationResult{}, err
	}
	exchangeOf(ctx).errorCode = code
	return gen.OperationResult{ErrorCode: &code, ErrorMsg: &msg}, nil
}

// deref is an optional group_id: absent is "", which acts on the caller's
// own tickets only.
func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

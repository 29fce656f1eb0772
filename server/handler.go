package server

import (
	"context"

	"github.com/osmstub/osmstub/gen"
	"github.com/osmstub/osmstub/server/store"
)

// The strict handler: each operation maps the request to one store call
// with the authenticated caller, and the outcome to the contract's answer.

// CreateRelations implements gen.StrictServerInterface.
func (s *Server) CreateRelations(ctx context.Context, req gen.CreateRelationsRequestObject) (gen.CreateRelationsResponseObject, error) {
	err := store.Associate(ctx, s.store, exchangeOf(ctx).caller, req.CaseId, req.Body.RelatedIdList, req.Body.GroupId)
	res, err := result(ctx, err, req.CaseId)
	return gen.CreateRelations200JSONResponse{Body: res}, err
}

// DeleteRelation implements gen.StrictServerInterface.
func (s *Server) DeleteRelation(ctx context.Context, req gen.DeleteRelationRequestObject) (gen.DeleteRelationResponseObject, error) {
	var group string
	if req.Body.GroupId != nil {
		group = *req.Body.GroupId
	}
	err := store.Dissociate(ctx, s.store, exchangeOf(ctx).caller, req.CaseId, req.Body.RelatedId, group)
	res, err := result(ctx, err, req.CaseId)
	return gen.DeleteRelation200JSONResponse{Body: res}, err
}

// ListRelation implements gen.StrictServerInterface.
func (s *Server) ListRelation(ctx context.Context, req gen.ListRelationRequestObject) (gen.ListRelationResponseObject, error) {
	rels, err := store.List(ctx, s.store, exchangeOf(ctx).caller, req.CaseId)
	if err != nil {
		res, err := result(ctx, err, req.CaseId)
		return gen.ListRelation200JSONResponse{Body: gen.RelationList{ErrorCode: res.ErrorCode, ErrorMsg: res.ErrorMsg}}, err
	}
	list := make([]gen.CaseRelation, len(rels))
	for i, r := range rels {
		list[i] = gen.CaseRelation{CaseId: &r.CaseID, SimpleDescription: &r.Description, UserName: &r.Owner}
	}
	return gen.ListRelation200JSONResponse{Body: gen.RelationList{CaseRelationList: &list}}, nil
}

// result turns a store outcome into the 200 body: empty on success, the
// business error on a refusal. Any other error is returned for the error
// mapper (a 500 or, for a vanished caller, a 401).
func result(ctx context.Context, err error, caseID string) (gen.OperationResult, error) {
	if err == nil {
		return gen.OperationResult{}, nil
	}
	code, msg, ok := ruleResult(err, caseID)
	if !ok {
		return gen.OperationResult{}, err
	}
	exchangeOf(ctx).errorCode = code
	return gen.OperationResult{ErrorCode: &code, ErrorMsg: &msg}, nil
}

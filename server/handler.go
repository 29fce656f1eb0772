package server

import (
	"context"
	"encoding/base64"
	"errors"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/osmstub/osmstub/gen"
	"github.com/osmstub/osmstub/internal/apierror"
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
		code, msg = CodeParam, apierror.Trim(msgParam+" "+re.Detail, 256) // the contract's bound
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

// The ticket flow's handlers: like the relation handlers, each maps the
// request to one store rule with the caller and the stub's clock, and the
// outcome, or the business refusal, to the contract's 200 body.

// timeLayout is how times go on the wire: the SDK's own layout, which its
// decoder reads back (it fails on numbers).
const timeLayout = "2006-01-02T15:04:05Z"

func wireTime(t time.Time) gen.Time { return t.UTC().Format(timeLayout) }

// ListProductCategories implements gen.StrictServerInterface.
func (s *Server) ListProductCategories(ctx context.Context, req gen.ListProductCategoriesRequestObject) (gen.ListProductCategoriesResponseObject, error) {
	cat, err := store.ReadCatalogue(ctx, s.store)
	if err != nil {
		return nil, err
	}
	name := strings.ToLower(deref(req.Params.ProductCategoryName))
	list := []gen.ProductCategory{}
	for _, p := range cat.ProductCategories {
		if name != "" && !strings.Contains(strings.ToLower(p.Name), name) {
			continue
		}
		list = append(list, gen.ProductCategory{
			IncidentProductCategoryId: p.ID, IncidentProductCategoryName: p.Name, CanUseSupportPlan: p.CanUseSupportPlan,
			IncidentProductCategoryDesc: optional(p.Description), IncidentProductCategoryAcronym: optional(p.Acronym),
		})
	}
	n := int32(len(list))
	return gen.ListProductCategories200JSONResponse{Body: gen.ProductCategoryList{TotalCount: &n, IncidentProductCategoryList: &list}}, nil
}

// ListProblemTypes implements gen.StrictServerInterface.
func (s *Server) ListProblemTypes(ctx context.Context, req gen.ListProblemTypesRequestObject) (gen.ListProblemTypesResponseObject, error) {
	cat, err := store.ReadCatalogue(ctx, s.store)
	if err != nil {
		return nil, err
	}
	category := deref(req.Params.ProductCategoryId)
	list := []gen.ProblemType{}
	for _, p := range cat.ProblemTypes {
		if category != "" && len(p.ProductCategories) > 0 && !slices.Contains(p.ProductCategories, category) {
			continue
		}
		list = append(list, gen.ProblemType{BusinessTypeId: p.ID, BusinessTypeName: p.Name, CaseType: p.CaseType, CanUseSupportPlan: p.CanUseSupportPlan})
	}
	n := int32(len(list))
	return gen.ListProblemTypes200JSONResponse{Body: gen.ProblemTypeList{TotalCount: &n, IncidentBusinessTypeList: &list}}, nil
}

// CreateCases implements gen.StrictServerInterface.
func (s *Server) CreateCases(ctx context.Context, req gen.CreateCasesRequestObject) (gen.CreateCasesResponseObject, error) {
	b := req.Body
	t, err := store.CreateCase(ctx, s.store, exchangeOf(ctx).caller, s.clock.now(), store.NewCase{
		BusinessTypeID: b.BusinessTypeId, ProductCategoryID: deref(b.ProductCategoryId), RegionID: deref(b.RegionId),
		SeverityID: deref(b.SeverityId), SourceID: b.SourceId, Description: b.SimpleDescription, AccessoryIDs: derefSlice(b.AccessoryIds),
	}, store.DefaultAccessoryLimits)
	if err != nil {
		r, err := refusal(ctx, err)
		if err != nil {
			return nil, err
		}
		return gen.CreateCases200JSONResponse{Body: gen.CreateCasesResult{ErrorCode: r.ErrorCode, ErrorMsg: r.ErrorMsg}}, nil
	}
	return gen.CreateCases200JSONResponse{Body: gen.CreateCasesResult{IncidentId: &t.ID}}, nil
}

// ShowCaseDetail implements gen.StrictServerInterface.
func (s *Server) ShowCaseDetail(ctx context.Context, req gen.ShowCaseDetailRequestObject) (gen.ShowCaseDetailResponseObject, error) {
	t, err := store.ShowCase(ctx, s.store, exchangeOf(ctx).caller, req.CaseId, deref(req.Params.GroupId))
	if err != nil {
		r, err := refusal(ctx, err)
		if err != nil {
			return nil, err
		}
		return gen.ShowCaseDetail200JSONResponse{Body: gen.CaseDetail{ErrorCode: r.ErrorCode, ErrorMsg: r.ErrorMsg}}, nil
	}
	msgs := make([]gen.DetailMessage, len(t.Messages))
	for i, m := range t.Messages {
		msgs[i] = gen.DetailMessage{
			MessageId: m.ID, Type: int32(m.Type), Replier: m.Replier, ReplierName: m.Replier, Content: m.Content,
			CreateTime: wireTime(m.Created), IsFirstMessage: first(i), AccessoryList: accessoryRefs(m),
		}
	}
	sats := []gen.Satisfaction{}
	for _, sc := range t.Scores {
		for _, v := range sc.Satisfaction {
			sats = append(sats, gen.Satisfaction{SatisfactionId: int32(v.ID), SatisfactionValue: int32(v.Value), SatisfactionName: optional(v.Name)})
		}
	}
	d := gen.IncidentDetail{
		IncidentId: t.ID, Status: int32(t.Status), SimpleDescription: t.Description, BusinessTypeName: t.Names.ProblemType,
		IncidentTypeName: t.Names.CaseType, CustomerId: t.Account, XcustomerId: t.Owner, XcustomerName: t.Owner,
		DcName: t.RegionID, SourceName: t.SourceID, CreateTime: wireTime(t.Created), Judgement: t.Judgement,
		MessageList: msgs, IncidentSatisfaction: sats, SeverityName: optional(t.SeverityID),
	}
	return gen.ShowCaseDetail200JSONResponse{Body: gen.CaseDetail{IncidentDetailInfo: &d}}, nil
}

// ListCases implements gen.StrictServerInterface.
func (s *Server) ListCases(ctx context.Context, req gen.ListCasesRequestObject) (gen.ListCasesResponseObject, error) {
	p := req.Params
	q := store.CaseQuery{
		Group: deref(p.GroupId), ID: deref(p.IncidentId), AppKey: deref(p.AppKey), Keys: derefSlice(p.SearchKey),
		Offset: int(derefOr(p.Offset, 0)), Limit: int(derefOr(p.Limit, 10)),
		NoLabels: p.LabelIdList != nil && len(*p.LabelIdList) > 0,
	}
	if p.Status != nil {
		q.Statuses = []int{int(*p.Status)}
	}
	if p.IncidentStatus != nil {
		for _, f := range strings.Split(*p.IncidentStatus, ",") {
			n, err := strconv.Atoi(strings.TrimSpace(f))
			if err != nil {
				return caseListRefusal(ctx, store.Param("incident_status", "a comma-separated list of statuses, not %q", *p.IncidentStatus))
			}
			q.Statuses = append(q.Statuses, n)
		}
	}
	for _, b := range []struct {
		field string
		v     *gen.Time
		to    *time.Time
	}{{"query_start_time", p.QueryStartTime, &q.From}, {"query_end_time", p.QueryEndTime, &q.To}} {
		if b.v == nil {
			continue
		}
		t, err := time.Parse(timeLayout, *b.v)
		if err != nil {
			return caseListRefusal(ctx, store.Param(b.field, "a time such as %s", timeLayout))
		}
		*b.to = t
	}
	page, total, err := store.ListCases(ctx, s.store, exchangeOf(ctx).caller, q)
	if err != nil {
		return caseListRefusal(ctx, err)
	}
	list := make([]gen.IncidentInfo, len(page))
	for i, t := range page {
		list[i] = gen.IncidentInfo{
			IncidentId: t.ID, Status: int32(t.Status), SimpleDescription: t.Description, BusinessTypeName: t.Names.ProblemType,
			IncidentTypeName: t.Names.CaseType, ProductCategoryName: optional(t.Names.Category),
			CustomerId: t.Account, XcustomerId: t.Owner, XcustomerName: t.Owner, DcName: t.RegionID, CreateTime: wireTime(t.Created),
		}
	}
	n := int32(min(total, store.MaxTotal)) // the field's range
	return gen.ListCases200JSONResponse{Body: gen.CaseList{TotalCount: &n, IncidentInfoList: &list}}, nil
}

func caseListRefusal(ctx context.Context, err error) (gen.ListCasesResponseObject, error) {
	r, err := refusal(ctx, err)
	if err != nil {
		return nil, err
	}
	return gen.ListCases200JSONResponse{Body: gen.CaseList{ErrorCode: r.ErrorCode, ErrorMsg: r.ErrorMsg}}, nil
}

// ShowCaseStatus implements gen.StrictServerInterface.
func (s *Server) ShowCaseStatus(ctx context.Context, req gen.ShowCaseStatusRequestObject) (gen.ShowCaseStatusResponseObject, error) {
	st, err := store.CaseStatus(ctx, s.store, exchangeOf(ctx).caller, req.CaseId)
	if err != nil {
		r, err := refusal(ctx, err)
		if err != nil {
			return nil, err
		}
		return gen.ShowCaseStatus200JSONResponse{Body: gen.CaseStatus{ErrorCode: r.ErrorCode, ErrorMsg: r.ErrorMsg}}, nil
	}
	v := int32(st)
	return gen.ShowCaseStatus200JSONResponse{Body: gen.CaseStatus{Status: &v}}, nil
}

// UpdateCases implements gen.StrictServerInterface.
func (s *Server) UpdateCases(ctx context.Context, req gen.UpdateCasesRequestObject) (gen.UpdateCasesResponseObject, error) {
	var a store.Action
	if b := req.Body; b != nil {
		a = store.Action{Group: deref(b.GroupId), Judgement: deref(b.Judgement)} // operate_desc and the satisfaction list are accepted and not kept
	}
	err := store.Act(ctx, s.store, exchangeOf(ctx).caller, req.CaseId, req.Params.ActionId, s.clock.now(), a)
	r, err := result(ctx, err)
	if err != nil {
		return nil, err
	}
	return gen.UpdateCases200JSONResponse{Body: r}, nil
}

// CreateMessages implements gen.StrictServerInterface.
func (s *Server) CreateMessages(ctx context.Context, req gen.CreateMessagesRequestObject) (gen.CreateMessagesResponseObject, error) {
	b := req.Body
	err := store.AddMessage(ctx, s.store, exchangeOf(ctx).caller, req.CaseId, deref(b.GroupId), s.clock.now(), b.Message.Content, derefSlice(b.Message.AccessoryIds), store.DefaultAccessoryLimits)
	r, err := result(ctx, err)
	if err != nil {
		return nil, err
	}
	return gen.CreateMessages200JSONResponse{Body: r}, nil
}

// ListMessages implements gen.StrictServerInterface.
func (s *Server) ListMessages(ctx context.Context, req gen.ListMessagesRequestObject) (gen.ListMessagesResponseObject, error) {
	p := req.Params
	offset := int(derefOr(p.Offset, 0))
	page, total, err := store.ListMessages(ctx, s.store, exchangeOf(ctx).caller, req.CaseId, deref(p.GroupId), offset, int(derefOr(p.Limit, 10)))
	if err != nil {
		r, err := refusal(ctx, err)
		if err != nil {
			return nil, err
		}
		return gen.ListMessages200JSONResponse{Body: gen.MessageList{ErrorCode: r.ErrorCode, ErrorMsg: r.ErrorMsg}}, nil
	}
	list := make([]gen.MessageInfo, len(page))
	for i, m := range page {
		list[i] = gen.MessageInfo{
			Type: int32(m.Type), ReplierType: int32(m.Type), Replier: m.Replier, ReplierName: m.Replier, Content: m.Content,
			CreateTime: wireTime(m.Created), IsFirstMessage: first(offset + i), AccessoryList: accessoryRefs(m),
		}
	}
	n := int32(min(total, store.MaxTotal))
	return gen.ListMessages200JSONResponse{Body: gen.MessageList{Count: &n, MessageList: &list}}, nil
}

// UploadJsonAccessories implements gen.StrictServerInterface.
func (s *Server) UploadJsonAccessories(ctx context.Context, req gen.UploadJsonAccessoriesRequestObject) (gen.UploadJsonAccessoriesResponseObject, error) {
	b := req.Body
	data, err := base64.StdEncoding.DecodeString(b.AccessoryData)
	if err == nil {
		var a store.Accessory
		a, err = store.Upload(ctx, s.store, exchangeOf(ctx).caller, s.clock.now(), b.AccessoryName, string(b.AccessoryFrom), data, store.DefaultAccessoryLimits)
		if err == nil {
			return gen.UploadJsonAccessories200JSONResponse{Body: gen.AccessoryUpload{AccessoryId: &a.ID}}, nil
		}
	} else {
		err = store.Param("accessory_data", "must be Base64 (RFC 4648, standard alphabet, padded)")
	}
	r, err := refusal(ctx, err)
	if err != nil {
		return nil, err
	}
	return gen.UploadJsonAccessories200JSONResponse{Body: gen.AccessoryUpload{ErrorCode: r.ErrorCode, ErrorMsg: r.ErrorMsg}}, nil
}

// ShowAccessoryLimits implements gen.StrictServerInterface.
func (s *Server) ShowAccessoryLimits(context.Context, gen.ShowAccessoryLimitsRequestObject) (gen.ShowAccessoryLimitsResponseObject, error) {
	l := store.DefaultAccessoryLimits
	return gen.ShowAccessoryLimits200JSONResponse{Body: gen.AccessoryLimits{AccessoryLimit: &gen.AccessoryLimit{
		LimitCount: strconv.Itoa(l.Count), LimitSize: strconv.Itoa(l.SizeMB), LimitFileType: strings.Join(l.Types, ","),
	}}}, nil
}

// CreateScores implements gen.StrictServerInterface.
func (s *Server) CreateScores(ctx context.Context, req gen.CreateScoresRequestObject) (gen.CreateScoresResponseObject, error) {
	b := req.Body
	err := store.AddScore(ctx, s.store, exchangeOf(ctx).caller, req.CaseId, deref(b.GroupId), s.clock.now(), b.Judgement, satisfaction(b.IncidentSatisfactionList))
	r, err := result(ctx, err)
	if err != nil {
		return nil, err
	}
	return gen.CreateScores200JSONResponse{Body: r}, nil
}

// result is the OperationResult of a change: {} or the refusal.
func result(ctx context.Context, err error) (gen.OperationResult, error) {
	if err == nil {
		return gen.OperationResult{}, nil
	}
	return refusal(ctx, err)
}

func satisfaction(list *[]gen.Satisfaction) []store.Satisfaction {
	if list == nil {
		return nil
	}
	out := make([]store.Satisfaction, len(*list))
	for i, v := range *list {
		out[i] = store.Satisfaction{ID: int(v.SatisfactionId), Value: int(v.SatisfactionValue), Name: deref(v.SatisfactionName)}
	}
	return out
}

func accessoryRefs(m store.Message) []gen.AccessoryRef {
	out := make([]gen.AccessoryRef, len(m.AccessoryIDs))
	for i, id := range m.AccessoryIDs {
		out[i] = gen.AccessoryRef{AccessoryId: id}
		if i < len(m.AccessoryNames) {
			out[i].FileActualName = m.AccessoryNames[i]
		}
	}
	return out
}

func first(i int) int32 {
	if i == 0 {
		return 1
	}
	return 0
}

func optional(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func derefSlice[T any](p *[]T) []T {
	if p == nil {
		return nil
	}
	return *p
}

func derefOr[T any](p *T, def T) T {
	if p == nil {
		return def
	}
	return *p
}

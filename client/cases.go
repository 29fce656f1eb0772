package client

import (
	"context"
	"fmt"
	"iter"
	"strconv"
	"strings"
	"time"

	"github.com/osmstub/osmstub/gen/osmclient"
)

// TimeLayout is how the service writes times, always in UTC.
const TimeLayout = "2006-01-02T15:04:05Z"

// DefaultSourceID is the only source_id the service documents for API
// callers; NewCase sends it unless told otherwise.
const DefaultSourceID = "83aeb0f2834c4df49826c781d32a963e"

// Status is a ticket's status, the API's integer.
type Status int

// Statuses of a ticket.
const (
	StatusPending          Status = 0  // to be processed: a new ticket
	StatusProcessing       Status = 1  // being processed
	StatusToConfirm        Status = 2  // to be confirmed by the customer
	StatusCompleted        Status = 3  // completed
	StatusCanceled         Status = 4  // canceled
	StatusPaused           Status = 5  // paused
	StatusInvalid          Status = 12 // invalid
	StatusDeleted          Status = 13 // deleted
	StatusAwaitingFeedback Status = 17 // pending the customer's feedback
)

var statusNames = map[Status]string{
	StatusPending: "pending", StatusProcessing: "processing", StatusToConfirm: "to confirm",
	StatusCompleted: "completed", StatusCanceled: "canceled", StatusPaused: "paused",
	StatusInvalid: "invalid", StatusDeleted: "deleted", StatusAwaitingFeedback: "awaiting feedback",
}

func (s Status) String() string {
	if n, ok := statusNames[s]; ok {
		return n
	}
	return "status " + strconv.Itoa(int(s))
}

// Case is a ticket as ListCases shows it.
type Case struct {
	ID              string
	Status          Status
	Description     string // simple_description
	ProblemType     string // the problem type's name
	Kind            string // "Consultation" or "Fault report"
	ProductCategory string // the product category's name (ListCases only)
	Account         string // customer_id: the account it belongs to
	Creator         string // xcustomer_id: the user who opened it
	CreatorName     string // xcustomer_name
	Region          string // dc_name; "" when it has none
	Created         time.Time
}

// CaseDetail is a ticket as ShowCase shows it.
type CaseDetail struct {
	Case
	Source       string // source_name
	Severity     string // "" when opened without one
	Judgement    string // the latest judgement; "" when there is none
	Messages     []Message
	Satisfaction []Satisfaction // of every evaluation, in the order given
}

// NewCase is a ticket to open. ProblemTypeID and Description are
// required; a problem type whose case type is CaseTypeFault also needs
// RegionID.
type NewCase struct {
	ProblemTypeID     string   // business_type_id, from ListProblemTypes
	ProductCategoryID string   // from ListProductCategories; optional
	Description       string   // simple_description
	RegionID          string   // the resource's region
	ProjectID         string   // the resource's project
	SeverityID        string   // optional
	SourceID          string   // "" sends DefaultSourceID
	AttachmentIDs     []string // from UploadAttachment(..., AttachmentForCase, ...)
	RemindMobile      string   // a mobile number to notify
	AreaCode          string   // its country calling code
	RemindMail        string   // an e-mail address to notify
	RemindTime        string   // when to contact: "0" any time, or e.g. "09:00-18:00"
	// A contact that is not registered with the account needs its
	// verification: the code, and the ID of the verified number or address
	// (sent as the x-phone-verifiedid and x-email-verifiedid headers).
	VerifyCode      string
	PhoneVerifiedID string
	EmailVerifiedID string
}

func (n NewCase) check() error {
	if err := checkLen("ProblemTypeID", n.ProblemTypeID, MaxProblemTypeIDLen); err != nil {
		return err
	}
	if strings.TrimSpace(n.Description) == "" {
		return &ArgumentError{"Description", "must not be blank"}
	}
	if err := checkLen("Description", n.Description, MaxDescriptionLen); err != nil {
		return err
	}
	for _, f := range []struct {
		arg, v string
		max    int
	}{
		{"ProductCategoryID", n.ProductCategoryID, MaxCatalogueIDLen}, {"RegionID", n.RegionID, MaxCatalogueIDLen},
		{"ProjectID", n.ProjectID, MaxCatalogueIDLen}, {"SeverityID", n.SeverityID, MaxCatalogueIDLen},
		{"SourceID", n.SourceID, 32}, {"RemindMobile", n.RemindMobile, 32}, {"AreaCode", n.AreaCode, 32},
		{"RemindMail", n.RemindMail, 128}, {"RemindTime", n.RemindTime, 16}, {"VerifyCode", n.VerifyCode, 6},
	} {
		if err := checkOptional(f.arg, f.v, f.max); err != nil {
			return err
		}
	}
	for _, h := range []struct{ arg, v string }{{"PhoneVerifiedID", n.PhoneVerifiedID}, {"EmailVerifiedID", n.EmailVerifiedID}} {
		if h.v != "" {
			if err := checkHeader(h.arg, h.v, 32); err != nil {
				return err
			}
		}
	}
	return checkIDs("AttachmentIDs", n.AttachmentIDs, MaxCaseAttachments, MaxCatalogueIDLen)
}

// CreateCase opens a ticket and returns its ID. The new ticket is in
// StatusPending. A problem type the catalogue does not have, or a fault
// report without a region, is refused with ErrInvalidParam.
//
// It is not retried once the request may have reached the service, even
// with RetryPolicy.RetryUnsafe: a repeat would open a second ticket. After
// a transport error, look for the ticket with Cases before opening it
// again.
func (c *Client) CreateCase(ctx context.Context, n NewCase) (string, error) {
	if err := n.check(); err != nil {
		return "", err
	}
	if n.SourceID == "" {
		n.SourceID = DefaultSourceID
	}
	params := &osmclient.CreateCasesParams{XPhoneVerifiedid: optional(n.PhoneVerifiedID), XEmailVerifiedid: optional(n.EmailVerifiedID),
		XLanguage: c.lang(), XTimeZone: c.tz(), XSite: site[osmclient.CreateCasesParamsXSite](c.cfg.site)}
	body := osmclient.CreateCasesRequestBody{
		BusinessTypeId: n.ProblemTypeID, ProductCategoryId: optional(n.ProductCategoryID), SimpleDescription: n.Description,
		RegionId: optional(n.RegionID), ProjectId: optional(n.ProjectID), SeverityId: optional(n.SeverityID), SourceId: n.SourceID,
		RemindMobile: optional(n.RemindMobile), AreaCode: optional(n.AreaCode), RemindMail: optional(n.RemindMail),
		RemindTime: optional(n.RemindTime), VerifyCode: optional(n.VerifyCode),
	}
	if len(n.AttachmentIDs) > 0 {
		body.AccessoryIds = &n.AttachmentIDs
	}
	resp, err := c.api.CreateCases(actsTwice(ctx), params, body)
	var out osmclient.CreateCasesResult
	if err := c.result("CreateCases", resp, err, &out); err != nil {
		return "", err
	}
	if deref(out.IncidentId) == "" {
		return "", fmt.Errorf("osm CreateCases: the response has no incident_id")
	}
	return *out.IncidentId, nil
}

// ShowCase returns a ticket with its messages and evaluations. groupID is
// the IAM user group through which the caller may see another member's
// ticket; "" sends none, which is enough for the caller's own tickets.
func (c *Client) ShowCase(ctx context.Context, caseID, groupID string) (CaseDetail, error) {
	if err := checkLen("caseID", caseID, MaxCaseIDLen); err != nil {
		return CaseDetail{}, err
	}
	if err := checkGroup(groupID); err != nil {
		return CaseDetail{}, err
	}
	params := &osmclient.ShowCaseDetailParams{GroupId: optional(groupID),
		XLanguage: c.lang(), XTimeZone: c.tz(), XSite: site[osmclient.ShowCaseDetailParamsXSite](c.cfg.site)}
	resp, err := c.api.ShowCaseDetail(ctx, caseID, params)
	var body osmclient.CaseDetail
	if err := c.result("ShowCaseDetail", resp, err, &body); err != nil {
		return CaseDetail{}, err
	}
	d := body.IncidentDetailInfo
	if d == nil {
		return CaseDetail{}, fmt.Errorf("osm ShowCaseDetail: the response has no incident_detail_info")
	}
	created, err := parseTime("ShowCaseDetail", "create_time", d.CreateTime)
	if err != nil {
		return CaseDetail{}, err
	}
	out := CaseDetail{
		Case: Case{
			ID: d.IncidentId, Status: Status(d.Status), Description: d.SimpleDescription, ProblemType: d.BusinessTypeName,
			Kind: d.IncidentTypeName, Account: d.CustomerId, Creator: d.XcustomerId, CreatorName: d.XcustomerName,
			Region: d.DcName, Created: created,
		},
		Source: d.SourceName, Severity: deref(d.SeverityName), Judgement: d.Judgement,
		Messages: []Message{}, Satisfaction: satisfactionOf(d.IncidentSatisfaction),
	}
	for _, m := range d.MessageList {
		created, err := parseTime("ShowCaseDetail", "message_list.create_time", m.CreateTime)
		if err != nil {
			return CaseDetail{}, err
		}
		out.Messages = append(out.Messages, Message{
			ID: m.MessageId, Content: m.Content, Author: Author(m.Type), Replier: m.Replier, ReplierName: m.ReplierName,
			Created: created, First: m.IsFirstMessage == 1, Attachments: attachmentRefs(m.AccessoryList),
		})
	}
	return out, nil
}

// CaseStatus returns the status of a ticket the caller owns, or one whose owner
// shares any group with it (ShowCaseStatus takes no group_id).
func (c *Client) CaseStatus(ctx context.Context, caseID string) (Status, error) {
	if err := checkLen("caseID", caseID, MaxCaseIDLen); err != nil {
		return 0, err
	}
	params := &osmclient.ShowCaseStatusParams{XLanguage: c.lang(), XTimeZone: c.tz(), XSite: site[osmclient.ShowCaseStatusParamsXSite](c.cfg.site)}
	resp, err := c.api.ShowCaseStatus(ctx, caseID, params)
	var body osmclient.CaseStatus
	if err := c.result("ShowCaseStatus", resp, err, &body); err != nil {
		return 0, err
	}
	if body.Status == nil {
		return 0, fmt.Errorf("osm ShowCaseStatus: the response has no status")
	}
	return Status(*body.Status), nil
}

// ListCasesOptions select the tickets ListCases and Cases return. The zero
// value lists the caller's own tickets, DefaultPageSize a page.
type ListCasesOptions struct {
	// Group also lists the tickets of the other members of this IAM user
	// group.
	Group string
	// CaseID lists only the ticket with this ID.
	CaseID string
	// Statuses lists only tickets in one of these statuses.
	Statuses []Status
	// SearchKeys must all occur in the description (ignoring case); at
	// most MaxSearchKeys.
	SearchKeys []string
	// From and To bound the creation time, both included; the zero time
	// sets no bound. They are sent in UTC to the second.
	From, To time.Time
	// PageSize is the number of tickets a request asks for: 1 to
	// MaxPageSize, 0 for DefaultPageSize.
	PageSize int
	// Offset is how many tickets to skip, at most MaxOffset.
	Offset int
}

func (o ListCasesOptions) params(c *Client) (*osmclient.ListCasesParams, error) {
	size, err := checkPage(o.Offset, o.PageSize)
	if err != nil {
		return nil, err
	}
	if err := checkGroup(o.Group); err != nil {
		return nil, err
	}
	if err := checkOptional("CaseID", o.CaseID, MaxCaseIDLen); err != nil {
		return nil, err
	}
	if err := checkIDs("SearchKeys", o.SearchKeys, MaxSearchKeys, MaxSearchKeyLen); err != nil {
		return nil, err
	}
	if !o.From.IsZero() && !o.To.IsZero() && o.To.Before(o.From) {
		return nil, &ArgumentError{"To", "is before From"}
	}
	offset, limit := int32(o.Offset), int32(size)
	p := &osmclient.ListCasesParams{
		GroupId: optional(o.Group), IncidentId: optional(o.CaseID), Offset: &offset, Limit: &limit,
		QueryStartTime: wireTime(o.From), QueryEndTime: wireTime(o.To),
		XLanguage: c.lang(), XTimeZone: c.tz(), XSite: site[osmclient.ListCasesParamsXSite](c.cfg.site),
	}
	if len(o.SearchKeys) > 0 {
		p.SearchKey = &o.SearchKeys
	}
	switch len(o.Statuses) {
	case 0:
	case 1: // the parameter the official SDK documents first
		s := int32(o.Statuses[0])
		p.Status = &s
	default:
		list := make([]string, len(o.Statuses))
		for i, s := range o.Statuses {
			list[i] = strconv.Itoa(int(s))
		}
		joined := strings.Join(list, ",")
		if err := checkLen("Statuses", joined, 32); err != nil {
			return nil, err
		}
		p.IncidentStatus = &joined
	}
	return p, nil
}

// ListCases returns one page of the tickets the caller may see, newest
// first, and how many match in all.
func (c *Client) ListCases(ctx context.Context, opts ListCasesOptions) ([]Case, int, error) {
	params, err := opts.params(c)
	if err != nil {
		return nil, 0, err
	}
	resp, err := c.api.ListCases(ctx, params)
	var body osmclient.CaseList
	if err := c.result("ListCases", resp, err, &body); err != nil {
		return nil, 0, err
	}
	out := []Case{}
	for _, t := range deref(body.IncidentInfoList) {
		created, err := parseTime("ListCases", "create_time", t.CreateTime)
		if err != nil {
			return nil, 0, err
		}
		out = append(out, Case{
			ID: t.IncidentId, Status: Status(t.Status), Description: t.SimpleDescription, ProblemType: t.BusinessTypeName,
			Kind: t.IncidentTypeName, ProductCategory: deref(t.ProductCategoryName), Account: t.CustomerId,
			Creator: t.XcustomerId, CreatorName: t.XcustomerName, Region: t.DcName, Created: created,
		})
	}
	return out, int(deref(body.TotalCount)), nil
}

// Cases iterates over the tickets ListCases would return on every page
// from opts.Offset on, asking for opts.PageSize at a time until a page
// comes back short. Breaking out of the loop sends no further request. An
// error is yielded once, and ends the iteration. Tickets opened while it
// runs shift the pages (newest first), so a ticket may be seen twice.
func (c *Client) Cases(ctx context.Context, opts ListCasesOptions) iter.Seq2[Case, error] {
	return pages(opts.Offset, opts.PageSize, func(offset int) ([]Case, error) {
		o := opts // a copy: the sequence may be ranged over more than once, even at once
		o.Offset = offset
		page, _, err := c.ListCases(ctx, o)
		return page, err
	})
}

// Action is what UpdateCase does to a ticket.
type Action string

// The actions the service knows; any other is refused with
// ErrUnknownAction.
const (
	ActionCancel Action = "cancel"
	ActionClose  Action = "close"  // the customer confirms the problem is solved
	ActionPress  Action = "press"  // urge the engineers
	ActionDelete Action = "delete" // of a completed or canceled ticket
)

// UpdateOptions come with an action; all are optional.
type UpdateOptions struct {
	Group        string         // act on another member's ticket through this group
	Reason       string         // operate_desc: why
	Judgement    string         // for ActionClose
	Satisfaction []Satisfaction // for ActionClose
}

// UpdateCase applies action to a ticket. Urging a ticket again too soon
// (or too soon after it was opened) is refused with ErrPressTooSoon; an
// action the ticket's status does not allow is refused (the stub answers
// OSM.01010002, ErrForbidden).
//
// It is not retried once the request may have reached the service, even
// with RetryPolicy.RetryUnsafe: a repeated cancel or press that arrives
// after the first is refused, which would hide the first one's success.
func (c *Client) UpdateCase(ctx context.Context, caseID string, action Action, opts UpdateOptions) error {
	if err := checkLen("caseID", caseID, MaxCaseIDLen); err != nil {
		return err
	}
	if err := checkLen("action", string(action), MaxActionLen); err != nil {
		return err
	}
	if err := checkGroup(opts.Group); err != nil {
		return err
	}
	if err := checkJudgement("Reason", opts.Reason); err != nil {
		return err
	}
	if err := checkJudgement("Judgement", opts.Judgement); err != nil {
		return err
	}
	sat, err := satisfactionBody(opts.Satisfaction)
	if err != nil {
		return err
	}
	params := &osmclient.UpdateCasesParams{ActionId: string(action),
		XLanguage: c.lang(), XTimeZone: c.tz(), XSite: site[osmclient.UpdateCasesParamsXSite](c.cfg.site)}
	body := osmclient.UpdateCasesRequestBody{GroupId: optional(opts.Group), OperateDesc: optional(opts.Reason), Judgement: optional(opts.Judgement)}
	if len(sat) > 0 {
		body.IncidentSatisfactionList = &sat
	}
	resp, err := c.api.UpdateCases(actsTwice(ctx), caseID, params, body)
	return c.result("UpdateCases", resp, err, nil)
}

func checkJudgement(arg, v string) error { return checkOptional(arg, v, MaxJudgementLen) }

// wireTime is t as a query parameter: nil for the zero time.
func wireTime(t time.Time) *string {
	if t.IsZero() {
		return nil
	}
	s := t.UTC().Format(TimeLayout)
	return &s
}

// parseTime reads a time of op's response.
func parseTime(op, field, s string) (time.Time, error) {
	t, err := time.Parse(TimeLayout, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("osm %s: %s is not a time such as %s: %w", op, field, TimeLayout, err)
	}
	return t, nil
}

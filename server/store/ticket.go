package store

import (
	"slices"
	"time"
)

// DefaultAccount is the account of a user that names none: every user of a
// fixtures file written before accounts existed.
const DefaultAccount = ""

// Ticket statuses (the API's integer status).
const (
	StatusPending    = 0  // 待受理, to be processed
	StatusProcessing = 1  // 处理中
	StatusToConfirm  = 2  // 待确认结果
	StatusCompleted  = 3  // 已完成
	StatusCanceled   = 4  // 已撤销
	StatusInvalid    = 12 // 无效
	StatusDeleted    = 13 // 已删除
	StatusFeedback   = 17 // 待反馈
)

// TicketDetail is everything about a ticket besides its relations,
// messages and scores, which have their own calls.
type TicketDetail struct {
	Account           string    `json:"account,omitempty" yaml:"account,omitempty"`
	Status            int       `json:"status" yaml:"status,omitempty"`
	BusinessTypeID    string    `json:"business_type_id,omitempty" yaml:"business_type_id,omitempty"`
	ProductCategoryID string    `json:"product_category_id,omitempty" yaml:"product_category_id,omitempty"`
	RegionID          string    `json:"region_id,omitempty" yaml:"region_id,omitempty"`
	SeverityID        string    `json:"severity_id,omitempty" yaml:"severity_id,omitempty"`
	SourceID          string    `json:"source_id,omitempty" yaml:"source_id,omitempty"`
	Created           time.Time `json:"create_time" yaml:"create_time,omitempty"`
	// Pressed is when the owner last urged the ticket (action press); zero
	// if never.
	Pressed      time.Time `json:"pressed_time,omitzero" yaml:"pressed_time,omitempty"`
	Judgement    string    `json:"judgement,omitempty" yaml:"judgement,omitempty"`
	AccessoryIDs []string  `json:"accessory_ids,omitempty" yaml:"accessory_ids,omitempty"`
}

// Message is one message on a ticket, in the order they were added.
type Message struct {
	ID           string    `json:"message_id" yaml:"message_id"`
	Type         int       `json:"type" yaml:"type,omitempty"` // 0 the customer's, 1 an engineer's
	Replier      string    `json:"replier" yaml:"replier"`     // the user's name
	Content      string    `json:"content" yaml:"content"`
	Created      time.Time `json:"create_time" yaml:"create_time"`
	AccessoryIDs []string  `json:"accessory_ids,omitempty" yaml:"accessory_ids,omitempty"`
	// AccessoryNames are the file names of AccessoryIDs, filled by the
	// rules that read messages (not stored).
	AccessoryNames []string `json:"-" yaml:"-"`
}

// Score is one evaluation of a ticket (CreateScores).
type Score struct {
	Author       string         `json:"author" yaml:"author"`
	Judgement    string         `json:"judgement" yaml:"judgement"`
	Satisfaction []Satisfaction `json:"incident_satisfaction_list,omitempty" yaml:"incident_satisfaction_list,omitempty"`
	Created      time.Time      `json:"create_time" yaml:"create_time"`
}

// Satisfaction is one dimension of a Score.
type Satisfaction struct {
	ID    int    `json:"satisfaction_id" yaml:"satisfaction_id"`
	Value int    `json:"satisfaction_value" yaml:"satisfaction_value"`
	Name  string `json:"satisfaction_name,omitempty" yaml:"satisfaction_name,omitempty"`
}

// Accessory is an uploaded attachment. Data is the decoded content.
type Accessory struct {
	ID      string    `json:"accessory_id"`
	Owner   string    `json:"owner"`
	Account string    `json:"account,omitempty"`
	Name    string    `json:"accessory_name"`
	From    string    `json:"accessory_from"` // incident or message
	Data    []byte    `json:"-"`
	Size    int64     `json:"size"`
	Created time.Time `json:"create_time"`
}

// Catalogue is what a caller picks from when opening a ticket. It comes
// from the fixtures; DefaultCatalogue when they give none.
type Catalogue struct {
	ProductCategories []ProductCategory       `json:"product_categories" yaml:"product_categories"`
	ProblemTypes      []ProblemType           `json:"problem_types" yaml:"problem_types"`
	Satisfaction      []SatisfactionDimension `json:"satisfaction_dimensions" yaml:"satisfaction_dimensions"`
}

// ProductCategory is an entry of ListProductCategories.
type ProductCategory struct {
	ID                string `json:"id" yaml:"id"`
	Name              string `json:"name" yaml:"name"`
	Description       string `json:"description,omitempty" yaml:"description,omitempty"`
	Acronym           string `json:"acronym,omitempty" yaml:"acronym,omitempty"`
	CanUseSupportPlan bool   `json:"can_use_support_plan,omitempty" yaml:"can_use_support_plan,omitempty"`
}

// ProblemType is an entry of ListProblemTypes. CaseType is "0"
// (consultation) or "5" (fault report: CreateCases then needs region_id).
type ProblemType struct {
	ID                string   `json:"id" yaml:"id"`
	Name              string   `json:"name" yaml:"name"`
	CaseType          string   `json:"case_type" yaml:"case_type"`
	ProductCategories []string `json:"product_categories,omitempty" yaml:"product_categories,omitempty"` // empty: every category
	CanUseSupportPlan bool     `json:"can_use_support_plan,omitempty" yaml:"can_use_support_plan,omitempty"`
}

// SatisfactionDimension is a dimension a score may rate.
type SatisfactionDimension struct {
	ID          int    `json:"id" yaml:"id"`
	Name        string `json:"name" yaml:"name"`
	Description string `json:"description,omitempty" yaml:"description,omitempty"`
	Value       int    `json:"value,omitempty" yaml:"value,omitempty"`
	PerValue    int    `json:"per_value,omitempty" yaml:"per_value,omitempty"`
	CategoryID  string `json:"category_id,omitempty" yaml:"category_id,omitempty"`
}

// TicketQuery selects tickets for ListCases. Zero fields select all.
type TicketQuery struct {
	Account string   // required: tickets of other accounts are never listed
	Owners  []string // empty: every owner in the account
	ID      string   // exactly this ticket
	AppKey  string   // ID equal to it, or every word of it in the description
	// Statuses: any of them.
	Statuses []int
	// Keys: every key must occur in the description (case-insensitive).
	Keys     []string
	From, To time.Time // Created within [From, To]; zero: open
	Offset   int
	Limit    int // 0: no limit
}

// Clone returns a copy of t that shares no memory with it.
func (t Ticket) Clone() Ticket {
	t.Relations = slices.Clone(t.Relations)
	t.AccessoryIDs = slices.Clone(t.AccessoryIDs)
	t.Messages = slices.Clone(t.Messages)
	for i := range t.Messages {
		t.Messages[i].AccessoryIDs = slices.Clone(t.Messages[i].AccessoryIDs)
	}
	t.Scores = slices.Clone(t.Scores)
	for i := range t.Scores {
		t.Scores[i].Satisfaction = slices.Clone(t.Scores[i].Satisfaction)
	}
	return t
}

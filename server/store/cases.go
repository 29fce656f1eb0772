package store

import (
	"context"
	"errors"
	"fmt"
	"path"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// The ticket flow's rules: creating, reading, listing and acting on tickets,
// their messages, uploads and scores. Like the association rules, each
// function is one transaction on behalf of a caller; a refusal is a
// *RuleError and changes nothing.

// More rule errors (see rules.go).
var (
	// ErrParam: a value the schema allows breaks a rule of the service
	// (OSM.01010001); RuleError.Detail names the field and the rule.
	ErrParam = errors.New("param validation failed")
	// ErrUnknownAction: action_id is not cancel, close, press or delete.
	ErrUnknownAction = errors.New("unknown action")
	// ErrNotNow: the action is not allowed in the ticket's status.
	ErrNotNow = errors.New("action not allowed in this status")
	// ErrPressTooSoon: the ticket was created or urged less than
	// PressCooldown ago.
	ErrPressTooSoon = errors.New("urged too soon")
	// ErrUploadBudget: the caller's uploads of the day would exceed the
	// daily budget.
	ErrUploadBudget = errors.New("daily upload budget exceeded")
)

// MaxMessages and MaxScores bound what one ticket holds, so that
// ShowCaseDetail, which lists them all, stays bounded (the contract allows
// 65535 items; no source gives the service's limits: assumed).
const (
	MaxMessages = 200
	MaxScores   = 20
)

// SourceID is the only source_id the service names ("当前固定为…").
const SourceID = "83aeb0f2834c4df49826c781d32a963e"

// PressCooldown is how long after its creation, and after the last press,
// a ticket cannot be urged again. No source gives the interval (assumed).
const PressCooldown = 30 * time.Minute

// Transition is what an action_id does: allowed in the From statuses, it
// moves the ticket to To (Keep: press leaves the status as it is).
type Transition struct {
	Action string
	From   []int
	To     int
}

// Keep is Transition.To of an action that does not change the status.
const Keep = -1

// Transitions is the one table of the actions of UpdateCases. The sources
// give the console's rules in words ("已派发"/"处理中"), not the statuses
// they lead to, so the table is assumed (docs/fidelity.md).
var Transitions = []Transition{
	{Action: "cancel", From: []int{StatusPending, StatusProcessing, StatusFeedback}, To: StatusCanceled},
	{Action: "close", From: []int{StatusProcessing, StatusToConfirm, StatusFeedback}, To: StatusCompleted},
	{Action: "press", From: []int{StatusPending, StatusProcessing, StatusFeedback}, To: Keep},
	{Action: "delete", From: []int{StatusCompleted, StatusCanceled, StatusInvalid}, To: StatusDeleted},
}

// ScoreStatuses are the statuses in which a ticket may be scored: "after
// processing is complete" (v1's wording).
var ScoreStatuses = []int{StatusToConfirm, StatusCompleted}

// AccessoryLimits are the upload rules ShowAccessoryLimits reports.
type AccessoryLimits struct {
	Count   int      // uploads per ticket or message
	SizeMB  int      // per upload, in MiB
	Types   []string // allowed file extensions, lower case
	DailyMB int      // per user and UTC day of the stub's clock
}

// DefaultAccessoryLimits are the figures of the CN ShowAccessoryLimits
// page (5 files, 4 MB, its list of types); the daily budget is assumed.
var DefaultAccessoryLimits = AccessoryLimits{
	Count:   5,
	SizeMB:  4,
	Types:   []string{"jpg", "jpeg", "bmp", "png", "gif", "txt", "zip", "docx", "msg", "eml", "xlsx", "pdf", "log", "ini", "mp4", "mov"},
	DailyMB: 20,
}

// stamp is now as the rules store it: UTC, whole seconds, as times go on
// the wire, so that every store keeps the same value.
func stamp(now time.Time) time.Time { return now.UTC().Truncate(time.Second) }

// Param is an ErrParam refusal naming field and its rule.
func Param(field, format string, args ...any) error {
	return &RuleError{Err: ErrParam, Detail: field + ": " + fmt.Sprintf(format, args...)}
}

// NewCase is the body of CreateCases that the rules read.
type NewCase struct {
	BusinessTypeID    string
	ProductCategoryID string
	RegionID          string
	SeverityID        string
	SourceID          string
	Description       string
	AccessoryIDs      []string
}

// CreateCase opens a ticket for caller at now: status 0, in caller's
// account, with an ID from the day and a sequence.
func CreateCase(ctx context.Context, s Store, caller string, now time.Time, c NewCase, lim AccessoryLimits) (Ticket, error) {
	var out Ticket
	err := s.Update(ctx, func(tx Tx) error {
		var err error
		out, err = createCase(tx, caller, now, c, lim)
		return err
	})
	return out, err
}

// OpenConsultation opens a ticket for owner at now, as CreateCase does,
// with the catalogue's first consultation problem type (case_type "0"),
// read in the same transaction so that a catalogue loaded meanwhile
// cannot leave it with a type the rules no longer know.
func OpenConsultation(ctx context.Context, s Store, owner string, now time.Time, description string, lim AccessoryLimits) (Ticket, error) {
	var out Ticket
	err := s.Update(ctx, func(tx Tx) error {
		cat, err := catalogue(tx)
		if err != nil {
			return err
		}
		i := slices.IndexFunc(cat.ProblemTypes, func(p ProblemType) bool { return p.CaseType == "0" })
		if i < 0 {
			return fmt.Errorf("the catalogue has no consultation problem type (case_type 0): %w", ErrNotFound)
		}
		out, err = createCase(tx, owner, now, NewCase{BusinessTypeID: cat.ProblemTypes[i].ID, Description: description, SourceID: SourceID}, lim)
		return err
	})
	return out, err
}

// createCase is CreateCase in tx.
func createCase(tx Tx, caller string, now time.Time, c NewCase, lim AccessoryLimits) (Ticket, error) {
	user, err := callerUser(tx, caller)
	if err != nil {
		return Ticket{}, err
	}
	cat, err := catalogue(tx)
	if err != nil {
		return Ticket{}, err
	}
	pt, ok := cat.ProblemType(c.BusinessTypeID)
	switch {
	case !ok:
		return Ticket{}, Param("business_type_id", "unknown problem type %q (ListProblemTypes)", c.BusinessTypeID)
	case c.ProductCategoryID != "" && !slices.ContainsFunc(cat.ProductCategories, func(p ProductCategory) bool { return p.ID == c.ProductCategoryID }):
		return Ticket{}, Param("product_category_id", "unknown product category %q (ListProductCategories)", c.ProductCategoryID)
	case c.ProductCategoryID != "" && len(pt.ProductCategories) > 0 && !slices.Contains(pt.ProductCategories, c.ProductCategoryID):
		return Ticket{}, Param("business_type_id", "problem type %q is not one of product category %q", c.BusinessTypeID, c.ProductCategoryID)
	case pt.CaseType == "5" && c.RegionID == "":
		return Ticket{}, Param("region_id", "required when the problem type's case_type is 5")
	case c.SourceID != "" && c.SourceID != SourceID:
		return Ticket{}, Param("source_id", "must be %s", SourceID)
	case strings.TrimSpace(c.Description) == "":
		return Ticket{}, Param("simple_description", "must not be blank")
	}
	if err := checkAccessories(tx, user, "accessory_ids", c.AccessoryIDs, lim); err != nil {
		return Ticket{}, err
	}
	id, err := freshID(tx, "ticket", "CS"+stamp(now).Format("20060102"), func(id string) error { _, err := tx.Ticket(id); return err })
	if err != nil {
		return Ticket{}, err
	}
	out := Ticket{
		ID: id, Owner: user.Name, Description: c.Description,
		TicketDetail: TicketDetail{
			Account: user.Account, Status: StatusPending, BusinessTypeID: c.BusinessTypeID,
			ProductCategoryID: c.ProductCategoryID, RegionID: c.RegionID, SeverityID: c.SeverityID,
			SourceID: c.SourceID, Created: stamp(now), AccessoryIDs: slices.Clone(c.AccessoryIDs),
		},
	}
	if err := tx.PutTicket(out); err != nil {
		return Ticket{}, err
	}
	// The description is the ticket's first message, as the console
	// shows it (is_first_message).
	if err := addMessage(tx, id, Message{Replier: user.Name, Content: c.Description, Created: stamp(now), AccessoryIDs: slices.Clone(c.AccessoryIDs)}); err != nil {
		return Ticket{}, err
	}
	return out, nil
}

// freshID returns prefix and the next value of counter, skipping IDs that
// exist (lookup finds them): a counter starts again at 1 in a new process
// whose state was loaded from a snapshot.
func freshID(tx Tx, counter, prefix string, lookup func(id string) error) (string, error) {
	for {
		n, err := tx.NextID(counter)
		if err != nil {
			return "", err
		}
		id := fmt.Sprintf("%s%06d", prefix, n)
		switch err := lookup(id); {
		case errors.Is(err, ErrNotFound):
			return id, nil
		case err != nil:
			return "", err
		}
	}
}

// checkAccessories checks that every id is an upload of user's account,
// at most lim.Count of them.
func checkAccessories(tx Tx, user User, field string, ids []string, lim AccessoryLimits) error {
	if len(ids) > lim.Count {
		return Param(field, "at most %d attachments", lim.Count)
	}
	for i, id := range ids {
		a, err := tx.Accessory(id)
		if errors.Is(err, ErrNotFound) || (err == nil && a.Account != user.Account) {
			return Param(fmt.Sprintf("%s[%d]", field, i), "unknown attachment %q (UploadJsonAccessories)", id)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// ShowCase returns ticket id with its messages, scores and Names, if
// caller owns it or shares group with its owner.
func ShowCase(ctx context.Context, s Store, caller, id, group string) (Ticket, error) {
	var out Ticket
	err := s.View(ctx, func(tx Tx) error {
		_, t, err := callerTicket(tx, caller, id, group)
		if err != nil {
			return err
		}
		if t.Messages, _, err = tx.Messages(id, 0, 0); err != nil {
			return err
		}
		if err := nameAccessories(tx, t.Messages); err != nil {
			return err
		}
		if t.Scores, err = tx.Scores(id); err != nil {
			return err
		}
		cat, err := catalogue(tx)
		if err != nil {
			return err
		}
		t.Names = cat.names(t)
		out = t
		return nil
	})
	return out, err
}

// CaseStatus returns the status of ticket id. ShowCaseStatus carries no
// group_id, so, as ListRelation, any group caller shares with the owner
// will do.
func CaseStatus(ctx context.Context, s Store, caller, id string) (int, error) {
	var status int
	err := s.View(ctx, func(tx Tx) error {
		user, err := callerUser(tx, caller)
		if err != nil {
			return err
		}
		t, err := visible(tx, user, id)
		if err != nil {
			return err
		}
		if !mayRead(tx, user, t) {
			return refuse(ErrNoPermission, id)
		}
		status = t.Status
		return nil
	})
	return status, err
}

// CaseQuery is what ListCases filters on; the account is the caller's.
type CaseQuery struct {
	Group    string // also the tickets of the group's members
	ID       string
	AppKey   string // the ticket's ID, or a word of its description
	Statuses []int  // any of them
	Keys     []string
	// NoLabels: the query names labels; the stub has none, so it selects
	// nothing.
	NoLabels bool
	From, To time.Time
	Offset   int
	Limit    int
}

// ListCases returns a page of the tickets caller may see (with their
// Names), newest first, and how many there are: its own, and with a group it belongs to, those of the
// group's members.
func ListCases(ctx context.Context, s Store, caller string, q CaseQuery) ([]Ticket, int, error) {
	var page []Ticket
	var total int
	err := s.View(ctx, func(tx Tx) error {
		user, err := callerUser(tx, caller)
		if err != nil {
			return err
		}
		owners := []string{user.Name}
		if q.Group != "" {
			if !user.InGroup(q.Group) {
				return refuse(ErrNoPermission, "")
			}
			if owners, err = tx.GroupMembers(user.Account, q.Group); err != nil {
				return err
			}
		}
		if q.NoLabels {
			return nil
		}
		var keys []string
		for _, k := range q.Keys {
			keys = append(keys, strings.Fields(k)...) // "several, separated by spaces"
		}
		page, total, err = tx.Tickets(TicketQuery{
			Account: user.Account, Owners: owners, ID: q.ID, AppKey: q.AppKey, Statuses: q.Statuses, Keys: keys,
			From: q.From, To: q.To, Offset: q.Offset, Limit: q.Limit,
		})
		if err != nil || len(page) == 0 {
			return err
		}
		cat, err := catalogue(tx)
		for i := range page {
			page[i].Names = cat.names(page[i])
		}
		return err
	})
	return page, total, err
}

// Action is UpdateCases's input besides the ticket and the action.
type Action struct {
	Group     string
	Judgement string // becomes the ticket's
}

// Act applies action to ticket id at now, per Transitions; press also
// keeps PressCooldown.
func Act(ctx context.Context, s Store, caller, id, action string, now time.Time, a Action) error {
	i := slices.IndexFunc(Transitions, func(t Transition) bool { return t.Action == action })
	if i < 0 {
		return refuse(ErrUnknownAction, id)
	}
	tr := Transitions[i]
	return s.Update(ctx, func(tx Tx) error {
		_, t, err := callerTicket(tx, caller, id, a.Group)
		if err != nil {
			return err
		}
		if !slices.Contains(tr.From, t.Status) {
			return refuse(ErrNotNow, id)
		}
		if tr.To == Keep {
			last := t.Created
			if t.Pressed.After(last) {
				last = t.Pressed
			}
			if now.Before(last.Add(PressCooldown)) {
				return refuse(ErrPressTooSoon, id)
			}
			t.Pressed = stamp(now)
		} else {
			t.Status = tr.To
		}
		if a.Judgement != "" {
			t.Judgement = a.Judgement
		}
		return tx.UpdateTicket(t)
	})
}

// AddMessage adds caller's message to ticket id at now. A deleted ticket
// takes no messages.
func AddMessage(ctx context.Context, s Store, caller, id, group string, now time.Time, content string, accessoryIDs []string, lim AccessoryLimits) error {
	return s.Update(ctx, func(tx Tx) error {
		user, t, err := callerTicket(tx, caller, id, group)
		if err != nil {
			return err
		}
		if t.Status == StatusDeleted {
			return refuse(ErrNotNow, id)
		}
		if strings.TrimSpace(content) == "" {
			return Param("message.content", "must not be blank")
		}
		if err := checkAccessories(tx, user, "message.accessory_ids", accessoryIDs, lim); err != nil {
			return err
		}
		return addMessage(tx, id, Message{Type: 0, Replier: user.Name, Content: content, Created: stamp(now), AccessoryIDs: slices.Clone(accessoryIDs)})
	})
}

// Reply adds an engineer's message (type 1) to ticket id, for tests that
// play the support staff: no permission checks.
func Reply(ctx context.Context, s Store, id, replier, content string, now time.Time) error {
	return s.Update(ctx, func(tx Tx) error {
		if _, err := ticket(tx, id); err != nil {
			return err
		}
		return addMessage(tx, id, Message{Type: 1, Replier: replier, Content: content, Created: stamp(now)})
	})
}

func addMessage(tx Tx, id string, m Message) error {
	_, n, err := tx.Messages(id, 0, 1)
	if err != nil {
		return err
	}
	if n >= MaxMessages {
		return Param("message", "a ticket holds at most %d messages", MaxMessages)
	}
	m.ID = MessageID(id, n+1)
	return tx.AddMessage(id, m)
}

// MessageID is the ID the stub gives the message at position pos (from 1)
// of ticket: unique by construction, as ticket IDs are and messages are
// never removed, where a counter would start again in a new process and
// repeat an ID a loaded data set holds. Validate refuses a data set's ID of
// this form anywhere else.
func MessageID(ticket string, pos int) string { return ticket + "-" + strconv.Itoa(pos) }

// nameAccessories fills the messages' AccessoryNames.
func nameAccessories(tx Tx, msgs []Message) error {
	for i := range msgs {
		m := &msgs[i]
		m.AccessoryNames = make([]string, len(m.AccessoryIDs))
		for j, id := range m.AccessoryIDs {
			a, err := tx.Accessory(id)
			if errors.Is(err, ErrNotFound) {
				continue // an upload of a deleted account's user
			}
			if err != nil {
				return err
			}
			m.AccessoryNames[j] = a.Name
		}
	}
	return nil
}

// ListMessages returns a page of ticket id's messages, oldest first, and
// how many it has.
func ListMessages(ctx context.Context, s Store, caller, id, group string, offset, limit int) ([]Message, int, error) {
	var page []Message
	var total int
	err := s.View(ctx, func(tx Tx) error {
		_, _, err := callerTicket(tx, caller, id, group)
		if err != nil {
			return err
		}
		if page, total, err = tx.Messages(id, offset, limit); err != nil {
			return err
		}
		return nameAccessories(tx, page)
	})
	return page, total, err
}

// SetStatus moves ticket id to status, for tests that play the support
// staff: no permission checks and no transition rules.
func SetStatus(ctx context.Context, s Store, id string, status int) error {
	return s.Update(ctx, func(tx Tx) error {
		t, err := ticket(tx, id)
		if err != nil {
			return err
		}
		t.Status = status
		return tx.UpdateTicket(t)
	})
}

// Upload stores caller's attachment at now after checking lim: the file
// type by its name's extension, the size, and the day's budget.
func Upload(ctx context.Context, s Store, caller string, now time.Time, name, from string, data []byte, lim AccessoryLimits) (Accessory, error) {
	ext := strings.ToLower(strings.TrimPrefix(path.Ext(name), "."))
	switch {
	case !slices.Contains(lim.Types, ext):
		return Accessory{}, Param("accessory_name", "file type %q is not one of %s", ext, strings.Join(lim.Types, ","))
	case len(data) == 0:
		return Accessory{}, Param("accessory_data", "must not be empty")
	case len(data) > lim.SizeMB<<20:
		return Accessory{}, Param("accessory_data", "%d bytes, more than %d MB", len(data), lim.SizeMB)
	case utf8.RuneCountInString(name) > 512:
		return Accessory{}, Param("accessory_name", "at most 512 characters")
	}
	var out Accessory
	err := s.Update(ctx, func(tx Tx) error {
		user, err := callerUser(tx, caller)
		if err != nil {
			return err
		}
		day := stamp(now).Truncate(24 * time.Hour)
		used, err := tx.AccessoryBytes(user.Name, day)
		if err != nil {
			return err
		}
		if used+int64(len(data)) > int64(lim.DailyMB)<<20 {
			return refuse(ErrUploadBudget, "")
		}
		id, err := freshID(tx, "accessory", "ACC", func(id string) error { _, err := tx.Accessory(id); return err })
		if err != nil {
			return err
		}
		out = Accessory{
			ID: id, Owner: user.Name, Account: user.Account, Name: name, From: from,
			Data: data, Size: int64(len(data)), Created: stamp(now),
		}
		return tx.PutAccessory(out)
	})
	return out, err
}

// AddScore records caller's evaluation of ticket id at now; a ticket is
// scored in ScoreStatuses only, and each satisfaction id must be one of the
// catalogue's dimensions. The judgement becomes the ticket's.
func AddScore(ctx context.Context, s Store, caller, id, group string, now time.Time, judgement string, sat []Satisfaction) error {
	return s.Update(ctx, func(tx Tx) error {
		user, t, err := callerTicket(tx, caller, id, group)
		if err != nil {
			return err
		}
		if !slices.Contains(ScoreStatuses, t.Status) {
			return refuse(ErrNotNow, id)
		}
		cat, err := catalogue(tx)
		if err != nil {
			return err
		}
		for i, v := range sat {
			j := slices.IndexFunc(cat.Satisfaction, func(d SatisfactionDimension) bool { return d.ID == v.ID })
			field := fmt.Sprintf("incident_satisfaction_list[%d]", i)
			switch {
			case j < 0:
				return Param(field+".satisfaction_id", "unknown satisfaction dimension %d", v.ID)
			case cat.Satisfaction[j].Value > 0 && v.Value > cat.Satisfaction[j].Value:
				return Param(field+".satisfaction_value", "at most %d for dimension %d", cat.Satisfaction[j].Value, v.ID)
			}
		}
		if scores, err := tx.Scores(id); err != nil || len(scores) >= MaxScores {
			if err != nil {
				return err
			}
			return Param("judgement", "a ticket holds at most %d scores", MaxScores)
		}
		if err := tx.AddScore(id, Score{Author: user.Name, Judgement: judgement, Satisfaction: slices.Clone(sat), Created: stamp(now)}); err != nil {
			return err
		}
		t.Judgement = judgement
		return tx.UpdateTicket(t)
	})
}

// catalogue is the stored catalogue, or DefaultCatalogue in a store that
// holds none: a database the previous release wrote keeps its state on an
// upgrade, and the fixtures (with their catalogue) are not loaded into it.
func catalogue(tx Tx) (Catalogue, error) {
	c, err := tx.Catalogue()
	if err == nil && len(c.ProblemTypes) == 0 && len(c.ProductCategories) == 0 && len(c.Satisfaction) == 0 {
		return DefaultCatalogue(), nil
	}
	return c, err
}

// ReadCatalogue returns the catalogue.
func ReadCatalogue(ctx context.Context, s Store) (Catalogue, error) {
	var c Catalogue
	err := s.View(ctx, func(tx Tx) error {
		var err error
		c, err = catalogue(tx)
		return err
	})
	return c, err
}

package conform

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/osmstub/osmstub/server/store"
)

// The ticket flow's checks. tickets only reads, or sends what must be
// refused and changes nothing: an unknown ticket is a random ID (the only
// ticket a cancel, a message or a score is sent to), and the only action
// sent to a given ticket is one that is not an action.
// ticketFlow opens a real ticket, only with Config.AllowCreate: against
// the live service it reaches Huawei's support staff. The cleanup cancels
// it. Never is press, cancel, close or delete sent to a given ticket.

// Paths of the catalogue and the attachments.
const (
	productCategoriesPath = "/v2/servicerequest/config/product-categories"
	problemTypesPath      = "/v2/servicerequest/config/problems"
	limitsPath            = "/v2/servicerequest/accessorys/limits"
	uploadPath            = "/v2/servicerequest/accessorys/json-format-content"
)

// noAction is the action_id of the unknown-action check: not one of the
// four, so the service refuses it (OSM.01010013) whatever the ticket.
const noAction = "noop"

// The bodies sent to the unknown ticket: valid, so that only the unknown
// ticket refuses them.
const (
	unknownMessage = `{"message":{"content":"A message of a conformance run (osm-stub conform) to a ticket that does not exist."}}`
	unknownScore   = `{"judgement":"A score of a conformance run (osm-stub conform) for a ticket that does not exist.","incident_satisfaction_list":[]}`
)

// flowName names the skipped check of a run without AllowCreate.
const flowName = "ticket flow: upload, open, show, list, message and cancel a ticket"

func (r *runner) tickets(ctx context.Context) error {
	// The catalogues are the endpoint's (its region's, its account's):
	// names and counts cannot equal the stub's demo data, so only the
	// envelope is compared; the contract checks every entry.
	pt := call{method: http.MethodGet, target: problemTypesPath, rule: sameEnvelope}
	named := []namedCall{
		{"catalogue: product categories", call{method: http.MethodGet, target: productCategoriesPath, rule: sameEnvelope}},
	}
	if err := r.steps(ctx, named...); err != nil {
		return err
	}
	both, err := r.exchange(ctx, "catalogue: problem types", pt, pt, hooks{})
	if err != nil {
		return err
	}
	if both != nil {
		r.problemTypes = &both[0]
	}
	unknown := randomID()
	a := r.cfg.Cases[0]
	named = []namedCall{
		// Three strings on every implementation: the shape is compared (a
		// number where the SDK wants a string shows), not the values.
		{"attachment limits", call{method: http.MethodGet, target: limitsPath}},
		// The endpoint's newest ticket is not the stub's: the envelope only.
		{"list tickets: the first page (limit 1)", call{method: http.MethodGet, target: withQuery(casesPath, url.Values{"limit": {"1"}}), rule: sameEnvelope}},
	}
	for _, id := range r.cfg.Cases {
		// A given ticket's details, messages and status are the endpoint's;
		// the stub knows only that it exists and is the caller's. Its
		// status is compared by shape, the rest by envelope; the list by
		// ID must name exactly that ticket on both.
		named = append(named,
			namedCall{"list tickets: incident_id " + id, call{method: http.MethodGet, target: withQuery(casesPath, r.groupQuery(url.Values{"incident_id": {id}})), rule: sameTickets}},
			namedCall{"show " + id, call{method: http.MethodGet, target: caseTarget(id, "", r.groupQuery(nil)), rule: sameEnvelope}},
			namedCall{"status of " + id, call{method: http.MethodGet, target: caseTarget(id, "/status", nil)}},
			namedCall{"messages of " + id, call{method: http.MethodGet, target: caseTarget(id, "/messages", r.groupQuery(nil)), rule: sameEnvelope}},
		)
	}
	named = append(named,
		namedCall{"unknown ticket: show " + unknown, call{method: http.MethodGet, target: caseTarget(unknown, "", nil)}},
		namedCall{"unknown ticket: status of " + unknown, call{method: http.MethodGet, target: caseTarget(unknown, "/status", nil)}},
		namedCall{"unknown ticket: cancel " + unknown, actionCall(unknown, "cancel", "{}")},
		// CreateMessages and CreateScores are checked only where they must
		// be refused: on a given ticket a message reaches the support
		// staff, and a score cannot be taken back.
		namedCall{"unknown ticket: message " + unknown, call{method: http.MethodPost, target: caseTarget(unknown, "/message", nil), body: unknownMessage}},
		namedCall{"unknown ticket: score " + unknown, call{method: http.MethodPost, target: caseTarget(unknown, "/score", nil), body: unknownScore}},
		namedCall{"unknown action " + noAction + " on " + a, actionCall(a, noAction, r.groupBody())},
	)
	return r.steps(ctx, named...)
}

// ticketFlow opens a consultation with an attachment, shows, lists and
// messages it; the cleanup cancels it.
func (r *runner) ticketFlow(ctx context.Context) error {
	if !r.cfg.AllowCreate {
		r.add(Check{Name: flowName, Verdict: Skipped, OptIn: true,
			Reason: "opt-in: it opens a real ticket, which on the live service reaches Huawei's support staff; -allow-create runs it and cancels the ticket at the end"})
		return nil
	}
	pt, reason := r.consultation()
	if reason != "" {
		r.skip(flowName, reason)
		return nil
	}
	if err := r.ref.addProblemType(context.WithoutCancel(ctx), pt); err != nil {
		return err
	}
	r.marker = "osmstubconform" + strings.ToLower(strings.TrimPrefix(randomID(), "NOSUCH-"))

	up := call{method: http.MethodPost, target: uploadPath, body: uploadBody()}
	both, err := r.exchange(ctx, "ticket flow: upload a .txt attachment (accessory_from incident)", up, up, hooks{})
	if err != nil {
		return err
	}
	var liveAcc, refAcc string
	if both != nil {
		liveAcc, _ = both[0].field("accessory_id")
		refAcc, _ = both[1].field("accessory_id")
	}

	live, ref := r.openCall(pt.ID, liveAcc), r.openCall(pt.ID, refAcc)
	both, err = r.exchange(ctx, "ticket flow: open a consultation ("+pt.ID+")", live, ref, hooks{
		sending: func() { r.opening = true },
		answered: func(got Response) {
			// Written down before anything else can fail: the cleanup
			// cancels it.
			if id, ok := got.field("incident_id"); ok && got.succeeded() && id != "" {
				r.opened = id
				r.rep.Opened = []Opened{{ID: id}}
			} else if got.Code != "" && got.Status < http.StatusInternalServerError {
				r.opening = false // refused: nothing was opened
			}
		},
	})
	if err != nil || both == nil {
		return err
	}
	if r.opened == "" {
		r.skip("ticket flow: show, list and message the new ticket", "the endpoint opened no ticket")
		return nil
	}
	r.refOpened, _ = both[1].field("incident_id")
	refID := r.refOpened
	if refID == "" {
		refID = r.opened // the stub refused: it answers for an unknown ticket
	}
	msg := `{"message":{"content":"A message of the conformance run; no answer needed."}}`
	pairs := []struct {
		name      string
		live, ref call
	}{
		// A ticket both sides opened the same way: the whole shape.
		{"ticket flow: show the new ticket", call{method: http.MethodGet, target: caseTarget(r.opened, "", nil)}, call{method: http.MethodGet, target: caseTarget(refID, "", nil)}},
		{"ticket flow: the new ticket's status", call{method: http.MethodGet, target: caseTarget(r.opened, "/status", nil), rule: sameStatus}, call{method: http.MethodGet, target: caseTarget(refID, "/status", nil)}},
		{"ticket flow: list tickets finds the new ticket (incident_id)", call{method: http.MethodGet, target: withQuery(casesPath, url.Values{"incident_id": {r.opened}}), rule: sameTickets},
			call{method: http.MethodGet, target: withQuery(casesPath, url.Values{"incident_id": {refID}})}},
		{"ticket flow: add a message to the new ticket", call{method: http.MethodPost, target: caseTarget(r.opened, "/message", nil), body: msg}, call{method: http.MethodPost, target: caseTarget(refID, "/message", nil), body: msg}},
		{"ticket flow: the new ticket's messages", call{method: http.MethodGet, target: caseTarget(r.opened, "/messages", nil)}, call{method: http.MethodGet, target: caseTarget(refID, "/messages", nil)}},
	}
	for _, p := range pairs {
		if _, err := r.exchange(ctx, p.name, p.live, p.ref, hooks{}); err != nil {
			return err
		}
	}
	return nil
}

// consultation picks the first problem type of the endpoint's catalogue
// whose case_type is "0", or says why there is none.
func (r *runner) consultation() (store.ProblemType, string) {
	if r.problemTypes == nil || !r.problemTypes.succeeded() {
		return store.ProblemType{}, "the endpoint's problem types could not be read, so no ticket is opened"
	}
	var body struct {
		List []struct {
			ID       string `json:"business_type_id"`
			Name     string `json:"business_type_name"`
			CaseType string `json:"case_type"`
		} `json:"incident_business_type_list"`
	}
	_ = json.Unmarshal(r.problemTypes.raw, &body)
	for _, p := range body.List {
		if p.CaseType == "0" && p.ID != "" {
			return store.ProblemType{ID: p.ID, Name: p.Name, CaseType: p.CaseType}, ""
		}
	}
	return store.ProblemType{}, `the endpoint's problem types hold no consultation (case_type "0"), so no ticket is opened`
}

// openCall is the CreateCases of the flow: a consultation naming the
// attachment acc when there is one, and the run's marker.
func (r *runner) openCall(problemType, acc string) call {
	body := map[string]any{
		"business_type_id": problemType,
		"simple_description": "Test ticket of an automated conformance run (osm-stub conform), canceled at once; no action needed. " +
			r.marker,
		"source_id": store.SourceID,
	}
	if acc != "" {
		body["accessory_ids"] = []string{acc}
	}
	b, _ := json.Marshal(body)
	return call{method: http.MethodPost, target: casesPath, body: string(b)}
}

func uploadBody() string {
	data := base64.StdEncoding.EncodeToString([]byte("An attachment of an automated conformance run (osm-stub conform).\n"))
	b, _ := json.Marshal(map[string]string{"accessory_name": "osm-stub-conform.txt", "accessory_from": "incident", "accessory_data": data})
	return string(b)
}

// actionCall is UpdateCases of ticket id with action.
func actionCall(id, action, body string) call {
	return call{method: http.MethodPost, target: caseTarget(id, "/action", url.Values{"action_id": {action}}), body: body}
}

// groupQuery adds the run's group_id to q, when there is one.
func (r *runner) groupQuery(q url.Values) url.Values {
	if r.cfg.Group == "" {
		return q
	}
	if q == nil {
		q = url.Values{}
	}
	q.Set("group_id", r.cfg.Group)
	return q
}

// groupBody is a JSON object with the run's group_id, if any.
func (r *runner) groupBody() string {
	return "{" + strings.TrimPrefix(r.groupField(), ",") + "}"
}

// cancelOpened cancels the ticket the run opened, in the cleanup: the one
// the create's answer named, or, when it got no answer, any ticket the
// marker finds. judged adds the cancel and the status after it as checks,
// compared with the stub (not when the run was interrupted).
func (r *runner) cancelOpened(ctx context.Context, judged bool) {
	if !r.opening {
		return
	}
	ids := []string{r.opened}
	if r.opened == "" {
		ids = r.findOpened(ctx)
		judged = false
	}
	r.rep.Opened = nil
	for _, id := range ids {
		r.rep.Opened = append(r.rep.Opened, r.cancel(ctx, id, judged))
	}
}

// cancel cancels ticket id and reads its status after.
func (r *runner) cancel(ctx context.Context, id string, judged bool) Opened {
	o := Opened{ID: id}
	c := actionCall(id, "cancel", `{"operate_desc":"Opened by a conformance run (osm-stub conform) and canceled by it."}`)
	resp, err := r.live.send(ctx, c)
	switch {
	case err != nil:
		r.note("could not cancel the ticket the run opened, %s: %v: cancel it by hand", id, err)
	case !resp.succeeded():
		r.note("could not cancel the ticket the run opened, %s: %d %s %s", id, resp.Status, resp.Code, resp.Message)
	default:
		o.Canceled = true
		r.note("canceled the ticket the run opened, %s", id)
	}
	if err == nil && judged {
		ref := c
		ref.target = caseTarget(r.refID(), "/action", url.Values{"action_id": {"cancel"}})
		if stub, err := r.ref.send(ctx, ref); err == nil {
			r.add(judgeAs("cleanup: cancel the new ticket", c, resp, stub, r.alias()))
		}
	}
	st := call{method: http.MethodGet, target: caseTarget(id, "/status", nil), rule: sameStatus}
	resp, err = r.live.send(ctx, st)
	if v, ok := resp.field("status"); err == nil && resp.succeeded() && ok {
		n, _ := strconv.Atoi(v)
		o.Status = &n
	}
	if err == nil && judged {
		ref := st
		ref.target = caseTarget(r.refID(), "/status", nil)
		if stub, err := r.ref.send(ctx, ref); err == nil {
			r.add(judgeAs("cleanup: the new ticket's status after the cancel", st, resp, stub, r.alias()))
		}
	}
	switch {
	case o.Status == nil:
		r.rep.Restored = false
		r.note("%s: could not read its status after the cancel: check it by hand", id)
	case *o.Status != store.StatusCanceled:
		r.rep.Restored = false
		r.note("%s: status %d after the cleanup, not %d (canceled): cancel it by hand", id, *o.Status, store.StatusCanceled)
	default:
		r.note("%s: status %d (canceled)", id, *o.Status)
	}
	return o
}

// refID is the stub's ID of the ticket the run opened.
func (r *runner) refID() string {
	if r.refOpened != "" {
		return r.refOpened
	}
	return r.opened
}

// findOpened lists the caller's tickets whose description holds the
// run's marker: the create was sent, but its answer never came.
func (r *runner) findOpened(ctx context.Context) []string {
	c := call{method: http.MethodGet, target: withQuery(casesPath, url.Values{"search_key": {r.marker}, "limit": {"10"}})}
	resp, err := r.live.send(ctx, c)
	if err != nil || !resp.succeeded() {
		r.rep.Restored = false
		r.note("the create of a ticket got no answer, and the tickets holding %q could not be listed: look for one and cancel it by hand", r.marker)
		return nil
	}
	ids := resp.listedTickets()
	if len(ids) == 0 {
		// Not found: most likely never opened, but a list may lag.
		r.rep.Restored = false
		r.note("the create of a ticket got no answer and no ticket holds %q yet: look for one later and cancel it by hand", r.marker)
	}
	return ids
}

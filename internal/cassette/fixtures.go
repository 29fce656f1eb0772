package cassette

import (
	"encoding/json"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/osmstub/osmstub/server/store"
)

// Names the fixtures give to what a cassette cannot show.
const (
	// CallerName owns the tickets the session acted on whose owner no
	// answer named; its token is CallerToken.
	CallerName  = "caller"
	CallerToken = "caller-token"
	// CallerGroup holds every user, so the caller may act on each ticket
	// as the session did.
	CallerGroup        = "recorded"
	defaultDescription = "recorded ticket"
)

const relationsPrefix, relationsSuffix = "/v2/servicerequest/cases/", "/relations"

// Fixtures turns a session into a data set: every ticket the session
// named, with its owner and description when a ListRelation answer gave
// them, and the associations as they stood at the end (what answers
// listed, then what successful changes did). Users are the owners the
// answers named plus CallerName, all in the session's group (the first
// group_id sent, else CallerGroup), each with the token "<name>-token".
func Fixtures(exchanges []Exchange) (store.Dataset, error) {
	b := builder{tickets: map[string]*store.Ticket{}, rel: map[string][]string{}, users: map[string]bool{CallerName: true}}
	for i := range exchanges {
		b.exchange(&exchanges[i])
	}
	return b.dataset()
}

type builder struct {
	order   []string // ticket IDs in the order seen
	tickets map[string]*store.Ticket
	rel     map[string][]string
	users   map[string]bool
	group   string
}

func (b *builder) ticket(id string) *store.Ticket {
	t := b.tickets[id]
	if t == nil {
		t = &store.Ticket{ID: id}
		b.tickets[id] = t
		b.order = append(b.order, id)
	}
	return t
}

func (b *builder) link(a, c string) {
	if a == c {
		return
	}
	if !slices.Contains(b.rel[a], c) {
		b.rel[a] = append(b.rel[a], c)
	}
	if !slices.Contains(b.rel[c], a) {
		b.rel[c] = append(b.rel[c], a)
	}
}

func (b *builder) unlink(a, c string) {
	b.rel[a] = slices.DeleteFunc(b.rel[a], func(s string) bool { return s == c })
	b.rel[c] = slices.DeleteFunc(b.rel[c], func(s string) bool { return s == a })
}

func (b *builder) exchange(x *Exchange) {
	rest, ok := strings.CutPrefix(x.Request.Path, relationsPrefix)
	if !ok {
		return
	}
	rest, ok = strings.CutSuffix(rest, relationsSuffix)
	caseID, err := url.PathUnescape(rest)
	if !ok || err != nil || caseID == "" || strings.Contains(rest, "/") {
		return
	}
	var in struct {
		RelatedIDList []string `json:"related_id_list"`
		RelatedID     string   `json:"related_id"`
		GroupID       string   `json:"group_id"`
	}
	_ = json.Unmarshal(x.Request.Body, &in)
	if b.group == "" && in.GroupID != "" {
		b.group = in.GroupID
	}
	var out struct {
		ErrorCode string `json:"error_code"`
		List      *[]struct {
			CaseID      string `json:"case_id"`
			Description string `json:"simple_description"`
			UserName    string `json:"user_name"`
		} `json:"case_relation_list"`
	}
	if x.Response.Status != http.StatusOK || json.Unmarshal(x.Response.Body, &out) != nil || out.ErrorCode != "" {
		return // a refusal: nothing is known to exist or to have changed
	}
	b.ticket(caseID)
	switch x.Request.Method {
	case http.MethodGet:
		if out.List == nil {
			return
		}
		for _, r := range b.rel[caseID] {
			b.unlink(caseID, r)
		}
		for _, r := range *out.List {
			if r.CaseID == "" {
				continue
			}
			t := b.ticket(r.CaseID)
			if r.Description != "" {
				t.Description = r.Description
			}
			if r.UserName != "" {
				t.Owner = r.UserName
				b.users[r.UserName] = true
			}
			b.link(caseID, r.CaseID)
		}
	case http.MethodPost:
		for _, id := range in.RelatedIDList {
			b.ticket(id)
			b.link(caseID, id)
		}
	case http.MethodDelete:
		if in.RelatedID != "" {
			b.ticket(in.RelatedID)
			b.unlink(caseID, in.RelatedID)
		}
	}
}

func (b *builder) dataset() (store.Dataset, error) {
	group := b.group
	if group == "" {
		group = CallerGroup
	}
	var d store.Dataset
	for _, name := range slices.Sorted(maps.Keys(b.users)) {
		d.Users = append(d.Users, store.User{Name: name, Groups: []string{group}, Tokens: []string{name + "-token"}})
	}
	for _, id := range b.order {
		t := *b.tickets[id]
		if t.Owner == "" {
			t.Owner = CallerName
		}
		if t.Description == "" {
			t.Description = defaultDescription
		}
		t.Relations = slices.Clone(b.rel[id])
		d.Tickets = append(d.Tickets, t)
	}
	return d, d.Validate()
}

package store_test

import (
	"strings"
	"testing"

	"github.com/osmstub/osmstub/gen"
	"github.com/osmstub/osmstub/gen/controlapi"
	"github.com/osmstub/osmstub/server/store"
)

// TestLimitsMatchControlAPI: Dataset.Validate, which checks every fixtures
// file and data set, takes each string at the control API's maxLength
// (counted in characters, as kin-openapi counts) and refuses it one longer,
// and empty unless its minLength is 0 (an absent message_id, which Load
// gives), so that a data set the control API accepts loads from a file,
// and the other way round. The document is the one the control API
// validates with (controlapi.GetSpec, generated from control.openapi.yaml).
func TestLimitsMatchControlAPI(t *testing.T) {
	doc, err := controlapi.GetSpec()
	if err != nil {
		t.Fatal(err)
	}
	valid := func() store.Dataset {
		return store.Dataset{
			Users: []store.User{{Name: "u", Tokens: []string{"t"}, Keys: []store.AccessKey{{AK: "a", SK: "s"}}}},
			Tickets: []store.Ticket{{ID: "T", Owner: "u", Description: "d",
				Messages: []store.Message{{ID: "M", Type: 1, Replier: "engineer", Content: "c"}},
				Scores:   []store.Score{{Author: "u", Judgement: "j"}}}},
		}
	}
	// A user's name is also its tickets' owner and its scores' author.
	rename := func(d *store.Dataset, v string) {
		d.Users[0].Name, d.Tickets[0].Owner, d.Tickets[0].Scores[0].Author = v, v, v
	}
	for _, c := range []struct {
		schema, prop string
		field        string // as Validate names it
		set          func(d *store.Dataset, v string)
	}{
		{"User", "name", "users[0].name", rename},
		{"User", "tokens", "users[0].tokens[0]", func(d *store.Dataset, v string) { d.Users[0].Tokens[0] = v }},
		{"AccessKey", "ak", "users[0].access_keys[0].ak", func(d *store.Dataset, v string) { d.Users[0].Keys[0].AK = v }},
		{"AccessKey", "sk", "users[0].access_keys[0].sk", func(d *store.Dataset, v string) { d.Users[0].Keys[0].SK = v }},
		{"Ticket", "id", "tickets[0].id", func(d *store.Dataset, v string) { d.Tickets[0].ID = v }},
		{"Ticket", "owner", "users[0].name", rename},
		{"Ticket", "simple_description", "tickets[0].simple_description", func(d *store.Dataset, v string) { d.Tickets[0].Description = v }},
		{"NewTicket", "id", "tickets[0].id", func(d *store.Dataset, v string) { d.Tickets[0].ID = v }},
		{"NewTicket", "owner", "users[0].name", rename},
		{"NewTicket", "simple_description", "tickets[0].simple_description", func(d *store.Dataset, v string) { d.Tickets[0].Description = v }},
		{"User", "account", "users[0].account", func(d *store.Dataset, v string) { d.Users[0].Account = v }},
		{"Message", "message_id", "tickets[0].messages[0].message_id", func(d *store.Dataset, v string) { d.Tickets[0].Messages[0].ID = v }},
		{"Message", "replier", "tickets[0].messages[0].replier", func(d *store.Dataset, v string) { d.Tickets[0].Messages[0].Replier = v }},
		{"Message", "content", "tickets[0].messages[0].content", func(d *store.Dataset, v string) { d.Tickets[0].Messages[0].Content = v }},
		{"Score", "author", "tickets[0].scores[0].author", rename},
	} {
		t.Run(c.schema+"."+c.prop, func(t *testing.T) {
			ref := doc.Components.Schemas[c.schema]
			if ref == nil || ref.Value.Properties[c.prop] == nil {
				t.Fatalf("control.openapi.yaml has no %s.%s", c.schema, c.prop)
			}
			s := ref.Value.Properties[c.prop].Value
			if s.Items != nil {
				s = s.Items.Value
			}
			if s.MaxLength == nil || s.MinLength > 1 {
				t.Fatalf("%s.%s: minLength %d, maxLength %v; want 0 or 1 and a maximum", c.schema, c.prop, s.MinLength, s.MaxLength)
			}
			max := int(*s.MaxLength)
			for _, v := range []struct {
				value string
				ok    bool
			}{{strings.Repeat("é", max), true}, {strings.Repeat("é", max+1), false}, {"", s.MinLength == 0}} {
				d := valid()
				c.set(&d, v.value)
				err := d.Validate()
				if v.ok && err != nil {
					t.Errorf("%d characters (the maxLength): %v", len([]rune(v.value)), err)
				}
				if !v.ok && (err == nil || !strings.Contains(err.Error(), c.field+":")) {
					t.Errorf("%d characters (maxLength %d): %v, want an error on %s", len([]rune(v.value)), max, err, c.field)
				}
			}
		})
	}
}

// TestMaxRelationsMatchesContract: a ticket holds at most as many
// associations as the contract's list of them may have.
func TestMaxRelationsMatchesContract(t *testing.T) {
	doc, err := gen.GetSpec()
	if err != nil {
		t.Fatal(err)
	}
	list := doc.Components.Schemas["RelationList"].Value.Properties["case_relation_list"].Value
	if list.MaxItems == nil {
		t.Fatal("RelationList.case_relation_list has no maxItems")
	}
	if int(*list.MaxItems) != store.MaxRelations {
		t.Errorf("RelationList.case_relation_list maxItems %d, store.MaxRelations %d", *list.MaxItems, store.MaxRelations)
	}
}

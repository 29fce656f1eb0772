package store_test

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/osmstub/osmstub/server/store"
)

// TestValidateTicketFlow: the fields of the ticket flow, each refused with a
// *store.FieldError naming it, and their edge cases accepted.
func TestValidateTicketFlow(t *testing.T) {
	created := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	valid := func() store.Dataset {
		return store.Dataset{
			Users: []store.User{{Name: "u"}, {Name: "v", Account: "acme"}},
			Tickets: []store.Ticket{
				{ID: "T", Owner: "u", Description: "d",
					Messages: []store.Message{{ID: "M1", Replier: "u", Content: "c", Created: created}},
					Scores:   []store.Score{{Author: "u", Judgement: "j", Created: created}}},
				{ID: "V", Owner: "v", Description: "d"},
			},
		}
	}
	cases := []struct {
		name  string
		edit  func(d *store.Dataset)
		field string // entry.field; "" valid
	}{
		{"status 6", func(d *store.Dataset) { d.Tickets[0].Status = 6 }, "tickets[0].status"},
		{"status -1", func(d *store.Dataset) { d.Tickets[0].Status = -1 }, "tickets[0].status"},
		{"status 18", func(d *store.Dataset) { d.Tickets[0].Status = 18 }, "tickets[0].status"},
		{"account of another", func(d *store.Dataset) { d.Tickets[0].Account = "acme" }, "tickets[0].account"},
		{"account default for acme's", func(d *store.Dataset) { d.Tickets[1].Account = "other" }, "tickets[1].account"},
		{"user account too long", func(d *store.Dataset) { d.Users[1].Account = strings.Repeat("a", 65) }, "users[1].account"},
		{"description too long", func(d *store.Dataset) { d.Tickets[0].Description = strings.Repeat("é", 2001) }, "tickets[0].simple_description"},
		{"message unknown replier", func(d *store.Dataset) { d.Tickets[0].Messages[0].Replier = "zed" }, "tickets[0].messages[0].replier"},
		{"message content too long", func(d *store.Dataset) {
			d.Tickets[0].Messages[0].Content = strings.Repeat("é", 10001)
		}, "tickets[0].messages[0].content"},
		{"message type 2", func(d *store.Dataset) { d.Tickets[0].Messages[0].Type = 2 }, "tickets[0].messages[0].type"},
		{"message without id and the id it is given", func(d *store.Dataset) {
			d.Tickets[0].Messages[0].ID = ""
			d.Tickets[0].Messages = append(d.Tickets[0].Messages, store.Message{ID: "T-1", Replier: "u", Content: "c"})
		}, "tickets[0].messages[1].message_id"},
		{"engineer's name too long", func(d *store.Dataset) {
			d.Tickets[0].Messages[0].Type, d.Tickets[0].Messages[0].Replier = 1, strings.Repeat("é", 257)
		}, "tickets[0].messages[0].replier"},
		{"engineer without name", func(d *store.Dataset) { d.Tickets[0].Messages[0].Type, d.Tickets[0].Messages[0].Replier = 1, "" }, "tickets[0].messages[0].replier"},
		{"message id too long", func(d *store.Dataset) { d.Tickets[0].Messages[0].ID = strings.Repeat("é", 97) }, "tickets[0].messages[0].message_id"},
		{"score without author", func(d *store.Dataset) { d.Tickets[0].Scores[0].Author = "" }, "tickets[0].scores[0].author"},
		{"score author too long", func(d *store.Dataset) { d.Tickets[0].Scores[0].Author = strings.Repeat("é", 257) }, "tickets[0].scores[0].author"},
		{"message id twice", func(d *store.Dataset) {
			d.Tickets[1].Messages = []store.Message{{ID: "M1", Replier: "v", Content: "c"}}
		}, "tickets[1].messages[0].message_id"},
		{"message id twice on a ticket", func(d *store.Dataset) {
			d.Tickets[0].Messages = append(d.Tickets[0].Messages, d.Tickets[0].Messages[0])
		}, "tickets[0].messages[1].message_id"},
		{"score unknown author", func(d *store.Dataset) { d.Tickets[0].Scores[0].Author = "zed" }, "tickets[0].scores[0].author"},

		{"valid/as is", func(d *store.Dataset) {}, ""},
		{"valid/every status", func(d *store.Dataset) {
			for _, s := range []int{0, 1, 2, 3, 4, 5, 12, 13, 17} {
				d.Tickets = append(d.Tickets, store.Ticket{ID: "S" + string(rune('a'+s)), Owner: "u", Description: "d",
					TicketDetail: store.TicketDetail{Status: s}})
			}
		}, ""},
		{"valid/account given, its owner's", func(d *store.Dataset) { d.Tickets[1].Account = "acme" }, ""},
		{"valid/account of 64", func(d *store.Dataset) { d.Users[1].Account = strings.Repeat("é", 64) }, ""},
		{"valid/description of 2000", func(d *store.Dataset) { d.Tickets[0].Description = strings.Repeat("é", 2000) }, ""},
		{"valid/content of 10000", func(d *store.Dataset) { d.Tickets[0].Messages[0].Content = strings.Repeat("é", 10000) }, ""},
		{"valid/empty content", func(d *store.Dataset) { d.Tickets[0].Messages[0].Content = "" }, ""},
		{"valid/engineer's message", func(d *store.Dataset) { d.Tickets[0].Messages[0].Type = 1 }, ""},
		{"valid/engineer's name of 256", func(d *store.Dataset) {
			d.Tickets[0].Messages[0].Type, d.Tickets[0].Messages[0].Replier = 1, strings.Repeat("é", 256)
		}, ""},
		{"valid/message without id (Load gives it)", func(d *store.Dataset) { d.Tickets[0].Messages[0].ID = "" }, ""},
		{"valid/replier of another account", func(d *store.Dataset) { d.Tickets[0].Messages[0].Replier = "v" }, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			d := valid()
			c.edit(&d)
			err := d.Validate()
			if c.field == "" {
				if err != nil {
					t.Fatalf("Validate: %v", err)
				}
				return
			}
			var found []string
			for _, e := range flatten(err) {
				var fe *store.FieldError
				if errors.As(e, &fe) {
					found = append(found, fe.Entry+"."+fe.Field)
				}
			}
			if len(found) != 1 || found[0] != c.field {
				t.Errorf("Validate = %v; want one *store.FieldError for %s", err, c.field)
			}
		})
	}
}

func flatten(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		var out []error
		for _, e := range j.Unwrap() {
			out = append(out, flatten(e)...)
		}
		return out
	}
	if err == nil {
		return nil
	}
	return []error{err}
}

// TestDatasetClone: a clone shares no memory with the original.
func TestDatasetClone(t *testing.T) {
	c := store.DefaultCatalogue()
	d := store.Dataset{
		Users: []store.User{{Name: "u", Groups: []string{"g"}}},
		Tickets: []store.Ticket{{ID: "T", Owner: "u", Description: "d", Relations: []string{"X"},
			TicketDetail: store.TicketDetail{AccessoryIDs: []string{"A"}},
			Messages:     []store.Message{{ID: "M", AccessoryIDs: []string{"A"}}},
			Scores:       []store.Score{{Author: "u", Satisfaction: []store.Satisfaction{{ID: 1}}}}}},
		Catalogue: &c,
	}
	orig := d.Clone()
	cl := d.Clone()
	cl.Users[0].Groups[0] = "changed"
	tk := &cl.Tickets[0]
	tk.Relations[0], tk.AccessoryIDs[0], tk.Messages[0].AccessoryIDs[0] = "changed", "changed", "changed"
	tk.Messages[0].ID, tk.Scores[0].Satisfaction[0].ID = "changed", 9
	cl.Catalogue.ProblemTypes[0].ProductCategories[0] = "changed"
	cl.Catalogue.Satisfaction[0].Name = "changed"
	if !reflect.DeepEqual(d, orig) {
		t.Errorf("changing a clone changed the original:\n%+v\nwant\n%+v", d, orig)
	}
}

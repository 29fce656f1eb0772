package store

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"
)

// Dataset is a whole state to load: users, and tickets with their initial
// associations. It is what a fixtures file holds.
type Dataset struct {
	Users   []User   `json:"users" yaml:"users"`
	Tickets []Ticket `json:"tickets" yaml:"tickets"`
	// Catalogue: nil keeps DefaultCatalogue.
	Catalogue *Catalogue `json:"catalogue,omitempty" yaml:"catalogue,omitempty"`
}

// Clone returns a deep copy of d.
func (d Dataset) Clone() Dataset {
	out := Dataset{Users: make([]User, len(d.Users)), Tickets: make([]Ticket, len(d.Tickets))}
	for i, u := range d.Users {
		out.Users[i] = u.Clone()
	}
	for i, t := range d.Tickets {
		out.Tickets[i] = t.Clone()
	}
	if d.Catalogue != nil {
		c := d.Catalogue.Clone()
		out.Catalogue = &c
	}
	return out
}

// Clone returns a copy of c that shares no memory with it.
func (c Catalogue) Clone() Catalogue {
	c.ProductCategories = slices.Clone(c.ProductCategories)
	c.ProblemTypes = slices.Clone(c.ProblemTypes)
	for i := range c.ProblemTypes {
		c.ProblemTypes[i].ProductCategories = slices.Clone(c.ProblemTypes[i].ProductCategories)
	}
	c.Satisfaction = slices.Clone(c.Satisfaction)
	return c
}

// Limits of the fields Validate checks, as the contract (openapi.yaml)
// states them.
const (
	MaxDescription    = 2000
	MaxMessageContent = 10000
	MaxAccount        = 64
	// MaxName bounds a user's name, a message's replier and a score's
	// author.
	MaxName = 256
	// MaxMessageID leaves room for MessageID of a ticket ID of 64.
	MaxMessageID = 96
)

// validStatus reports whether s is one of the statuses a ticket can have.
func validStatus(s int) bool {
	switch s {
	case StatusPending, StatusProcessing, StatusToConfirm, StatusCompleted, StatusCanceled,
		5, // 暂停 (paused): the CN pages list it; the stub never moves a ticket there
		StatusInvalid, StatusDeleted, StatusFeedback:
		return true
	}
	return false
}

// Stamped returns a copy of d whose tickets without a create_time were
// created at now, and their messages likewise: an old fixtures file has no
// times.
func (d Dataset) Stamped(now time.Time) Dataset {
	d = d.Clone()
	for i := range d.Tickets {
		t := &d.Tickets[i]
		if t.Created.IsZero() {
			t.Created = now.UTC().Truncate(time.Second)
		}
		for j := range t.Messages {
			if t.Messages[j].Created.IsZero() {
				t.Messages[j].Created = t.Created
			}
		}
	}
	return d
}

// FieldError names the entry and field of a Dataset that is wrong.
type FieldError struct {
	Entry string // e.g. users[1] or tickets[0]
	Field string
	Rule  string
}

func (e *FieldError) Error() string { return e.Entry + "." + e.Field + ": " + e.Rule }

// Validate checks the whole dataset and reports every problem, each a
// *FieldError, joined with errors.Join.
func (d Dataset) Validate() error {
	var errs []error
	add := func(entry, field, format string, args ...any) {
		errs = append(errs, &FieldError{Entry: entry, Field: field, Rule: fmt.Sprintf(format, args...)})
	}
	users := map[string]User{}
	creds := map[string]string{}
	for i, u := range d.Users {
		entry := fmt.Sprintf("users[%d]", i)
		checkLen(add, entry, "name", u.Name, MaxName)
		if utf8.RuneCountInString(u.Account) > MaxAccount {
			add(entry, "account", "must be at most %d characters", MaxAccount)
		}
		if _, dup := users[u.Name]; dup {
			add(entry, "name", "user %q is defined twice", u.Name)
		}
		users[u.Name] = u
		for j, tok := range u.Tokens {
			checkLen(add, entry, fmt.Sprintf("tokens[%d]", j), tok, 5000)
			claim(add, creds, entry, fmt.Sprintf("tokens[%d]", j), "token:"+tok)
		}
		for j, k := range u.Keys {
			field := fmt.Sprintf("access_keys[%d]", j)
			checkLen(add, entry, field+".ak", k.AK, 128)
			checkLen(add, entry, field+".sk", k.SK, 256)
			claim(add, creds, entry, field+".ak", "ak:"+k.AK)
		}
	}
	tickets := map[string]Ticket{}
	messages := map[string]string{} // message ID -> where: IDs are global
	for i, t := range d.Tickets {
		entry := fmt.Sprintf("tickets[%d]", i)
		checkLen(add, entry, "id", t.ID, 64)
		if _, dup := tickets[t.ID]; dup {
			add(entry, "id", "ticket %q is defined twice", t.ID)
		}
		tickets[t.ID] = t
		owner, ok := users[t.Owner]
		if !ok {
			add(entry, "owner", "unknown user %q", t.Owner)
		} else if t.Account != "" && t.Account != owner.Account {
			// A ticket belongs to its owner's account; a fixtures file
			// need not say which, but must not say another.
			add(entry, "account", "is %q, but owner %q is of account %q", t.Account, t.Owner, owner.Account)
		}
		checkLen(add, entry, "simple_description", t.Description, MaxDescription)
		if !validStatus(t.Status) {
			add(entry, "status", "%d is not a ticket status", t.Status)
		}
		for j, m := range t.Messages {
			field := fmt.Sprintf("messages[%d]", j)
			// An absent ID is given by Load (put): the control API says so.
			id := cmp.Or(m.ID, MessageID(t.ID, j+1))
			if utf8.RuneCountInString(m.ID) > MaxMessageID {
				add(entry, field+".message_id", "must be at most %d characters", MaxMessageID)
			}
			if other, dup := messages[id]; dup {
				add(entry, field+".message_id", "message %q is also %s", id, other)
			} else if stubForm(m.ID) && m.ID != MessageID(t.ID, j+1) {
				add(entry, field+".message_id", "%q has the form of the ID the stub gives a message (ticket-position): only %q may have it here", m.ID, MessageID(t.ID, j+1))
			}
			messages[id] = entry + "." + field
			if m.Type != 0 && m.Type != 1 {
				add(entry, field+".type", "%d is neither 0 (customer) nor 1 (engineer)", m.Type)
			}
			if _, ok := users[m.Replier]; !ok && m.Type == 0 && m.Replier != "" { // an engineer is no user of the account
				add(entry, field+".replier", "unknown user %q", m.Replier)
			} else {
				checkLen(add, entry, field+".replier", m.Replier, MaxName) // an engineer's too
			}
			if utf8.RuneCountInString(m.Content) > MaxMessageContent {
				add(entry, field+".content", "must be at most %d characters", MaxMessageContent)
			}
		}
		for j, sc := range t.Scores {
			field := fmt.Sprintf("scores[%d].author", j)
			if _, ok := users[sc.Author]; !ok && sc.Author != "" {
				add(entry, field, "unknown user %q", sc.Author)
			} else {
				checkLen(add, entry, field, sc.Author, MaxName)
			}
		}
	}
	for i, t := range d.Tickets {
		entry := fmt.Sprintf("tickets[%d]", i)
		for j, r := range t.Relations {
			field := fmt.Sprintf("relations[%d]", j)
			if _, ok := tickets[r]; !ok {
				add(entry, field, "unknown ticket %q", r)
			} else if r == t.ID {
				add(entry, field, "a ticket cannot be associated with itself")
			}
		}
	}
	counts := map[string]int{}
	for _, p := range d.pairs() {
		counts[p[0]]++
		counts[p[1]]++
	}
	for i, t := range d.Tickets {
		if n := counts[t.ID]; n > MaxRelations {
			add(fmt.Sprintf("tickets[%d]", i), "relations", "%s has %d associations (counting both sides), at most %d", t.ID, n, MaxRelations)
			counts[t.ID] = 0 // report a ticket defined twice once
		}
	}
	return errors.Join(errs...)
}

// stubForm reports whether id ends in "-" and digits, as MessageID's do.
func stubForm(id string) bool {
	i := strings.LastIndexByte(id, '-')
	return i >= 0 && i < len(id)-1 && strings.Trim(id[i+1:], "0123456789") == ""
}

// checkLen checks that v is not empty and has at most max characters.
func checkLen(add func(string, string, string, ...any), entry, field, v string, max int) {
	switch {
	case v == "":
		add(entry, field, "is required")
	case utf8.RuneCountInString(v) > max:
		add(entry, field, "must be at most %d characters", max)
	}
}

func claim(add func(string, string, string, ...any), seen map[string]string, entry, field, key string) {
	if other, ok := seen[key]; ok && other != entry {
		add(entry, field, "is already used by %s", other)
	}
	seen[key] = entry
}

// pairs returns each association once, in the order the file lists them.
func (d Dataset) pairs() [][2]string {
	seen := map[[2]string]bool{}
	var out [][2]string
	for _, t := range d.Tickets {
		for _, r := range t.Relations {
			key := [2]string{min(t.ID, r), max(t.ID, r)}
			if !seen[key] && r != t.ID {
				seen[key] = true
				out = append(out, [2]string{t.ID, r})
			}
		}
	}
	return out
}

// Load validates d and writes it into s in one transaction. Unless reset is
// set, it loads only into an empty store and otherwise keeps what is there
// (loaded reports which).
func Load(ctx context.Context, s Store, d Dataset, reset bool) (loaded bool, err error) {
	if err := d.Validate(); err != nil {
		return false, err
	}
	err = s.Update(ctx, func(tx Tx) error {
		loaded = false
		if reset {
			if err := tx.Reset(); err != nil {
				return err
			}
		} else if empty, err := tx.Empty(); err != nil || !empty {
			return err
		}
		if err := put(tx, d); err != nil {
			return err
		}
		loaded = true
		return nil
	})
	return loaded, err
}

func put(tx Tx, d Dataset) error {
	account := map[string]string{}
	for _, u := range d.Users {
		if err := tx.PutUser(u); err != nil {
			return err
		}
		account[u.Name] = u.Account
	}
	for _, t := range d.Tickets {
		t.Account = account[t.Owner] // Validate refused any other
		t.Messages = slices.Clone(t.Messages)
		for j := range t.Messages {
			if t.Messages[j].ID == "" {
				t.Messages[j].ID = MessageID(t.ID, j+1) // as addMessage gives it
			}
		}
		if err := tx.PutTicket(t); err != nil {
			return err
		}
	}
	for _, p := range d.pairs() {
		if err := tx.AddPair(p[0], p[1]); err != nil {
			return err
		}
	}
	c := DefaultCatalogue()
	if d.Catalogue != nil {
		c = *d.Catalogue
	}
	return tx.PutCatalogue(c)
}

// Package store holds the stub's state (users, tickets, associations), the
// Store interface every backend implements, and the association rules,
// written once over that interface.
//
// A backend supplies transactions; the rules in rules.go decide what a
// transaction may do. The store never sees HTTP.
package store

import (
	"context"
	"errors"
	"slices"
	"time"
)

// MaxRelations is how many associations one ticket may hold.
const MaxRelations = 3

// MaxTotal is the largest total Tx.Tickets needs to count: the API's
// total_count (and a message list's count) is an int32 the contract caps
// at 65535, so counting further would only cost time.
const MaxTotal = 65535

// User is an account of the stubbed service: who owns tickets, which groups
// it belongs to, and the credentials that identify it.
type User struct {
	Name     string      `json:"name" yaml:"name"`
	Groups   []string    `json:"groups,omitempty" yaml:"groups,omitempty"`
	Tokens   []string    `json:"tokens,omitempty" yaml:"tokens,omitempty"`
	Keys     []AccessKey `json:"access_keys,omitempty" yaml:"access_keys,omitempty"`
	DomainID string      `json:"domain_id,omitempty" yaml:"domain_id,omitempty"`
	// Account isolates users: a user sees only tickets of its own account.
	Account string `json:"account,omitempty" yaml:"account,omitempty"`
}

// Clone returns a copy of u that shares no memory with it.
func (u User) Clone() User {
	u.Groups = slices.Clone(u.Groups)
	u.Tokens = slices.Clone(u.Tokens)
	u.Keys = slices.Clone(u.Keys)
	return u
}

// Key returns the user's access key ak.
func (u User) Key(ak string) (AccessKey, bool) {
	for _, k := range u.Keys {
		if k.AK == ak {
			return k, true
		}
	}
	return AccessKey{}, false
}

// AccessKey is an AK/SK pair. A temporary credential also has a
// SecurityToken, which a signed request must then carry in X-Security-Token.
type AccessKey struct {
	AK            string `json:"ak" yaml:"ak"`
	SK            string `json:"sk" yaml:"sk"`
	SecurityToken string `json:"security_token,omitempty" yaml:"security_token,omitempty"`
}

// InGroup reports whether u belongs to group.
func (u User) InGroup(group string) bool { return slices.Contains(u.Groups, group) }

// Ticket is a service ticket. Relations lists the IDs of the associated
// tickets in the order they were associated; Messages and Scores are in the
// order they were added. Tx.Ticket leaves those three empty; Snapshot and
// fixtures carry them.
type Ticket struct {
	ID           string `json:"id" yaml:"id"`
	Owner        string `json:"owner" yaml:"owner"`
	Description  string `json:"simple_description" yaml:"simple_description"`
	TicketDetail `yaml:",inline"`
	Relations    []string  `json:"relations,omitempty" yaml:"relations,omitempty"`
	Messages     []Message `json:"messages,omitempty" yaml:"messages,omitempty"`
	Scores       []Score   `json:"scores,omitempty" yaml:"scores,omitempty"`
	// Names are the catalogue's names of the ticket's problem type and
	// category, filled by the rules that show tickets (not stored).
	Names Names `json:"-" yaml:"-"`
}

// Names are what the catalogue calls a ticket's problem type, its case
// type and its product category.
type Names struct {
	ProblemType string // the problem type's name, or its ID if the catalogue has none
	CaseType    string // "Consultation" or "Fault report"; "" for an unknown problem type
	Category    string // "" without a known category
}

// Errors a backend returns.
var (
	// ErrNotFound: the user or ticket does not exist.
	ErrNotFound = errors.New("not found")
	// ErrExists: a user, token, access key or ticket with that name exists.
	ErrExists = errors.New("already exists")
	// ErrUnavailable: the backend cannot be reached (a database that is
	// down, a lock held too long by another process). It is transient: the
	// same call may succeed later, with no restart.
	ErrUnavailable = errors.New("store unavailable")
)

// Store is a backend. Every read and write of the rules happens inside one
// call of Update (read-write) or View (read-only), atomically: if fn returns
// an error, nothing it wrote is kept.
type Store interface {
	Update(ctx context.Context, fn func(Tx) error) error
	View(ctx context.Context, fn func(Tx) error) error
	Close() error
}

// Tx is one transaction's view of the state. It is the whole surface the
// rules need, kept small so that SQL backends can implement it directly.
// A backend may batch writes, so the error of a write (ErrExists from
// PutTicket, say) can come from a later call or from Update itself.
type Tx interface {
	// Ticket returns a ticket without its Relations, or ErrNotFound.
	Ticket(id string) (Ticket, error)
	// Relations returns the IDs associated with id, in association order.
	Relations(id string) ([]string, error)
	// AddPair records the mutual association a-b (appending to both lists).
	AddPair(a, b string) error
	// RemovePair deletes the mutual association a-b.
	RemovePair(a, b string) error

	// User returns a user by name, or ErrNotFound.
	User(name string) (User, error)
	// UserByToken and UserByAccessKey resolve credentials, or ErrNotFound.
	UserByToken(token string) (User, error)
	UserByAccessKey(ak string) (User, AccessKey, error)

	// PutUser creates or replaces a user; its tokens and access keys must
	// not belong to another user (ErrExists).
	PutUser(u User) error
	// PutTicket creates a ticket (ErrExists if it exists) with its Messages
	// and Scores; Relations are ignored.
	PutTicket(t Ticket) error
	// UpdateTicket replaces the TicketDetail of ticket t.ID, or ErrNotFound.
	UpdateTicket(t Ticket) error
	// Tickets returns one page of the tickets q selects, newest first (by
	// Created, then by ID, both descending), without Relations, Messages or
	// Scores, and how many q selects in all, ignoring Offset and Limit,
	// counted up to MaxTotal (a larger total may come back as MaxTotal).
	Tickets(q TicketQuery) (page []Ticket, total int, err error)
	// AddMessage appends m to ticket id's messages (ErrNotFound).
	AddMessage(id string, m Message) error
	// Messages returns messages [offset, offset+limit) of ticket id in the
	// order they were added (limit 0: all), and how many it has; an
	// unknown ticket has none.
	Messages(id string, offset, limit int) (page []Message, total int, err error)
	// AddScore appends s to ticket id's scores (ErrNotFound).
	AddScore(id string, s Score) error
	// Scores returns ticket id's scores in the order they were added (an
	// unknown ticket has none).
	Scores(id string) ([]Score, error)

	// PutAccessory stores an upload (ErrExists if its ID is taken).
	PutAccessory(a Accessory) error
	// Accessory returns an upload WITHOUT its Data (nil), or ErrNotFound:
	// the rules need only its name and account, and an upload may hold
	// megabytes. PutAccessory still stores the bytes.
	Accessory(id string) (Accessory, error)
	// AccessoryBytes sums the Size of owner's uploads created at or after since.
	AccessoryBytes(owner string, since time.Time) (int64, error)

	// Catalogue returns the stored catalogue (zero if none was put).
	Catalogue() (Catalogue, error)
	// PutCatalogue replaces the catalogue.
	PutCatalogue(c Catalogue) error
	// NextID returns the next value, from 1, of the named counter (ticket
	// and message IDs), unique across every process sharing the store. A
	// value taken in a transaction that fails may or may not come again.
	NextID(counter string) (int64, error)
	// AccountMembers returns the names of account's users, by name.
	AccountMembers(account string) ([]string, error)
	// GroupMembers returns the names of account's users in group, by name.
	GroupMembers(account, group string) ([]string, error)
	// DeleteAccount deletes every user of account and everything they own
	// (tickets with their relations, messages and scores, uploads).
	DeleteAccount(account string) error
	// Snapshot returns every user, every ticket (with its Relations,
	// Messages and Scores) and the catalogue; users by name, tickets by ID.
	Snapshot() (Dataset, error)
	// Empty reports whether the store holds no users and no tickets.
	Empty() (bool, error)
	// Reset deletes everything but the NextID counters, so that an ID
	// handed out before a reset never names another ticket after it.
	Reset() error
}

package store

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
)

// Accounts as test runs use them: a fresh account per run, with its own
// users and credentials, so that runs sharing one stub never see each
// other's tickets (CreateAccount, DeleteAccount, ResetAccount of the
// control API).

// ErrNoAccount: no user belongs to the account.
var ErrNoAccount = errors.New("no such account")

// NewAccountUser is a user to create in a new account.
type NewAccountUser struct {
	Name   string   `json:"name"`
	Groups []string `json:"groups,omitempty"`
}

// DefaultAccountUsers are the users of a new account that names none.
func DefaultAccountUsers() []NewAccountUser {
	return []NewAccountUser{{Name: "tester", Groups: []string{"team"}}}
}

// Account is a new account and its users, each with one token and one
// AK/SK pair.
type Account struct {
	ID    string
	Users []User
}

// NewAccount creates an account with a fresh random ID (32 lowercase hex
// digits, drawn from rnd) holding users, each named "<name>@<ID>" (user
// names are global in the store), with DomainID the account's ID (the SDK's
// WithDomainId), one token ("tok-" and 40 hex digits) and one AK/SK pair
// (20 upper-case letters or digits, 40 letters or digits). No users: one,
// DefaultAccountUsers.
func NewAccount(ctx context.Context, s Store, users []NewAccountUser, rnd io.Reader) (Account, error) {
	if len(users) == 0 {
		users = DefaultAccountUsers()
	}
	for i, nu := range users {
		if nu.Name == "" || strings.ContainsAny(nu.Name, "@ \t\n") {
			return Account{}, &FieldError{Entry: fmt.Sprintf("users[%d]", i), Field: "name", Rule: "must be a non-empty name without @ or blanks"}
		}
	}
	id, err := randomHex(rnd, 16)
	if err != nil {
		return Account{}, err
	}
	acc := Account{ID: id}
	for _, nu := range users {
		u := User{Name: nu.Name + "@" + id, Groups: slices.Clone(nu.Groups), DomainID: id, Account: id}
		tok, err := randomHex(rnd, 20)
		if err != nil {
			return Account{}, err
		}
		ak, err := randomString(rnd, akAlphabet, 20)
		if err != nil {
			return Account{}, err
		}
		sk, err := randomString(rnd, skAlphabet, 40)
		if err != nil {
			return Account{}, err
		}
		u.Tokens = []string{"tok-" + tok}
		u.Keys = []AccessKey{{AK: ak, SK: sk}}
		acc.Users = append(acc.Users, u)
	}
	// The same rules as a fixtures file: names unique and not too long.
	if err := (Dataset{Users: acc.Users}).Validate(); err != nil {
		return Account{}, err
	}
	err = s.Update(ctx, func(tx Tx) error {
		for _, u := range acc.Users {
			// PutUser replaces a user of the same name: never another
			// account's, however unlikely a clash of random IDs is.
			switch _, err := tx.User(u.Name); {
			case err == nil:
				return fmt.Errorf("user %q: %w", u.Name, ErrExists)
			case !errors.Is(err, ErrNotFound):
				return err
			}
			if err := tx.PutUser(u); err != nil {
				return fmt.Errorf("user %q: %w", u.Name, err)
			}
		}
		return nil
	})
	if err != nil {
		return Account{}, err
	}
	return acc, nil
}

const (
	akAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
	skAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
)

func randomHex(rnd io.Reader, n int) (string, error) {
	b := make([]byte, n)
	if _, err := io.ReadFull(rnd, b); err != nil {
		return "", fmt.Errorf("random: %w", err)
	}
	return hex.EncodeToString(b), nil
}

// randomString draws n characters of alphabet uniformly: bytes beyond the
// largest multiple of its length are drawn again.
func randomString(rnd io.Reader, alphabet string, n int) (string, error) {
	limit := 256 - 256%len(alphabet)
	out := make([]byte, 0, n)
	b := make([]byte, 1)
	for len(out) < n {
		if _, err := io.ReadFull(rnd, b); err != nil {
			return "", fmt.Errorf("random: %w", err)
		}
		if int(b[0]) < limit {
			out = append(out, alphabet[int(b[0])%len(alphabet)])
		}
	}
	return string(out), nil
}

// AccountUsers returns the users of account, by name.
func AccountUsers(tx Tx, account string) ([]User, error) {
	names, err := tx.AccountMembers(account)
	if err != nil {
		return nil, err
	}
	out := make([]User, 0, len(names))
	for _, n := range names {
		u, err := tx.User(n)
		if err != nil {
			return nil, err
		}
		out = append(out, u)
	}
	return out, nil
}

// DeleteAccount deletes account's users and everything they own; it
// refuses the default account (a reset restores it) and, with
// ErrNoAccount, an account no user belongs to.
func DeleteAccount(ctx context.Context, s Store, account string) error {
	if account == DefaultAccount {
		return fmt.Errorf("the default account: %w", ErrNoAccount)
	}
	return s.Update(ctx, func(tx Tx) error {
		users, err := AccountUsers(tx, account)
		if err != nil {
			return err
		}
		if len(users) == 0 {
			return fmt.Errorf("account %q: %w", account, ErrNoAccount)
		}
		return tx.DeleteAccount(account)
	})
}

// ResetAccount deletes account's tickets (with their relations, messages
// and scores) and its users' uploads, and keeps the users as they are.
// Other accounts keep everything; the ID counters go on.
func ResetAccount(ctx context.Context, s Store, account string) error {
	return s.Update(ctx, func(tx Tx) error {
		users, err := AccountUsers(tx, account)
		if err != nil {
			return err
		}
		if len(users) == 0 {
			return fmt.Errorf("account %q: %w", account, ErrNoAccount)
		}
		// DeleteAccount takes the users too: put them back, in the same
		// transaction, so that no call ever sees the account without them.
		if err := tx.DeleteAccount(account); err != nil {
			return err
		}
		for _, u := range users {
			if err := tx.PutUser(u); err != nil {
				return fmt.Errorf("user %q: %w", u.Name, err)
			}
		}
		return nil
	})
}

// IsStatus reports whether s is a status a ticket can have.
func IsStatus(s int) bool { return validStatus(s) }

package store_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"regexp"
	"slices"
	"testing"

	"github.com/osmstub/osmstub/server/store"
	"github.com/osmstub/osmstub/server/store/memory"
)

func TestNewAccount(t *testing.T) {
	ctx := context.Background()
	s := flowStore(t)
	acc, err := store.NewAccount(ctx, s, []store.NewAccountUser{{Name: "alice", Groups: []string{"g"}}, {Name: "bob"}}, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	shapes := []struct {
		what string
		re   *regexp.Regexp
		get  func(store.User) string
	}{
		{"token", regexp.MustCompile(`^tok-[0-9a-f]{40}$`), func(u store.User) string { return u.Tokens[0] }},
		{"AK", regexp.MustCompile(`^[A-Z0-9]{20}$`), func(u store.User) string { return u.Keys[0].AK }},
		{"SK", regexp.MustCompile(`^[A-Za-z0-9]{40}$`), func(u store.User) string { return u.Keys[0].SK }},
	}
	if !regexp.MustCompile(`^[0-9a-f]{32}$`).MatchString(acc.ID) {
		t.Errorf("account ID %q, want 32 lowercase hex digits", acc.ID)
	}
	if len(acc.Users) != 2 {
		t.Fatalf("%d users, want 2", len(acc.Users))
	}
	for i, name := range []string{"alice", "bob"} {
		u := acc.Users[i]
		if u.Name != name+"@"+acc.ID || u.Account != acc.ID || u.DomainID != acc.ID || len(u.Tokens) != 1 || len(u.Keys) != 1 {
			t.Fatalf("user %d = %+v", i, u)
		}
		for _, sh := range shapes {
			if v := sh.get(u); !sh.re.MatchString(v) {
				t.Errorf("%s's %s %q does not match %s", u.Name, sh.what, v, sh.re)
			}
		}
		err := s.View(ctx, func(tx store.Tx) error {
			got, err := tx.UserByToken(u.Tokens[0])
			if err != nil || got.Name != u.Name {
				t.Errorf("token of %s resolves to %q (%v)", u.Name, got.Name, err)
			}
			got, _, err = tx.UserByAccessKey(u.Keys[0].AK)
			if err != nil || got.Name != u.Name {
				t.Errorf("AK of %s resolves to %q (%v)", u.Name, got.Name, err)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}

	// No users: the default one. Each account is a new one.
	def, err := store.NewAccount(ctx, s, nil, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	if def.ID == acc.ID || len(def.Users) != 1 || def.Users[0].Name != "tester@"+def.ID || !slices.Equal(def.Users[0].Groups, []string{"team"}) {
		t.Errorf("default account = %+v", def)
	}
}

func TestNewAccountRefused(t *testing.T) {
	ctx := context.Background()
	fixed := func() *bytes.Reader { return bytes.NewReader(bytes.Repeat([]byte{7}, 4096)) }
	for _, c := range []struct {
		name  string
		users []store.NewAccountUser
		rnd   *bytes.Reader
		want  string
	}{
		{"a name twice", []store.NewAccountUser{{Name: "a"}, {Name: "a"}}, fixed(), "defined twice"},
		{"an empty name", []store.NewAccountUser{{Name: "b"}, {Name: ""}}, fixed(), "users[1].name: must be a non-empty name"},
		{"a name with @", []store.NewAccountUser{{Name: "b@c"}}, fixed(), "users[0].name: must be a non-empty name without @"},
		{"no randomness", []store.NewAccountUser{{Name: "a"}}, bytes.NewReader(nil), "random"},
	} {
		t.Run(c.name, func(t *testing.T) {
			s := memory.New()
			_, err := store.NewAccount(ctx, s, c.users, c.rnd)
			if err == nil || !regexp.MustCompile(regexp.QuoteMeta(c.want)).MatchString(err.Error()) {
				t.Errorf("err = %v, want one with %q", err, c.want)
			}
			if empty, _ := isEmpty(s); !empty {
				t.Error("a refused account left users")
			}
		})
	}

	// The same random bytes give the same ID: the second account would
	// replace the first's users, so it is refused.
	s := memory.New()
	if _, err := store.NewAccount(ctx, s, nil, fixed()); err != nil {
		t.Fatal(err)
	}
	if _, err := store.NewAccount(ctx, s, nil, fixed()); !errors.Is(err, store.ErrExists) {
		t.Errorf("an account ID drawn twice: %v, want ErrExists", err)
	}
}

func isEmpty(s store.Store) (bool, error) {
	var empty bool
	err := s.View(context.Background(), func(tx store.Tx) error {
		var err error
		empty, err = tx.Empty()
		return err
	})
	return empty, err
}

func TestResetAndDeleteAccount(t *testing.T) {
	ctx := context.Background()
	s := flowStore(t) // alice, bob, carol in the default account, dave in "other"
	mine := newCase(t, s, "alice", t0)
	theirs := newCase(t, s, "dave", t0)
	if _, err := store.Upload(ctx, s, "dave", t0, "a.log", "incident", []byte("x"), store.DefaultAccessoryLimits); err != nil {
		t.Fatal(err)
	}

	if err := store.ResetAccount(ctx, s, "other"); err != nil {
		t.Fatal(err)
	}
	d := snapshotOf(t, s)
	if ids := ticketIDs(d); !slices.Equal(ids, []string{mine.ID}) {
		t.Errorf("after resetting account other the tickets are %v, want %v (not %s)", ids, []string{mine.ID}, theirs.ID)
	}
	if !slices.ContainsFunc(d.Users, func(u store.User) bool { return u.Name == "dave" && u.Account == "other" }) {
		t.Error("resetting account other took its user dave")
	}
	err := s.View(ctx, func(tx store.Tx) error {
		n, err := tx.AccessoryBytes("dave", t0)
		if n != 0 {
			t.Errorf("dave's uploads after the reset: %d bytes, want 0", n)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}

	for _, c := range []struct {
		name, account string
		reset         bool
	}{
		{"delete the default account", store.DefaultAccount, false},
		{"delete an unknown account", "nobody", false},
		{"reset an unknown account", "nobody", true},
	} {
		t.Run(c.name, func(t *testing.T) {
			op := store.DeleteAccount
			if c.reset {
				op = store.ResetAccount
			}
			if err := op(ctx, s, c.account); !errors.Is(err, store.ErrNoAccount) {
				t.Errorf("err = %v, want ErrNoAccount", err)
			}
		})
	}

	if err := store.DeleteAccount(ctx, s, "other"); err != nil {
		t.Fatal(err)
	}
	d = snapshotOf(t, s)
	if slices.ContainsFunc(d.Users, func(u store.User) bool { return u.Account == "other" }) || len(d.Users) != 3 {
		t.Errorf("after deleting account other the users are %+v, want alice, bob and carol", d.Users)
	}
}

func snapshotOf(t *testing.T, s store.Store) store.Dataset {
	t.Helper()
	var d store.Dataset
	if err := s.View(context.Background(), func(tx store.Tx) error {
		var err error
		d, err = tx.Snapshot()
		return err
	}); err != nil {
		t.Fatal(err)
	}
	return d
}

func ticketIDs(d store.Dataset) []string {
	ids := []string{}
	for _, tk := range d.Tickets {
		ids = append(ids, tk.ID)
	}
	return ids
}

package sqlite_test

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/osmstub/osmstub/server/store"
)

// TestUpgradeReleaseFile opens a database the previous release wrote:
// testdata/release-81a705e.db is what osm-stub built at commit 81a705e
// (schema version 1) left after `-store sqlite:FILE` on the demo data, one
// CreateRelations (DEMO-1 with DEMO-2 and TEAM-1) and, through the control
// API, a user "later" with a ticket LATER-1. It must open, upgrade in place
// and serve the ticket flow with everything it held.
func TestUpgradeReleaseFile(t *testing.T) {
	raw, err := os.ReadFile("testdata/release-81a705e.db")
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "osm.db")
	if err := os.WriteFile(path, raw, 0o600); err != nil {
		t.Fatal(err)
	}
	s := open(t, path)
	defer s.Close()
	ctx := t.Context()

	var d store.Dataset
	if err := s.View(ctx, func(tx store.Tx) (err error) { d, err = tx.Snapshot(); return err }); err != nil {
		t.Fatal(err)
	}
	var users, tickets []string
	for _, u := range d.Users {
		users = append(users, u.Name)
		if u.Account != store.DefaultAccount {
			t.Errorf("user %s in account %q, want the default", u.Name, u.Account)
		}
	}
	for _, tk := range d.Tickets {
		tickets = append(tickets, tk.ID)
		if tk.Status != store.StatusPending || tk.Account != store.DefaultAccount {
			t.Errorf("ticket %s: status %d, account %q; want 0 in the default account", tk.ID, tk.Status, tk.Account)
		}
	}
	if want := []string{"demo", "later", "outsider", "teammate"}; !slices.Equal(users, want) {
		t.Errorf("users %q, want %q", users, want)
	}
	if want := []string{"DEMO-1", "DEMO-2", "DEMO-3", "DEMO-4", "DEMO-5", "DEMO-6", "LATER-1", "OUT-1", "TEAM-1"}; !slices.Equal(tickets, want) {
		t.Errorf("tickets %q, want %q", tickets, want)
	}
	if u, err := viewUserByToken(t, s, "later-token"); err != nil || u.Name != "later" {
		t.Errorf("the token of a user added at run time: %v, %v", u, err)
	}
	rels, err := store.List(ctx, s, "demo", "DEMO-1")
	if err != nil || len(rels) != 2 || rels[0].CaseID != "DEMO-2" || rels[1].CaseID != "TEAM-1" {
		t.Errorf("DEMO-1's associations %+v, %v; want DEMO-2 then TEAM-1", rels, err)
	}

	// The ticket flow on the upgraded file (the fixtures, which carry the
	// catalogue, are not loaded into a store that holds data: the default
	// catalogue serves): a new ticket, related to an old one.
	now := time.Date(2026, 12, 7, 9, 30, 0, 0, time.UTC)
	tk, err := store.CreateCase(ctx, s, "demo", now, store.NewCase{BusinessTypeID: "QUOTA", Description: "after the upgrade"}, store.DefaultAccessoryLimits)
	if err != nil {
		t.Fatal(err)
	}
	if err := store.Associate(ctx, s, "demo", tk.ID, []string{"DEMO-3"}, ""); err != nil {
		t.Fatal(err)
	}
	page, total, err := store.ListCases(ctx, s, "demo", store.CaseQuery{Limit: 2})
	if err != nil || total != 7 || len(page) != 2 || page[0].ID != tk.ID {
		t.Errorf("ListCases after the upgrade: %d tickets, first %v, %v; want 7, the new one first", total, page, err)
	}
}

func viewUserByToken(t *testing.T, s store.Store, token string) (store.User, error) {
	var u store.User
	err := s.View(t.Context(), func(tx store.Tx) (err error) { u, err = tx.UserByToken(token); return err })
	return u, err
}

package storetest

import (
	"testing"

	"github.com/osmstub/osmstub/server/store"
)

// ruleCase is one call of the rules on the base world (see base) plus
// some initial associations, and what it must do to the whole state.
type ruleCase struct {
	name   string
	rels   [][]string // initial associations: rows {a, related...} (see fixture.rel)
	do     action
	err    error               // the sentinel; nil means success
	ticket string              // the ticket the *store.RuleError names
	want   map[string][]string // on success: tickets whose relations change, and to what
}

// runRuleCases runs each case on its own store and checks the error, then the
// whole state: on success the state before with want applied, on failure the
// state before, untouched.
func (s suite) runRuleCases(t *testing.T, cases []ruleCase) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if c.err != nil && c.want != nil {
				t.Fatal("bad case: a refused request has no want")
			}
			st := s.with(t, base().rels(c.rels).dataset())
			before := snapshot(t, st)
			checkInvariants(t, before)

			err := c.do(t.Context(), st)
			checkRuleErr(t, err, c.err, c.ticket)

			after := snapshot(t, st)
			checkState(t, withRelations(before, c.want), after)
			checkInvariants(t, after)
		})
	}
}

func (s suite) rules(t *testing.T) {
	t.Run("Associate", func(t *testing.T) { s.runRuleCases(t, associateCases) })
	t.Run("Dissociate", func(t *testing.T) { s.runRuleCases(t, dissociateCases) })
	t.Run("DissociateFreesASlot", s.dissociateFreesASlot)
}

// The rule tests act as alice on her own tickets unless they say otherwise.
func assoc(caseID string, related ...string) action {
	return associate("alice", caseID, related, "")
}

func dissoc(caseID, relatedID string) action {
	return dissociate("alice", caseID, relatedID, "")
}

var associateCases = []ruleCase{
	// Associating.
	{name: "one", do: assoc("A1", "A2"),
		want: map[string][]string{"A1": {"A2"}, "A2": {"A1"}}},
	{name: "three at once in request order", do: assoc("A1", "A3", "A2", "A4"),
		want: map[string][]string{"A1": {"A3", "A2", "A4"}, "A2": {"A1"}, "A3": {"A1"}, "A4": {"A1"}}},
	{name: "appends after existing", rels: [][]string{{"A1", "A2"}}, do: assoc("A1", "A3"),
		want: map[string][]string{"A1": {"A2", "A3"}, "A3": {"A1"}}},
	{name: "from the related side appends to both", rels: [][]string{{"A1", "A2"}}, do: assoc("A3", "A1"),
		want: map[string][]string{"A1": {"A2", "A3"}, "A3": {"A1"}}},

	// The limit of the case.
	{name: "fourth refused", rels: [][]string{{"A1", "A2", "A3", "A4"}}, do: assoc("A1", "A5"),
		err: store.ErrLimit, ticket: "A1"},
	{name: "four in one request refused", do: assoc("A1", "A2", "A3", "A4", "A5"),
		err: store.ErrLimit, ticket: "A1"},
	{name: "two new with one slot left refused", rels: [][]string{{"A1", "A2", "A3"}}, do: assoc("A1", "A4", "A5"),
		err: store.ErrLimit, ticket: "A1"},
	{name: "associations listed on the other side count for the case",
		rels: [][]string{{"A2", "A1"}, {"A3", "A1"}, {"A4", "A1"}}, do: assoc("A1", "A5"),
		err: store.ErrLimit, ticket: "A1"},

	// The limit of the related ticket (associations are mutual).
	{name: "related ticket at its limit refused", rels: [][]string{{"A2", "A3", "A4", "A5"}}, do: assoc("A1", "A2"),
		err: store.ErrLimit, ticket: "A2"},
	{name: "associations listed on the other side count for the related ticket",
		rels: [][]string{{"A3", "A2"}, {"A4", "A2"}, {"A5", "A2"}}, do: assoc("A1", "A2"),
		err: store.ErrLimit, ticket: "A2"},
	{name: "full case refused when named as related", rels: [][]string{{"A1", "A2", "A3", "A4"}}, do: assoc("A5", "A1"),
		err: store.ErrLimit, ticket: "A1"},
	{name: "one full ticket in the list refuses all", rels: [][]string{{"A5", "A6", "A7", "A8"}}, do: assoc("A1", "A2", "A5", "A3"),
		err: store.ErrLimit, ticket: "A5"},

	// Pairs already associated and repeated IDs.
	{name: "re-associating is a no-op", rels: [][]string{{"A1", "A2"}}, do: assoc("A1", "A2")},
	{name: "re-associating from the other side is a no-op", rels: [][]string{{"A1", "A2"}}, do: assoc("A2", "A1")},
	{name: "full case may re-associate one", rels: [][]string{{"A1", "A2", "A3", "A4"}}, do: assoc("A1", "A3")},
	{name: "full case may re-associate all", rels: [][]string{{"A1", "A2", "A3", "A4"}}, do: assoc("A1", "A4", "A2", "A3")},
	{name: "full related ticket may be re-associated", rels: [][]string{{"A2", "A1", "A3", "A4"}}, do: assoc("A1", "A2")},
	{name: "associated pairs count no extra", rels: [][]string{{"A1", "A2", "A3"}}, do: assoc("A1", "A2", "A3", "A4"),
		want: map[string][]string{"A1": {"A2", "A3", "A4"}, "A4": {"A1"}}},
	{name: "repeated IDs count once", rels: [][]string{{"A1", "A2", "A3"}}, do: assoc("A1", "A4", "A4", "A4"),
		want: map[string][]string{"A1": {"A2", "A3", "A4"}, "A4": {"A1"}}},
	{name: "repeated IDs associate once", do: assoc("A1", "A2", "A3", "A2"),
		want: map[string][]string{"A1": {"A2", "A3"}, "A2": {"A1"}, "A3": {"A1"}}},

	// Bad tickets: the whole request is refused.
	{name: "self", do: assoc("A1", "A1"), err: store.ErrSelf, ticket: "A1"},
	{name: "self among others refuses all", do: assoc("A1", "A2", "A1"), err: store.ErrSelf, ticket: "A1"},
	{name: "unknown case", do: assoc("NOPE", "A1"), err: store.ErrUnknownTicket, ticket: "NOPE"},
	{name: "unknown related refuses all", do: assoc("A1", "A2", "NOPE"), err: store.ErrUnknownTicket, ticket: "NOPE"},
	{name: "unknown related first refuses all", do: assoc("A1", "NOPE", "A2"), err: store.ErrUnknownTicket, ticket: "NOPE"},
	{name: "ticket without permission refuses all", do: assoc("A1", "A2", "C1"), err: store.ErrNoPermission, ticket: "C1"},
	{name: "unknown caller", do: associate("mallory", "A1", ids("A2"), ""), err: store.ErrUnknownCaller, ticket: "mallory"},
}

var dissociateCases = []ruleCase{
	{name: "removes from both", rels: [][]string{{"A1", "A2", "A3"}}, do: dissoc("A1", "A2"),
		want: map[string][]string{"A1": {"A3"}, "A2": nil}},
	{name: "from the related side", rels: [][]string{{"A1", "A2", "A3"}}, do: dissoc("A2", "A1"),
		want: map[string][]string{"A1": {"A3"}, "A2": nil}},
	{name: "keeps the order of the rest", rels: [][]string{{"A1", "A2", "A3", "A4"}}, do: dissoc("A1", "A3"),
		want: map[string][]string{"A1": {"A2", "A4"}, "A3": nil}},
	{name: "not associated is a no-op", rels: [][]string{{"A1", "A2"}, {"A3", "A4"}}, do: dissoc("A1", "A3")},
	{name: "nothing associated is a no-op", do: dissoc("A1", "A2")},
	{name: "self", rels: [][]string{{"A1", "A2"}}, do: dissoc("A1", "A1"), err: store.ErrSelf, ticket: "A1"},
	{name: "unknown case", rels: [][]string{{"A1", "A2"}}, do: dissoc("NOPE", "A1"), err: store.ErrUnknownTicket, ticket: "NOPE"},
	{name: "unknown related", rels: [][]string{{"A1", "A2"}}, do: dissoc("A1", "NOPE"), err: store.ErrUnknownTicket, ticket: "NOPE"},
	{name: "unknown caller", rels: [][]string{{"A1", "A2"}}, do: dissociate("mallory", "A1", "A2", ""),
		err: store.ErrUnknownCaller, ticket: "mallory"},
}

// dissociateFreesASlot: a full ticket can take a new association once one is
// removed, and the removed partner no longer counts it.
func (s suite) dissociateFreesASlot(t *testing.T) {
	st := s.with(t, base().rel("A1", "A2", "A3", "A4").dataset())
	ctx := t.Context()
	checkRuleErr(t, assoc("A1", "A5")(ctx, st), store.ErrLimit, "A1")
	checkRuleErr(t, dissoc("A1", "A2")(ctx, st), nil, "")
	checkRuleErr(t, assoc("A1", "A5")(ctx, st), nil, "")
	checkRuleErr(t, assoc("A1", "A2")(ctx, st), store.ErrLimit, "A1")

	d := snapshot(t, st)
	checkState(t, withRelations(base().dataset(), map[string][]string{
		"A1": {"A3", "A4", "A5"}, "A3": {"A1"}, "A4": {"A1"}, "A5": {"A1"},
	}), d)
	checkInvariants(t, d)
}

func (s suite) permissions(t *testing.T) {
	t.Run("Associate", func(t *testing.T) { s.runRuleCases(t, associatePermissionCases) })
	t.Run("Dissociate", func(t *testing.T) { s.runRuleCases(t, dissociatePermissionCases) })
	t.Run("List", s.listPermissions)
}

// See base for who owns what and who is in which group.
var associatePermissionCases = []ruleCase{
	{name: "owner without group", do: associate("alice", "A1", ids("A2"), ""),
		want: map[string][]string{"A1": {"A2"}, "A2": {"A1"}}},
	{name: "owner with a group", do: associate("alice", "A1", ids("A2"), "g1"),
		want: map[string][]string{"A1": {"A2"}, "A2": {"A1"}}},
	{name: "same group: related ticket of a member", do: associate("alice", "A1", ids("B1"), "g1"),
		want: map[string][]string{"A1": {"B1"}, "B1": {"A1"}}},
	{name: "same group: case of a member", do: associate("bob", "A1", ids("B1"), "g1"),
		want: map[string][]string{"A1": {"B1"}, "B1": {"A1"}}},
	{name: "same group: no ticket of the caller", do: associate("bob", "A1", ids("A2"), "g1"),
		want: map[string][]string{"A1": {"A2"}, "A2": {"A1"}}},
	{name: "caller in group, owner not", do: associate("alice", "A1", ids("C1"), "g1"),
		err: store.ErrNoPermission, ticket: "C1"},
	{name: "owner in group, caller not", do: associate("carol", "C1", ids("B1"), "g1"),
		err: store.ErrNoPermission, ticket: "B1"},
	{name: "caller in no group", do: associate("dave", "D1", ids("B1"), "g1"),
		err: store.ErrNoPermission, ticket: "B1"},
	{name: "no group and not owner", do: associate("alice", "A1", ids("B1"), ""),
		err: store.ErrNoPermission, ticket: "B1"},
	{name: "shared group is not the one named", do: associate("alice", "A1", ids("B1"), "g2"),
		err: store.ErrNoPermission, ticket: "B1"},
	{name: "group nobody is in", do: associate("alice", "A1", ids("B1"), "g9"),
		err: store.ErrNoPermission, ticket: "B1"},
	{name: "foreign case", do: associate("alice", "B1", ids("A1"), ""),
		err: store.ErrNoPermission, ticket: "B1"},
	{name: "foreign case, caller in group, owner not", do: associate("alice", "C1", ids("A1"), "g1"),
		err: store.ErrNoPermission, ticket: "C1"},
	{name: "foreign ticket in the list refuses all", do: associate("alice", "A1", ids("A2", "B1", "A3"), ""),
		err: store.ErrNoPermission, ticket: "B1"},
	{name: "ticket outside the group refuses all", do: associate("alice", "A1", ids("B1", "C1"), "g1"),
		err: store.ErrNoPermission, ticket: "C1"},
	{name: "unknown caller", do: associate("mallory", "A1", ids("A2"), "g1"),
		err: store.ErrUnknownCaller, ticket: "mallory"},
}

var dissociatePermissionCases = []ruleCase{
	{name: "owner without group", rels: [][]string{{"A1", "A2"}}, do: dissociate("alice", "A1", "A2", ""),
		want: map[string][]string{"A1": nil, "A2": nil}},
	{name: "same group", rels: [][]string{{"A1", "B1"}}, do: dissociate("bob", "B1", "A1", "g1"),
		want: map[string][]string{"A1": nil, "B1": nil}},
	{name: "same group: no ticket of the caller", rels: [][]string{{"B1", "B2"}}, do: dissociate("alice", "B1", "B2", "g1"),
		want: map[string][]string{"B1": nil, "B2": nil}},
	{name: "no group, related not owned", rels: [][]string{{"A1", "B1"}}, do: dissociate("alice", "A1", "B1", ""),
		err: store.ErrNoPermission, ticket: "B1"},
	{name: "no group, case not owned", rels: [][]string{{"A1", "B1"}}, do: dissociate("alice", "B1", "A1", ""),
		err: store.ErrNoPermission, ticket: "B1"},
	{name: "caller in group, owner not", rels: [][]string{{"A1", "C1"}}, do: dissociate("alice", "A1", "C1", "g1"),
		err: store.ErrNoPermission, ticket: "C1"},
	{name: "owner in group, caller not", rels: [][]string{{"B1", "C1"}}, do: dissociate("carol", "C1", "B1", "g1"),
		err: store.ErrNoPermission, ticket: "B1"},
	{name: "caller in no group", rels: [][]string{{"B1", "D1"}}, do: dissociate("dave", "D1", "B1", "g1"),
		err: store.ErrNoPermission, ticket: "B1"},
	{name: "not associated still needs permission", do: dissociate("alice", "A1", "B1", ""),
		err: store.ErrNoPermission, ticket: "B1"},
	{name: "unknown caller", rels: [][]string{{"A1", "A2"}}, do: dissociate("mallory", "A1", "A2", ""),
		err: store.ErrUnknownCaller, ticket: "mallory"},
}

// listPermissions: ListRelation has no group_id, so the owner may list, and
// so may anyone who shares any group with the owner.
func (s suite) listPermissions(t *testing.T) {
	d := base().rel("A1", "B1").rel("C1", "D1").rel("B1", "C2").dataset()
	st := s.with(t, d)
	before := snapshot(t, st)
	cases := []struct {
		name, caller, caseID string
		err                  error
		ticket               string
	}{
		{name: "owner", caller: "alice", caseID: "A1"},
		{name: "owner in no group", caller: "dave", caseID: "D1"},
		{name: "shares g1 with the owner", caller: "alice", caseID: "B1"},
		{name: "shares g2 with the owner", caller: "alice", caseID: "C1"},
		{name: "member listing the other way", caller: "bob", caseID: "A1"},
		{name: "shares one of the owner's groups", caller: "carol", caseID: "A1"},
		{name: "no shared group", caller: "bob", caseID: "C1", err: store.ErrNoPermission, ticket: "C1"},
		{name: "no shared group, other way", caller: "carol", caseID: "B1", err: store.ErrNoPermission, ticket: "B1"},
		{name: "caller in no group", caller: "dave", caseID: "A1", err: store.ErrNoPermission, ticket: "A1"},
		{name: "ticket of an owner in no group", caller: "alice", caseID: "D1", err: store.ErrNoPermission, ticket: "D1"},
		{name: "unknown ticket", caller: "alice", caseID: "NOPE", err: store.ErrUnknownTicket, ticket: "NOPE"},
		{name: "unknown caller", caller: "mallory", caseID: "A1", err: store.ErrUnknownCaller, ticket: "mallory"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := store.List(t.Context(), st, c.caller, c.caseID)
			checkRuleErr(t, err, c.err, c.ticket)
			if c.err != nil {
				if len(got) != 0 {
					t.Errorf("refused List returned %+v", got)
				}
				return
			}
			checkList(t, st, c.caller, c.caseID, relsFor(before, relations(before)[c.caseID]))
		})
	}
	unchanged(t, st, before)
}

func (s suite) list(t *testing.T) {
	t.Run("AssociationOrderAndFields", func(t *testing.T) {
		st := s.with(t, base().rel("A1", "A3", "B1", "A2").dataset())
		want := []store.Relation{
			{CaseID: "A3", Description: "about A3", Owner: "alice"},
			{CaseID: "B1", Description: "about B1", Owner: "bob"},
			{CaseID: "A2", Description: "about A2", Owner: "alice"},
		}
		checkList(t, st, "alice", "A1", want)
		checkList(t, st, "alice", "B1", []store.Relation{{CaseID: "A1", Description: "about A1", Owner: "alice"}})
		checkList(t, st, "bob", "B1", []store.Relation{{CaseID: "A1", Description: "about A1", Owner: "alice"}})
	})
	t.Run("FollowsAssociateAndDissociate", func(t *testing.T) {
		st := s.with(t, base().dataset())
		ctx := t.Context()
		d := snapshot(t, st)
		checkRuleErr(t, assoc("A1", "A3")(ctx, st), nil, "")
		checkRuleErr(t, associate("alice", "A1", ids("B2", "A2"), "g1")(ctx, st), nil, "")
		checkList(t, st, "alice", "A1", relsFor(d, ids("A3", "B2", "A2")))
		checkList(t, st, "alice", "A2", relsFor(d, ids("A1")))
		checkList(t, st, "bob", "B2", relsFor(d, ids("A1")))

		checkRuleErr(t, dissoc("A1", "A3")(ctx, st), nil, "")
		checkRuleErr(t, assoc("A1", "A3")(ctx, st), nil, "")
		checkList(t, st, "alice", "A1", relsFor(d, ids("B2", "A2", "A3")))
		checkList(t, st, "alice", "A3", relsFor(d, ids("A1")))
	})
	t.Run("Empty", func(t *testing.T) {
		st := s.with(t, base().rel("A1", "A2").dataset())
		checkList(t, st, "alice", "A4", nil) // a ticket without associations
		checkRuleErr(t, dissoc("A1", "A2")(t.Context(), st), nil, "")
		checkList(t, st, "alice", "A1", nil)
		checkList(t, st, "alice", "A2", nil)
	})
}

package server_test

import (
	"net/http"
	"slices"
	"testing"
)

// The demo data: demo owns DEMO-1..6, teammate owns TEAM-1, both in group
// "team"; outsider owns OUT-1 and is in no group.
const (
	demoTok     = "demo-token"
	teammateTok = "teammate-token"
	outsiderTok = "outsider-token"
)

func noPermission(ticket string) refusal {
	return refusal{status: http.StatusOK, code: codeNoPermission, msg: "No operation permission."}
}

func TestPermissions(t *testing.T) {
	t.Run("owner, any group_id", func(t *testing.T) {
		srv := demoServer(t)
		expectOK(t, srv, tokenReq(demoTok, "POST", "DEMO-1", createBody("whatever", "DEMO-2")))
		expectOK(t, srv, tokenReq(demoTok, "DELETE", "DEMO-1", deleteBody("", "DEMO-2")))
	})
	t.Run("same group with group_id team", func(t *testing.T) {
		srv := demoServer(t)
		expectOK(t, srv, tokenReq(teammateTok, "POST", "DEMO-1", createBody("team", "TEAM-1", "DEMO-2")))
		if got := ids(list(t, srv, demoTok, "DEMO-1")); !slices.Equal(got, []string{"TEAM-1", "DEMO-2"}) {
			t.Errorf("DEMO-1 relations = %q", got)
		}
		if got := ids(list(t, srv, teammateTok, "TEAM-1")); !slices.Equal(got, []string{"DEMO-1"}) {
			t.Errorf("TEAM-1 relations = %q", got)
		}
		expectOK(t, srv, tokenReq(teammateTok, "DELETE", "DEMO-1", deleteBody("team", "DEMO-2")))
		expectOK(t, srv, tokenReq(demoTok, "DELETE", "TEAM-1", deleteBody("team", "DEMO-1")))
		if got := ids(list(t, srv, demoTok, "DEMO-1")); len(got) != 0 {
			t.Errorf("DEMO-1 relations = %q after deletes", got)
		}
	})

	srv := demoServer(t)
	// One association across the group, to refuse deletes of.
	expectOK(t, srv, tokenReq(demoTok, "POST", "DEMO-1", createBody("team", "TEAM-1")))
	tests := []struct {
		name string
		req  *http.Request
		want refusal
	}{
		{"teammate, wrong group_id", tokenReq(teammateTok, "POST", "DEMO-2", createBody("other", "TEAM-1")), noPermission("DEMO-2")},
		{"owner of the case, wrong group_id for the related", tokenReq(demoTok, "POST", "DEMO-2", createBody("other", "TEAM-1")), noPermission("TEAM-1")},
		{"teammate deletes without group_id", tokenReq(teammateTok, "DELETE", "DEMO-1", deleteBody("", "TEAM-1")), noPermission("DEMO-1")},
		{"teammate deletes with a wrong group_id", tokenReq(teammateTok, "DELETE", "DEMO-1", deleteBody("other", "TEAM-1")), noPermission("DEMO-1")},
		{"owner deletes a pair with a foreign ticket, no group_id", tokenReq(demoTok, "DELETE", "DEMO-1", deleteBody("", "TEAM-1")), noPermission("TEAM-1")},
		{"outsider on demo's ticket", tokenReq(outsiderTok, "POST", "DEMO-1", createBody("team", "OUT-1")), noPermission("DEMO-1")},
		{"outsider on its own ticket with demo's", tokenReq(outsiderTok, "POST", "OUT-1", createBody("team", "DEMO-3")), noPermission("DEMO-3")},
		{"outsider deletes demo's pair", tokenReq(outsiderTok, "DELETE", "DEMO-1", deleteBody("team", "TEAM-1")), noPermission("DEMO-1")},
		{"foreign ticket inside related_id_list", tokenReq(demoTok, "POST", "DEMO-2", createBody("team", "DEMO-3", "OUT-1", "DEMO-4")), noPermission("OUT-1")},
		{"foreign ticket first in related_id_list", tokenReq(demoTok, "POST", "DEMO-2", createBody("team", "OUT-1", "DEMO-3")), noPermission("OUT-1")},
		{"outsider lists a DEMO ticket", tokenReq(outsiderTok, "GET", "DEMO-1", ""), noPermission("DEMO-1")},
		{"outsider lists a TEAM ticket", tokenReq(outsiderTok, "GET", "TEAM-1", ""), noPermission("TEAM-1")},
		{"demo lists the outsider's ticket", tokenReq(demoTok, "GET", "OUT-1", ""), noPermission("OUT-1")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			expectRefusal(t, srv, tt.req, tt.want)
		})
	}
	t.Run("nothing changed", func(t *testing.T) {
		for _, id := range []string{"DEMO-2", "DEMO-3", "DEMO-4"} {
			if got := list(t, srv, demoTok, id); len(got) != 0 {
				t.Errorf("%s relations = %+v", id, got)
			}
		}
		if got := ids(list(t, srv, outsiderTok, "OUT-1")); len(got) != 0 {
			t.Errorf("OUT-1 relations = %q", got)
		}
	})
	t.Run("teammate lists a DEMO ticket", func(t *testing.T) {
		got := list(t, srv, teammateTok, "DEMO-1")
		want := []relation{{CaseID: "TEAM-1", Description: "RDS failover took ten minutes", UserName: "teammate"}}
		if !slices.Equal(got, want) {
			t.Errorf("got %+v, want %+v", got, want)
		}
	})
	t.Run("demo lists the teammate's ticket", func(t *testing.T) {
		got := list(t, srv, demoTok, "TEAM-1")
		want := []relation{{CaseID: "DEMO-1", Description: "ECS instance cannot be reached over SSH", UserName: "demo"}}
		if !slices.Equal(got, want) {
			t.Errorf("got %+v, want %+v", got, want)
		}
	})
}

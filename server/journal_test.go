package server_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/osmstub/osmstub/aksk"
	"github.com/osmstub/osmstub/server"
	"github.com/osmstub/osmstub/server/journal"
)

// TestJournalRecordsEveryAnswer sends one request of each kind of answer
// and checks what the journal kept of it.
func TestJournalRecordsEveryAnswer(t *testing.T) {
	srv := demoServer(t)
	if err := srv.SetFault("DeleteRelation", server.Fault{Status: 500, Code: codeInternal, CaseID: "DEMO-4", Times: 1}); err != nil {
		t.Fatal(err)
	}
	reqs := []*http.Request{
		tokenReq("demo-token", http.MethodPost, "DEMO-1", createBody("team", "DEMO-2")),
		tokenReq("demo-token", http.MethodPost, "DEMO-1", createBody("team", "NOPE-9")),
		signed(t, http.MethodGet, "DEMO-1", ""),
		tokenReq("wrong-token", http.MethodGet, "DEMO-1", ""),
		tokenReq("demo-token", http.MethodDelete, "DEMO-4", deleteBody("team", "DEMO-5")),
		tokenReq("demo-token", http.MethodGet, "DEMO-1", "", "Prefer", "code=200"),
		newReq(http.MethodGet, "/v2/nothing/here", ""),
	}
	for _, r := range reqs {
		do(t, srv, r)
	}
	ctlDo(t, srv, http.MethodGet, "/_stub/state", "") // not journaled
	got := srv.Requests(journal.Filter{})
	if len(got) != len(reqs) {
		t.Fatalf("journal has %d entries, want %d: %+v", len(got), len(reqs), got)
	}
	type row struct {
		op, caseID, user, auth string
		status                 int
		code, fault, prefer    string
	}
	want := []row{
		{"CreateRelations", "DEMO-1", "demo", "token", 200, "", "", ""},
		{"CreateRelations", "DEMO-1", "demo", "token", 200, codeUnknown, "", ""},
		{"ListRelation", "DEMO-1", "demo", "aksk", 200, "", "", ""},
		{"ListRelation", "DEMO-1", "", "", 401, codeUnauthorized, "", ""},
		{"DeleteRelation", "DEMO-4", "demo", "token", 500, codeInternal, "DeleteRelation case_id=DEMO-4: status 500 (0 more after this)", ""},
		{"ListRelation", "DEMO-1", "demo", "token", 200, "", "", "code=200"},
		{"", "", "", "", 404, "APIGW.0101", "", ""},
	}
	for i, e := range got {
		g := row{e.Operation, e.CaseID, e.User, e.Auth, e.Status, e.ErrorCode, e.Fault, e.Prefer}
		if e.Prefer != "" { // whether Prefer answers before or after authentication
			g.user, g.auth = want[i].user, want[i].auth
		}
		if g != want[i] {
			t.Errorf("entry %d (%s %s):\n got %+v\nwant %+v", i, e.Method, e.Path, g, want[i])
		}
		if e.RequestID == "" || e.Time.IsZero() || e.Duration <= 0 || e.Seq == 0 {
			t.Errorf("entry %d lacks id, time, duration or seq: %+v", i, e)
		}
	}
	if got[0].RequestBody != createBody("team", "DEMO-2") || got[0].ResponseBody != "{}\n" {
		t.Errorf("entry 0 bodies: %q -> %q", got[0].RequestBody, got[0].ResponseBody)
	}
	if !strings.Contains(got[2].ResponseBody, "case_relation_list") || got[2].Method != http.MethodGet || got[2].Path != relationsPath("DEMO-1") {
		t.Errorf("entry 2: %+v", got[2])
	}
}

// TestJournalRedactsSecrets checks every entry's JSON, as the control API
// serves it, for the secrets of every way to authenticate.
func TestJournalRedactsSecrets(t *testing.T) {
	srv := demoServer(t)
	var sigs []string
	for _, method := range []string{http.MethodGet, http.MethodPost} {
		body := ""
		if method == http.MethodPost {
			body = createBody("team", "DEMO-2")
		}
		r := signed(t, method, "DEMO-1", body, "X-Security-Token", "sts-secret-value")
		a, err := aksk.FromRequest(r)
		if err != nil {
			t.Fatal(err)
		}
		sigs = append(sigs, a.Signature)
		do(t, srv, r)
	}
	do(t, srv, tokenReq("demo-token", http.MethodGet, "DEMO-1", ""))
	do(t, srv, tokenReq("unknown-secret-token", http.MethodGet, "DEMO-1", "", "Cookie", "s=cookie-secret", "Authorization", "Bearer bearer-secret"))
	entries := srv.Requests(journal.Filter{})
	if len(entries) != 4 {
		t.Fatalf("%d entries, want 4", len(entries))
	}
	for _, e := range entries {
		b, err := json.Marshal(e)
		if err != nil {
			t.Fatal(err)
		}
		for _, secret := range append(sigs, "demo-token", "unknown-secret-token", "sts-secret-value", "cookie-secret", "bearer-secret", demoSK) {
			if strings.Contains(string(b), secret) {
				t.Errorf("the journal shows the secret %q: %s", secret, b)
			}
		}
	}
	if a := entries[0].RequestHeaders.Get("Authorization"); !strings.Contains(a, "Access="+demoAK) {
		t.Errorf("the journal lost the access key, which is no secret: %s", a)
	}
}

func TestJournalCapsBodies(t *testing.T) {
	srv := demoServer(t)
	ids := make([]string, 8000) // about 88 KiB of JSON, under the 1 MiB limit
	for i := range ids {
		ids[i] = fmt.Sprintf("ID-%06d", i)
	}
	do(t, srv, tokenReq("demo-token", http.MethodPost, "DEMO-1", createBody("team", ids...)))
	e := srv.Requests(journal.Filter{})[0]
	if len(e.RequestBody) != journal.RequestBodyCap || !e.RequestBodyTruncated {
		t.Errorf("request body kept %d bytes, truncated %v; want %d, true", len(e.RequestBody), e.RequestBodyTruncated, journal.RequestBodyCap)
	}
	if e.Status != http.StatusBadRequest || e.ResponseBodyTruncated {
		t.Errorf("status %d, response truncated %v", e.Status, e.ResponseBodyTruncated)
	}
}

func TestJournalSizeAndOff(t *testing.T) {
	small := newServer(t, server.Options{Now: fixedNow, JournalSize: 2})
	for range 5 {
		do(t, small, tokenReq("demo-token", http.MethodGet, "DEMO-1", ""))
	}
	if got := small.Requests(journal.Filter{}); len(got) != 2 || got[1].Seq != 5 {
		t.Errorf("a journal of 2 after 5 requests: %d entries", len(got))
	}
	small.ClearRequests()
	if got := small.Requests(journal.Filter{}); len(got) != 0 {
		t.Errorf("after ClearRequests: %d entries", len(got))
	}
	off := newServer(t, server.Options{Now: fixedNow, DisableJournal: true})
	do(t, off, tokenReq("demo-token", http.MethodGet, "DEMO-1", ""))
	if got := off.Requests(journal.Filter{}); len(got) != 0 {
		t.Errorf("a server without a journal returned %d entries", len(got))
	}
	if _, err := off.WaitForRequests(t.Context(), journal.Filter{}, 1); err != server.ErrNoJournal {
		t.Errorf("WaitForRequests without a journal: %v", err)
	}
}

func TestJournalRecordsDroppedConnections(t *testing.T) {
	srv := demoServer(t)
	if err := srv.SetFault("ListRelation", server.Fault{Drop: true, Times: 1}); err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv)
	defer ts.Close()
	req, _ := http.NewRequest(http.MethodGet, ts.URL+relationsPath("DEMO-1"), nil)
	req.Header.Set("X-Auth-Token", "demo-token")
	if res, err := ts.Client().Do(req); err == nil {
		res.Body.Close()
		t.Fatalf("a dropped call answered %d", res.StatusCode)
	}
	e := srv.Requests(journal.Filter{})
	if len(e) != 1 || !e[0].Dropped || e[0].Status != 0 || !strings.Contains(e[0].Fault, "drop") {
		t.Errorf("journal of a dropped call: %+v", e)
	}
}

// TestJournalConcurrently is for -race: 64 clients at once, each on its
// own ticket, then every entry accounted for.
func TestJournalConcurrently(t *testing.T) {
	const clients, each = 64, 5
	srv := newServer(t, server.Options{Now: fixedNow, JournalSize: clients * each})
	var wg sync.WaitGroup
	for c := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range each {
				do(t, srv, tokenReq("demo-token", http.MethodGet, fmt.Sprintf("C-%d", c), ""))
			}
		}()
	}
	wg.Wait()
	all := srv.Requests(journal.Filter{})
	if len(all) != clients*each {
		t.Fatalf("%d entries, want %d", len(all), clients*each)
	}
	seen := map[string]bool{}
	for c := range clients {
		got := srv.Requests(journal.Filter{CaseID: fmt.Sprintf("C-%d", c)})
		if len(got) != each {
			t.Errorf("case C-%d: %d entries, want %d", c, len(got), each)
		}
		for _, e := range got {
			if seen[e.RequestID] {
				t.Errorf("request id %s twice", e.RequestID)
			}
			seen[e.RequestID] = true
			if b, _ := json.Marshal(e); strings.Contains(string(b), "demo-token") {
				t.Errorf("entry shows the token: %s", b)
			}
		}
	}
}

func TestJournalKeepsTheEscapedPath(t *testing.T) {
	srv := demoServer(t)
	do(t, srv, tokenReq("demo-token", http.MethodGet, "a%2Fb%20c", "", "X-Other", "kept"))
	e := srv.Requests(journal.Filter{})[0]
	if e.Path != relationsPath("a%2Fb%20c") || e.CaseID != "a/b c" || e.RequestHeaders.Get("X-Other") != "kept" {
		t.Errorf("path %q, case_id %q, headers %v", e.Path, e.CaseID, e.RequestHeaders)
	}
	if got := srv.Requests(journal.Filter{CaseID: "a/b c"}); len(got) != 1 {
		t.Errorf("filter on the unescaped case_id: %d entries", len(got))
	}
}

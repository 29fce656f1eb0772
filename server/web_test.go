package server_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/osmstub/osmstub/gen/controlapi"
	"github.com/osmstub/osmstub/internal/contract"
	"github.com/osmstub/osmstub/server"
	"github.com/osmstub/osmstub/server/store"
)

// The API page (/docs) and the live view (/_stub/ui) as HTTP resources;
// web/browser.test.mjs drives them in a browser.

// get sends GET target through h.
func get(t *testing.T, h http.Handler, target string) *httptest.ResponseRecorder {
	t.Helper()
	rec := httptest.NewRecorder()
	req := httptest.NewRequest(http.MethodGet, target, nil)
	req.Host = "127.0.0.1:8080" // the token-less control API serves loopback names only
	h.ServeHTTP(rec, req)
	if rec.Header().Get("X-Request-Id") == "" {
		t.Errorf("GET %s: no X-Request-Id", target)
	}
	return rec
}

var (
	pageRefs = regexp.MustCompile(`(?:src|href|value)="([^"]*)"`)
	// The CSP refuses inline script; a page that had some would break in a
	// browser, not here, so it is looked for.
	pageScripts  = regexp.MustCompile(`(?s)<script([^>]*)>(.*?)</script>`)
	pageHandlers = regexp.MustCompile(`(?i)<[^>]*\son[a-z]+\s*=`)
)

// checkPage checks that target is an HTML page loading only from the stub
// and under its CSP, and that everything it references is served.
func checkPage(t *testing.T, h http.Handler, target string) []string {
	t.Helper()
	rec := get(t, h, target)
	if rec.Code != http.StatusOK || !strings.HasPrefix(rec.Header().Get("Content-Type"), "text/html") {
		t.Fatalf("GET %s -> %d %s", target, rec.Code, rec.Header().Get("Content-Type"))
	}
	csp := rec.Header().Get("Content-Security-Policy")
	for _, want := range []string{"default-src 'none'", "script-src 'self'", "connect-src 'self'", "frame-ancestors 'none'"} {
		if !strings.Contains(csp, want) {
			t.Errorf("GET %s: Content-Security-Policy %q lacks %q", target, csp, want)
		}
	}
	for _, m := range pageScripts.FindAllStringSubmatch(rec.Body.String(), -1) {
		if !strings.Contains(m[1], `src="`) || strings.TrimSpace(m[2]) != "" {
			t.Errorf("GET %s: inline script %s", target, m[0])
		}
	}
	if m := pageHandlers.FindString(rec.Body.String()); m != "" {
		t.Errorf("GET %s: inline event handler in %s", target, m)
	}
	var refs []string
	for _, m := range pageRefs.FindAllStringSubmatch(rec.Body.String(), -1) {
		ref := m[1]
		if !strings.HasPrefix(ref, "/") || strings.HasPrefix(ref, "//") {
			t.Errorf("GET %s: %q is not served by the stub", target, ref)
			continue
		}
		refs = append(refs, ref)
		if sub := get(t, h, ref); sub.Code != http.StatusOK {
			t.Errorf("GET %s references %s, which answers %d", target, ref, sub.Code)
		}
	}
	return refs
}

func TestAPIPage(t *testing.T) {
	h := ctlServer(t, server.Options{})
	refs := checkPage(t, h, "/docs")
	for _, want := range []string{
		"/docs/assets/swagger-ui/swagger-ui-bundle.js", "/docs/assets/swagger-ui/swagger-ui.css",
		"/docs/assets/docs.js", "/docs/openapi.yaml", "/docs/control.openapi.yaml", "/_stub/ui",
	} {
		if !slices.Contains(refs, want) {
			t.Errorf("/docs does not reference %s (it references %q)", want, refs)
		}
	}
	for _, tc := range []struct{ path, ctype string }{
		{"/docs/assets/swagger-ui/swagger-ui-bundle.js", "text/javascript"},
		{"/docs/assets/swagger-ui/swagger-ui.css", "text/css"},
		{"/docs/assets/swagger-ui/LICENSE", "text/plain"},
		{"/docs/assets/live.js", "text/javascript"},
	} {
		rec := get(t, h, tc.path)
		if rec.Code != http.StatusOK || !strings.HasPrefix(rec.Header().Get("Content-Type"), tc.ctype) {
			t.Errorf("GET %s -> %d %s, want 200 %s", tc.path, rec.Code, rec.Header().Get("Content-Type"), tc.ctype)
		}
		if rec.Header().Get("X-Content-Type-Options") != "nosniff" {
			t.Errorf("GET %s: no X-Content-Type-Options: nosniff", tc.path)
		}
	}
}

// The documents the page shows are the project's, with the stub itself as
// the only server, so that "Try it out" never calls anything else.
func TestAPIPageDocuments(t *testing.T) {
	h := ctlServer(t, server.Options{})
	contractDoc, err := contract.Spec()
	if err != nil {
		t.Fatal(err)
	}
	controlDoc, err := controlapi.GetSpec()
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		path string
		want *openapi3.T
	}{
		{"/docs/openapi.yaml", contractDoc},
		{"/docs/control.openapi.yaml", controlDoc},
	} {
		rec := get(t, h, tc.path)
		if rec.Code != http.StatusOK {
			t.Fatalf("GET %s -> %d", tc.path, rec.Code)
		}
		doc, err := openapi3.NewLoader().LoadFromData(rec.Body.Bytes())
		if err != nil {
			t.Fatalf("GET %s: %v", tc.path, err)
		}
		if err := doc.Validate(context.Background()); err != nil {
			t.Errorf("GET %s: invalid document: %v", tc.path, err)
		}
		if len(doc.Servers) != 1 || doc.Servers[0].URL != "/" {
			t.Errorf("GET %s: servers %v, want only /", tc.path, doc.Servers)
		}
		// Apart from servers, the document is the one the stub serves by.
		doc.Servers, tc.want.Servers = nil, nil
		got, _ := json.Marshal(doc)
		want, _ := json.Marshal(tc.want)
		if string(got) != string(want) {
			t.Errorf("GET %s differs from the embedded document beyond servers", tc.path)
		}
	}
}

func TestLiveView(t *testing.T) {
	h := ctlServer(t, server.Options{})
	checkPage(t, h, "/_stub/ui")
	res := ctlDo(t, h, http.MethodGet, "/_stub/ui", "")
	if res.header.Get("Referrer-Policy") != "no-referrer" {
		t.Errorf("GET /_stub/ui: Referrer-Policy %q", res.header.Get("Referrer-Policy"))
	}
	if !strings.Contains(string(res.body), `<svg id="graph"`) {
		t.Errorf("GET /_stub/ui: no graph in the page:\n%s", res.body)
	}
	for _, col := range []string{"Ticket", "Status", "Messages", "Associated with", "Owner"} {
		if !strings.Contains(string(res.body), "<th>"+col+"</th>") {
			t.Errorf("GET /_stub/ui: the tickets table has no column %q", col)
		}
	}
}

// The live view reads these fields of GET /_stub/state (live.js, model()):
// the state must keep them under these names, with these types.
func TestLiveViewStateFields(t *testing.T) {
	at := time.Date(2026, 12, 1, 8, 0, 0, 0, time.UTC)
	d := store.Dataset{
		Users: []store.User{
			{Name: "alice", Account: "acme", Tokens: []string{"alice-token-for-the-live-view"}},
			{Name: "bob", Tokens: []string{"bob-token-for-the-live-view"}},
		},
		Tickets: []store.Ticket{
			{
				ID: "ACME-1", Owner: "alice", Description: "one",
				TicketDetail: store.TicketDetail{Status: store.StatusFeedback, Created: at},
				Relations:    []string{"ACME-2"},
				Messages: []store.Message{
					{ID: "MSG1", Replier: "alice", Content: "first", Created: at},
					{ID: "MSG2", Type: 1, Replier: "support", Content: "second", Created: at.Add(time.Hour)},
				},
			},
			{ID: "ACME-2", Owner: "alice", Description: "two", TicketDetail: store.TicketDetail{Created: at}},
			{ID: "BOB-1", Owner: "bob", Description: "three", TicketDetail: store.TicketDetail{Created: at}},
		},
	}
	h := ctlServer(t, server.Options{Fixtures: &d})
	rec := get(t, h, "/_stub/state")
	if rec.Code != http.StatusOK {
		t.Fatalf("GET /_stub/state -> %d %s", rec.Code, rec.Body)
	}
	var state struct {
		Users   []map[string]any `json:"users"`
		Tickets []map[string]any `json:"tickets"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &state); err != nil {
		t.Fatal(err)
	}
	tickets := map[string]map[string]any{}
	for _, tk := range state.Tickets {
		tickets[fmt.Sprint(tk["id"])] = tk
	}
	users := map[string]map[string]any{}
	for _, u := range state.Users {
		users[fmt.Sprint(u["name"])] = u
	}
	for _, tc := range []struct {
		ticket, field string
		want          any // nil: absent (the page reads "" or [] then)
	}{
		{"ACME-1", "id", "ACME-1"},
		{"ACME-1", "owner", "alice"},
		{"ACME-1", "simple_description", "one"},
		{"ACME-1", "account", "acme"},
		{"ACME-1", "status", float64(store.StatusFeedback)},
		{"ACME-1", "create_time", "2026-12-01T08:00:00Z"},
		{"ACME-1", "relations", []any{"ACME-2"}},
		{"ACME-1", "messages", 2}, // the page counts them
		{"ACME-2", "status", float64(store.StatusPending)},
		{"ACME-2", "relations", []any{"ACME-1"}},
		{"BOB-1", "account", nil},
		{"BOB-1", "messages", nil},
		{"BOB-1", "relations", nil},
	} {
		got, ok := tickets[tc.ticket][tc.field]
		switch want := tc.want.(type) {
		case nil:
			if ok {
				t.Errorf("%s: %s is %v, want none", tc.ticket, tc.field, got)
			}
		case int:
			if l, isList := got.([]any); !isList || len(l) != want {
				t.Errorf("%s: %s is %v, want %d of them", tc.ticket, tc.field, got, want)
			}
		default:
			if !ok || fmt.Sprint(got) != fmt.Sprint(want) || fmt.Sprintf("%T", got) != fmt.Sprintf("%T", want) {
				t.Errorf("%s: %s is %#v, want %#v", tc.ticket, tc.field, got, want)
			}
		}
	}
	if a := users["alice"]["account"]; a != "acme" {
		t.Errorf("alice: account %v, want acme", a)
	}
	if a, ok := users["bob"]["account"]; ok {
		t.Errorf("bob: account %v, want none", a)
	}
	js := get(t, h, "/docs/assets/live.js").Body.String()
	for _, f := range []string{"t.id", "t.owner", "t.simple_description", "t.account", "t.status", "t.create_time", "t.relations", "t.messages", "u.account"} {
		if !strings.Contains(js, f) {
			t.Errorf("live.js no longer reads %s: update this test with it", f)
		}
	}
}

// Every status a ticket can have (reference §2.1) has its label in the
// live view, the words of the English pages.
func TestLiveViewStatuses(t *testing.T) {
	js := get(t, ctlServer(t, server.Options{}), "/docs/assets/live.js").Body.String()
	for status, label := range map[int]string{
		store.StatusPending:    "to be processed",
		store.StatusProcessing: "processing",
		store.StatusToConfirm:  "to be confirmed",
		store.StatusCompleted:  "completed",
		store.StatusCanceled:   "canceled",
		5:                      "paused", // CN pages only; no constant in the store
		store.StatusInvalid:    "invalid",
		store.StatusDeleted:    "deleted",
		store.StatusFeedback:   "pending feedback",
	} {
		if want := fmt.Sprintf("%d: ['%s', ", status, label); !strings.Contains(js, want) {
			t.Errorf("live.js does not label status %d %q (looked for %q)", status, label, want)
		}
	}
}

// Swagger UI draws one section per tag, operations under their first tag
// (an untagged one under "default"): /docs shows the contract's 15
// operations under its five tags.
func TestDocsOperations(t *testing.T) {
	want := map[string][]string{
		"Tickets":     {"CreateCases", "CreateScores", "ListCases", "ShowCaseDetail", "ShowCaseStatus", "UpdateCases"},
		"Messages":    {"CreateMessages", "ListMessages"},
		"Attachments": {"ShowAccessoryLimits", "UploadJsonAccessories"},
		"Catalogue":   {"ListProblemTypes", "ListProductCategories"},
		"Relations":   {"CreateRelations", "DeleteRelation", "ListRelation"},
	}
	rec := get(t, ctlServer(t, server.Options{}), "/docs/openapi.yaml")
	doc, err := openapi3.NewLoader().LoadFromData(rec.Body.Bytes())
	if err != nil {
		t.Fatalf("GET /docs/openapi.yaml: %v", err)
	}
	var tags []string
	for _, tag := range doc.Tags {
		tags = append(tags, tag.Name)
	}
	if wantTags := []string{"Tickets", "Messages", "Attachments", "Catalogue", "Relations"}; !slices.Equal(tags, wantTags) {
		t.Errorf("tags %q, want %q", tags, wantTags)
	}
	got := map[string][]string{}
	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			if len(op.Tags) != 1 {
				t.Errorf("%s %s: tags %q, want one", method, path, op.Tags)
				continue
			}
			got[op.Tags[0]] = append(got[op.Tags[0]], op.OperationID)
		}
	}
	for tag := range got {
		slices.Sort(got[tag])
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("operations by tag\n%v\nwant\n%v", got, want)
	}
}

// Without the control API, the page shows the contract only and the live
// view is gone like any unknown path.
func TestAPIPageWithoutControl(t *testing.T) {
	h := ctlServer(t, server.Options{DisableControl: true})
	refs := checkPage(t, h, "/docs")
	for _, ref := range refs {
		if strings.Contains(ref, "control") || strings.HasPrefix(ref, "/_stub/") {
			t.Errorf("/docs references %s without the control API", ref)
		}
	}
	for _, path := range []string{"/_stub/ui", "/docs/control.openapi.yaml", "/docs/assets/live.js", "/docs/assets/live.css"} {
		rec := get(t, h, path)
		if rec.Code != http.StatusNotFound || !strings.Contains(rec.Body.String(), ctlNoSuch) {
			t.Errorf("GET %s -> %d %s, want 404 %s", path, rec.Code, rec.Body, ctlNoSuch)
		}
	}
}

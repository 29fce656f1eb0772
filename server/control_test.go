package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/legacy"

	"github.com/osmstub/osmstub/gen/controlapi"
	"github.com/osmstub/osmstub/internal/violation"
	"github.com/osmstub/osmstub/server"
	"github.com/osmstub/osmstub/server/store"
)

// The control API's tests go through the full handler, and every control
// response is validated against control.openapi.yaml (ctlDo).

const (
	ctlConflict = "STUB.0001"
	ctlNotFound = "STUB.0002"
	ctlNoSuch   = "APIGW.0101"
)

var ctlRouter = sync.OnceValues(func() (routers.Router, error) {
	doc, err := controlapi.GetSpec()
	if err != nil {
		return nil, err
	}
	doc.Servers = nil // match the paths as written, on any host
	return legacy.NewRouter(doc)
})

func ctlServer(t testing.TB, opts server.Options) *server.Server {
	t.Helper()
	srv, err := server.New(opts)
	if err != nil {
		t.Fatalf("server.New: %v", err)
	}
	t.Cleanup(func() { _ = srv.Close() })
	return srv
}

type ctlResponse struct {
	status int
	header http.Header
	body   []byte
}

// ctlDo sends a control request (a non-empty body as application/json)
// through h and checks the answer against the control document: a declared
// status, body and headers, or else a 404/405 error body from outside it.
func ctlDo(t testing.TB, h http.Handler, method, path, body string, headers ...string) ctlResponse {
	t.Helper()
	var r io.Reader = http.NoBody // as net/http gives a request sent without one
	if body != "" {
		r = strings.NewReader(body)
	}
	req := httptest.NewRequest(method, path, r)
	req.Host = "127.0.0.1:8080"
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	res := ctlResponse{rec.Code, rec.Result().Header, rec.Body.Bytes()}
	ctlCheck(t, req, res)
	return res
}

func ctlCheck(t testing.TB, req *http.Request, res ctlResponse) {
	t.Helper()
	if res.header.Get("X-Request-Id") == "" {
		t.Errorf("%s %s -> %d: no X-Request-Id", req.Method, req.URL.Path, res.status)
	}
	router, err := ctlRouter()
	if err != nil {
		t.Fatalf("control router: %v", err)
	}
	route, params, err := router.FindRoute(req)
	var routeErr *routers.RouteError
	if errors.As(err, &routeErr) { // no such path, or no such method on it
		if res.status != http.StatusNotFound && res.status != http.StatusMethodNotAllowed {
			t.Errorf("%s %s outside the control API -> %d, want 404 or 405", req.Method, req.URL.Path, res.status)
		}
		if code, _ := ctlError(t, res); code != ctlNoSuch {
			t.Errorf("%s %s -> error_code %q, want %s", req.Method, req.URL.Path, code, ctlNoSuch)
		}
		return
	} else if err != nil {
		t.Fatalf("find control route: %v", err)
	}
	if res.status == http.StatusNotFound {
		if code, _ := ctlError(t, res); code == ctlNoSuch {
			t.Errorf("%s %s -> 404 %s: the control API is not mounted", req.Method, req.URL.Path, code)
			return
		}
	}
	opts := &openapi3filter.Options{IncludeResponseStatus: true, MultiError: true}
	// kin-openapi decodes no HTML: the live view's page is checked by web_test.go.
	opts.ExcludeResponseBody = strings.HasPrefix(res.header.Get("Content-Type"), "text/html")
	err = openapi3filter.ValidateResponse(context.Background(), &openapi3filter.ResponseValidationInput{
		RequestValidationInput: &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: route},
		Status:                 res.status,
		Header:                 res.header,
		Body:                   io.NopCloser(bytes.NewReader(res.body)),
		Options:                opts,
	})
	if err != nil {
		t.Errorf("%s %s -> %d %s breaks control.openapi.yaml: %v", req.Method, req.URL.Path, res.status, res.body, err)
	}
}

func ctlError(t testing.TB, res ctlResponse) (code, msg string) {
	t.Helper()
	var e struct {
		Code *string `json:"error_code"`
		Msg  *string `json:"error_msg"`
	}
	if err := json.Unmarshal(res.body, &e); err != nil || e.Code == nil || e.Msg == nil {
		t.Errorf("not an error body: %s", res.body)
		return "", ""
	}
	return *e.Code, *e.Msg
}

// ctlOK expects a 204.
func ctlOK(t testing.TB, h http.Handler, method, path, body string) {
	t.Helper()
	if res := ctlDo(t, h, method, path, body); res.status != http.StatusNoContent {
		t.Fatalf("%s %s: %d %s, want 204", method, path, res.status, res.body)
	}
}

// ctlRefused expects status with error_code and error_msg exactly, and no
// change to the state or the faults.
func ctlRefused(t testing.TB, srv *server.Server, method, path, body string, status int, code, msg string, headers ...string) {
	t.Helper()
	before, faults := ctlSnapshot(t, srv), srv.Faults()
	res := ctlDo(t, srv, method, path, body, headers...)
	gotCode, gotMsg := ctlError(t, res)
	if res.status != status || gotCode != code || gotMsg != msg {
		t.Errorf("%s %s %s:\n got %d %s %q\nwant %d %s %q", method, path, body, res.status, gotCode, gotMsg, status, code, msg)
	}
	if after := ctlSnapshot(t, srv); !reflect.DeepEqual(before, after) {
		t.Errorf("%s %s: a refused request changed the state", method, path)
	}
	if !reflect.DeepEqual(faults, srv.Faults()) {
		t.Errorf("%s %s: a refused request changed the faults", method, path)
	}
}

func ctlSnapshot(t testing.TB, srv *server.Server) store.Dataset {
	t.Helper()
	d, err := srv.Snapshot(context.Background())
	if err != nil {
		t.Fatalf("snapshot: %v", err)
	}
	return d
}

// ctlState reads GET /_stub/state.
func ctlState(t testing.TB, h http.Handler) store.Dataset {
	t.Helper()
	res := ctlDo(t, h, http.MethodGet, "/_stub/state", "")
	var d store.Dataset
	if err := json.Unmarshal(res.body, &d); err != nil || res.status != http.StatusOK {
		t.Fatalf("GET /_stub/state: %d %s (%v)", res.status, res.body, err)
	}
	return d
}

func ctlRelations(t testing.TB, h http.Handler, caseID string) []string {
	t.Helper()
	res := ctlDo(t, h, http.MethodGet, "/_stub/tickets/"+caseID+"/relations", "")
	var got struct {
		CaseID     string   `json:"case_id"`
		RelatedIDs []string `json:"related_ids"`
	}
	if err := json.Unmarshal(res.body, &got); err != nil || res.status != http.StatusOK || got.CaseID != caseID {
		t.Fatalf("GET relations of %s: %d %s (%v)", caseID, res.status, res.body, err)
	}
	return got.RelatedIDs
}

// vendorList calls ListRelation as token's user and returns the status and
// body. Answers are checked against openapi.yaml unless a fault is expected.
func vendorList(t testing.TB, h http.Handler, token, caseID string, faulty bool) (int, http.Header, string) {
	t.Helper()
	req := httptest.NewRequest(http.MethodGet, "/v2/servicerequest/cases/"+caseID+"/relations", nil)
	req.Header.Set("X-Auth-Token", token)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if !faulty {
		if vs := violation.CheckResponse(req, rec.Code, rec.Result().Header, rec.Body.Bytes()); len(vs) > 0 {
			t.Errorf("vendor response breaks the contract: %v", vs)
		}
	}
	return rec.Code, rec.Result().Header, strings.TrimSpace(rec.Body.String())
}

func TestControlDocument(t *testing.T) {
	raw, err := os.ReadFile("control/control.openapi.yaml")
	if err != nil {
		t.Fatal(err)
	}
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromData(raw)
	if err != nil {
		t.Fatalf("load control.openapi.yaml: %v", err)
	}
	if err := doc.Validate(loader.Context, openapi3.EnableExamplesValidation()); err != nil {
		t.Fatalf("control.openapi.yaml does not pass kin-openapi's validation: %v", err)
	}
	if doc.OpenAPI != "3.0.3" {
		t.Errorf("openapi = %q, want 3.0.3", doc.OpenAPI)
	}
	for path := range doc.Paths.Map() {
		if !strings.HasPrefix(path, "/_stub/") {
			t.Errorf("path %s is not under /_stub/", path)
		}
	}
	embedded, err := controlapi.GetSpec()
	if err != nil {
		t.Fatal(err)
	}
	a, _ := json.Marshal(doc)
	b, _ := json.Marshal(embedded)
	if string(a) != string(b) {
		t.Error("gen/controlapi's embedded spec differs from control.openapi.yaml: run make generate")
	}

	srv := ctlServer(t, server.Options{})
	res := ctlDo(t, srv, http.MethodGet, "/_stub/openapi.yaml", "")
	if res.status != http.StatusOK || !bytes.Equal(res.body, raw) || res.header.Get("Content-Type") != "application/yaml" {
		t.Errorf("GET /_stub/openapi.yaml: %d %s, %d bytes; want the file", res.status, res.header.Get("Content-Type"), len(res.body))
	}
}

func TestControlStateAndReset(t *testing.T) {
	srv := ctlServer(t, server.Options{})
	start := ctlState(t, srv)
	want := ctlSnapshot(t, srv)
	if want.Catalogue == nil || !reflect.DeepEqual(*want.Catalogue, store.DefaultCatalogue()) {
		t.Fatalf("the demo data's catalogue is %+v, want the default", want.Catalogue)
	}
	want.Catalogue = nil // the state leaves the default catalogue out
	if !reflect.DeepEqual(start, want) {
		t.Fatalf("GET /_stub/state = %+v, want the snapshot %+v", start, want)
	}
	if len(start.Users) != 3 || len(start.Tickets) != 8 {
		t.Fatalf("state has %d users and %d tickets, want the demo data's 3 and 8", len(start.Users), len(start.Tickets))
	}

	ctlOK(t, srv, http.MethodPost, "/_stub/relations", `{"case_id":"DEMO-1","related_ids":["DEMO-2"]}`)
	ctlOK(t, srv, http.MethodPost, "/_stub/tickets", `{"id":"NEW-1","owner":"demo","simple_description":"new"}`)
	ctlOK(t, srv, http.MethodPut, "/_stub/faults/CreateRelations", `{"status":500}`)
	if reflect.DeepEqual(ctlState(t, srv), start) {
		t.Fatal("the changes did not show in the state")
	}

	ctlOK(t, srv, http.MethodPost, "/_stub/reset", "")
	if got := ctlState(t, srv); !reflect.DeepEqual(got, start) {
		t.Errorf("after reset the state is %+v, want the start %+v", got, start)
	}
	if f := srv.Faults(); len(f) != 0 {
		t.Errorf("after reset faults are %v, want none", f)
	}
}

func TestControlEmptyState(t *testing.T) {
	srv := ctlServer(t, server.Options{})
	ctlOK(t, srv, http.MethodPut, "/_stub/fixtures", `{"users":[],"tickets":[]}`)
	res := ctlDo(t, srv, http.MethodGet, "/_stub/state", "")
	if got := string(bytes.TrimSpace(res.body)); got != `{"users":[],"tickets":[]}` {
		t.Errorf("empty state = %s", got)
	}
}

const ctlDataset = `{
  "users": [
    {"name": "alice", "groups": ["ops"], "tokens": ["alice-token"]},
    {"name": "bob", "groups": ["ops"], "tokens": ["bob-token"], "domain_id": "bob-domain",
     "access_keys": [{"ak": "BOBAK0000000000000001", "sk": "bob-secret-key", "security_token": "st"}]}
  ],
  "tickets": [
    {"id": "A-1", "owner": "alice", "simple_description": "Disk full on ecs-1", "relations": ["B-1"], "create_time": "2026-11-20T10:00:00Z"},
    {"id": "A-2", "owner": "alice", "simple_description": "Disk full on ecs-2", "create_time": "2026-11-20T10:05:00Z"},
    {"id": "B-1", "owner": "bob", "simple_description": "Alarm storm on ecs-1", "create_time": "2026-11-20T10:10:00Z"}
  ]
}`

func TestControlFixturesReplaceState(t *testing.T) {
	srv := ctlServer(t, server.Options{})
	ctlOK(t, srv, http.MethodPut, "/_stub/fixtures", ctlDataset)

	var want store.Dataset
	if err := json.Unmarshal([]byte(ctlDataset), &want); err != nil {
		t.Fatal(err)
	}
	want.Tickets[2].Relations = []string{"A-1"} // associations are mutual
	loaded := ctlState(t, srv)
	if !reflect.DeepEqual(loaded, want) {
		t.Errorf("state after PUT /_stub/fixtures:\n got %+v\nwant %+v", loaded, want)
	}
	if status, _, _ := vendorList(t, srv, "demo-token", "DEMO-1", false); status != http.StatusUnauthorized {
		t.Errorf("the demo user survived the replacement: ListRelation -> %d", status)
	}
	if status, _, body := vendorList(t, srv, "alice-token", "A-1", false); status != http.StatusOK || !strings.Contains(body, `"case_id":"B-1"`) {
		t.Errorf("ListRelation A-1 as alice: %d %s", status, body)
	}

	// Reset now restores the loaded data set, not the demo data.
	ctlOK(t, srv, http.MethodPost, "/_stub/relations", `{"case_id":"A-1","related_ids":["A-2"]}`)
	ctlOK(t, srv, http.MethodPost, "/_stub/reset", "")
	if got := ctlState(t, srv); !reflect.DeepEqual(got, want) {
		t.Errorf("reset after PUT /_stub/fixtures restored %+v, want %+v", got, want)
	}
}

// Loading fixtures and resetting at once must be safe (run with -race).
func TestControlFixturesAndResetConcurrently(t *testing.T) {
	srv := ctlServer(t, server.Options{})
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(2)
		go func() { defer wg.Done(); ctlDo(t, srv, http.MethodPut, "/_stub/fixtures", ctlDataset) }()
		go func() { defer wg.Done(); ctlDo(t, srv, http.MethodPost, "/_stub/reset", "") }()
	}
	wg.Wait()
	ctlOK(t, srv, http.MethodPost, "/_stub/reset", "")
	if d := ctlSnapshot(t, srv); len(d.Users) != 2 || d.Users[0].Name != "alice" {
		t.Errorf("after the loads, reset restored %+v, want the loaded data set", d.Users)
	}
}

func TestControlFixturesRefused(t *testing.T) {
	srv := ctlServer(t, server.Options{})
	ticket := func(id, owner string, rel ...string) string {
		b, _ := json.Marshal(store.Ticket{ID: id, Owner: owner, Description: "d", Relations: rel})
		return string(b)
	}
	tests := []struct {
		name, body, msg string
	}{
		{"users missing", `{"tickets":[]}`, "users: is required"},
		{"not an array", `{"users":{},"tickets":[]}`, "users: must be an array"},
		{"unknown top-level field", `{"users":[],"tickets":[],"faults":{}}`, "faults: is not a known property"},
		{"unknown user field", `{"users":[{"name":"a","password":"x"}],"tickets":[]}`, "users[0].password: is not a known property"},
		{"empty name", `{"users":[{"name":""}],"tickets":[]}`, "users[0].name: minimum string length is 1"},
		{"access key without sk", `{"users":[{"name":"a","access_keys":[{"ak":"K"}]}],"tickets":[]}`, "users[0].access_keys[0].sk: is required"},
		{"ticket without owner", `{"users":[],"tickets":[{"id":"T","simple_description":"d"}]}`, "tickets[0].owner: is required"},
		{"two problems", `{"users":[{"name":""}],"tickets":[{"id":"T","owner":"a"}]}`,
			"tickets[0].simple_description: is required; users[0].name: minimum string length is 1"},
		// The fixtures rules, beyond the schema.
		{"unknown owner", `{"users":[{"name":"a"}],"tickets":[` + ticket("T", "ghost") + `]}`, `tickets[0].owner: unknown user "ghost"`},
		{"user twice", `{"users":[{"name":"a"},{"name":"a"}],"tickets":[]}`, `users[1].name: user "a" is defined twice`},
		{"token shared", `{"users":[{"name":"a","tokens":["t"]},{"name":"b","tokens":["t"]}],"tickets":[]}`, "users[1].tokens[0]: is already used by users[0]"},
		{"self and unknown relation", `{"users":[{"name":"a"}],"tickets":[` + ticket("T", "a", "T", "U") + `]}`,
			`tickets[0].relations[0]: a ticket cannot be associated with itself; tickets[0].relations[1]: unknown ticket "U"`},
		{"over the limit", `{"users":[{"name":"a"}],"tickets":[` + ticket("T", "a", "U1", "U2", "U3", "U4") + `,` +
			ticket("U1", "a") + `,` + ticket("U2", "a") + `,` + ticket("U3", "a") + `,` + ticket("U4", "a") + `]}`,
			"tickets[0].relations: T has 4 associations (counting both sides), at most 3"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctlRefused(t, srv, http.MethodPut, "/_stub/fixtures", tt.body, http.StatusBadRequest, "OSM.0001", tt.msg)
		})
	}
	// A refused data set does not become what reset restores.
	ctlOK(t, srv, http.MethodPost, "/_stub/reset", "")
	if got := ctlSnapshot(t, srv); len(got.Users) != 3 {
		t.Errorf("after refused fixtures, reset restored %d users, want the demo's 3", len(got.Users))
	}
}

func TestControlUsers(t *testing.T) {
	srv := ctlServer(t, server.Options{})
	ctlOK(t, srv, http.MethodPost, "/_stub/users", `{"name":"carol","groups":["team"],"tokens":["carol-token"]}`)
	ctlOK(t, srv, http.MethodPost, "/_stub/relations", `{"case_id":"DEMO-1","related_ids":["TEAM-1"]}`)
	if status, _, body := vendorList(t, srv, "carol-token", "DEMO-1", false); status != http.StatusOK || !strings.Contains(body, "TEAM-1") {
		t.Errorf("ListRelation DEMO-1 as carol (group team): %d %s", status, body)
	}

	// Replacing a user replaces its credentials.
	ctlOK(t, srv, http.MethodPost, "/_stub/users", `{"name":"carol","tokens":["carol-token-2"]}`)
	if status, _, _ := vendorList(t, srv, "carol-token", "DEMO-1", false); status != http.StatusUnauthorized {
		t.Errorf("the replaced token still works: %d", status)
	}
	if status, _, body := vendorList(t, srv, "carol-token-2", "DEMO-1", false); status != http.StatusOK || !strings.Contains(body, "OSM.01010002") {
		t.Errorf("carol, out of the group now, listing DEMO-1: %d %s, want the no-permission refusal", status, body)
	}

	ctlRefused(t, srv, http.MethodPost, "/_stub/users", `{"name":"eve","tokens":["x","demo-token"]}`,
		http.StatusConflict, ctlConflict, `tokens[1]: is already used by user "demo"`)
	ctlRefused(t, srv, http.MethodPost, "/_stub/users", `{"name":"eve","access_keys":[{"ak":"DEMOAK0000000000000001","sk":"s"}]}`,
		http.StatusConflict, ctlConflict, `access_keys[0].ak: is already used by user "demo"`)
	ctlRefused(t, srv, http.MethodPost, "/_stub/users", `{"groups":["team"]}`,
		http.StatusBadRequest, "OSM.0001", "name: is required")
	ctlRefused(t, srv, http.MethodPost, "/_stub/users", `{"name":"eve","tokens":[""]}`,
		http.StatusBadRequest, "OSM.0001", "tokens[0]: minimum string length is 1")
	ctlRefused(t, srv, http.MethodPost, "/_stub/users", `{"name":"eve","tokens":"t"}`,
		http.StatusBadRequest, "OSM.0001", "tokens: must be an array")
}

func TestControlTickets(t *testing.T) {
	srv := ctlServer(t, server.Options{Now: fixedNow})
	ctlOK(t, srv, http.MethodPost, "/_stub/tickets", `{"id":"DEMO-7","owner":"demo","simple_description":"Load balancer drops long connections"}`)
	state := ctlState(t, srv)
	i := slices.IndexFunc(state.Tickets, func(tk store.Ticket) bool { return tk.ID == "DEMO-7" })
	want := store.Ticket{ID: "DEMO-7", Owner: "demo", Description: "Load balancer drops long connections", TicketDetail: store.TicketDetail{Created: clock}}
	if i < 0 || !reflect.DeepEqual(state.Tickets[i], want) {
		t.Errorf("DEMO-7 is not in the state as created: %+v", state.Tickets)
	}
	if got := ctlRelations(t, srv, "DEMO-7"); len(got) != 0 || got == nil {
		t.Errorf("a new ticket's relations = %#v, want []", got)
	}

	ctlRefused(t, srv, http.MethodPost, "/_stub/tickets", `{"id":"DEMO-7","owner":"demo","simple_description":"again"}`,
		http.StatusConflict, ctlConflict, `id: ticket "DEMO-7" already exists`)
	ctlRefused(t, srv, http.MethodPost, "/_stub/tickets", `{"id":"X-1","owner":"ghost","simple_description":"d"}`,
		http.StatusConflict, ctlConflict, `owner: unknown user "ghost"`)
	ctlRefused(t, srv, http.MethodPost, "/_stub/tickets", `{"id":"X-1","owner":"demo","simple_description":"d","relations":["DEMO-1"]}`,
		http.StatusBadRequest, "OSM.0001", "relations: is not a known property")
	ctlRefused(t, srv, http.MethodPost, "/_stub/tickets", `{"id":"`+strings.Repeat("x", 65)+`","owner":"demo"}`,
		http.StatusBadRequest, "OSM.0001", "id: maximum string length is 64; simple_description: is required")
}

func TestControlRelations(t *testing.T) {
	srv := ctlServer(t, server.Options{})
	// No permission checks: DEMO-1 (demo) with OUT-1 (outsider, no group).
	ctlOK(t, srv, http.MethodPost, "/_stub/relations", `{"case_id":"DEMO-1","related_ids":["DEMO-2","OUT-1"]}`)
	ctlOK(t, srv, http.MethodPost, "/_stub/relations", `{"case_id":"DEMO-1","related_ids":["OUT-1"]}`) // again: no change
	if got := ctlRelations(t, srv, "DEMO-1"); !slices.Equal(got, []string{"DEMO-2", "OUT-1"}) {
		t.Errorf("DEMO-1 relations = %v", got)
	}
	if got := ctlRelations(t, srv, "OUT-1"); !slices.Equal(got, []string{"DEMO-1"}) {
		t.Errorf("OUT-1 relations = %v, want the mutual DEMO-1", got)
	}
	if status, _, body := vendorList(t, srv, "outsider-token", "OUT-1", false); status != http.StatusOK || !strings.Contains(body, `"case_id":"DEMO-1"`) {
		t.Errorf("the vendor API does not show the association: %d %s", status, body)
	}

	ctlOK(t, srv, http.MethodPost, "/_stub/relations", `{"case_id":"DEMO-3","related_ids":["DEMO-4","DEMO-5","DEMO-6"]}`)
	const path = "/_stub/relations"
	for _, tt := range []struct{ name, body, msg string }{
		{"limit of case_id", `{"case_id":"DEMO-1","related_ids":["DEMO-5","DEMO-6"]}`, "case_id: DEMO-1 would have more than 3 associations"},
		{"limit of a related ticket", `{"case_id":"DEMO-2","related_ids":["TEAM-1","DEMO-3"]}`, "related_ids[1]: DEMO-3 already has 3 associations"},
		{"self", `{"case_id":"DEMO-2","related_ids":["TEAM-1","DEMO-2"]}`, "related_ids[1]: a ticket cannot be associated with itself"},
		{"unknown related", `{"case_id":"DEMO-2","related_ids":["NOPE-1"]}`, "related_ids[0]: ticket NOPE-1 not found"},
		{"unknown case", `{"case_id":"NOPE-1","related_ids":["DEMO-2"]}`, "case_id: ticket NOPE-1 not found"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			ctlRefused(t, srv, http.MethodPost, path, tt.body, http.StatusConflict, ctlConflict, tt.msg)
		})
	}
	for _, tt := range []struct{ name, body, msg string }{
		{"empty list", `{"case_id":"DEMO-2","related_ids":[]}`, "related_ids: minimum number of items is 1"},
		{"vendor field names", `{"case_id":"DEMO-2","related_id_list":["DEMO-3"]}`, "related_id_list: is not a known property; related_ids: is required"},
		{"empty id", `{"case_id":"","related_ids":["DEMO-3"]}`, "case_id: minimum string length is 1"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			ctlRefused(t, srv, http.MethodPost, path, tt.body, http.StatusBadRequest, "OSM.0001", tt.msg)
		})
	}

	ctlRefused(t, srv, http.MethodGet, "/_stub/tickets/NOPE-1/relations", "", http.StatusNotFound, ctlNotFound, "case_id: ticket NOPE-1 not found")
	ctlRefused(t, srv, http.MethodGet, "/_stub/tickets/"+strings.Repeat("x", 65)+"/relations", "", http.StatusBadRequest, "OSM.0001", "case_id: maximum string length is 64")
}

func TestControlFaultsObservedOnTheVendorAPI(t *testing.T) {
	srv := ctlServer(t, server.Options{})
	ctlOK(t, srv, http.MethodPut, "/_stub/faults/ListRelation",
		`{"status":503,"error_code":"OSM.0004","error_msg":"injected fault","retry_after_s":1,"times":2}`)

	res := ctlDo(t, srv, http.MethodGet, "/_stub/faults", "")
	want := `{"ListRelation":{"error_code":"OSM.0004","error_msg":"injected fault","retry_after_s":1,"status":503,"times":2}}`
	if got := string(bytes.TrimSpace(res.body)); got != want {
		t.Errorf("GET /_stub/faults = %s, want %s", got, want)
	}
	if f := srv.Faults()["ListRelation"]; f.RetryAfter != time.Second || f.Status != 503 || f.Times != 2 {
		t.Errorf("server.Fault = %+v", f)
	}

	for i := range 2 {
		status, header, body := vendorList(t, srv, "demo-token", "DEMO-1", true)
		if status != http.StatusServiceUnavailable || header.Get("Retry-After") != "1" ||
			body != `{"error_code":"OSM.0004","error_msg":"injected fault"}` {
			t.Errorf("call %d: %d Retry-After=%q %s, want the injected 503", i+1, status, header.Get("Retry-After"), body)
		}
		if i == 0 {
			if got := string(bytes.TrimSpace(ctlDo(t, srv, http.MethodGet, "/_stub/faults", "").body)); !strings.Contains(got, `"times":1`) {
				t.Errorf("after one call GET /_stub/faults = %s, want times 1", got)
			}
		}
	}
	if status, _, body := vendorList(t, srv, "demo-token", "DEMO-1", false); status != http.StatusOK || body != `{"case_relation_list":[]}` {
		t.Errorf("third call: %d %s, want the normal answer", status, body)
	}
	if got := string(bytes.TrimSpace(ctlDo(t, srv, http.MethodGet, "/_stub/faults", "").body)); got != "{}" {
		t.Errorf("a used-up fault is still listed: %s", got)
	}

	// A business refusal with HTTP 200, until cleared.
	ctlOK(t, srv, http.MethodPut, "/_stub/faults/ListRelation", `{"status":200,"error_code":"OSM.01010001","error_msg":"association limit is 3"}`)
	for range 3 {
		if status, _, body := vendorList(t, srv, "demo-token", "DEMO-1", false); status != http.StatusOK || !strings.Contains(body, "OSM.01010001") {
			t.Errorf("business fault: %d %s", status, body)
		}
	}
	ctlOK(t, srv, http.MethodDelete, "/_stub/faults/ListRelation", "")
	ctlOK(t, srv, http.MethodDelete, "/_stub/faults/ListRelation", "") // none left: still 204
	if status, _, body := vendorList(t, srv, "demo-token", "DEMO-1", false); status != http.StatusOK || body != `{"case_relation_list":[]}` {
		t.Errorf("after DELETE the fault still applies: %d %s", status, body)
	}

	// A fault never hides a request the contract refuses.
	ctlOK(t, srv, http.MethodPut, "/_stub/faults/ListRelation", `{"status":503}`)
	if status, _, _ := vendorList(t, srv, "wrong-token", "DEMO-1", false); status != http.StatusUnauthorized {
		t.Errorf("unauthenticated call under a fault: %d, want 401", status)
	}
}

func TestControlFaultLatencyAndDrop(t *testing.T) {
	srv := ctlServer(t, server.Options{})
	ts := httptest.NewServer(srv)
	t.Cleanup(ts.Close)
	// A new connection for every call: net/http would silently retry a GET
	// whose reused connection was closed, hiding the drop.
	hc := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	call := func() (*http.Response, time.Duration, error) {
		req, _ := http.NewRequest(http.MethodGet, ts.URL+"/v2/servicerequest/cases/DEMO-1/relations", nil)
		req.Header.Set("X-Auth-Token", "demo-token")
		start := time.Now()
		res, err := hc.Do(req)
		if err == nil {
			_, _ = io.Copy(io.Discard, res.Body)
			res.Body.Close()
		}
		return res, time.Since(start), err
	}

	ctlOK(t, srv, http.MethodPut, "/_stub/faults/ListRelation", `{"latency_ms":50,"times":1}`)
	res, took, err := call()
	if err != nil || res.StatusCode != http.StatusOK || took < 50*time.Millisecond {
		t.Errorf("latency fault: %v %v after %v, want 200 after at least 50ms", res, err, took)
	}

	ctlOK(t, srv, http.MethodPut, "/_stub/faults/ListRelation", `{"drop":true,"times":1}`)
	if res, _, err := call(); err == nil {
		t.Errorf("drop fault: got %d, want the connection closed", res.StatusCode)
	}
	if res, _, err := call(); err != nil || res.StatusCode != http.StatusOK {
		t.Errorf("after the drop: %v %v, want 200", res, err)
	}
}

func TestControlFaultsRefusedAndCleared(t *testing.T) {
	srv := ctlServer(t, server.Options{})
	for _, tt := range []struct{ name, path, body, msg string }{
		{"no effect", "/_stub/faults/ListRelation", `{"error_code":"X","times":1}`, "body: set status, sequence, latency_ms or drop"},
		{"empty", "/_stub/faults/ListRelation", `{}`, "body: set status, sequence, latency_ms or drop"},
		{"status out of range", "/_stub/faults/ListRelation", `{"status":99}`, "status: number must be at least 200"},
		{"negative latency", "/_stub/faults/ListRelation", `{"latency_ms":-1}`, "latency_ms: number must be at least 0"},
		{"duration as Go", "/_stub/faults/ListRelation", `{"latency":"1s"}`, "latency: is not a known property"},
		{"string status", "/_stub/faults/ListRelation", `{"status":"503"}`, "status: must be an integer"},
		{"unknown operation", "/_stub/faults/ListRelations", `{"status":503}`,
			`operation_id: is not one of the allowed values ["CreateRelations","ListRelation","DeleteRelation","ListProductCategories","ListProblemTypes","CreateCases","ShowCaseDetail","ListCases","ShowCaseStatus","UpdateCases","CreateMessages","ListMessages","UploadJsonAccessories","ShowAccessoryLimits","CreateScores"]`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			ctlRefused(t, srv, http.MethodPut, tt.path, tt.body, http.StatusBadRequest, "OSM.0001", tt.msg)
		})
	}

	ctlOK(t, srv, http.MethodPut, "/_stub/faults/CreateRelations", `{"status":500,"error_code":"OSM.0004","error_msg":"boom"}`)
	ctlOK(t, srv, http.MethodPut, "/_stub/faults/DeleteRelation", `{"latency_ms":1500,"drop":true}`)
	res := ctlDo(t, srv, http.MethodGet, "/_stub/faults", "")
	want := `{"CreateRelations":{"error_code":"OSM.0004","error_msg":"boom","status":500},"DeleteRelation":{"drop":true,"latency_ms":1500}}`
	if got := string(bytes.TrimSpace(res.body)); got != want {
		t.Errorf("GET /_stub/faults = %s, want %s", got, want)
	}
	if f := srv.Faults()["DeleteRelation"]; f.Latency != 1500*time.Millisecond || !f.Drop {
		t.Errorf("server.Fault = %+v", f)
	}
	ctlOK(t, srv, http.MethodDelete, "/_stub/faults/CreateRelations", "")
	if _, ok := srv.Faults()["CreateRelations"]; ok || len(srv.Faults()) != 1 {
		t.Errorf("DELETE one fault left %v", srv.Faults())
	}
	ctlOK(t, srv, http.MethodDelete, "/_stub/faults", "")
	if f := srv.Faults(); len(f) != 0 {
		t.Errorf("DELETE /_stub/faults left %v", f)
	}
	ctlRefused(t, srv, http.MethodDelete, "/_stub/faults/Nope", "", http.StatusBadRequest, "OSM.0001",
		`operation_id: is not one of the allowed values ["CreateRelations","ListRelation","DeleteRelation","ListProductCategories","ListProblemTypes","CreateCases","ShowCaseDetail","ListCases","ShowCaseStatus","UpdateCases","CreateMessages","ListMessages","UploadJsonAccessories","ShowAccessoryLimits","CreateScores"]`)
}

func TestControlRefusesLikeTheVendorAPI(t *testing.T) {
	srv := ctlServer(t, server.Options{})
	const path = "/_stub/relations"
	body := `{"case_id":"DEMO-1","related_ids":["DEMO-2"]}`
	ctlRefused(t, srv, http.MethodPost, path, body, http.StatusUnsupportedMediaType, "OSM.0001", "Content-Type must be application/json", "Content-Type", "text/plain")
	ctlRefused(t, srv, http.MethodPost, path, `{"case_id":`, http.StatusBadRequest, "OSM.0001", "body: is not valid JSON (at byte 11)")
	ctlRefused(t, srv, http.MethodPost, path, "", http.StatusBadRequest, "OSM.0001", "body: is required")
	ctlRefused(t, srv, http.MethodPut, "/_stub/fixtures", `{"users":[],"tickets":[],"x":"`+strings.Repeat("x", 1<<20)+`"}`,
		http.StatusRequestEntityTooLarge, "APIGW.0201", "Request entity too large.")
	const noSuch = "The API does not exist or has not been published in the environment."
	ctlRefused(t, srv, http.MethodGet, "/_stub/reset", "", http.StatusNotFound, ctlNoSuch, "The API does not exist.")
	ctlRefused(t, srv, http.MethodGet, "/_stub/nothing", "", http.StatusNotFound, ctlNoSuch, noSuch)

	// The vendor API's credentials play no part: a bad token is ignored.
	res := ctlDo(t, srv, http.MethodGet, "/_stub/state", "", "X-Auth-Token", "not-a-token")
	if res.status != http.StatusOK {
		t.Errorf("GET /_stub/state with a bad token: %d %s", res.status, res.body)
	}
}

func TestControlDisabled(t *testing.T) {
	srv := ctlServer(t, server.Options{DisableControl: true})
	doc, err := controlapi.GetSpec()
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for path, item := range doc.Paths.Map() {
		path = strings.NewReplacer("{case_id}", "DEMO-1", "{operation_id}", "ListRelation", "{account}", "0123456789abcdef0123456789abcdef").Replace(path)
		for method := range item.Operations() {
			body := ""
			if method == http.MethodPut || method == http.MethodPost {
				body = "{}"
			}
			req := httptest.NewRequest(method, path, strings.NewReader(body))
			req.Header.Set("Content-Type", "application/json")
			rec := httptest.NewRecorder()
			srv.ServeHTTP(rec, req)
			code, msg := ctlError(t, ctlResponse{rec.Code, rec.Result().Header, rec.Body.Bytes()})
			if rec.Code != http.StatusNotFound || code != ctlNoSuch || msg != "The API does not exist or has not been published in the environment." {
				t.Errorf("%s %s with the control API disabled: %d %s %q, want 404 %s", method, path, rec.Code, code, msg, ctlNoSuch)
			}
			n++
		}
	}
	if n != 24 {
		t.Errorf("tried %d control operations, want 24", n)
	}
	if status, _, _ := vendorList(t, srv, "demo-token", "DEMO-1", false); status != http.StatusOK {
		t.Errorf("the vendor API with the control API disabled: %d", status)
	}
}

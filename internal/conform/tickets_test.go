package conform_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/osmstub/osmstub/internal/conform"
	"github.com/osmstub/osmstub/internal/contract"
	"github.com/osmstub/osmstub/server/store"
	"github.com/osmstub/osmstub/server/store/memory"
)

// recorder records "METHOD path?query" of every request that reaches the
// stub.
type recorder struct {
	mu   sync.Mutex
	seen []string
}

func (rec *recorder) wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec.mu.Lock()
		rec.seen = append(rec.seen, r.Method+" "+r.URL.RequestURI())
		rec.mu.Unlock()
		next.ServeHTTP(w, r)
	})
}

func (rec *recorder) requests() []string {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	return slices.Clone(rec.seen)
}

// changesTickets reports whether a request may open, message, score or
// act on a ticket: the operations a default run must never send, but for
// the unknown action, and a cancel, a message and a score of a ticket that
// cannot exist.
func changesTickets(req string) bool {
	method, uri, _ := strings.Cut(req, " ")
	path, query, _ := strings.Cut(uri, "?")
	unknown := strings.HasPrefix(path, "/v2/servicerequest/cases/NOSUCH-")
	switch {
	case method != http.MethodPost:
		return false
	case path == "/v2/servicerequest/cases", path == "/v2/servicerequest/accessorys/json-format-content":
		return true
	case strings.HasSuffix(path, "/message"), strings.HasSuffix(path, "/score"):
		return !(unknown && query == "")
	case strings.HasSuffix(path, "/action"):
		return !(query == "action_id=noop" || (query == "action_id=cancel" && unknown))
	}
	return false
}

func TestChangesTickets(t *testing.T) {
	for req, want := range map[string]bool{
		"POST /v2/servicerequest/cases":                                          true,
		"POST /v2/servicerequest/accessorys/json-format-content":                 true,
		"POST /v2/servicerequest/cases/DEMO-1/message":                           true,
		"POST /v2/servicerequest/cases/DEMO-1/action?action_id=cancel":           true,
		"POST /v2/servicerequest/cases/DEMO-1/action?action_id=press":            true,
		"POST /v2/servicerequest/cases/NOSUCH-1/action?action_id=delete":         true,
		"POST /v2/servicerequest/cases/NOSUCH-1/action?action_id=cancel":         false,
		"POST /v2/servicerequest/cases/DEMO-1/action?action_id=noop":             false,
		"POST /v2/servicerequest/cases/DEMO-1/relations":                         false,
		"GET /v2/servicerequest/cases?limit=1":                                   false,
		"GET /v2/servicerequest/cases/DEMO-1/messages":                           false,
		"POST /v2/servicerequest/cases/DEMO-1/score":                             true,
		"GET /v2/servicerequest/cases/DEMO-1/status":                             false,
		"DELETE /v2/servicerequest/cases/DEMO-1/relations":                       false,
		"POST /v2/servicerequest/cases/DEMO-1/action?action_id=noop&x=cancel":    true,
		"POST /v2/servicerequest/cases/DEMO-1/action?action_id=cancel&x=NOSUCH-": true,
		"POST /v2/servicerequest/cases/NOSUCH-1/message":                         false,
		"POST /v2/servicerequest/cases/NOSUCH-1/score":                           false,
		"POST /v2/servicerequest/cases/DEMO-1/message?x=NOSUCH-":                 true,
		"POST /v2/servicerequest/cases/DEMO-NOSUCH-1/score":                      true,
	} {
		if got := changesTickets(req); got != want {
			t.Errorf("%s: %v, want %v", req, got, want)
		}
	}
}

// tickets returns every ticket of the store by ID.
func tickets(t *testing.T, st store.Store) map[string]store.Ticket {
	t.Helper()
	out := map[string]store.Ticket{}
	err := st.View(context.Background(), func(tx store.Tx) error {
		d, err := tx.Snapshot()
		for _, tk := range d.Tickets {
			out[tk.ID] = tk
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// A default run reads the new operations and sends only what must be
// refused: no create or upload, and no message, score or action but the
// unknown one on a ticket that exists; its opt-in skip leaves the run OK.
func TestDefaultRunOpensNothing(t *testing.T) {
	rec := &recorder{}
	st := memory.New()
	_, url := upstream(t, st, rec.wrap)
	before := tickets(t, st)
	rep, err := run(t, context.Background(), url, demoCases...)
	if err != nil {
		t.Fatal(err)
	}
	if !rep.OK() || rep.Count(conform.Skipped) != 1 || rep.Opened != nil {
		t.Fatalf("report:\n%s", text(t, rep))
	}
	seen := rec.requests()
	for _, req := range seen {
		if changesTickets(req) {
			t.Errorf("sent %s", req)
		}
	}
	for _, want := range []string{"GET /v2/servicerequest/config/product-categories", "GET /v2/servicerequest/config/problems",
		"GET /v2/servicerequest/accessorys/limits", "GET /v2/servicerequest/cases?limit=1", "GET /v2/servicerequest/cases/DEMO-5",
		"GET /v2/servicerequest/cases/DEMO-5/status", "GET /v2/servicerequest/cases/DEMO-5/messages", "POST /v2/servicerequest/cases/DEMO-1/action?action_id=noop"} {
		if !slices.Contains(seen, want) {
			t.Errorf("never sent %s", want)
		}
	}
	after := tickets(t, st)
	if len(after) != len(before) {
		t.Errorf("%d tickets after the run, %d before", len(after), len(before))
	}
	for id, tk := range before {
		if a := after[id]; a.Status != tk.Status || len(a.Messages) != len(tk.Messages) || !a.Pressed.Equal(tk.Pressed) {
			t.Errorf("%s changed: %+v, was %+v", id, a.TicketDetail, tk.TicketDetail)
		}
	}
	want := map[string]string{ // by name prefix
		"unknown ticket: show ":          "200 OSM.01010015",
		"unknown ticket: status of ":     "200 OSM.01010015",
		"unknown ticket: cancel ":        "200 OSM.01010015",
		"unknown ticket: message ":       "200 OSM.01010015",
		"unknown ticket: score ":         "200 OSM.01010015",
		"unknown action noop on DEMO-1":  "200 OSM.01010013",
		"status of DEMO-1":               "200 ",
		"list tickets: incident_id DEMO": "200 ",
	}
	for prefix, w := range want {
		n := 0
		for _, c := range rep.Checks {
			if strings.HasPrefix(c.Name, prefix) {
				n++
				if got := fmt.Sprintf("%d %s", c.Got.Status, c.Got.Code); got != w {
					t.Errorf("%s: %q, want %q", c.Name, got, w)
				}
			}
		}
		if n == 0 {
			t.Errorf("no check %q", prefix)
		}
	}
}

func runCreate(t *testing.T, ctx context.Context, url string) (*conform.Report, error) {
	t.Helper()
	return conform.Run(ctx, conform.Config{Endpoint: url, Credential: conform.Credential{Token: "demo-token"}, Cases: demoCases, AllowCreate: true})
}

// opened returns the tickets the run opened in st: those not in before.
func opened(t *testing.T, st store.Store, before map[string]store.Ticket) []store.Ticket {
	t.Helper()
	var out []store.Ticket
	for id, tk := range tickets(t, st) {
		if _, ok := before[id]; !ok {
			out = append(out, tk)
		}
	}
	return out
}

// With AllowCreate the run opens one ticket with an attachment and a
// message, every check passes against the stub, and the ticket ends
// canceled.
func TestAllowCreate(t *testing.T) {
	st := memory.New()
	_, url := upstream(t, st, nil)
	before := tickets(t, st)
	rep, err := runCreate(t, context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	if !rep.OK() || rep.Count(conform.Skipped) != 0 {
		t.Fatalf("report:\n%s", text(t, rep))
	}
	got := opened(t, st, before)
	if len(got) != 1 {
		t.Fatalf("opened %d tickets, want 1", len(got))
	}
	tk := got[0]
	if tk.Status != store.StatusCanceled || len(tk.AccessoryIDs) != 1 || !strings.HasPrefix(tk.ID, "CS") ||
		!slices.ContainsFunc(tk.Messages, func(m store.Message) bool { return strings.Contains(m.Content, "message of the conformance run") }) {
		t.Errorf("the opened ticket: %+v", tk)
	}
	if len(rep.Opened) != 1 || rep.Opened[0].ID != tk.ID || !rep.Opened[0].Canceled || rep.Opened[0].Status == nil || *rep.Opened[0].Status != store.StatusCanceled {
		t.Errorf("report.Opened = %+v, want %s canceled, status 4", rep.Opened, tk.ID)
	}
	for _, name := range []string{"ticket flow: open a consultation (ECS-CONSULT)", "ticket flow: show the new ticket", "ticket flow: list tickets finds the new ticket (incident_id)",
		"ticket flow: add a message to the new ticket", "cleanup: cancel the new ticket", "cleanup: the new ticket's status after the cancel"} {
		if !slices.ContainsFunc(rep.Checks, func(c conform.Check) bool { return c.Name == name && c.Verdict == conform.Pass }) {
			t.Errorf("no passing check %q:\n%s", name, text(t, rep))
		}
	}
	if !slices.Contains(rep.Cleanup, "canceled the ticket the run opened, "+tk.ID) {
		t.Errorf("cleanup %q", rep.Cleanup)
	}
}

// Interrupted after the create was answered, or while its answer was on
// the way (the run never learns the ID and finds the ticket by the marker
// in its description), the run still cancels the ticket it opened.
func TestAllowCreateInterrupted(t *testing.T) {
	isCreate := func(r *http.Request) bool {
		return r.Method == http.MethodPost && r.URL.Path == "/v2/servicerequest/cases"
	}
	tests := []struct {
		name string
		// stop returns a wrapper that cancels the run at some point.
		stop func(cancel context.CancelFunc) func(http.Handler) http.Handler
	}{
		{"after the create", func(cancel context.CancelFunc) func(http.Handler) http.Handler {
			return func(next http.Handler) http.Handler {
				return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					next.ServeHTTP(w, r)
					if isCreate(r) {
						cancel()
					}
				})
			}
		}},
		{"after the message", func(cancel context.CancelFunc) func(http.Handler) http.Handler {
			return func(next http.Handler) http.Handler {
				return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					next.ServeHTTP(w, r)
					// The flow's message, not the unknown ticket's.
					if r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "/message") && !strings.Contains(r.URL.Path, "/NOSUCH-") {
						cancel()
					}
				})
			}
		}},
		{"the create's answer lost", func(cancel context.CancelFunc) func(http.Handler) http.Handler {
			return func(next http.Handler) http.Handler {
				return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					if !isCreate(r) {
						next.ServeHTTP(w, r)
						return
					}
					next.ServeHTTP(httptest.NewRecorder(), r) // opened, but the answer goes nowhere
					cancel()
					<-r.Context().Done() // the run gave up on the request
				})
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			st := memory.New()
			_, url := upstream(t, st, tt.stop(cancel))
			before := tickets(t, st)
			rep, err := runCreate(t, ctx, url)
			if !errors.Is(err, conform.ErrInterrupted) {
				t.Fatalf("err = %v, want ErrInterrupted", err)
			}
			got := opened(t, st, before)
			if len(got) != 1 {
				t.Fatalf("opened %d tickets, want 1:\n%s", len(got), text(t, rep))
			}
			if got[0].Status != store.StatusCanceled {
				t.Errorf("%s: status %d, want %d (canceled)", got[0].ID, got[0].Status, store.StatusCanceled)
			}
			if !rep.Restored || len(rep.Opened) != 1 || rep.Opened[0].ID != got[0].ID || !rep.Opened[0].Canceled {
				t.Errorf("restored %v, opened %+v; cleanup %q", rep.Restored, rep.Opened, rep.Cleanup)
			}
			if got := relations(t, st); len(got) != 0 {
				t.Errorf("left behind: %v", got)
			}
		})
	}
}

// A cancel that the endpoint acknowledges but does not carry out is
// caught: the status after it differs from the stub's, and the report
// says the ticket must be canceled by hand.
func TestAllowCreateCancelNotDone(t *testing.T) {
	ignoreCancel := func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if strings.HasSuffix(r.URL.Path, "/action") && r.URL.Query().Get("action_id") == "cancel" && !strings.Contains(r.URL.Path, "/NOSUCH-") {
				w.Header().Set("Content-Type", "application/json")
				w.Header().Set("X-Request-Id", "r")
				fmt.Fprint(w, "{}")
				return
			}
			next.ServeHTTP(w, r)
		})
	}
	st := memory.New()
	_, url := upstream(t, st, ignoreCancel)
	rep, err := runCreate(t, context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	i := slices.IndexFunc(rep.Checks, func(c conform.Check) bool { return c.Name == "cleanup: the new ticket's status after the cancel" })
	if rep.OK() || rep.Restored || i < 0 || rep.Checks[i].Verdict != conform.Differs {
		t.Fatalf("report:\n%s", text(t, rep))
	}
	if len(rep.Opened) != 1 || !rep.Opened[0].Canceled || rep.Opened[0].Status == nil || *rep.Opened[0].Status != store.StatusPending ||
		!slices.ContainsFunc(rep.Cleanup, func(l string) bool { return strings.HasSuffix(l, "cancel it by hand") }) {
		t.Errorf("opened %+v, cleanup %q", rep.Opened, rep.Cleanup)
	}
}

// operations returns the operationIds of openapi.yaml that the recorded
// requests reached, and every operationId it has.
func operations(t *testing.T, seen []string) (reached, all map[string]bool) {
	t.Helper()
	doc, err := contract.Spec()
	if err != nil {
		t.Fatal(err)
	}
	all = map[string]bool{}
	for _, item := range doc.Paths.Map() {
		for _, op := range item.Operations() {
			all[op.OperationID] = true
		}
	}
	reached = map[string]bool{}
	for _, req := range seen {
		method, uri, _ := strings.Cut(req, " ")
		r, err := http.NewRequest(method, "http://127.0.0.1"+uri, nil)
		if err != nil {
			t.Fatal(err)
		}
		if route, _, err := contract.FindRoute(r); err == nil {
			reached[route.Operation.OperationID] = true
		}
	}
	return reached, all
}

// A default run sends every operation of the contract but the two that
// open or upload something (-allow-create); with -allow-create, all.
func TestRunCoversEveryOperation(t *testing.T) {
	for _, tt := range []struct {
		name   string
		create bool
		unsent []string
	}{
		{"default", false, []string{"CreateCases", "UploadJsonAccessories"}},
		{"allow-create", true, nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			rec := &recorder{}
			_, url := upstream(t, memory.New(), rec.wrap)
			cfg := conform.Config{Endpoint: url, Credential: conform.Credential{Token: "demo-token"}, Cases: demoCases, AllowCreate: tt.create}
			if _, err := conform.Run(context.Background(), cfg); err != nil {
				t.Fatal(err)
			}
			reached, all := operations(t, rec.requests())
			if len(all) < 15 {
				t.Fatalf("openapi.yaml lists %d operations, want at least 15", len(all))
			}
			var unsent []string
			for op := range all {
				if !reached[op] {
					unsent = append(unsent, op)
				}
			}
			slices.Sort(unsent)
			if !slices.Equal(unsent, tt.unsent) {
				t.Errorf("operations never sent: %v, want %v", unsent, tt.unsent)
			}
		})
	}
}

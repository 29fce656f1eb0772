package conform_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/osmstub/osmstub/internal/conform"
	"github.com/osmstub/osmstub/server/store"
	"github.com/osmstub/osmstub/server/store/memory"
)

// rewrite wraps a handler and lets edit change each answer before it is
// sent: its status, headers and body.
func rewrite(edit func(r *http.Request, reqBody []byte, w *httptest.ResponseRecorder)) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			body, _ := io.ReadAll(r.Body)
			r.Body = io.NopCloser(bytes.NewReader(body))
			rec := httptest.NewRecorder()
			next.ServeHTTP(rec, r)
			edit(r, body, rec)
			for k, v := range rec.Header() {
				w.Header()[k] = v
			}
			w.Header().Del("Content-Length")
			w.WriteHeader(rec.Code)
			w.Write(rec.Body.Bytes())
		})
	}
}

func setJSON(rec *httptest.ResponseRecorder, edit func(map[string]any)) {
	var m map[string]any
	if err := json.Unmarshal(rec.Body.Bytes(), &m); err != nil {
		panic(err)
	}
	edit(m)
	b, _ := json.Marshal(m)
	rec.Body = bytes.NewBuffer(b)
}

// A stub that deviates in five places: each deviation shows in exactly one
// check, with the right verdict and problems, and every other check
// passes.
func TestNonConformingUpstream(t *testing.T) {
	deviate := rewrite(func(r *http.Request, reqBody []byte, rec *httptest.ResponseRecorder) {
		code := func() string {
			var b struct {
				Code string `json:"error_code"`
			}
			_ = json.Unmarshal(rec.Body.Bytes(), &b)
			return b.Code
		}()
		relations := strings.HasSuffix(r.URL.Path, "/relations")
		switch {
		case !relations && r.Method != http.MethodPut && r.Header.Get("X-Auth-Token") != "osm-stub-conform-bogus-token":
			// the ticket flow's deviants are TestDeviantTicketOps'
		case r.Method == http.MethodGet && strings.Contains(r.URL.Path, "/DEMO-3/"):
			// a new field in a success: the contract does not list it, the stub sends none
			setJSON(rec, func(m map[string]any) { m["total"] = 0 })
		case code == "OSM.01010044":
			// another code for a self-association
			setJSON(rec, func(m map[string]any) { m["error_code"] = "OSM.01010001" })
		case code == "OSM.01010015":
			// a message longer than the contract's 256 characters
			setJSON(rec, func(m map[string]any) { m["error_msg"] = strings.Repeat("x", 300) })
		case r.Header.Get("X-Auth-Token") == "osm-stub-conform-bogus-token":
			rec.Header().Del("X-Request-Id")
		case r.Method == http.MethodPut:
			rec.Code = http.StatusMethodNotAllowed
		}
	})
	st := memory.New()
	_, url := upstream(t, st, deviate)
	rep, err := run(t, context.Background(), url, demoCases...)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]struct {
		verdict  conform.Verdict
		problems []string // each a prefix
	}{
		"list DEMO-3 (the state before)": {conform.Differs, []string{"response body/total: new field (got 0)", "body shape {case_relation_list:[],total:number}, the stub's is {case_relation_list:[]}"}},
		"self-association DEMO-1-DEMO-1": {conform.Differs, []string{`error_code "OSM.01010001", the stub answers "OSM.01010044"`}},
		"unknown ticket: create":         {conform.Violates, []string{"contract: response body/error_msg: maximum string length is 256"}},
		"wrong credential":               {conform.Violates, []string{"contract: response header/X-Request-Id: is required"}},
		"unknown method PUT":             {conform.Differs, []string{"status 405, the stub answers 404"}},
	}
	seen := map[string]int{}
	for _, c := range rep.Checks {
		key := c.Name
		if strings.HasPrefix(key, "unknown ticket: create") {
			key = "unknown ticket: create"
		}
		w, deviant := want[key]
		if !deviant {
			if c.Verdict != conform.Pass && c.Verdict != conform.Skipped {
				t.Errorf("%s: %s %q, want pass", c.Name, c.Verdict, c.Problems)
			}
			continue
		}
		seen[key]++
		if c.Verdict != w.verdict || !slices.EqualFunc(c.Problems, w.problems, strings.HasPrefix) {
			t.Errorf("%s: %s %q, want %s with %q", c.Name, c.Verdict, c.Problems, w.verdict, w.problems)
		}
	}
	for key := range want {
		if seen[key] != 1 {
			t.Errorf("%s: reported %d times, want once", key, seen[key])
		}
	}
	if rep.OK() || !rep.Restored || len(relations(t, st)) != 0 {
		t.Errorf("OK %v, restored %v, relations %v", rep.OK(), rep.Restored, relations(t, st))
	}
}

// Interrupted after the n-th create is acknowledged, the run stops, says
// so, and leaves no association behind.
func TestInterruptedRunCleansUp(t *testing.T) {
	for _, n := range []int{1, 5, 6} {
		t.Run(fmt.Sprint("after create ", n), func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			var mu sync.Mutex
			posts := 0
			var created []string
			st := memory.New()
			stop := func(next http.Handler) http.Handler {
				return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					next.ServeHTTP(w, r)
					if r.Method != http.MethodPost || !strings.HasSuffix(r.URL.Path, "/relations") {
						return
					}
					mu.Lock()
					defer mu.Unlock()
					if posts++; posts == n {
						created = relations(t, st)
						cancel()
					}
				})
			}
			_, url := upstream(t, st, stop)
			rep, err := run(t, ctx, url, demoCases...)
			if !errors.Is(err, conform.ErrInterrupted) || !errors.Is(err, context.Canceled) {
				t.Fatalf("err = %v, want ErrInterrupted", err)
			}
			if len(created) == 0 {
				t.Fatal("the interruption came before anything was created: the test proves nothing")
			}
			if got := relations(t, st); len(got) != 0 {
				t.Errorf("left behind: %v", got)
			}
			if !rep.Interrupted || !rep.Restored || rep.OK() {
				t.Errorf("interrupted %v restored %v OK %v", rep.Interrupted, rep.Restored, rep.OK())
			}
			for _, p := range created {
				if !slices.ContainsFunc(rep.Cleanup, func(l string) bool {
					return strings.HasPrefix(l, "removed ") && strings.Contains(l, strings.TrimPrefix(p, "DEMO-1-"))
				}) {
					t.Errorf("cleanup %q does not say it removed %s", rep.Cleanup, p)
				}
			}
		})
	}
}

// An endpoint that does not answer gets one failed check and nothing else.
func TestDeadEndpoint(t *testing.T) {
	ts := httptest.NewServer(http.NotFoundHandler())
	url := ts.URL
	ts.Close()
	rep, err := run(t, context.Background(), url, "DEMO-1", "DEMO-2")
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Checks) != 2 || rep.Checks[0].Verdict != conform.Failed || rep.Checks[1].Verdict != conform.Skipped {
		t.Fatalf("report:\n%s", text(t, rep))
	}
	if rep.OK() || !rep.Restored {
		t.Errorf("OK %v, restored %v", rep.OK(), rep.Restored)
	}
}

// An endpoint that takes a text/plain body as JSON creates an association
// from a bad input: the check and the lists after it say so, and the
// cleanup removes the association.
func TestAcceptedBadInputIsCleanedUp(t *testing.T) {
	lax := func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Header.Get("Content-Type") == "text/plain" {
				r.Header.Set("Content-Type", "application/json")
			}
			next.ServeHTTP(w, r)
		})
	}
	st := memory.New()
	_, url := upstream(t, st, lax)
	rep, err := run(t, context.Background(), url, demoCases...)
	if err != nil {
		t.Fatal(err)
	}
	var differ []string
	for _, c := range rep.Checks {
		if c.Verdict != conform.Pass && c.Verdict != conform.Skipped {
			differ = append(differ, c.Name)
		}
	}
	want := []string{"bad input: Content-Type text/plain", "list DEMO-1 unchanged after the bad inputs", "list DEMO-2 unchanged after the bad inputs"}
	if !slices.Equal(differ, want) {
		t.Errorf("not passing: %q, want %q", differ, want)
	}
	if !slices.Contains(rep.Cleanup, "removed DEMO-1-DEMO-2") || !rep.Restored || len(relations(t, st)) != 0 {
		t.Errorf("cleanup %q, restored %v, relations %v", rep.Cleanup, rep.Restored, relations(t, st))
	}
}

// A redirect is reported, not followed: the credential stays with the
// endpoint it was given for.
func TestRedirectNotFollowed(t *testing.T) {
	var mu sync.Mutex
	elsewhere := 0
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		elsewhere++
		mu.Unlock()
	}))
	defer other.Close()
	redirect := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, other.URL+r.URL.Path, http.StatusFound)
	}))
	defer redirect.Close()
	rep, err := run(t, context.Background(), redirect.URL, "DEMO-1", "DEMO-2")
	if err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if elsewhere != 0 || rep.Checks[0].Verdict != conform.Violates || rep.Checks[0].Got.Status != http.StatusFound {
		t.Errorf("requests elsewhere %d; report:\n%s", elsewhere, text(t, rep))
	}
}

// caseOf returns the case ID of a request on the relations path.
func caseOf(r *http.Request) string {
	id, _ := strings.CutPrefix(r.URL.Path, "/v2/servicerequest/cases/")
	id, _ = strings.CutSuffix(id, "/relations")
	return id
}

// errorCode returns the error_code of an answer, "" when it has none.
func errorCode(rec *httptest.ResponseRecorder) string {
	var b struct {
		Code string `json:"error_code"`
	}
	_ = json.Unmarshal(rec.Body.Bytes(), &b)
	return b.Code
}

// limitOf4 makes the stub allow four associations a ticket: a create it
// refuses for the limit is carried out when no ticket would hold more than
// four, and answered as a success.
func limitOf4(st store.Store) func(http.Handler) http.Handler {
	return rewrite(func(r *http.Request, reqBody []byte, rec *httptest.ResponseRecorder) {
		if r.Method != http.MethodPost || errorCode(rec) != "OSM.01010043" {
			return
		}
		var body struct {
			Related []string `json:"related_id_list"`
		}
		if json.Unmarshal(reqBody, &body) != nil {
			return
		}
		a := caseOf(r)
		err := st.Update(context.Background(), func(tx store.Tx) error {
			for _, b := range body.Related {
				ra, err := tx.Relations(a)
				if err != nil {
					return err
				}
				rb, err := tx.Relations(b)
				if err != nil {
					return err
				}
				if slices.Contains(ra, b) {
					continue
				}
				if len(ra) >= 4 || len(rb) >= 4 {
					return errors.New("over four")
				}
				if err := tx.AddPair(a, b); err != nil {
					return err
				}
			}
			return nil
		})
		if err == nil {
			rec.Body = bytes.NewBufferString("{}")
		}
	})
}

// refusalsAs400 sends every business refusal (a 200 with an error_code)
// as HTTP 400.
func refusalsAs400(store.Store) func(http.Handler) http.Handler {
	return rewrite(func(r *http.Request, _ []byte, rec *httptest.ResponseRecorder) {
		if rec.Code == http.StatusOK && errorCode(rec) != "" {
			rec.Code = http.StatusBadRequest
		}
	})
}

// oneWay makes associations one-sided: A-B created on A shows on A's list
// only, not on B's.
func oneWay(store.Store) func(http.Handler) http.Handler {
	var mu sync.Mutex
	made := map[[2]string]bool{} // created on [0], with [1]
	return rewrite(func(r *http.Request, reqBody []byte, rec *httptest.ResponseRecorder) {
		if rec.Code != http.StatusOK || errorCode(rec) != "" {
			return
		}
		mu.Lock()
		defer mu.Unlock()
		a := caseOf(r)
		var body struct {
			Related   []string `json:"related_id_list"`
			RelatedID string   `json:"related_id"`
		}
		_ = json.Unmarshal(reqBody, &body)
		switch r.Method {
		case http.MethodPost:
			for _, b := range body.Related {
				made[[2]string{a, b}] = true
			}
		case http.MethodDelete:
			delete(made, [2]string{a, body.RelatedID})
			delete(made, [2]string{body.RelatedID, a})
		case http.MethodGet:
			setJSON(rec, func(m map[string]any) {
				list, _ := m["case_relation_list"].([]any)
				kept := []any{}
				for _, e := range list {
					if b, _ := e.(map[string]any)["case_id"].(string); made[[2]string{b, a}] && !made[[2]string{a, b}] {
						continue
					}
					kept = append(kept, e)
				}
				m["case_relation_list"] = kept
			})
		}
	})
}

// listWithCode adds an error_code to every successful ListRelation answer.
func listWithCode(code string) func(store.Store) func(http.Handler) http.Handler {
	return func(store.Store) func(http.Handler) http.Handler {
		return rewrite(func(r *http.Request, _ []byte, rec *httptest.ResponseRecorder) {
			if r.Method == http.MethodGet && rec.Code == http.StatusOK && errorCode(rec) == "" {
				setJSON(rec, func(m map[string]any) { m["error_code"], m["error_msg"] = code, "" })
			}
		})
	}
}

// ticketDeviant rewrites the answers of the ticket flow's operations: edit
// gets each one whose path and query match.
func ticketDeviant(match func(r *http.Request) bool, edit func(rec *httptest.ResponseRecorder)) func(store.Store) func(http.Handler) http.Handler {
	return func(store.Store) func(http.Handler) http.Handler {
		return rewrite(func(r *http.Request, _ []byte, rec *httptest.ResponseRecorder) {
			if match(r) {
				edit(rec)
			}
		})
	}
}

func pathIs(p string) func(r *http.Request) bool {
	return func(r *http.Request) bool { return r.URL.Path == p }
}

// Deliberately deviant implementations: conform, run as the README shows,
// exits non-zero for each, the checks aimed at the deviation do not pass
// (whatever the verdict: the contract may refuse the answer, or only the
// comparison with the stub), and the cleanup leaves nothing behind.
func TestDeviantsDoNotPass(t *testing.T) {
	five := strings.Join(demoCases, ",")
	tests := []struct {
		name  string
		wrap  func(store.Store) func(http.Handler) http.Handler
		cases string
		// failing lists checks (by name prefix) that must neither pass nor
		// be skipped.
		failing []string
		args    []string // more flags
	}{
		{name: "a limit of 4", wrap: limitOf4, cases: five, failing: []string{
			"limit: DEMO-1-DEMO-5, over the limit, is refused", "limit: DEMO-5-DEMO-1, over the limit from the other side, is refused",
			"list DEMO-1 unchanged after the refusals over the limit", "list DEMO-5 unchanged after the refusals over the limit"}},
		// With four tickets nothing can be one too many: the skip fails the run.
		{name: "a limit of 4, four tickets", wrap: limitOf4, cases: strings.Join(demoCases[:4], ",")},
		{name: "refusals as HTTP 400", wrap: refusalsAs400, cases: five, failing: []string{
			"self-association DEMO-1-DEMO-1", "unknown ticket: create DEMO-1-", "limit: DEMO-1-DEMO-5, over the limit, is refused"}},
		{name: "associations not mutual", wrap: oneWay, cases: five, failing: []string{"list DEMO-2 shows DEMO-1 (mutual)"}},
		{name: "a list with an error_code", wrap: listWithCode("OSM.01010001"), cases: five, failing: []string{"list DEMO-1 (the state before)"}},
		{name: "a list with an empty error_code", wrap: listWithCode(""), cases: five, failing: []string{
			"list DEMO-1 (the state before)", "list DEMO-2 shows DEMO-1 (mutual)", "list DEMO-1 holds three associations"}},
		// The ticket flow's operations.
		{name: "attachment limits as numbers", cases: five, failing: []string{"attachment limits"},
			wrap: ticketDeviant(pathIs("/v2/servicerequest/accessorys/limits"), func(rec *httptest.ResponseRecorder) {
				rec.Body = bytes.NewBufferString(`{"accessory_limit":{"limit_count":5,"limit_size":4,"limit_file_type":"jpg"}}`)
			})},
		{name: "case_type as a number", cases: five, failing: []string{"catalogue: problem types"},
			wrap: ticketDeviant(pathIs("/v2/servicerequest/config/problems"), func(rec *httptest.ResponseRecorder) {
				setJSON(rec, func(m map[string]any) {
					for _, p := range m["incident_business_type_list"].([]any) {
						p.(map[string]any)["case_type"] = 0
					}
				})
			})},
		{name: "an unknown action accepted", cases: five, failing: []string{"unknown action noop on DEMO-1"},
			wrap: ticketDeviant(func(r *http.Request) bool { return r.URL.Query().Get("action_id") == "noop" }, func(rec *httptest.ResponseRecorder) {
				rec.Body = bytes.NewBufferString(`{}`)
			})},
		{name: "an unknown ticket answered as another's", cases: five, failing: []string{"unknown ticket: show ", "unknown ticket: status of ", "unknown ticket: cancel ", "unknown ticket: message ", "unknown ticket: score "},
			wrap: ticketDeviant(func(r *http.Request) bool {
				return strings.Contains(r.URL.Path, "/NOSUCH-") && !strings.HasSuffix(r.URL.Path, "/relations")
			},
				func(rec *httptest.ResponseRecorder) {
					setJSON(rec, func(m map[string]any) { m["error_code"] = "OSM.01010002" })
				})},
		{name: "a message and a score of an unknown ticket accepted", cases: five, failing: []string{"unknown ticket: message ", "unknown ticket: score "},
			wrap: ticketDeviant(func(r *http.Request) bool {
				return strings.Contains(r.URL.Path, "/NOSUCH-") && (strings.HasSuffix(r.URL.Path, "/message") || strings.HasSuffix(r.URL.Path, "/score"))
			}, func(rec *httptest.ResponseRecorder) {
				rec.Body = bytes.NewBufferString(`{}`)
			})},
		{name: "a list by incident_id that finds nothing", cases: five, args: []string{"-allow-create"},
			failing: []string{"list tickets: incident_id DEMO-1", "ticket flow: list tickets finds the new ticket (incident_id)"},
			wrap: ticketDeviant(func(r *http.Request) bool {
				return r.URL.Path == "/v2/servicerequest/cases" && r.Method == http.MethodGet && r.URL.Query().Has("incident_id")
			}, func(rec *httptest.ResponseRecorder) {
				setJSON(rec, func(m map[string]any) { m["total_count"], m["incident_info_list"] = 0, []any{} })
			})},
		{name: "a new ticket in another status", cases: five, args: []string{"-allow-create"},
			failing: []string{"ticket flow: the new ticket's status"},
			wrap: ticketDeviant(func(r *http.Request) bool {
				return strings.HasPrefix(r.URL.Path, "/v2/servicerequest/cases/CS") && strings.HasSuffix(r.URL.Path, "/status")
			}, func(rec *httptest.ResponseRecorder) {
				setJSON(rec, func(m map[string]any) {
					if m["status"] == 0.0 {
						m["status"] = 1
					}
				})
			})},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := memory.New()
			_, url := upstream(t, st, tt.wrap(st))
			var stdout, stderr bytes.Buffer
			args := append([]string{"-endpoint", url, "-token", "demo-token", "-cases", tt.cases, "-format", "json"}, tt.args...)
			err := conform.Main(context.Background(), args, &stdout, &stderr)
			if !errors.Is(err, conform.ErrNotConforming) {
				t.Errorf("err = %v, want ErrNotConforming; stderr: %s", err, stderr.String())
			}
			var rep conform.Report
			if err := json.Unmarshal(stdout.Bytes(), &rep); err != nil {
				t.Fatalf("report: %v\n%s", err, stdout.String())
			}
			for _, name := range tt.failing {
				i := slices.IndexFunc(rep.Checks, func(c conform.Check) bool { return strings.HasPrefix(c.Name, name) })
				if i < 0 {
					t.Errorf("%s: not in the report:\n%s", name, text(t, &rep))
				} else if v := rep.Checks[i].Verdict; v == conform.Pass || v == conform.Skipped {
					t.Errorf("%s: %s, want it caught:\n%s", name, v, text(t, &rep))
				}
			}
			if got := relations(t, st); len(got) != 0 || !rep.Restored {
				t.Errorf("restored %v, left behind %v", rep.Restored, got)
			}
			for _, o := range rep.Opened {
				if !o.Canceled || o.Status == nil || *o.Status != store.StatusCanceled {
					t.Errorf("opened %+v, want it canceled", o)
				}
			}
		})
	}
}

// An answer is read up to the client's limit, 4 MiB: one of exactly that
// size is judged as any other, and a larger one fails its check, saying
// so, where cutting it would judge a body the endpoint never sent. The
// padding is JSON whitespace, so that a cut body would still pass.
func TestAnswerOverTheCap(t *testing.T) {
	const clientLimit = 4 << 20 // client/client.go
	const name = "catalogue: product categories"
	for _, tt := range []struct {
		size    int
		verdict conform.Verdict
		problem string
	}{
		{clientLimit, conform.Pass, ""},
		{clientLimit + 1, conform.Failed, "answer too large: 200 (X-Request-Id "},
	} {
		t.Run(fmt.Sprint(tt.size), func(t *testing.T) {
			pad := ticketDeviant(pathIs("/v2/servicerequest/config/product-categories"), func(rec *httptest.ResponseRecorder) {
				rec.Body.WriteString(strings.Repeat(" ", tt.size-rec.Body.Len()))
			})
			_, url := upstream(t, memory.New(), pad(nil))
			rep, err := run(t, context.Background(), url, demoCases...)
			if err != nil {
				t.Fatal(err)
			}
			i := slices.IndexFunc(rep.Checks, func(c conform.Check) bool { return c.Name == name })
			if i < 0 {
				t.Fatalf("no check %q:\n%s", name, text(t, rep))
			}
			c := rep.Checks[i]
			if c.Verdict != tt.verdict || (tt.problem == "") != (len(c.Problems) == 0) ||
				(tt.problem != "" && !strings.HasPrefix(c.Problems[0], tt.problem)) {
				t.Errorf("%s: %s %q, want %s %q", name, c.Verdict, c.Problems, tt.verdict, tt.problem)
			}
			// Only that check: the run goes on, and the rest pass.
			for _, o := range rep.Checks {
				if o.Name != name && o.Verdict != conform.Pass && !o.OptIn {
					t.Errorf("%s: %s %q", o.Name, o.Verdict, o.Problems)
				}
			}
		})
	}
}

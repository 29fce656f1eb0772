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
// check, with the right verdict and one problem, and every other check
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
		switch {
		case r.Method == http.MethodGet && strings.Contains(r.URL.Path, "/DEMO-3/"):
			// an extra field in a success: the contract allows it, the stub sends none
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
		verdict conform.Verdict
		problem string
	}{
		"list DEMO-3 (the state before)": {conform.Differs, "body shape {case_relation_list:[],total:number}, the stub's is {case_relation_list:[]}"},
		"self-association DEMO-1-DEMO-1": {conform.Differs, `error_code "OSM.01010001", the stub answers "OSM.01010044"`},
		"unknown ticket: create":         {conform.Violates, "contract: body /error_msg: maximum string length is 256"},
		"wrong credential":               {conform.Violates, "contract: response has no X-Request-Id"},
		"unknown method PUT":             {conform.Differs, "status 405, the stub answers 404"},
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
		if c.Verdict != w.verdict || len(c.Problems) != 1 || !strings.HasPrefix(c.Problems[0], w.problem) {
			t.Errorf("%s: %s %q, want %s with one problem %q", c.Name, c.Verdict, c.Problems, w.verdict, w.problem)
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
					if r.Method != http.MethodPost {
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

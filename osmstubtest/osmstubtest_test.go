package osmstubtest_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/osmstub/osmstub/client"
	"github.com/osmstub/osmstub/osmstubtest"
	"github.com/osmstub/osmstub/server/store"
)

// modes runs every test twice: through a socket and with no listener.
var modes = []struct {
	name string
	opts osmstubtest.Options
}{
	{"socket", osmstubtest.Options{}},
	{"no-listener", osmstubtest.Options{NoListener: true}},
}

func forEachMode(t *testing.T, fn func(t *testing.T, s *osmstubtest.Stub)) {
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			fn(t, osmstubtest.RunWith(t, m.opts))
		})
	}
}

// fastRetry keeps retry waits short; the tests count attempts, not time.
var fastRetry = client.WithRetry(client.RetryPolicy{MaxAttempts: 3, InitialBackoff: time.Millisecond, MaxBackoff: 2 * time.Millisecond})

func TestStub(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name string
		run  func(t *testing.T, s *osmstubtest.Stub)
	}{
		{"client create list delete", func(t *testing.T, s *osmstubtest.Stub) {
			c := s.Client("demo")
			if err := c.CreateRelations(ctx, "DEMO-1", []string{"DEMO-2", "TEAM-1"}, "team"); err != nil {
				t.Fatal(err)
			}
			s.CheckRelations(t, "DEMO-1", "DEMO-2", "TEAM-1")
			s.CheckRelations(t, "TEAM-1", "DEMO-1")
			if err := c.DeleteRelation(ctx, "DEMO-1", "DEMO-2", ""); err != nil {
				t.Fatal(err)
			}
			s.CheckRelations(t, "DEMO-1", "TEAM-1")
			s.CheckRelations(t, "DEMO-2")
		}},
		{"aksk user", func(t *testing.T, s *osmstubtest.Stub) {
			s.AddUser(store.User{Name: "signer", Keys: []store.AccessKey{{AK: "SIGNERAK", SK: "s3cret"}}, DomainID: "d1"})
			s.AddTicket("S-1", "signer", "signed ticket")
			s.AddTicket("S-2", "signer", "another")
			if err := s.Client("signer").CreateRelations(ctx, "S-1", []string{"S-2"}, "g"); err != nil {
				t.Fatal(err)
			}
			s.CheckRelations(t, "S-2", "S-1")
		}},
		{"seed then list", func(t *testing.T, s *osmstubtest.Stub) {
			s.Associate("DEMO-1", "DEMO-2", "DEMO-3")
			rels, err := s.Client("demo").ListRelations(ctx, "DEMO-1")
			if err != nil {
				t.Fatal(err)
			}
			if len(rels) != 2 || rels[0].CaseID != "DEMO-2" || rels[1].CaseID != "DEMO-3" {
				t.Fatalf("ListRelations = %+v", rels)
			}
			if got := s.Relations("DEMO-3"); !slices.Equal(got, []string{"DEMO-1"}) {
				t.Errorf("Relations(DEMO-3) = %q", got)
			}
		}},
		{"association limit", func(t *testing.T, s *osmstubtest.Stub) {
			s.Associate("DEMO-1", "DEMO-2", "DEMO-3", "DEMO-4")
			err := s.Client("demo").CreateRelations(ctx, "DEMO-1", []string{"DEMO-5"}, "team")
			if !errors.Is(err, client.ErrRuleViolation) {
				t.Fatalf("err = %v, want ErrRuleViolation", err)
			}
			s.CheckRelations(t, "DEMO-1", "DEMO-2", "DEMO-3", "DEMO-4")
		}},
		{"reset restores the start state and clears faults", func(t *testing.T, s *osmstubtest.Stub) {
			s.Associate("DEMO-1", "DEMO-2")
			s.AddTicket("NEW-1", "demo", "new")
			s.FailNext(osmstubtest.ListRelation, 5, 500)
			s.Reset()
			s.CheckRelations(t, "DEMO-1")
			for _, tk := range s.State().Tickets {
				if tk.ID == "NEW-1" {
					t.Error("NEW-1 survived Reset")
				}
			}
			if _, err := s.Client("demo", client.WithRetry(client.NoRetry)).ListRelations(ctx, "DEMO-1"); err != nil {
				t.Errorf("fault survived Reset: %v", err)
			}
		}},
		{"503 twice then success is retried", func(t *testing.T, s *osmstubtest.Stub) {
			s.FailNext(osmstubtest.CreateRelations, 2, 503)
			calls := countCalls(s)
			c := s.Client("demo", fastRetry, client.WithHTTPClient(calls.client))
			if err := c.CreateRelations(ctx, "DEMO-1", []string{"DEMO-2"}, "team"); err != nil {
				t.Fatalf("want success after retries, got %v", err)
			}
			if calls.n != 3 {
				t.Errorf("attempts = %d, want 3", calls.n)
			}
			s.CheckRelations(t, "DEMO-1", "DEMO-2")
		}},
		{"500 on create is not retried", func(t *testing.T, s *osmstubtest.Stub) {
			s.FailNext(osmstubtest.CreateRelations, 1, 500)
			calls := countCalls(s)
			err := s.Client("demo", fastRetry, client.WithHTTPClient(calls.client)).CreateRelations(ctx, "DEMO-1", []string{"DEMO-2"}, "team")
			var apiErr *client.APIError
			if !errors.Is(err, client.ErrServer) || !errors.As(err, &apiErr) || apiErr.Code != "OSM.0004" {
				t.Fatalf("err = %v, want a 500 OSM.0004", err)
			}
			if calls.n != 1 {
				t.Errorf("attempts = %d, want 1", calls.n)
			}
			s.CheckRelations(t, "DEMO-1")
		}},
		{"business refusal", func(t *testing.T, s *osmstubtest.Stub) {
			s.RefuseNext(osmstubtest.DeleteRelation, 1, "OSM.01010002", "no permission on DEMO-1")
			err := s.Client("demo").DeleteRelation(ctx, "DEMO-1", "DEMO-2", "")
			if !errors.Is(err, client.ErrForbidden) {
				t.Fatalf("err = %v, want ErrForbidden", err)
			}
			if err := s.Client("demo").DeleteRelation(ctx, "DEMO-1", "DEMO-2", ""); err != nil {
				t.Fatalf("the fault was for one call only: %v", err)
			}
		}},
		{"dropped connection is a transport error", func(t *testing.T, s *osmstubtest.Stub) {
			s.DropNext(osmstubtest.ListRelation, 1)
			_, err := s.Client("demo", client.WithRetry(client.NoRetry)).ListRelations(ctx, "DEMO-1")
			var apiErr *client.APIError
			if err == nil || errors.As(err, &apiErr) {
				t.Fatalf("err = %v, want a transport error", err)
			}
			if !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) && !strings.Contains(err.Error(), "EOF") {
				t.Errorf("err = %v, want an EOF-like transport error", err)
			}
		}},
		{"dropped list is retried", func(t *testing.T, s *osmstubtest.Stub) {
			s.DropNext(osmstubtest.ListRelation, 1)
			if _, err := s.Client("demo", fastRetry).ListRelations(ctx, "DEMO-1"); err != nil {
				t.Fatalf("want success on the retry, got %v", err)
			}
		}},
		{"latency triggers the context deadline", func(t *testing.T, s *osmstubtest.Stub) {
			s.Delay(osmstubtest.ListRelation, time.Minute)
			ctx, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
			defer cancel()
			_, err := s.Client("demo").ListRelations(ctx, "DEMO-1")
			if !errors.Is(err, context.DeadlineExceeded) {
				var ne net.Error
				if !errors.As(err, &ne) || !ne.Timeout() {
					t.Fatalf("err = %v, want a deadline error", err)
				}
			}
		}},
		{"clock drives the signature window", func(t *testing.T, s *osmstubtest.Stub) {
			c := s.SignedClient("demo", client.WithRetry(client.NoRetry))
			if _, err := c.ListRelations(ctx, "DEMO-1"); err != nil {
				t.Fatalf("signed request refused: %v", err)
			}
			s.Advance(16 * time.Minute) // the client signs with the real time: now 16 minutes stale
			_, err := c.ListRelations(ctx, "DEMO-1")
			var apiErr *client.APIError
			if !errors.Is(err, client.ErrUnauthenticated) || !errors.As(err, &apiErr) || !strings.Contains(apiErr.Message, "X-Sdk-Date") {
				t.Fatalf("err = %v, want a 401 about X-Sdk-Date", err)
			}
			s.SetTime(time.Now())
			if _, err := c.ListRelations(ctx, "DEMO-1"); err != nil {
				t.Fatalf("after SetTime(now): %v", err)
			}
		}},
		{"options add users and tickets", func(t *testing.T, _ *osmstubtest.Stub) {
			s := osmstubtest.RunWith(t, osmstubtest.Options{
				Fixtures: &store.Dataset{Users: []store.User{{Name: "ann", Tokens: []string{"ann-token"}}}},
				Users:    []store.User{{Name: "bob", Tokens: []string{"bob-token"}}},
				Tickets: []store.Ticket{
					{ID: "A-1", Owner: "ann", Description: "a"},
					{ID: "B-1", Owner: "bob", Description: "b", Relations: []string{"A-1"}},
				},
			})
			s.CheckRelations(t, "A-1", "B-1")
			s.Associate("A-1")
			s.Reset()
			s.CheckRelations(t, "B-1", "A-1")
			if len(s.State().Users) != 2 {
				t.Errorf("users = %+v", s.State().Users)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { forEachMode(t, tt.run) })
	}
}

type counter struct {
	n      int
	client *http.Client
}

// countCalls wraps the stub's HTTP client to count attempts.
func countCalls(s *osmstubtest.Stub) *counter {
	c := &counter{}
	base := s.HTTPClient()
	c.client = &http.Client{Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
		c.n++
		return base.Transport.RoundTrip(r)
	})}
	if c.client.Transport == nil {
		c.client.Transport = http.DefaultTransport
	}
	return c
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// Run leaves no goroutine behind once the test's cleanups have run.
func TestRunLeaksNoGoroutines(t *testing.T) {
	before := runtime.NumGoroutine()
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			s := osmstubtest.RunWith(t, m.opts)
			c := s.Client("demo")
			for range 5 {
				if _, err := c.ListRelations(context.Background(), "DEMO-1"); err != nil {
					t.Fatal(err)
				}
			}
			s.DropNext(osmstubtest.ListRelation, 1)
			_, _ = s.Client("demo", client.WithRetry(client.NoRetry)).ListRelations(context.Background(), "DEMO-1")
			s.HTTPClient().CloseIdleConnections()
		})
	}
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > before && time.Now().Before(deadline) {
		http.DefaultClient.CloseIdleConnections()
		time.Sleep(10 * time.Millisecond)
	}
	if after := runtime.NumGoroutine(); after > before {
		buf := make([]byte, 1<<16)
		t.Fatalf("goroutines: %d before, %d after cleanup\n%s", before, after, buf[:runtime.Stack(buf, true)])
	}
}

type recorder struct {
	failed bool
	msg    string
	clean  []func()
}

func (r *recorder) Helper()                        {}
func (r *recorder) Cleanup(f func())               { r.clean = append(r.clean, f) }
func (r *recorder) Fatalf(format string, a ...any) { r.failed, r.msg = true, fmt.Sprintf(format, a...) }

// The assertion helpers fail the test they are given, with a message that
// says what differs.
func TestCheckRelationsReports(t *testing.T) {
	s := osmstubtest.Run(t)
	s.Associate("DEMO-1", "DEMO-2")
	r := &recorder{}
	s.CheckRelations(r, "DEMO-1", "DEMO-3")
	if !r.failed || !strings.Contains(r.msg, "DEMO-2") || !strings.Contains(r.msg, "DEMO-3") {
		t.Errorf("CheckRelations: failed=%v msg=%q", r.failed, r.msg)
	}
	r = &recorder{}
	s.CheckRelations(r, "DEMO-1", "DEMO-2")
	if r.failed {
		t.Errorf("CheckRelations failed on a match: %s", r.msg)
	}
	r = &recorder{}
	bad := osmstubtest.Run(r)
	bad.Associate("DEMO-1", "NOPE")
	if !r.failed || !strings.Contains(r.msg, "NOPE") {
		t.Errorf("Associate with an unknown ticket: failed=%v msg=%q", r.failed, r.msg)
	}
	for _, f := range r.clean {
		f()
	}
}

func TestStartWithoutTest(t *testing.T) {
	s, err := osmstubtest.Start(osmstubtest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if !strings.HasPrefix(s.URL(), "http://127.0.0.1:") || s.Addr() == "" {
		t.Errorf("URL = %q, Addr = %q", s.URL(), s.Addr())
	}
	defer func() {
		if recover() == nil {
			t.Error("a failing helper of a Start stub should panic")
		}
	}()
	s.Associate("DEMO-1", "DEMO-1")
}

// TestFailNextDefaults: FailNext answers with the table every way of
// arming a fault shares (server.FaultDefault): the gateway's code with
// request_id and, for a 429, Retry-After.
func TestFailNextDefaults(t *testing.T) {
	s := osmstubtest.Run(t)
	for _, tt := range []struct {
		status     int
		code       string
		retryAfter string
	}{{429, "APIGW.0308", "1"}, {502, "APIGW.0201", ""}, {503, "APIGW.0613", ""}, {500, "OSM.0004", ""}} {
		s.FailNext(osmstubtest.ListRelation, 1, tt.status)
		req, _ := http.NewRequest(http.MethodGet, s.URL()+"/v2/servicerequest/cases/DEMO-1/relations", nil)
		req.Header.Set("X-Auth-Token", "demo-token")
		res, err := s.HTTPClient().Do(req.WithContext(t.Context()))
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		gateway := strings.HasPrefix(tt.code, "APIGW.")
		if res.StatusCode != tt.status || !strings.Contains(string(body), `"error_code":"`+tt.code+`"`) ||
			strings.Contains(string(body), `"request_id"`) != gateway || res.Header.Get("Retry-After") != tt.retryAfter {
			t.Errorf("FailNext %d: %d Retry-After=%q %s", tt.status, res.StatusCode, res.Header.Get("Retry-After"), body)
		}
	}
}

// lineT finds the line a failure is reported at the way testing does:
// the first caller that did not mark itself with Helper.
type lineT struct {
	recorder
	helpers map[string]bool
	line    string
}

func (l *lineT) Helper() {
	pc, _, _, _ := runtime.Caller(1)
	l.helpers[runtime.FuncForPC(pc).Name()] = true
}

func (l *lineT) Fatalf(format string, a ...any) {
	l.recorder.Fatalf(format, a...)
	pcs := make([]uintptr, 32)
	frames := runtime.CallersFrames(pcs[:runtime.Callers(2, pcs)])
	for {
		f, more := frames.Next()
		if !l.helpers[f.Function] {
			l.line = filepath.Base(f.File)
			return
		}
		if !more {
			return
		}
	}
}

// A failing helper reports the line of the test that called it, not a
// line inside the package.
func TestHelpersReportCallersLine(t *testing.T) {
	for name, call := range map[string]func(*osmstubtest.Stub){
		"FailNext":         func(s *osmstubtest.Stub) { s.FailNext("Nope", 1, 500) },
		"ForCase.FailNext": func(s *osmstubtest.Stub) { s.ForCase("DEMO-1").DropNext("Nope", 1) },
		"SetFault":         func(s *osmstubtest.Stub) { s.SetFault("Nope", osmstubtest.Fault{}) },
		"Associate":        func(s *osmstubtest.Stub) { s.Associate("DEMO-1", "NOPE") },
		"Client":           func(s *osmstubtest.Stub) { s.Client("nobody") },
	} {
		l := &lineT{helpers: map[string]bool{}}
		s := osmstubtest.RunWith(l, osmstubtest.Options{NoListener: true})
		call(s)
		if !l.failed || l.line != "osmstubtest_test.go" {
			t.Errorf("%s: failed=%v, reported at %s (%s)", name, l.failed, l.line, l.msg)
		}
		s.Close()
	}
}

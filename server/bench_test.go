package server

// Benchmarks of the request path, in process: the whole handler stack per
// operation, and kin-openapi's ValidateRequest alone. `make bench` runs them; see
// BENCHMARKS.md.
//
//	go test -run '^$' -bench . -benchmem ./server/
//	go test -run '^$' -bench 'Handler/create' -cpuprofile cpu.out ./server/

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"runtime"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3filter"

	"github.com/osmstub/osmstub/aksk"
	"github.com/osmstub/osmstub/internal/contract"
	"github.com/osmstub/osmstub/server/journal"
	"github.com/osmstub/osmstub/server/store"
)

const (
	benchPath       = "/v2/servicerequest/cases/DEMO-1/relations"
	benchCreateBody = `{"related_id_list":["DEMO-2"],"group_id":"team"}`
	benchDeleteBody = `{"related_id":"DEMO-2","group_id":"team"}`
)

var benchClock = time.Date(2026, 11, 27, 8, 30, 0, 0, time.UTC)

// benchWriter is a reusable http.ResponseWriter that keeps only the status
// and the body, so the benchmark measures the server and not a recorder.
type benchWriter struct {
	h      http.Header
	status int
	body   bytes.Buffer
}

func (w *benchWriter) Header() http.Header         { return w.h }
func (w *benchWriter) WriteHeader(code int)        { w.status = code }
func (w *benchWriter) Write(p []byte) (int, error) { return w.body.Write(p) }

func (w *benchWriter) reset() {
	clear(w.h)
	w.status = 0
	w.body.Reset()
}

// benchBody is a request body that can be rewound, so one *http.Request
// serves every iteration.
type benchBody struct{ bytes.Reader }

func (*benchBody) Close() error { return nil }

type benchRequest struct {
	req     *http.Request
	body    *benchBody
	data    []byte
	refused string // the error_code the answer must carry; "" for none
}

func newBenchRequest(b *testing.B, method, body string, headers ...string) *benchRequest {
	b.Helper()
	r := &benchRequest{data: []byte(body), body: &benchBody{}}
	req, err := http.NewRequest(method, "http://127.0.0.1"+benchPath, nil)
	if err != nil {
		b.Fatal(err)
	}
	req.RemoteAddr = "127.0.0.1:40000"
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	r.req = req
	r.rewind()
	return r
}

func (r *benchRequest) rewind() {
	if len(r.data) == 0 {
		r.req.Body, r.req.ContentLength = http.NoBody, 0
		return
	}
	r.body.Reset(r.data)
	r.req.Body, r.req.ContentLength = r.body, int64(len(r.data))
}

// serve sends r through h and fails unless the answer is a 200 without an
// error_code (with r.refused, with that error_code), so that a benchmark
// measures what it says.
func (r *benchRequest) serve(b *testing.B, h http.Handler, w *benchWriter) {
	r.rewind()
	w.reset()
	h.ServeHTTP(w, r.req)
	code := []byte(`"error_code":"` + r.refused + `"`)
	if r.refused == "" {
		code = []byte("error_code")
	}
	if w.status != http.StatusOK || bytes.Contains(w.body.Bytes(), code) == (r.refused == "") {
		b.Fatalf("%s %s -> %d %s", r.req.Method, r.req.URL.Path, w.status, w.body.Bytes())
	}
}

// cpuMeter reports the process's CPU time per op beside the wall time:
// on a shared machine the wall time of a benchmark swings with the other
// tenants' load, its CPU time much less.
type cpuMeter struct{ start time.Duration }

func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func startCPU() cpuMeter { return cpuMeter{cpuTime()} }

func (m cpuMeter) report(b *testing.B) {
	if b.N > 0 {
		b.ReportMetric(float64(cpuTime()-m.start)/float64(b.N), "cpu-ns/op")
	}
}

// benchLogger formats every access log line as the binary does, and
// throws it away.
func benchLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func benchServer(b *testing.B) *Server {
	b.Helper()
	s, err := New(Options{Logger: benchLogger(), Now: func() time.Time { return benchClock }})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = s.Close() })
	// ListRelation answers two associations, as in the load test.
	if err := s.Associate(context.Background(), "DEMO-1", "DEMO-3", "TEAM-1"); err != nil {
		b.Fatal(err)
	}
	return s
}

func signedBench(b *testing.B, method, body string) *benchRequest {
	b.Helper()
	r := newBenchRequest(b, method, body, "X-Domain-Id", "demo-domain")
	if err := aksk.Sign(r.req, "DEMOAK0000000000000001", "demo-secret-key", benchClock); err != nil {
		b.Fatal(err)
	}
	r.rewind() // Sign read the body
	return r
}

// BenchmarkHandler is the cost of one request through the whole handler
// stack (no socket). "create+delete" is two requests per op: associate
// DEMO-1 with DEMO-2 and remove it again, so the state never changes.
func BenchmarkHandler(b *testing.B) {
	token := []string{"X-Auth-Token", "demo-token"}
	type op struct {
		name string
		reqs func(b *testing.B) []*benchRequest
	}
	ops := []op{
		{"create+delete", func(b *testing.B) []*benchRequest {
			return []*benchRequest{
				newBenchRequest(b, http.MethodPost, benchCreateBody, token...),
				newBenchRequest(b, http.MethodDelete, benchDeleteBody, token...),
			}
		}},
		{"refusal", func(b *testing.B) []*benchRequest {
			// As bench/load.lua's refusal: a ticket that does not exist.
			r := newBenchRequest(b, http.MethodPost, benchCreateBody, token...)
			r.req.URL.Path = "/v2/servicerequest/cases/NOPE-1/relations"
			r.refused = CodeUnknownTicket
			return []*benchRequest{r}
		}},
		{"list", func(b *testing.B) []*benchRequest {
			return []*benchRequest{newBenchRequest(b, http.MethodGet, "", token...)}
		}},
		{"create+delete/aksk", func(b *testing.B) []*benchRequest {
			return []*benchRequest{signedBench(b, http.MethodPost, benchCreateBody), signedBench(b, http.MethodDelete, benchDeleteBody)}
		}},
		{"list/aksk", func(b *testing.B) []*benchRequest {
			return []*benchRequest{signedBench(b, http.MethodGet, "")}
		}},
	}
	for _, o := range ops {
		b.Run(o.name, func(b *testing.B) {
			s := benchServer(b)
			reqs := o.reqs(b)
			w := &benchWriter{h: http.Header{}}
			b.ReportAllocs()
			cpu := startCPU()
			for b.Loop() {
				for _, r := range reqs {
					r.serve(b, s, w)
				}
			}
			cpu.report(b)
		})
	}
}

// BenchmarkHandlerParallel is BenchmarkHandler's token cases on every core,
// as under load.
func BenchmarkHandlerParallel(b *testing.B) {
	for _, name := range []string{"create+delete", "list"} {
		b.Run(name, func(b *testing.B) {
			s := benchServer(b)
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				var reqs []*benchRequest
				if name == "list" {
					reqs = []*benchRequest{newBenchRequest(b, http.MethodGet, "", "X-Auth-Token", "demo-token")}
				} else {
					reqs = []*benchRequest{
						newBenchRequest(b, http.MethodPost, benchCreateBody, "X-Auth-Token", "demo-token"),
						newBenchRequest(b, http.MethodDelete, benchDeleteBody, "X-Auth-Token", "demo-token"),
					}
				}
				w := &benchWriter{h: http.Header{}}
				for pb.Next() {
					for _, r := range reqs {
						r.rewind()
						w.reset()
						s.ServeHTTP(w, r.req)
						if w.status != http.StatusOK {
							panic(w.body.String())
						}
					}
				}
			})
		})
	}
}

// BenchmarkValidateRequest is kin-openapi's ValidateRequest alone on a
// CreateRelations request, with an authenticator that accepts anything:
// the validator's own cost, which no change to the stub can remove.
func BenchmarkValidateRequest(b *testing.B) {
	for _, tc := range []struct{ method, body string }{{http.MethodPost, benchCreateBody}, {http.MethodGet, ""}} {
		{
			b.Run(tc.method, func(b *testing.B) {
				r := newBenchRequest(b, tc.method, tc.body, "X-Auth-Token", "demo-token")
				route, params, err := contract.FindRoute(r.req)
				if err != nil {
					b.Fatal(err)
				}
				opts := contract.RequestOptions(openapi3filter.NoopAuthenticationFunc)
				b.ReportAllocs()
				cpu := startCPU()
				for b.Loop() {
					r.rewind()
					in := &openapi3filter.RequestValidationInput{Request: r.req, PathParams: params, Route: route, Options: opts}
					if err := openapi3filter.ValidateRequest(context.Background(), in); err != nil {
						b.Fatal(err)
					}
				}
				cpu.report(b)
			})
		}
	}
}

// BenchmarkJournal is what the request journal costs per request: the
// token cases of BenchmarkHandler with the journal on (the default, 1000
// entries, so the ring wraps during the run) and off.
func BenchmarkJournal(b *testing.B) {
	token := []string{"X-Auth-Token", "demo-token"}
	for _, op := range []string{"create+delete", "list"} {
		for _, mode := range []string{"on", "off"} {
			b.Run(op+"/"+mode, func(b *testing.B) {
				s, err := New(Options{Logger: benchLogger(), Now: func() time.Time { return benchClock }, DisableJournal: mode == "off"})
				if err != nil {
					b.Fatal(err)
				}
				b.Cleanup(func() { _ = s.Close() })
				if err := s.Associate(context.Background(), "DEMO-1", "DEMO-3", "TEAM-1"); err != nil {
					b.Fatal(err)
				}
				reqs := []*benchRequest{newBenchRequest(b, http.MethodGet, "", token...)}
				if op == "create+delete" {
					reqs = []*benchRequest{
						newBenchRequest(b, http.MethodPost, benchCreateBody, token...),
						newBenchRequest(b, http.MethodDelete, benchDeleteBody, token...),
					}
				}
				w := &benchWriter{h: http.Header{}}
				b.ReportAllocs()
				cpu := startCPU()
				for b.Loop() {
					for _, r := range reqs {
						r.serve(b, s, w)
					}
				}
				cpu.report(b)
				if got := len(s.Requests(journal.Filter{Limit: 1})); (mode == "on") != (got == 1) {
					b.Fatalf("journal %s kept %d entries", mode, got)
				}
			})
		}
	}
}

// BenchmarkJournalParallel is BenchmarkJournal on every core, where the
// journal's one lock is shared by all requests: what it costs under load.
func BenchmarkJournalParallel(b *testing.B) {
	for _, op := range []string{"create+delete", "list"} {
		for _, mode := range []string{"on", "off"} {
			b.Run(op+"/"+mode, func(b *testing.B) {
				s, err := New(Options{Logger: benchLogger(), Now: func() time.Time { return benchClock }, DisableJournal: mode == "off"})
				if err != nil {
					b.Fatal(err)
				}
				b.Cleanup(func() { _ = s.Close() })
				b.ReportAllocs()
				cpu := startCPU()
				b.RunParallel(func(pb *testing.PB) {
					// Creates and deletes of one pair from every goroutine:
					// in any interleaving each is answered 200.
					reqs := []*benchRequest{newBenchRequest(b, http.MethodGet, "", "X-Auth-Token", "demo-token")}
					if op == "create+delete" {
						reqs = []*benchRequest{
							newBenchRequest(b, http.MethodPost, benchCreateBody, "X-Auth-Token", "demo-token"),
							newBenchRequest(b, http.MethodDelete, benchDeleteBody, "X-Auth-Token", "demo-token"),
						}
					}
					w := &benchWriter{h: http.Header{}}
					for pb.Next() {
						for _, r := range reqs {
							r.rewind()
							w.reset()
							s.ServeHTTP(w, r.req)
							if w.status != http.StatusOK {
								panic(w.body.String())
							}
						}
					}
				})
				cpu.report(b)
			})
		}
	}
}

// BenchmarkTicketFlow is the cost of the ticket flow's requests through the
// whole handler stack: opening a ticket, showing one, a page of ListCases.
func BenchmarkTicketFlow(b *testing.B) {
	token := []string{"X-Auth-Token", "demo-token"}
	for _, tc := range []struct {
		name, method, path, body string
	}{
		{"create", http.MethodPost, "/v2/servicerequest/cases", `{"business_type_id":"ECS-CONSULT","simple_description":"bench","source_id":"83aeb0f2834c4df49826c781d32a963e"}`},
		{"show", http.MethodGet, "/v2/servicerequest/cases/DEMO-6", ""},
		{"status", http.MethodGet, "/v2/servicerequest/cases/DEMO-6/status", ""},
		{"list", http.MethodGet, "/v2/servicerequest/cases?limit=10", ""},
	} {
		b.Run(tc.name, func(b *testing.B) {
			s := benchServer(b)
			r := newBenchRequest(b, tc.method, tc.body, token...)
			r.req.URL = mustURL(b, "http://127.0.0.1"+tc.path)
			w := &benchWriter{h: http.Header{}}
			b.ReportAllocs()
			cpu := startCPU()
			for b.Loop() {
				r.serve(b, s, w)
			}
			cpu.report(b)
		})
	}
}

// BenchmarkListCases is a first page of ListCases (10 tickets, newest
// first) when the caller's account holds 1k tickets and when it holds 1M:
// issue 25 asks the second at most twice the first.
func BenchmarkListCases(b *testing.B) {
	for _, n := range []int{1_000, 1_000_000} {
		b.Run(strconv.Itoa(n/1000)+"k", func(b *testing.B) {
			s := benchServer(b)
			fill(b, s, n)
			runtime.GC() // measure the steady state, not the collection of the fill's garbage
			r := newBenchRequest(b, http.MethodGet, "", "X-Auth-Token", "demo-token")
			r.req.URL = mustURL(b, "http://127.0.0.1/v2/servicerequest/cases?limit=10")
			w := &benchWriter{h: http.Header{}}
			r.serve(b, s, w)
			if !bytes.Contains(w.body.Bytes(), []byte(`"total_count":`)) {
				b.Fatalf("no total: %s", w.body.Bytes())
			}
			b.ReportAllocs()
			cpu := startCPU()
			for b.Loop() {
				r.serve(b, s, w)
			}
			cpu.report(b)
		})
	}
}

// fill gives the demo user n more tickets, a second apart.
func fill(b *testing.B, s *Server, n int) {
	b.Helper()
	const batch = 10_000
	for i := 0; i < n; i += batch {
		err := s.Store().Update(context.Background(), func(tx store.Tx) error {
			for j := i; j < min(i+batch, n); j++ {
				t := store.Ticket{ID: fmt.Sprintf("BENCH-%07d", j), Owner: "demo", Description: "bench ticket",
					TicketDetail: store.TicketDetail{BusinessTypeID: "ECS-CONSULT", Created: benchClock.Add(time.Duration(j) * time.Second)}}
				if err := tx.PutTicket(t); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
	}
}

func mustURL(b *testing.B, raw string) *url.URL {
	b.Helper()
	u, err := url.Parse(raw)
	if err != nil {
		b.Fatal(err)
	}
	return u
}

package server

// Benchmarks of the request path, in process: the whole handler stack per
// operation, with kin-openapi validation (what the binary serves) and
// without it (the same stack with validation replaced by a token lookup),
// and kin-openapi's ValidateRequest alone. `make bench` runs them; see
// BENCHMARKS.md.
//
//	go test -run '^$' -bench . -benchmem ./server/
//	go test -run '^$' -bench 'Handler/create' -cpuprofile cpu.out ./server/

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"reflect"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/labstack/echo/v4"

	"github.com/osmstub/osmstub/aksk"
	"github.com/osmstub/osmstub/gen"
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
func benchLogger() *slog.Logger { return slog.New(NewLogHandler(io.Discard, false, nil)) }

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

// withoutValidation is s's middleware chain with contract validation
// replaced by what the handlers cannot do without: reading the body and
// resolving the token's user.
func withoutValidation(s *Server) http.Handler {
	e := echo.New()
	e.HTTPErrorHandler = s.handleError
	e.Pre(routeOnEscapedPath)
	auth := func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			x := exchangeOf(c.Request().Context())
			user, err := s.auth.byToken(c.Request().Context(), c.Request(), &x.auth)
			if err != nil {
				return err
			}
			x.caller = user
			return next(c)
		}
	}
	e.Use(s.requestID, s.recoverPanics, s.accessLog, s.limitBody, auth, s.preferExample, s.injectFaults)
	gen.RegisterHandlers(e, gen.NewStrictHandler(s, nil))
	return e
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
		name  string
		reqs  func(b *testing.B) []*benchRequest
		plain bool // also run without validation
	}
	ops := []op{
		{"create+delete", func(b *testing.B) []*benchRequest {
			return []*benchRequest{
				newBenchRequest(b, http.MethodPost, benchCreateBody, token...),
				newBenchRequest(b, http.MethodDelete, benchDeleteBody, token...),
			}
		}, true},
		{"refusal", func(b *testing.B) []*benchRequest {
			// As bench/load.lua's refusal: a ticket that does not exist.
			r := newBenchRequest(b, http.MethodPost, benchCreateBody, token...)
			r.req.URL.Path = "/v2/servicerequest/cases/NOPE-1/relations"
			r.refused = CodeUnknownTicket
			return []*benchRequest{r}
		}, true},
		{"list", func(b *testing.B) []*benchRequest {
			return []*benchRequest{newBenchRequest(b, http.MethodGet, "", token...)}
		}, true},
		{"create+delete/aksk", func(b *testing.B) []*benchRequest {
			return []*benchRequest{signedBench(b, http.MethodPost, benchCreateBody), signedBench(b, http.MethodDelete, benchDeleteBody)}
		}, false},
		{"list/aksk", func(b *testing.B) []*benchRequest {
			return []*benchRequest{signedBench(b, http.MethodGet, "")}
		}, false},
	}
	for _, o := range ops {
		modes := []string{"validated"}
		if o.plain {
			modes = append(modes, "unvalidated")
		}
		for _, mode := range modes {
			b.Run(o.name+"/"+mode, func(b *testing.B) {
				s := benchServer(b)
				var h http.Handler = s
				if mode == "unvalidated" {
					h = withoutValidation(s)
				}
				reqs := o.reqs(b)
				w := &benchWriter{h: http.Header{}}
				b.ReportAllocs()
				cpu := startCPU()
				for b.Loop() {
					for _, r := range reqs {
						r.serve(b, h, w)
					}
				}
				cpu.report(b)
			})
		}
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
//
// The "/stub" cases are the same requests through validateRequest, as the
// stub validates them: the body decoded once by internal/jsonvalue (which
// they include), kin-openapi's schemas checking every value.
func BenchmarkValidateRequest(b *testing.B) {
	for _, tc := range []struct{ method, body string }{{http.MethodPost, benchCreateBody}, {http.MethodGet, ""}} {
		for _, how := range []string{"", "/stub"} {
			b.Run(tc.method+how, func(b *testing.B) {
				r := newBenchRequest(b, tc.method, tc.body, "X-Auth-Token", "demo-token")
				route, params, err := contract.FindRoute(r.req)
				if err != nil {
					b.Fatal(err)
				}
				opts := contract.RequestOptions(openapi3filter.NoopAuthenticationFunc)
				var ai openapi3filter.AuthenticationInput
				body := []byte(tc.body) // as check holds it
				b.ReportAllocs()
				cpu := startCPU()
				for b.Loop() {
					r.rewind()
					in := &openapi3filter.RequestValidationInput{Request: r.req, PathParams: params, Route: route, Options: opts}
					if how == "" {
						err = openapi3filter.ValidateRequest(context.Background(), in)
					} else {
						var parsed any
						if parsed, err = decodeJSON(contentTypeJSON, body); err == nil {
							err = validateRequest(context.Background(), in, parsed, &ai)
						}
					}
					if err != nil {
						b.Fatal(err)
					}
				}
				cpu.report(b)
			})
		}
	}
}

// TestFastResponsesMatchGenerated keeps the hand-written successful
// answers of handler.go identical, byte for byte, to what the generated
// response types write (the benchmarks above measure the former).
func TestFastResponsesMatchGenerated(t *testing.T) {
	record := func(visit func(w http.ResponseWriter) error) (int, http.Header, string) {
		w := &benchWriter{h: http.Header{}}
		if err := visit(w); err != nil {
			t.Fatal(err)
		}
		return w.status, w.h, w.body.String()
	}
	same := func(name string, got, want func(w http.ResponseWriter) error) {
		t.Helper()
		gs, gh, gb := record(got)
		ws, wh, wb := record(want)
		if gs != ws || gb != wb || gh.Get("Content-Type") != wh.Get("Content-Type") || len(gh) != len(wh) {
			t.Errorf("%s:\n got %d %v %q\nwant %d %v %q", name, gs, gh, gb, ws, wh, wb)
		}
	}
	same("create", succeeded{}.VisitCreateRelationsResponse, gen.CreateRelations200JSONResponse{}.VisitCreateRelationsResponse)
	same("delete", succeeded{}.VisitDeleteRelationResponse, gen.DeleteRelation200JSONResponse{}.VisitDeleteRelationResponse)
	for _, r := range []*refused{
		refusedLimit, refusedSelf, refusedUnknown, refusedNoPermission,
		newRefused("OSM.01010043", "A work order can be associated with a maximum of 3 work orders. DEMO-1"),
		newRefused("", ""),
		newRefused("a\"b\\c <&>", "\n\t\x01 \x7f \xff ünïcødé \u2028\u2029 日本語"),
	} {
		code, msg := r.code, r.msg
		same("create refused "+code, r.VisitCreateRelationsResponse,
			gen.CreateRelations200JSONResponse{Body: gen.OperationResult{ErrorCode: &code, ErrorMsg: &msg}}.VisitCreateRelationsResponse)
		same("delete refused "+code, r.VisitDeleteRelationResponse,
			gen.DeleteRelation200JSONResponse{Body: gen.OperationResult{ErrorCode: &code, ErrorMsg: &msg}}.VisitDeleteRelationResponse)
		same("list refused "+code, r.VisitListRelationResponse,
			gen.ListRelation200JSONResponse{Body: gen.RelationList{ErrorCode: &code, ErrorMsg: &msg}}.VisitListRelationResponse)
	}

	lists := [][]store.Relation{
		nil,
		{},
		{{CaseID: "DEMO-3", Description: "Elastic IP unbound after resize", Owner: "demo"}},
		{{CaseID: "a\"b\\c", Description: "<tag> & \"quoted\"\n\ttab \x01 \x7f", Owner: "ünïcødé ✓ \u2028 \u2029"},
			{CaseID: "", Description: "invalid \xff utf-8", Owner: "日本語"}},
	}
	for i, rels := range lists {
		list := make([]gen.CaseRelation, len(rels))
		for j := range rels {
			r := &rels[j]
			list[j] = gen.CaseRelation{CaseId: &r.CaseID, SimpleDescription: &r.Description, UserName: &r.Owner}
		}
		want := gen.ListRelation200JSONResponse{Body: gen.RelationList{CaseRelationList: &list}}
		same(fmt.Sprintf("list %d", i), relationList(rels).VisitListRelationResponse, want.VisitListRelationResponse)
	}
}

// TestValidateRequestMatchesKinOpenAPI keeps validateRequest (kin-openapi's
// ValidateRequest step by step, with shortcuts) equivalent to one call of
// openapi3filter.ValidateRequest: the same errors, in the same order, and
// the same validated value, for valid and invalid requests alike, with the
// body decoded by check and without.
func TestValidateRequestMatchesKinOpenAPI(t *testing.T) {
	auth := func(_ context.Context, in *openapi3filter.AuthenticationInput) error {
		if in.SecuritySchemeName == "token" && in.RequestValidationInput.Request.Header.Get("X-Auth-Token") == "t" {
			return nil
		}
		return errors.New("no")
	}
	long := strings.Repeat("x", 70)
	type tc struct {
		method, caseID, body, contentType, token string
		header                                   []string
	}
	cases := []tc{
		{"POST", "C1", `{"related_id_list":["C2"],"group_id":"g"}`, "application/json", "t", nil},
		{"POST", "C1", `{"related_id_list":["C2"],"group_id":"g"}`, "application/json", "", nil},
		{"POST", "C1", `{"related_id_list":"C2"}`, "application/json", "t", nil},
		{"POST", "C1", `{"related_id_list":"C2"}`, "application/json", "bad", nil},
		{"POST", long, `{"related_id_list":[],"group_id":"` + long + `","x":1}`, "application/json", "t", nil},
		{"POST", "C1", `{"related_id_list":`, "application/json", "t", nil},
		{"POST", "C1", `{"related_id_list":["C2"],"group_id":"g"}`, "text/plain", "t", nil},
		{"POST", "C1", `{"related_id_list":["C2"],"group_id":"g"}`, "application/json; charset=utf-8", "t", nil},
		{"POST", "C1", `{"related_id_list":["C2"],"group_id":"g"}`, "Application/JSON", "t", nil},
		{"POST", "C1", `{"related_id_list":["C2","C3","C4","C5"],"group_id":7}`, "application/json", "t", nil},
		{"POST", "C1", `{"related_id_list":["\u0043\u0032"],"group_id":null}`, "application/json", "t", nil},
		{"POST", "C1", `{"related_id_list":[""],"group_id":""}`, "application/json", "t", nil},
		{"POST", "C1", `[]`, "application/json", "t", nil},
		{"POST", "C1", `null`, "application/json", "t", nil},
		{"POST", "C1", `"x"`, "application/json", "t", nil},
		{"POST", "C1", `{"related_id_list":[1.5e3,true,{}]}`, "application/json", "t", nil},
		{"POST", "C1", "", "", "t", nil},
		{"POST", "", "", "", "", nil},
		{"POST", "C1", `{"related_id_list":["C2"]}`, "application/json", "t", []string{"X-Language", "en-us", "X-Site", "1", "X-Time-Zone", "GMT+8"}},
		{"POST", "C1", `{"related_id_list":["C2"]}`, "application/json", "t", []string{"X-Language", "", "X-Site", "abc"}},
		{"POST", "C1", `{"related_id_list":["C2"]}`, "application/json", "t", []string{"X-Language", long, "X-Site", ""}},
		{"DELETE", "C1", `{"related_id":"C2"}`, "application/json", "t", nil},
		{"DELETE", "C1", `{"group_id":"g"}`, "application/json", "", nil},
		{"DELETE", "C1", `{"related_id":"C2","related_id":3}`, "application/json", "t", nil},
		{"DELETE", long, `{"related_id":"` + long + `"}`, "application/json", "t", []string{"X-Site", "9999999999999999999999"}},
		{"GET", "C1", "", "", "t", nil},
		{"GET", long, "", "", "", nil},
		{"GET", "C1", "", "application/json", "t", nil},
		{"GET", "C1", "", "", "t", []string{"X-Time-Zone", "", "X-Language", "zh-cn"}},
	}
	for _, multi := range []bool{true, false} {
		opts := contract.RequestOptions(auth)
		opts.MultiError = multi
		opts.KeepValidatedValue = true
		for i, tc := range cases {
			run := func(validate func(context.Context, *openapi3filter.RequestValidationInput) error) (string, any) {
				req, err := http.NewRequest(tc.method, "http://h"+strings.Replace(benchPath, "DEMO-1", tc.caseID, 1), strings.NewReader(tc.body))
				if err != nil {
					t.Fatal(err)
				}
				if tc.body == "" {
					req.Body = http.NoBody
				}
				if tc.contentType != "" {
					req.Header.Set("Content-Type", tc.contentType)
				}
				if tc.token != "" {
					req.Header.Set("X-Auth-Token", tc.token)
				}
				for j := 0; j < len(tc.header); j += 2 {
					req.Header.Set(tc.header[j], tc.header[j+1])
				}
				req = req.WithContext(&exchangeCtx{Context: context.Background()})
				route, params, err := contract.FindRoute(req)
				if err != nil {
					t.Fatal(err)
				}
				err = validate(req.Context(), &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: route, Options: opts})
				var value any
				if vb, ok := req.Body.(interface{ ValidatedValue() any }); ok {
					value = vb.ValidatedValue()
				}
				var rest []byte
				if req.Body != nil {
					rest, _ = io.ReadAll(req.Body)
				}
				if string(rest) != tc.body {
					t.Errorf("multi=%v case %d: the body left for the handler is %q, want %q", multi, i, rest, tc.body)
				}
				if err == nil {
					return "", value
				}
				return fmt.Sprintf("%T %v %d %q", err, err, len(contract.Problems(err)), contract.Message(contract.Problems(err))), value
			}
			want, wantValue := run(openapi3filter.ValidateRequest)
			for _, decoded := range []bool{false, true} {
				got, gotValue := run(func(ctx context.Context, in *openapi3filter.RequestValidationInput) error {
					var parsed any
					if decoded {
						var err error
						if parsed, err = decodeJSON(in.Request.Header.Get("Content-Type"), []byte(tc.body)); err != nil {
							parsed = nil // check refuses it before validation; kin-openapi decodes it here
						}
					}
					return validateRequest(ctx, in, parsed, new(openapi3filter.AuthenticationInput))
				})
				if got != want || !reflect.DeepEqual(gotValue, wantValue) {
					t.Errorf("multi=%v decoded=%v case %d:\n got %s (%#v)\nwant %s (%#v)", multi, decoded, i, got, gotValue, want, wantValue)
				}
			}
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

package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/osmstub/osmstub/aksk"
	"github.com/osmstub/osmstub/internal/violation"
	"github.com/osmstub/osmstub/server"
	"github.com/osmstub/osmstub/server/store"
)

// Shared vocabulary of the server tests.
const (
	codeInvalid      = "OSM.0001"
	codeUnauthorized = "APIGW.0301"
	codeForbidden    = "APIGW.0302"
	codeInternal     = "OSM.0004"
	codeLimit        = "OSM.01010043"
	codeSelf         = "OSM.01010044"
	codeUnknown      = "OSM.01010015"
	codeNoPermission = "OSM.01010002"

	demoAK = "DEMOAK0000000000000001"
	demoSK = "demo-secret-key"
)

// clock is the fixed time every AK/SK test runs at.
var clock = time.Date(2026, 11, 27, 8, 30, 0, 0, time.UTC)

func fixedNow() time.Time { return clock }

// relationsPath is the contract's only path, for one case ID as it goes
// into the URL (already escaped if it needs to be).
func relationsPath(caseID string) string {
	return "/v2/servicerequest/cases/" + caseID + "/relations"
}

// newServer builds a server and closes it with the test.
func newServer(t testing.TB, opts server.Options) *server.Server {
	t.Helper()
	srv, err := server.New(opts)
	if err != nil {
		t.Fatalf("server.New: %v", err)
	}
	t.Cleanup(func() { _ = srv.Close() })
	return srv
}

// demoServer serves the built-in demo data at the fixed clock.
func demoServer(t testing.TB) *server.Server {
	t.Helper()
	return newServer(t, server.Options{Now: fixedNow})
}

// do sends req through the full handler and returns what came back. Every
// response is checked against openapi.yaml: a response that drifts from the
// contract fails the test, whatever the test itself asserts. It uses
// t.Errorf, not t.Fatalf, so that it may be called from any goroutine.
func do(t testing.TB, h http.Handler, req *http.Request) (int, http.Header, []byte) {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	res := rec.Result()
	body := rec.Body.Bytes()
	checkResponse(t, req, res.StatusCode, res.Header, body)
	return res.StatusCode, res.Header, body
}

// doHTTP is do over a real connection.
func doHTTP(t testing.TB, c *http.Client, req *http.Request) (int, http.Header, []byte) {
	t.Helper()
	res, err := c.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatalf("%s %s: read body: %v", req.Method, req.URL, err)
	}
	checkResponse(t, req, res.StatusCode, res.Header, body)
	return res.StatusCode, res.Header, body
}

func checkResponse(t testing.TB, req *http.Request, status int, header http.Header, body []byte) {
	t.Helper()
	if header.Get("X-Request-Id") == "" {
		t.Errorf("%s %s -> %d: no X-Request-Id", req.Method, req.URL.Path, status)
	}
	if operationalPaths[req.URL.Path] && req.Method == http.MethodGet && status == http.StatusOK {
		return
	}
	if vs := violation.CheckResponse(req, status, header, body); len(vs) > 0 {
		t.Errorf("%s %s -> %d %s breaks the contract: %v", req.Method, req.URL.Path, status, body, vs)
	}
}

// operationalPaths are served by the stub beside the vendor contract.
var operationalPaths = map[string]bool{"/healthz": true, "/openapi.yaml": true}

// newReq builds a request; a non-empty body is sent as application/json.
// headers are name, value pairs; an empty value deletes the header.
func newReq(method, target, body string, headers ...string) *http.Request {
	var r io.Reader
	if body != "" {
		r = strings.NewReader(body)
	}
	req := httptest.NewRequest(method, target, r)
	req.Host = "127.0.0.1:8080" // the token-less control API serves loopback names only
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(headers); i += 2 {
		if headers[i] == "Host" {
			req.Host = headers[i+1]
			continue
		}
		if headers[i+1] == "" {
			req.Header.Del(headers[i])
		} else {
			req.Header.Set(headers[i], headers[i+1])
		}
	}
	return req
}

// tokenReq is newReq with an X-Auth-Token.
func tokenReq(token, method, caseID, body string, headers ...string) *http.Request {
	return newReq(method, relationsPath(caseID), body, append([]string{"X-Auth-Token", token}, headers...)...)
}

func createBody(group string, related ...string) string {
	b, _ := json.Marshal(map[string]any{"related_id_list": related, "group_id": group})
	return string(b)
}

func deleteBody(group, related string) string {
	m := map[string]string{"related_id": related}
	if group != "" {
		m["group_id"] = group
	}
	b, _ := json.Marshal(m)
	return string(b)
}

// errorBody is both the contract's ErrorBody and OperationResult.
type errorBody struct {
	Code *string `json:"error_code"`
	Msg  *string `json:"error_msg"`
}

func decodeError(t testing.TB, body []byte) (code, msg string) {
	t.Helper()
	var e errorBody
	if err := json.Unmarshal(body, &e); err != nil {
		t.Errorf("body is not an error body: %v: %s", err, body)
		return "", ""
	}
	if e.Code == nil || e.Msg == nil {
		t.Errorf("body lacks error_code or error_msg: %s", body)
		return "", ""
	}
	return *e.Code, *e.Msg
}

// leaks are what an error_msg must never show: kin-openapi's schema and
// value dumps, Go types and fmt's complaints.
var leaks = []string{"Schema:", "Value:", "interface {}", "interface{}", "map[", "[]string", "openapi3", "*errors.", "%!", "json: ", "runtime error", "goroutine"}

// checkNoLeak fails t if msg shows one of leaks that the request did not
// send itself: an error_msg names the fields the caller sent, so a marker in
// a property name or a path (a fuzzer's "%!") comes back as sent.
func checkNoLeak(t testing.TB, msg string, sent ...string) {
	t.Helper()
	for _, l := range leaks {
		if strings.Contains(msg, l) && !slices.ContainsFunc(sent, func(in string) bool { return strings.Contains(in, l) }) {
			t.Errorf("error_msg leaks internals (%q): %q", l, msg)
		}
	}
}

// snapshot reads the whole state of srv's store.
func snapshot(t testing.TB, s store.Store) store.Dataset {
	t.Helper()
	var d store.Dataset
	err := s.View(context.Background(), func(tx store.Tx) (err error) {
		d, err = tx.Snapshot()
		return err
	})
	if err != nil {
		t.Fatalf("snapshot: %v", err)
	}
	return d
}

func checkUnchanged(t testing.TB, before, after store.Dataset) {
	t.Helper()
	if !reflect.DeepEqual(before, after) {
		t.Errorf("state changed by a refused request:\nbefore %+v\nafter  %+v", before, after)
	}
}

// refusal is what a refused request must answer.
type refusal struct {
	status int
	code   string
	msg    string   // the exact error_msg; "" to skip
	parts  []string // substrings error_msg must contain
}

// expectRefusal sends req and checks the status, error_code, error_msg,
// that nothing leaks and that the state did not change. It returns the
// error_msg.
func expectRefusal(t testing.TB, srv *server.Server, req *http.Request, want refusal) string {
	t.Helper()
	before := snapshot(t, srv.Store())
	status, _, body := do(t, srv, req)
	after := snapshot(t, srv.Store())
	if status != want.status {
		t.Errorf("%s %s: status %d, want %d: %s", req.Method, req.URL.Path, status, want.status, body)
	}
	code, msg := decodeError(t, body)
	if code != want.code {
		t.Errorf("%s %s: error_code %q, want %q (error_msg %q)", req.Method, req.URL.Path, code, want.code, msg)
	}
	if want.msg != "" && msg != want.msg {
		t.Errorf("%s %s: error_msg %q, want %q", req.Method, req.URL.Path, msg, want.msg)
	}
	for _, p := range want.parts {
		if !strings.Contains(msg, p) {
			t.Errorf("%s %s: error_msg %q does not mention %q", req.Method, req.URL.Path, msg, p)
		}
	}
	if status == http.StatusOK && len(msg) > 256 {
		t.Errorf("error_msg of a 200 is %d characters, at most 256: %q", len(msg), msg)
	}
	if status == http.StatusOK && msg == "" {
		t.Errorf("a business refusal has an empty error_msg")
	}
	checkNoLeak(t, msg)
	checkUnchanged(t, before, after)
	return msg
}

// expectOK sends a create or delete and checks that the body is exactly {}.
func expectOK(t testing.TB, h http.Handler, req *http.Request) {
	t.Helper()
	status, _, body := do(t, h, req)
	if status != http.StatusOK || string(bytes.TrimSpace(body)) != "{}" {
		t.Errorf("%s %s: got %d %s, want 200 {}", req.Method, req.URL.Path, status, bytes.TrimSpace(body))
	}
}

// relation mirrors the contract's CaseRelation, every field required here.
type relation struct {
	CaseID      string `json:"case_id"`
	Description string `json:"simple_description"`
	UserName    string `json:"user_name"`
}

// list lists caseID as token's user and returns the relations; it fails
// the test on anything but a 200 without error_code.
func list(t testing.TB, h http.Handler, token, caseID string) []relation {
	t.Helper()
	status, _, body := do(t, h, tokenReq(token, http.MethodGet, caseID, ""))
	var got struct {
		List      *[]relation `json:"case_relation_list"`
		ErrorCode *string     `json:"error_code"`
	}
	if err := json.Unmarshal(body, &got); err != nil || status != http.StatusOK || got.ErrorCode != nil || got.List == nil {
		t.Fatalf("list %s: %d %s (%v)", caseID, status, body, err)
	}
	return *got.List
}

func ids(rels []relation) []string {
	out := make([]string, len(rels))
	for i, r := range rels {
		out[i] = r.CaseID
	}
	return out
}

// signed builds a request signed by the demo key at the fixed clock. The
// extra headers are set before signing, so they are signed too.
func signed(t testing.TB, method, caseID, body string, headers ...string) *http.Request {
	t.Helper()
	return signedWith(t, demoAK, demoSK, clock, method, caseID, body, headers...)
}

func signedWith(t testing.TB, ak, sk string, at time.Time, method, caseID, body string, headers ...string) *http.Request {
	t.Helper()
	req := newReq(method, relationsPath(caseID), body, headers...)
	if err := aksk.Sign(req, ak, sk, at); err != nil {
		t.Fatalf("sign: %v", err)
	}
	return req
}

// requestIDOf is the request_id of an error body, "" without one.
func requestIDOf(t testing.TB, body []byte) string {
	t.Helper()
	var e struct {
		RequestID string `json:"request_id"`
	}
	if err := json.Unmarshal(body, &e); err != nil {
		t.Errorf("body is not JSON: %v: %s", err, body)
	}
	return e.RequestID
}

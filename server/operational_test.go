package server_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/osmstub/osmstub"
	"github.com/osmstub/osmstub/aksk"
	"github.com/osmstub/osmstub/server"
	"github.com/osmstub/osmstub/server/store"
	"github.com/osmstub/osmstub/server/store/memory"
)

func TestHealthz(t *testing.T) {
	srv := demoServer(t)
	status, header, body := do(t, srv, newReq("GET", "/healthz", ""))
	if status != http.StatusOK || string(bytes.TrimSpace(body)) != `{"status":"ok"}` {
		t.Errorf("GET /healthz: %d %s", status, body)
	}
	if ct := header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type %q", ct)
	}
}

func TestOpenAPIDocument(t *testing.T) {
	srv := demoServer(t)
	status, header, body := do(t, srv, newReq("GET", "/openapi.yaml", ""))
	if status != http.StatusOK {
		t.Errorf("GET /openapi.yaml: %d", status)
	}
	if !bytes.Equal(body, osmstub.OpenAPI) {
		t.Errorf("GET /openapi.yaml returned %d bytes that differ from osmstub.OpenAPI (%d bytes)", len(body), len(osmstub.OpenAPI))
	}
	if ct := header.Get("Content-Type"); !strings.Contains(ct, "yaml") {
		t.Errorf("Content-Type %q", ct)
	}
}

var requestIDPattern = regexp.MustCompile(`^[0-9a-f]{32}$`)

func TestRequestIDs(t *testing.T) {
	srv := demoServer(t)
	reqs := []func() *http.Request{
		func() *http.Request { return tokenReq(demoTok, "GET", "DEMO-1", "") },                            // 200
		func() *http.Request { return tokenReq(demoTok, "POST", "DEMO-1", createBody("team", "DEMO-2")) }, // 200 {}
		func() *http.Request { return tokenReq(demoTok, "POST", "DEMO-1", createBody("team", "DEMO-1")) }, // 200 rule
		func() *http.Request { return tokenReq(demoTok, "POST", "DEMO-1", `{"related_id_list":"1"}`) },    // 400
		func() *http.Request { return newReq("GET", relationsPath("DEMO-1"), "") },                        // 401
		func() *http.Request { return signed(t, "GET", "DEMO-1", "", "X-Domain-Id", "other") },            // 403
		func() *http.Request { return newReq("GET", "/nowhere", "") },                                     // 404
		func() *http.Request { return tokenReq(demoTok, "PUT", "DEMO-1", "") },                            // 404
		func() *http.Request {
			return tokenReq(demoTok, "POST", "DEMO-1", strings.Repeat(" ", bodyLimit+1)) // 413
		},
		func() *http.Request { return tokenReq(demoTok, "POST", "DEMO-1", "x", "Content-Type", "text/plain") }, // 415
	}
	seen := map[string]int{}
	statuses := map[int]bool{}
	for round := 0; round < 3; round++ {
		for i, mk := range reqs {
			status, header, _ := do(t, srv, mk())
			statuses[status] = true
			id := header.Get("X-Request-Id")
			if !requestIDPattern.MatchString(id) {
				t.Errorf("request %d: X-Request-Id %q is not 32 hex digits", i, id)
			}
			if vs := header.Values("X-Request-Id"); len(vs) != 1 {
				t.Errorf("request %d: %d X-Request-Id values", i, len(vs))
			}
			if prev, dup := seen[id]; dup {
				t.Errorf("request %d reuses the X-Request-Id of request %d: %s", i, prev, id)
			}
			seen[id] = i
		}
	}
	for _, s := range []int{200, 400, 401, 403, 404, 413, 415} {
		if !statuses[s] {
			t.Errorf("no request was answered %d", s)
		}
	}
	t.Run("distinct across servers", func(t *testing.T) {
		other := demoServer(t)
		_, h1, _ := do(t, srv, newReq("GET", "/nowhere", ""))
		_, h2, _ := do(t, other, newReq("GET", "/nowhere", ""))
		if h1.Get("X-Request-Id") == h2.Get("X-Request-Id") {
			t.Errorf("two servers gave the same X-Request-Id %s", h1.Get("X-Request-Id"))
		}
	})
}

// failingStore wraps a store and, once armed, fails every Update (and,
// with failView, every View) with an error whose text must never reach a
// caller.
type failingStore struct {
	store.Store
	failUpdate, failView atomic.Bool
}

const storeFailure = "disk on fire: /var/lib/osm/secret.db: input/output error"

func (f *failingStore) Update(ctx context.Context, fn func(store.Tx) error) error {
	if f.failUpdate.Load() {
		return errors.New(storeFailure)
	}
	return f.Store.Update(ctx, fn)
}

func (f *failingStore) View(ctx context.Context, fn func(store.Tx) error) error {
	if f.failView.Load() {
		return errors.New(storeFailure)
	}
	return f.Store.View(ctx, fn)
}

// syncBuffer is a bytes.Buffer safe for the logger and the test.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func TestStoreFailure(t *testing.T) {
	inner := memory.New()
	fs := &failingStore{Store: inner}
	var logs syncBuffer
	srv := newServer(t, server.Options{Store: fs, Logger: slog.New(slog.NewTextHandler(&logs, nil)), Now: fixedNow})
	fs.failUpdate.Store(true)

	tests := []struct {
		name string
		req  func() *http.Request
		view bool
	}{
		{"create", func() *http.Request { return tokenReq(demoTok, "POST", "DEMO-1", createBody("team", "DEMO-2")) }, false},
		{"delete", func() *http.Request { return tokenReq(demoTok, "DELETE", "DEMO-1", deleteBody("", "DEMO-2")) }, false},
		{"signed create", func() *http.Request {
			return signed(t, "POST", "DEMO-1", sdkBody(createBody("team", "DEMO-2")))
		}, false},
		{"authentication by token", func() *http.Request { return tokenReq(demoTok, "GET", "DEMO-1", "") }, true},
		{"authentication by signature", func() *http.Request { return signed(t, "GET", "DEMO-1", "") }, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := snapshot(t, inner)
			fs.failView.Store(tt.view)
			status, header, body := do(t, srv, tt.req())
			fs.failView.Store(false)
			checkUnchanged(t, before, snapshot(t, inner))

			id := header.Get("X-Request-Id")
			code, msg := decodeError(t, body)
			if status != http.StatusInternalServerError || code != codeInternal {
				t.Errorf("got %d %s, want 500 %s", status, body, codeInternal)
			}
			if want := "internal error; request id " + id; msg != want {
				t.Errorf("error_msg %q, want %q", msg, want)
			}
			if bytes.Contains(body, []byte("disk")) || bytes.Contains(body, []byte("secret")) {
				t.Errorf("the body shows the store's error: %s", body)
			}
			var logged bool
			for _, line := range strings.Split(logs.String(), "\n") {
				if strings.Contains(line, "request_id="+id) && strings.Contains(line, storeFailure) && strings.Contains(line, "level=ERROR") {
					logged = true
				}
			}
			if !logged {
				t.Errorf("no ERROR log line with request_id=%s and the store's error in:\n%s", id, logs.String())
			}
		})
	}
	t.Run("recovers when the store does", func(t *testing.T) {
		fs.failUpdate.Store(false)
		expectOK(t, srv, tokenReq(demoTok, "POST", "DEMO-1", createBody("team", "DEMO-2")))
	})
}

// The access log names every request with its id, status and error code.
func TestAccessLog(t *testing.T) {
	var logs syncBuffer
	srv := newServer(t, server.Options{Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	_, h, _ := do(t, srv, tokenReq(demoTok, "POST", "DEMO-1", createBody("team", "DEMO-1")))
	id := h.Get("X-Request-Id")
	var line string
	for _, l := range strings.Split(logs.String(), "\n") {
		if strings.Contains(l, "request_id="+id) {
			line = l
		}
	}
	for _, want := range []string{"method=POST", "status=200", "error_code=" + codeSelf, "path=" + relationsPath("DEMO-1")} {
		if !strings.Contains(line, want) {
			t.Errorf("access log line %q lacks %q", line, want)
		}
	}
}

// Over a real connection on 127.0.0.1, as a client or the SDK talks to it.
func TestOverTheNetwork(t *testing.T) {
	srv := demoServer(t)
	ts := httptest.NewServer(srv)
	defer ts.Close()
	if host, _, _ := net.SplitHostPort(ts.Listener.Addr().String()); host != "127.0.0.1" {
		t.Fatalf("listening on %s, want 127.0.0.1", host)
	}
	c := ts.Client()
	url := func(path string) string { return ts.URL + path }
	wire := func(method, path, body string, headers ...string) *http.Request {
		req := newReq(method, url(path), body, headers...)
		req.RequestURI = "" // a client request
		return req
	}

	// A signed create as the SDK sends it; Host is not signed.
	req := wire("POST", relationsPath("DEMO-1"), sdkBody(createBody("team", "DEMO-2")), "X-Domain-Id", "demo-domain")
	signWire(t, req)
	if status, _, body := doHTTP(t, c, req); status != http.StatusOK || string(bytes.TrimSpace(body)) != "{}" {
		t.Errorf("signed create: %d %s", status, body)
	}
	status, _, body := doHTTP(t, c, wire("GET", relationsPath("DEMO-1"), "", "X-Auth-Token", demoTok))
	want := `{"case_relation_list":[{"case_id":"DEMO-2","simple_description":"SSH port 22 blocked by security group","user_name":"demo"}]}`
	if got := string(bytes.TrimSpace(body)); status != http.StatusOK || got != want {
		t.Errorf("list: %d %s", status, got)
	}
	tests := []struct {
		name   string
		req    *http.Request
		status int
		code   string
	}{
		{"empty case ID", wire("GET", relationsPath(""), "", "X-Auth-Token", demoTok), 400, codeInvalid},
		{"broken vendor example", wire("POST", relationsPath("DEMO-1"), `{"related_id_list":"123456","group_id":"123456"}`, "X-Auth-Token", demoTok), 400, codeInvalid},
		{"no credential", wire("GET", relationsPath("DEMO-1"), ""), 401, codeUnauthorized},
		{"wrong domain", func() *http.Request {
			r := wire("GET", relationsPath("DEMO-1"), "", "X-Domain-Id", "other")
			signWire(t, r)
			return r
		}(), 403, codeForbidden},
		{"unknown path", wire("GET", "/v2/servicerequest", ""), 404, "APIGW.0101"},
		{"PATCH", wire("PATCH", relationsPath("DEMO-1"), "{}", "X-Auth-Token", demoTok), 404, "APIGW.0101"},
		{"text/plain", wire("POST", relationsPath("DEMO-1"), "x", "X-Auth-Token", demoTok, "Content-Type", "text/plain"), 415, codeInvalid},
		{"over 1 MiB", wire("POST", relationsPath("DEMO-1"), strings.Repeat(" ", bodyLimit+1), "X-Auth-Token", demoTok), 413, "APIGW.0201"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, _, body := doHTTP(t, c, tt.req)
			code, _ := decodeError(t, body)
			if status != tt.status || code != tt.code {
				t.Errorf("got %d %s, want %d %s", status, body, tt.status, tt.code)
			}
		})
	}
}

func signWire(t *testing.T, req *http.Request) {
	t.Helper()
	if err := aksk.Sign(req, demoAK, demoSK, clock); err != nil {
		t.Fatal(err)
	}
}

package client_test

import (
	"bytes"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/osmstub/osmstub/client"
	"github.com/osmstub/osmstub/internal/violation"
	"github.com/osmstub/osmstub/server"
)

// Demo credentials of the stub's built-in data set (internal/fixtures/demo.yaml).
const (
	demoToken     = "demo-token"
	outsiderToken = "outsider-token"
	demoAK        = "DEMOAK0000000000000001"
	demoSK        = "demo-secret-key"
	demoDomain    = "demo-domain"
)

// fakeTime is the client's clock and sleep in tests: a sleep returns at
// once, records the wait it was asked for and (unless frozen) moves the
// clock on by it; every Now moves it on by tick.
type fakeTime struct {
	mu     sync.Mutex
	now    time.Time
	tick   time.Duration
	frozen bool
	waits  []time.Duration
}

var epoch = time.Date(2026, 11, 27, 8, 0, 0, 0, time.UTC)

func newFakeTime() *fakeTime { return &fakeTime{now: epoch} }

func (f *fakeTime) Now() time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	t := f.now
	f.now = f.now.Add(f.tick)
	return t
}

func (f *fakeTime) Sleep(d time.Duration) <-chan time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.waits = append(f.waits, d)
	if !f.frozen {
		f.now = f.now.Add(d)
	}
	ch := make(chan time.Time, 1)
	ch <- f.now
	return ch
}

func (f *fakeTime) Waits() []time.Duration {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.waits)
}

func (f *fakeTime) options() []client.Option {
	return []client.Option{client.WithClock(f.Now), client.WithSleep(f.Sleep)}
}

// ---------------------------------------------------------------------------
// The stub, wrapped so that every request's headers are recorded and every
// response is checked against the contract.

type stubHarness struct {
	*httptest.Server
	mu        sync.Mutex
	headers   []http.Header
	validated int
}

func newStub(t *testing.T, opts server.Options) *stubHarness {
	t.Helper()
	srv, err := server.New(opts)
	if err != nil {
		t.Fatalf("server.New: %v", err)
	}
	h := &stubHarness{}
	h.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		orig := r.Clone(r.Context())
		h.mu.Lock()
		h.headers = append(h.headers, r.Header.Clone())
		h.mu.Unlock()
		cw := &captureWriter{ResponseWriter: w}
		srv.ServeHTTP(cw, r)
		if cw.status == 0 {
			cw.status = http.StatusOK
		}
		if vs := violation.CheckResponse(orig, cw.status, w.Header(), cw.body.Bytes()); len(vs) > 0 {
			t.Errorf("stub response breaks the contract: %v", vs)
		}
		h.mu.Lock()
		h.validated++
		h.mu.Unlock()
	}))
	t.Cleanup(func() { _ = srv.Close() })
	t.Cleanup(h.Close) // runs first: waits for outstanding requests
	return h
}

// Headers returns the headers of every request the stub received.
func (h *stubHarness) Headers() []http.Header {
	h.mu.Lock()
	defer h.mu.Unlock()
	return slices.Clone(h.headers)
}

// Checked reports how many requests arrived and how many responses were
// validated (a handler has finished by the time the client has its
// answer only up to the response being flushed, so compare after the call).
func (h *stubHarness) Checked() (requests, validated int) {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.headers), h.validated
}

func (h *stubHarness) newClient(t *testing.T, opts ...client.Option) *client.Client {
	t.Helper()
	opts = append([]client.Option{client.WithHTTPClient(h.Client())}, opts...)
	c, err := client.New(h.URL, opts...)
	if err != nil {
		t.Fatalf("client.New: %v", err)
	}
	return c
}

type captureWriter struct {
	http.ResponseWriter
	status int
	body   bytes.Buffer
}

func (w *captureWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *captureWriter) Write(p []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	w.body.Write(p)
	return w.ResponseWriter.Write(p)
}

// ---------------------------------------------------------------------------
// A scripted server: attempt n gets step n (the last step repeats).

type step func(w http.ResponseWriter, r *http.Request)

type recorded struct {
	Req  *http.Request // a clone, body already read
	Body []byte
}

type scripted struct {
	*httptest.Server
	mu    sync.Mutex
	steps []step
	reqs  []recorded
	count atomic.Int64
}

func newScripted(t *testing.T, steps ...step) *scripted {
	t.Helper()
	s := &scripted{steps: steps}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			t.Errorf("scripted server: read body: %v", err)
		}
		n := int(s.count.Add(1))
		s.mu.Lock()
		s.reqs = append(s.reqs, recorded{Req: r.Clone(r.Context()), Body: body})
		s.mu.Unlock()
		if len(s.steps) == 0 {
			respond(http.StatusOK, `{}`)(w, r)
			return
		}
		s.steps[min(n, len(s.steps))-1](w, r)
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *scripted) Count() int { return int(s.count.Load()) }

func (s *scripted) Requests() []recorded {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.reqs)
}

// newClient builds a token client for s; retries default to NoRetry unless
// an option says otherwise (later options win).
func (s *scripted) newClient(t *testing.T, opts ...client.Option) *client.Client {
	t.Helper()
	opts = append([]client.Option{client.WithToken("tok"), client.WithHTTPClient(s.Client()), client.WithRetry(client.NoRetry)}, opts...)
	c, err := client.New(s.URL, opts...)
	if err != nil {
		t.Fatalf("client.New: %v", err)
	}
	return c
}

// respond answers with status and body; hdr are name, value pairs.
func respond(status int, body string, hdr ...string) step {
	return func(w http.ResponseWriter, r *http.Request) {
		if len(body) > 0 && body[0] == '<' {
			w.Header().Set("Content-Type", "text/html")
		} else {
			w.Header().Set("Content-Type", "application/json")
		}
		w.Header().Set("X-Request-Id", "rid-"+strconv.Itoa(status))
		for i := 0; i+1 < len(hdr); i += 2 {
			w.Header().Set(hdr[i], hdr[i+1])
		}
		w.WriteHeader(status)
		_, _ = io.WriteString(w, body)
	}
}

// hangUp drops the connection after the request has been read: the
// request reached the server, the client gets no response.
func hangUp(w http.ResponseWriter, r *http.Request) {
	conn, _, err := w.(http.Hijacker).Hijack()
	if err != nil {
		panic(err)
	}
	_ = conn.Close()
}

// closedAddr is a 127.0.0.1 address nothing listens on.
func closedAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	_ = l.Close()
	return addr
}

// countingTransport counts the requests a client hands to its transport.
type countingTransport struct {
	n    atomic.Int64
	next http.RoundTripper
}

func (c *countingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	c.n.Add(1)
	return c.next.RoundTrip(r)
}

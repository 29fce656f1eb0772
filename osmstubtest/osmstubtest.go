// Package osmstubtest runs the OSM association stub inside Go tests: one
// line gives a private, fully controllable stand-in for the API, with
// state helpers, assertions, a settable clock, fault injection and a
// journal of every request it received.
//
//	func TestMyCode(t *testing.T) {
//		s := osmstubtest.Run(t)                        // demo data; closed by t.Cleanup
//		c := s.Client("demo")                           // a *client.Client for user demo
//		s.Associate("DEMO-1", "DEMO-2")                 // seed state directly
//		s.FailNext("CreateRelations", 2, 503)           // make the API misbehave
//		err := myCode(c)                                // ... your code under test
//		s.CheckRelations(t, "DEMO-1", "DEMO-2", "DEMO-3")
//		s.CheckCalls(t, osmstubtest.CreateRelations, 3) // what it sent: the journal
//	}
//
// The stub validates every request against openapi.yaml, enforces the
// service's rules and answers exactly as the binary does. The contract is
// parsed once per process, so every Run after the first is cheap.
package osmstubtest

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/osmstub/osmstub/client"
	"github.com/osmstub/osmstub/internal/fixtures"
	"github.com/osmstub/osmstub/server"
	"github.com/osmstub/osmstub/server/store"
)

// T is the part of *testing.T (or *testing.B) the package needs.
type T interface {
	Helper()
	Fatalf(format string, args ...any)
	Cleanup(func())
}

// Options configure a stub. The zero value serves the demo data set
// (users demo, teammate, outsider; see the README) from memory.
type Options struct {
	// Fixtures replace the demo data set.
	Fixtures *store.Dataset
	// Users and Tickets are added on top of the fixtures (a ticket's
	// Relations are associated once all tickets exist).
	Users   []store.User
	Tickets []store.Ticket
	// Now sets the stub's clock, which AK/SK date checks read; nil follows
	// the real time until SetTime or Advance is called.
	Now func() time.Time
	// Logger receives the stub's request log; nil discards it.
	Logger *slog.Logger
	// Store holds the state; nil means a new in-memory store. A given
	// store's content is replaced by the fixtures at start and on Reset,
	// and Close closes it.
	Store store.Store
	// NoListener serves only through HTTPClient and Client, without a
	// socket: the fastest mode, and one that works without networking.
	NoListener bool
	// ControlToken, when set, guards the control API under /_stub/ with
	// a bearer token of 16 characters or more, as the binary's
	// -control-token does; without one it serves loopback callers only.
	// Go tests rarely need it: the Stub's own methods are the control API.
	ControlToken string
	// RateLimit throttles each credential to that many requests a second
	// (429 APIGW.0308 with Retry-After), as the binary's -rate-limit.
	RateLimit int
	// JournalSize is how many requests the request journal keeps
	// (Requests, CheckCalls); 0 means 1000.
	JournalSize int
}

// Stub is a running stub.
type Stub struct {
	srv         *server.Server
	ts          *httptest.Server // nil with NoListener
	t           T                // panicT{} for Start
	faultTarget                  // every call
}

// noListenerURL is the base URL of a stub without a socket; only its
// HTTPClient can reach it.
const noListenerURL = "http://osmstub.invalid"

// Run starts a stub with the demo data on 127.0.0.1 and closes it when
// the test ends. Helper failures are reported through t.
func Run(t T) *Stub {
	t.Helper()
	return RunWith(t, Options{})
}

// RunWith is Run with options.
func RunWith(t T, opts Options) *Stub {
	t.Helper()
	s, err := Start(opts)
	if err != nil {
		t.Fatalf("osmstubtest: %v", err)
	}
	s.t = t
	t.Cleanup(s.Close)
	t.Cleanup(s.checkViolations) // runs before Close
	return s
}

// Start starts a stub outside a test; call Close when done. Its helpers
// panic where a Run stub's would fail the test.
func Start(opts Options) (*Stub, error) {
	s := &Stub{t: panicT{}}
	data := initialData(opts)
	srv, err := server.New(server.Options{
		Store: opts.Store, Fixtures: &data, ResetFixtures: true,
		Logger: opts.Logger, Now: opts.Now, JournalSize: opts.JournalSize,
		ControlToken: opts.ControlToken, RateLimit: opts.RateLimit,
		ValidateResponses: true, // a stub bug fails the test (Violations)
	})
	if err != nil {
		return nil, err
	}
	s.srv, s.faultTarget = srv, faultTarget{s: s}
	if !opts.NoListener {
		s.ts = httptest.NewServer(srv)
	}
	return s, nil
}

// initialData is what the stub starts with and what Reset restores: the
// fixtures (or the demo data) plus the extra users and tickets.
func initialData(opts Options) store.Dataset {
	var d store.Dataset
	if opts.Fixtures != nil {
		d = opts.Fixtures.Clone()
	} else {
		d = fixtures.Demo()
	}
	extra := store.Dataset{Users: opts.Users, Tickets: opts.Tickets}.Clone()
	d.Users = append(d.Users, extra.Users...)
	d.Tickets = append(d.Tickets, extra.Tickets...)
	return d
}

// Close stops the stub. It is safe to call more than once.
func (s *Stub) Close() {
	if s.ts != nil {
		s.ts.Close()
	}
	s.srv.Close()
}

// URL is the stub's base URL, e.g. http://127.0.0.1:41234 (a placeholder
// that only HTTPClient reaches, with NoListener).
func (s *Stub) URL() string {
	if s.ts == nil {
		return noListenerURL
	}
	return s.ts.URL
}

// Addr is the stub's host:port ("" with NoListener).
func (s *Stub) Addr() string {
	if s.ts == nil {
		return ""
	}
	return s.ts.Listener.Addr().String()
}

// Server is the stub's server, for what the helpers here do not cover.
func (s *Stub) Server() *server.Server { return s.srv }

// HTTPClient returns a client whose requests reach the stub: through the
// socket, or straight to the handler with NoListener.
func (s *Stub) HTTPClient() *http.Client {
	if s.ts == nil {
		return &http.Client{Transport: handlerTransport{s.srv}}
	}
	return s.ts.Client()
}

// Client returns a client for user, authenticated with the user's first
// token (or, if it has none, as SignedClient). opts are applied last.
func (s *Stub) Client(user string, opts ...client.Option) *client.Client {
	s.t.Helper()
	u, err := s.user(user)
	if err != nil {
		s.fatalf("Client(%q): %v", user, err)
		return nil
	}
	if len(u.Tokens) == 0 {
		return s.SignedClient(user, opts...)
	}
	return s.newClient(user, append([]client.Option{client.WithToken(u.Tokens[0])}, opts...))
}

// SignedClient returns a client for user that signs its requests with the
// user's first AK/SK (and sends its domain ID and security token), as the
// official SDKs do. opts are applied last.
func (s *Stub) SignedClient(user string, opts ...client.Option) *client.Client {
	s.t.Helper()
	u, err := s.user(user)
	if err != nil || len(u.Keys) == 0 {
		s.fatalf("SignedClient(%q): the user has no access key (%v)", user, err)
		return nil
	}
	k := u.Keys[0]
	base := []client.Option{client.WithAKSK(k.AK, k.SK)}
	if u.DomainID != "" {
		base = append(base, client.WithDomainID(u.DomainID))
	}
	if k.SecurityToken != "" {
		base = append(base, client.WithSecurityToken(k.SecurityToken))
	}
	return s.newClient(user, append(base, opts...))
}

func (s *Stub) newClient(user string, opts []client.Option) *client.Client {
	s.t.Helper()
	c, err := client.New(s.URL(), append([]client.Option{client.WithHTTPClient(s.HTTPClient())}, opts...)...)
	if err != nil {
		s.fatalf("client for %q: %v", user, err)
	}
	return c
}

func (s *Stub) user(name string) (store.User, error) {
	var u store.User
	err := s.srv.Store().View(context.Background(), func(tx store.Tx) (err error) {
		u, err = tx.User(name)
		return err
	})
	return u, err
}

// fatalf fails the test; every exported helper calls s.t.Helper itself,
// as a wrapper around it would mark only the wrapper.
func (s *Stub) fatalf(format string, args ...any) {
	s.t.Helper()
	s.t.Fatalf("osmstubtest: "+format, args...)
}

// panicT is the T of a Start stub: its helpers panic where a Run stub's
// would fail the test.
type panicT struct{}

func (panicT) Helper()                           {}
func (panicT) Cleanup(func())                    {}
func (panicT) Fatalf(format string, args ...any) { panic(fmt.Sprintf(format, args...)) }

// Now is the stub's current time: its clock, which AK/SK date checks
// read (the server's; PUT /_stub/clock moves the same one).
func (s *Stub) Now() time.Time { return s.srv.Now() }

// SetTime stops the stub's clock at t.
func (s *Stub) SetTime(t time.Time) { s.srv.SetTime(t) }

// Advance moves the stub's clock by d (which may be negative).
func (s *Stub) Advance(d time.Duration) { s.srv.Advance(d) }

// FollowRealTime undoes SetTime and Advance: the clock follows
// Options.Now, or the real time, again.
func (s *Stub) FollowRealTime() { s.srv.FollowRealTime() }

// Violations returns every answer of the stub that broke the contract
// (openapi.yaml): a bug of the stub, which a Run stub reports as a test
// failure when the test ends. Injected faults are not checked.
func (s *Stub) Violations() []server.Violation {
	vs, _ := s.srv.Violations()
	return vs
}

func (s *Stub) checkViolations() {
	if vs := s.Violations(); len(vs) > 0 {
		s.t.Helper()
		s.t.Fatalf("osmstubtest: the stub's answers broke the contract (a bug of the stub): %v", vs)
	}
}

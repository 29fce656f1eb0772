package client_test

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"net/url"
	"reflect"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/osmstub/osmstub/aksk"
	"github.com/osmstub/osmstub/client"
)

// Group 3: retries. Waits are requested from a fake sleep that returns at
// once (fakeTime), so the tests assert attempt counts and requested waits.

var testPolicy = client.RetryPolicy{
	MaxAttempts:    4,
	InitialBackoff: 100 * time.Millisecond,
	MaxBackoff:     time.Second,
}

type op struct {
	name string
	call func(context.Context, *client.Client) error
}

var (
	opCreate = op{"CreateRelations", func(ctx context.Context, c *client.Client) error {
		return c.CreateRelations(ctx, "CS1", []string{"CS2", "CS3"}, "grp")
	}}
	opList = op{"ListRelation", func(ctx context.Context, c *client.Client) error {
		_, err := c.ListRelations(ctx, "CS1")
		return err
	}}
	opDelete = op{"DeleteRelation", func(ctx context.Context, c *client.Client) error {
		return c.DeleteRelation(ctx, "CS1", "CS2", "grp")
	}}
	allOps = []op{opCreate, opList, opDelete}
)

// failure is a way an attempt can fail.
type failure struct {
	name   string
	status int // 0: the connection is dropped after the request arrived
}

var failures = []failure{
	{"429", 429}, {"500", 500}, {"502", 502}, {"503", 503}, {"504", 504}, {"dropped", 0},
}

// failingSteps scripts n failures of kind f; attempt i's error_msg is
// "attempt i", so the test can tell which attempt's error it got.
func failingSteps(f failure, n int) []step {
	steps := make([]step, n)
	for i := range steps {
		if f.status == 0 {
			steps[i] = hangUp
		} else {
			steps[i] = respond(f.status, `{"error_code":"X","error_msg":"attempt `+strconv.Itoa(i+1)+`"}`)
		}
	}
	return steps
}

// checkFinalError checks that err is attempt n's failure f.
func checkFinalError(t *testing.T, name string, err error, f failure, n int) {
	t.Helper()
	var apiErr *client.APIError
	if f.status == 0 {
		var urlErr *url.Error
		if errors.As(err, &apiErr) || !errors.As(err, &urlErr) {
			t.Errorf("%s: err = %v, want a wrapped transport error (*url.Error)", name, err)
		}
		return
	}
	if !errors.As(err, &apiErr) || apiErr.StatusCode != f.status || apiErr.Message != "attempt "+strconv.Itoa(n) {
		t.Errorf("%s: err = %v, want attempt %d's %d", name, err, n, f.status)
	}
}

func TestRetryTable(t *testing.T) {
	// retried[op][failure] says whether the default (safe) policy retries.
	retried := map[string]map[string]bool{
		"ListRelation":    {"429": true, "500": true, "502": true, "503": true, "504": true, "dropped": true},
		"CreateRelations": {"429": true, "502": true, "503": true},
		"DeleteRelation":  {"429": true, "502": true, "503": true},
	}
	for _, unsafe := range []bool{false, true} {
		for _, o := range allOps {
			for _, f := range failures {
				name := o.name + " " + f.name
				if unsafe {
					name += " RetryUnsafe"
				}
				t.Run(name, func(t *testing.T) {
					s := newScripted(t, failingSteps(f, testPolicy.MaxAttempts)...)
					ft := newFakeTime()
					p := testPolicy
					p.RetryUnsafe = unsafe
					c := s.newClient(t, append(ft.options(), client.WithRetry(p))...)
					err := o.call(context.Background(), c)

					want := 1
					if unsafe || retried[o.name][f.name] {
						want = p.MaxAttempts
					}
					if got := s.Count(); got != want {
						t.Errorf("%d attempts, want %d", got, want)
					}
					if got := len(ft.Waits()); got != want-1 {
						t.Errorf("%d waits requested, want %d", got, want-1)
					}
					checkFinalError(t, name, err, f, want)
				})
			}
		}
	}
}

func TestRetryRecovers(t *testing.T) {
	s := newScripted(t,
		respond(503, `{}`),
		hangUp,
		respond(500, `{}`),
		respond(200, `{"case_relation_list":[{"case_id":"CS2","simple_description":"d","user_name":"u"}]}`))
	ft := newFakeTime()
	c := s.newClient(t, append(ft.options(), client.WithRetry(testPolicy))...)
	rels, err := c.ListRelations(context.Background(), "CS1")
	if err != nil || len(rels) != 1 || rels[0].CaseID != "CS2" {
		t.Fatalf("ListRelations = %+v, %v", rels, err)
	}
	if s.Count() != 4 || len(ft.Waits()) != 3 {
		t.Errorf("%d attempts, %d waits; want 4 and 3", s.Count(), len(ft.Waits()))
	}
}

func TestNotRetried(t *testing.T) {
	bodies := map[int]string{
		400: `{"error_code":"OSM.0001","error_msg":"bad"}`,
		401: `{"error_code":"OSM.0002","error_msg":"who"}`,
		403: `{"error_code":"OSM.0003","error_msg":"no"}`,
		404: `{"error_code":"APIGW.0101","error_msg":"no such API"}`,
		413: `{"error_code":"OSM.0001","error_msg":"too large"}`,
		415: `{"error_code":"OSM.0001","error_msg":"not json"}`,
	}
	type answer struct {
		name   string
		status int
		body   string
	}
	var answers []answer
	for status, body := range bodies {
		answers = append(answers, answer{strconv.Itoa(status), status, body})
	}
	answers = append(answers,
		answer{"200 rule", 200, `{"error_code":"OSM.01010001","error_msg":"association limit is 3"}`},
		answer{"200 permission", 200, `{"error_code":"OSM.01010002","error_msg":"no permission"}`},
		answer{"200 not JSON", 200, `<html>`},
	)
	for _, a := range answers {
		for _, o := range allOps {
			for _, unsafe := range []bool{false, true} {
				s := newScripted(t, respond(a.status, a.body), respond(200, `{}`))
				ft := newFakeTime()
				p := testPolicy
				p.RetryUnsafe = unsafe
				c := s.newClient(t, append(ft.options(), client.WithRetry(p))...)
				if err := o.call(context.Background(), c); err == nil {
					t.Errorf("%s %s: no error", o.name, a.name)
				}
				if s.Count() != 1 || len(ft.Waits()) != 0 {
					t.Errorf("%s %s (unsafe %v): %d attempts, %d waits; want 1 and 0", o.name, a.name, unsafe, s.Count(), len(ft.Waits()))
				}
			}
		}
	}
}

// A connection that is never established cannot have changed anything, so
// every operation retries it, and the dial error stays recognisable.
func TestRetryNeverConnected(t *testing.T) {
	addr := closedAddr(t)
	for _, o := range allOps {
		ct := &countingTransport{next: &http.Transport{}}
		ft := newFakeTime()
		c, err := client.New("http://"+addr, append(ft.options(),
			client.WithToken("tok"), client.WithRetry(testPolicy), client.WithHTTPClient(&http.Client{Transport: ct}))...)
		if err != nil {
			t.Fatal(err)
		}
		err = o.call(context.Background(), c)
		if got := int(ct.n.Load()); got != testPolicy.MaxAttempts {
			t.Errorf("%s: %d attempts, want %d", o.name, got, testPolicy.MaxAttempts)
		}
		if got := len(ft.Waits()); got != testPolicy.MaxAttempts-1 {
			t.Errorf("%s: %d waits, want %d", o.name, got, testPolicy.MaxAttempts-1)
		}
		var opErr *net.OpError
		if !errors.As(err, &opErr) || opErr.Op != "dial" || !errors.Is(err, syscall.ECONNREFUSED) {
			t.Errorf("%s: err = %v, want a wrapped dial error (connection refused)", o.name, err)
		}
		var apiErr *client.APIError
		if errors.As(err, &apiErr) {
			t.Errorf("%s: a transport error became an *APIError", o.name)
		}
	}
}

func TestRetryAfter(t *testing.T) {
	date := epoch.Add(30 * time.Second).Format(http.TimeFormat)
	tests := []struct {
		name, value string
		want        time.Duration // exact wait; 0: the policy's backoff
	}{
		{"seconds", "7", 7 * time.Second},
		{"zero seconds", "0", 0},
		{"HTTP date", date, 30 * time.Second},
		{"date in the past", epoch.Add(-time.Hour).Format(http.TimeFormat), 0},
		{"garbage", "soon", 0},
		{"negative", "-5", 0},
	}
	for _, tc := range tests {
		for _, o := range allOps {
			for _, status := range []int{429, 503} {
				s := newScripted(t, respond(status, `{}`, "Retry-After", tc.value), respond(200, `{}`))
				ft := newFakeTime()
				ft.frozen = true // the HTTP date is read against a clock at epoch
				c := s.newClient(t, append(ft.options(), client.WithRetry(testPolicy))...)
				if err := o.call(context.Background(), c); err != nil {
					t.Errorf("%s %d %s: %v", o.name, status, tc.name, err)
				}
				waits := ft.Waits()
				if s.Count() != 2 || len(waits) != 1 {
					t.Errorf("%s %d %s: %d attempts, waits %v; want 2 attempts, 1 wait", o.name, status, tc.name, s.Count(), waits)
					continue
				}
				lo, hi := testPolicy.InitialBackoff/2, testPolicy.InitialBackoff
				if tc.want > 0 {
					lo, hi = tc.want, tc.want
				}
				if waits[0] < lo || waits[0] > hi {
					t.Errorf("%s %d Retry-After %q: wait %v, want within [%v, %v]", o.name, status, tc.value, waits[0], lo, hi)
				}
			}
		}
	}
}

func TestMaxElapsed(t *testing.T) {
	p := client.RetryPolicy{MaxAttempts: 10, InitialBackoff: time.Millisecond, MaxBackoff: time.Millisecond, MaxElapsed: 5 * time.Second}

	// Each wait is Retry-After's 2s: waits end at 2s and 4s; a third would
	// end at 6s, past MaxElapsed, so the third attempt's answer is final.
	s := newScripted(t, failingSteps(failure{"429", 429}, 10)...)
	for i := range 10 {
		s.steps[i] = respond(429, `{"error_msg":"attempt `+strconv.Itoa(i+1)+`"}`, "Retry-After", "2")
	}
	ft := newFakeTime()
	c := s.newClient(t, append(ft.options(), client.WithRetry(p))...)
	_, err := c.ListRelations(context.Background(), "CS1")
	if s.Count() != 3 || !reflect.DeepEqual(ft.Waits(), []time.Duration{2 * time.Second, 2 * time.Second}) {
		t.Errorf("%d attempts, waits %v; want 3 attempts, waits [2s 2s]", s.Count(), ft.Waits())
	}
	var apiErr *client.APIError
	if !errors.As(err, &apiErr) || apiErr.Message != "attempt 3" || !errors.Is(err, client.ErrRateLimited) {
		t.Errorf("err = %v, want attempt 3's 429", err)
	}

	// A Retry-After beyond MaxElapsed: the first answer is final.
	s = newScripted(t, respond(503, `{}`, "Retry-After", "60"), respond(200, `{}`))
	ft = newFakeTime()
	c = s.newClient(t, append(ft.options(), client.WithRetry(p))...)
	if err := c.CreateRelations(context.Background(), "CS1", []string{"CS2"}, "g"); !errors.Is(err, client.ErrServer) {
		t.Errorf("err = %v, want the 503", err)
	}
	if s.Count() != 1 || len(ft.Waits()) != 0 {
		t.Errorf("%d attempts, %d waits; want 1 and 0", s.Count(), len(ft.Waits()))
	}

	// A Retry-After too large for a time.Duration is still a very long
	// wait, not a negative one that is ignored.
	s = newScripted(t, respond(429, `{}`, "Retry-After", "9999999999"), respond(200, `{}`))
	ft = newFakeTime()
	c = s.newClient(t, append(ft.options(), client.WithRetry(p))...)
	if _, err := c.ListRelations(context.Background(), "CS1"); !errors.Is(err, client.ErrRateLimited) {
		t.Errorf("huge Retry-After: err = %v, want the 429", err)
	}
	if s.Count() != 1 || len(ft.Waits()) != 0 {
		t.Errorf("huge Retry-After: %d attempts, waits %v; want 1 attempt, no wait", s.Count(), ft.Waits())
	}

	// Time spent in attempts counts too: a clock that moves 2s per reading.
	s = newScripted(t, respond(500, `{}`))
	ft = newFakeTime()
	ft.tick = 2 * time.Second
	p.MaxElapsed = 5 * time.Second
	c = s.newClient(t, append(ft.options(), client.WithRetry(p))...)
	_, _ = c.ListRelations(context.Background(), "CS1")
	if s.Count() >= p.MaxAttempts || s.Count() < 1 {
		t.Errorf("%d attempts with a fast clock; MaxElapsed should stop well before %d", s.Count(), p.MaxAttempts)
	}
}

func TestNoRetryPolicy(t *testing.T) {
	for _, f := range failures {
		for _, o := range allOps {
			s := newScripted(t, failingSteps(f, 2)...)
			ft := newFakeTime()
			c := s.newClient(t, append(ft.options(), client.WithRetry(client.NoRetry))...)
			err := o.call(context.Background(), c)
			if s.Count() != 1 || len(ft.Waits()) != 0 {
				t.Errorf("%s %s with NoRetry: %d attempts, %d waits", o.name, f.name, s.Count(), len(ft.Waits()))
			}
			checkFinalError(t, o.name+" "+f.name, err, f, 1)
		}
	}
}

func TestDefaultRetry(t *testing.T) {
	s := newScripted(t, respond(503, `{}`))
	ft := newFakeTime()
	c, err := client.New(s.URL, append(ft.options(), client.WithToken("tok"), client.WithHTTPClient(s.Client()))...)
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.ListRelations(context.Background(), "CS1")
	if !errors.Is(err, client.ErrServer) || s.Count() != client.DefaultRetry.MaxAttempts {
		t.Errorf("default policy: err %v after %d attempts, want a 503 after %d", err, s.Count(), client.DefaultRetry.MaxAttempts)
	}
	checkWaits(t, client.DefaultRetry, ft.Waits())
}

// checkWaits checks that wait n lies in [d/2, d] for d = the policy's
// exponential backoff n, capped at MaxBackoff.
func checkWaits(t *testing.T, p client.RetryPolicy, waits []time.Duration) {
	t.Helper()
	for i, w := range waits {
		d := min(p.InitialBackoff<<i, p.MaxBackoff)
		if w < d/2 || w > d {
			t.Errorf("wait %d = %v, want within [%v, %v]", i+1, w, d/2, d)
		}
	}
}

func TestBackoffInClient(t *testing.T) {
	p := client.RetryPolicy{MaxAttempts: 7, InitialBackoff: 100 * time.Millisecond, MaxBackoff: 500 * time.Millisecond}
	for range 20 {
		s := newScripted(t, respond(502, `{}`))
		ft := newFakeTime()
		c := s.newClient(t, append(ft.options(), client.WithRetry(p))...)
		_, _ = c.ListRelations(context.Background(), "CS1")
		if len(ft.Waits()) != 6 {
			t.Fatalf("waits %v, want 6", ft.Waits())
		}
		checkWaits(t, p, ft.Waits())
	}
}

func TestBackoff(t *testing.T) {
	p := client.RetryPolicy{MaxAttempts: 10, InitialBackoff: 100 * time.Millisecond, MaxBackoff: 3 * time.Second}
	wantCeil := []time.Duration{100, 200, 400, 800, 1600, 3000, 3000, 3000, 3000}
	for n, ceil := range wantCeil {
		ceil *= time.Millisecond
		if n >= 5 {
			ceil = p.MaxBackoff
		}
		lo, hi := time.Duration(1<<62), time.Duration(0)
		for range 2000 {
			d := p.Backoff(n + 1)
			lo, hi = min(lo, d), max(hi, d)
			if d < ceil/2 || d > ceil {
				t.Fatalf("Backoff(%d) = %v, want within [%v, %v]", n+1, d, ceil/2, ceil)
			}
		}
		// Jitter: the draws spread over the range rather than sitting on a bound.
		if lo > ceil/2+ceil/10 || hi < ceil-ceil/10 {
			t.Errorf("Backoff(%d) drew only within [%v, %v] of [%v, %v]", n+1, lo, hi, ceil/2, ceil)
		}
	}

	// Degenerate policies.
	for _, tc := range []struct {
		p    client.RetryPolicy
		n    int
		want time.Duration
	}{
		{client.RetryPolicy{MaxAttempts: 3}, 1, 0},
		{client.RetryPolicy{MaxAttempts: 3}, 5, 0},
		{client.RetryPolicy{MaxAttempts: 3, MaxBackoff: time.Second}, 5, 0},
		{client.RetryPolicy{MaxAttempts: 3, InitialBackoff: 1, MaxBackoff: 1}, 3, 1},
	} {
		if got := tc.p.Backoff(tc.n); got != tc.want {
			t.Errorf("%+v.Backoff(%d) = %v, want %v", tc.p, tc.n, got, tc.want)
		}
	}
	// A huge cap must not overflow into a negative wait.
	huge := client.RetryPolicy{MaxAttempts: 100, InitialBackoff: time.Second, MaxBackoff: time.Duration(1<<63 - 1)}
	for n := 1; n <= 100; n++ {
		if d := huge.Backoff(n); d < 0 {
			t.Fatalf("Backoff(%d) with a huge MaxBackoff = %v, want >= 0", n, d)
		}
	}
}

// Every attempt of a signed request is signed anew, at the clock's time of
// that attempt, and carries the same body.
func TestRetryResignsAndResendsBody(t *testing.T) {
	for _, o := range allOps {
		s := newScripted(t, respond(503, `{}`), respond(429, `{}`), respond(200, `{}`))
		ft := newFakeTime()
		ft.tick = time.Second
		c, err := client.New(s.URL, append(ft.options(),
			client.WithAKSK(demoAK, demoSK), client.WithDomainID(demoDomain),
			client.WithHTTPClient(s.Client()), client.WithRetry(testPolicy))...)
		if err != nil {
			t.Fatal(err)
		}
		if err := o.call(context.Background(), c); err != nil {
			t.Fatalf("%s: %v", o.name, err)
		}
		reqs := s.Requests()
		if len(reqs) != 3 {
			t.Fatalf("%s: %d attempts, want 3", o.name, len(reqs))
		}
		var last time.Time
		seenAuth := map[string]bool{}
		for i, r := range reqs {
			if err := aksk.Verify(r.Req, r.Body, demoSK); err != nil {
				t.Errorf("%s attempt %d: signature does not verify: %v", o.name, i+1, err)
			}
			when, err := aksk.RequestTime(r.Req)
			if err != nil || !when.After(last) {
				t.Errorf("%s attempt %d: X-Sdk-Date %v (%v), want later than %v", o.name, i+1, when, err, last)
			}
			last = when
			auth := r.Req.Header.Get("Authorization")
			if seenAuth[auth] {
				t.Errorf("%s attempt %d: Authorization repeated from an earlier attempt", o.name, i+1)
			}
			seenAuth[auth] = true
			if vs := r.Req.Header.Values("Authorization"); len(vs) != 1 {
				t.Errorf("%s attempt %d: %d Authorization headers", o.name, i+1, len(vs))
			}
			if string(r.Body) != string(reqs[0].Body) {
				t.Errorf("%s attempt %d: body %q, first attempt sent %q", o.name, i+1, r.Body, reqs[0].Body)
			}
			if r.Req.ContentLength != int64(len(r.Body)) {
				t.Errorf("%s attempt %d: Content-Length %d for a %d-byte body", o.name, i+1, r.Req.ContentLength, len(r.Body))
			}
		}
		var body map[string]any
		switch o.name {
		case "CreateRelations":
			if err := json.Unmarshal(reqs[0].Body, &body); err != nil || !reflect.DeepEqual(body, map[string]any{"related_id_list": []any{"CS2", "CS3"}, "group_id": "grp"}) {
				t.Errorf("create body %q (%v)", reqs[0].Body, err)
			}
		case "DeleteRelation":
			if err := json.Unmarshal(reqs[0].Body, &body); err != nil || !reflect.DeepEqual(body, map[string]any{"related_id": "CS2", "group_id": "grp"}) {
				t.Errorf("delete body %q (%v)", reqs[0].Body, err)
			}
		case "ListRelation":
			if len(reqs[0].Body) != 0 {
				t.Errorf("list sent a body: %q", reqs[0].Body)
			}
		}
	}
}

package crashtest

import (
	"errors"
	"io"
	"net"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/osmstub/osmstub/internal/pgtest"
	"github.com/osmstub/osmstub/server/store"
)

// TestDatabaseOutagePostgres: the stub reaches PostgreSQL through a TCP
// proxy that the test cuts and restores. While the database is away,
// requests fail promptly with 502 APIGW.0201 and no Retry-After; once it is
// back, they succeed again, with no restart of the stub, and nothing
// acknowledged is lost. The outage makes one log line when it starts and
// one when it ends, however many requests it refused.
func TestDatabaseOutagePostgres(t *testing.T) {
	spec := pgtest.Schema(t)
	u, err := url.Parse(spec)
	if err != nil {
		t.Fatal(err)
	}
	target := u.Host
	if u.Port() == "" {
		target = net.JoinHostPort(u.Hostname(), "5432")
	}
	p := newProxy(t, target)
	u.Host = p.addr
	q := u.Query()
	q.Set("connect_timeout", "3")
	u.RawQuery = q.Encode()

	d := store.Dataset{Users: []store.User{user()}}
	for _, id := range []string{"A", "B", "C", "D"} {
		d.Tickets = append(d.Tickets, store.Ticket{ID: id, Owner: "crash", Description: "ticket " + id})
	}
	s := start(t, "stub", u.String(), writeFixtures(t, d))
	ctx := t.Context()
	if out, err := s.create(ctx, "A", []string{"B"}); err != nil || out.code != "" {
		t.Fatalf("create A-B: %+v, %v", out, err)
	}

	p.cut()
	calls := []func() (outcome, error){
		func() (outcome, error) { return s.create(ctx, "A", []string{"C"}) },
		func() (outcome, error) { _, err := s.list(ctx, "A"); return outcome{}, err },
		func() (outcome, error) { return s.remove(ctx, "A", "B") },
	}
	for i := range 30 {
		began := time.Now()
		_, err := calls[i%len(calls)]()
		var se *statusError
		if !errors.As(err, &se) || se.status != 502 || se.code != "APIGW.0201" {
			t.Errorf("request %d with the database away: %v; want 502 APIGW.0201", i, err)
		} else if se.retryAfter != "" {
			t.Errorf("request %d with the database away: Retry-After %q; want none", i, se.retryAfter)
		}
		if took := time.Since(began); took > 10*time.Second {
			t.Errorf("request %d with the database away took %v", i, took)
		}
	}

	p.restore()
	var ok bool
	for deadline := time.Now().Add(15 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		if out, err := s.create(ctx, "C", []string{"D"}); err == nil && out.code == "" {
			ok = true
			break
		}
	}
	if !ok {
		t.Fatal("the stub did not recover within 15s of the database's return")
	}
	l, err := s.list(ctx, "A")
	if err != nil || len(l) != 1 || l[0] != "B" {
		t.Errorf("List(A) after the outage = %q, %v; want [B]", l, err)
	}
	l, err = s.list(ctx, "D")
	if err != nil || len(l) != 1 || l[0] != "C" {
		t.Errorf("List(D) after the outage = %q, %v; want [C]", l, err)
	}
	s.stop() // which flushes its log
	logs := s.logs.String()
	if n := strings.Count(logs, `"msg":"store unavailable`); n != 1 {
		t.Errorf("%d log lines say the store is unavailable; want 1", n)
	}
	if n := strings.Count(logs, `"msg":"store available again"`); n != 1 {
		t.Errorf("%d log lines say the store is back; want 1", n)
	}
	if strings.Contains(logs, `"level":"ERROR"`) {
		t.Error("the outage logged errors")
	}
}

// proxy forwards TCP connections to target until cut, which also drops the
// connections it carries; restore listens again on the same address.
type proxy struct {
	t      *testing.T
	target string
	addr   string

	mu    sync.Mutex
	ln    net.Listener
	conns map[net.Conn]bool
	wg    sync.WaitGroup
}

func newProxy(t *testing.T, target string) *proxy {
	p := &proxy{t: t, target: target, conns: map[net.Conn]bool{}}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p.addr = ln.Addr().String()
	p.serve(ln)
	t.Cleanup(func() { p.cut(); p.wg.Wait() })
	return p
}

func (p *proxy) serve(ln net.Listener) {
	p.mu.Lock()
	p.ln = ln
	p.mu.Unlock()
	p.wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			p.wg.Go(func() { p.forward(c) })
		}
	})
}

func (p *proxy) forward(c net.Conn) {
	up, err := net.DialTimeout("tcp", p.target, 5*time.Second)
	if err != nil {
		c.Close()
		return
	}
	if !p.track(c, up) {
		return
	}
	done := make(chan struct{}, 2)
	go func() { io.Copy(up, c); done <- struct{}{} }()
	go func() { io.Copy(c, up); done <- struct{}{} }()
	<-done
	c.Close()
	up.Close()
	<-done
	p.mu.Lock()
	delete(p.conns, c)
	delete(p.conns, up)
	p.mu.Unlock()
}

// track registers a connection pair, or closes it if the proxy was cut.
func (p *proxy) track(c, up net.Conn) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ln == nil {
		c.Close()
		up.Close()
		return false
	}
	p.conns[c], p.conns[up] = true, true
	return true
}

func (p *proxy) cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ln != nil {
		p.ln.Close()
		p.ln = nil
	}
	for c := range p.conns {
		c.Close()
	}
}

func (p *proxy) restore() {
	var ln net.Listener
	var err error
	for range 50 { // the port was just released
		if ln, err = net.Listen("tcp", p.addr); err == nil {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err != nil {
		p.t.Fatalf("proxy: listen again on %s: %v", p.addr, err)
	}
	p.serve(ln)
}

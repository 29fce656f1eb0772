// Package deadline makes the read and write deadlines of TCP connections
// cheap to move, at the price of firing up to one tick late.
//
// An http.Server with timeouts moves each connection's deadlines four
// times a request (idle, header, body, write), and every move updates a
// runtime timer: about 2 us of CPU per request under load, more than the
// server's whole access log (BENCHMARKS.md). Yet a deadline that is moved
// almost never fires. So a connection of this package only records a
// future deadline, and one goroutine per listener enforces the recorded
// deadlines that have passed, every tick, by setting them on the socket,
// which interrupts a blocked Read or Write with the same timeout error as
// a deadline set directly. Zero and past deadlines go to the socket at
// once: net/http interrupts its background read with a past deadline and
// expects it to act now.
package deadline

import (
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// Tick is how late a deadline may fire: how often the recorded deadlines
// are checked.
const Tick = 100 * time.Millisecond

// Limits sets on hs the limits osm-stub serves with against slow or
// greedy clients: headers within 5 s, the whole request within 30 s, the
// answer written within 30 s, an idle connection kept 120 s, headers of
// at most 64 KiB. Serve hs on a Listener so that its deadlines are cheap.
func Limits(hs *http.Server) {
	hs.ReadHeaderTimeout, hs.ReadTimeout = 5*time.Second, 30*time.Second
	hs.WriteTimeout, hs.IdleTimeout = 30*time.Second, 120*time.Second
	hs.MaxHeaderBytes = 64 << 10
}

// Listener wraps ln: the TCP connections it accepts record future
// deadlines, which fire at most Tick late. Close stops the checks.
func Listener(ln net.Listener) net.Listener {
	l := &listener{Listener: ln, conns: map[*Conn]struct{}{}, done: make(chan struct{})}
	go l.enforce(Tick)
	return l
}

type listener struct {
	net.Listener
	mu    sync.Mutex
	conns map[*Conn]struct{}
	done  chan struct{}
	once  sync.Once
}

func (l *listener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	tc, ok := c.(*net.TCPConn)
	if !ok {
		return c, nil
	}
	conn := &Conn{TCPConn: tc, l: l}
	l.mu.Lock()
	l.conns[conn] = struct{}{}
	l.mu.Unlock()
	return conn, nil
}

func (l *listener) Close() error {
	l.once.Do(func() { close(l.done) })
	return l.Listener.Close()
}

// enforce sets every recorded deadline that has passed on its socket,
// every tick, until the listener is closed and its connections are too
// (a server shutting down still times out a slow client).
func (l *listener) enforce(tick time.Duration) {
	t := time.NewTicker(tick)
	defer t.Stop()
	var due []*Conn
	for now := range t.C {
		var open int
		due, open = l.due(now.UnixNano(), due[:0])
		for _, c := range due {
			c.fire(now.UnixNano())
		}
		clear(due)
		select {
		case <-l.done:
			if open == 0 {
				return
			}
		default:
		}
	}
}

// due appends the connections with a recorded deadline at or before now,
// and counts the open ones.
func (l *listener) due(now int64, out []*Conn) ([]*Conn, int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for c := range l.conns {
		if r, w := c.read.recorded.Load(), c.write.recorded.Load(); (r != 0 && r <= now) || (w != 0 && w <= now) {
			out = append(out, c)
		}
	}
	return out, len(l.conns)
}

func (l *listener) forget(c *Conn) {
	l.mu.Lock()
	delete(l.conns, c)
	l.mu.Unlock()
}

// Conn is a TCP connection whose future deadlines are recorded, and set on
// the socket only once they have passed. Its other methods are
// *net.TCPConn's (ReadFrom for sendfile, CloseWrite for net/http).
type Conn struct {
	*net.TCPConn
	l           *listener
	read, write side
}

// side is one direction's deadline. recorded is a future deadline not yet
// on the socket, in Unix nanoseconds (0: none); onSocket whether the
// socket has a deadline set, which a later future deadline must clear.
// mu orders the socket calls of the connection's owner and of enforce.
type side struct {
	recorded atomic.Int64
	mu       sync.Mutex
	onSocket bool
}

func (c *Conn) SetReadDeadline(t time.Time) error {
	return c.read.set(t, c.TCPConn.SetReadDeadline)
}

func (c *Conn) SetWriteDeadline(t time.Time) error {
	return c.write.set(t, c.TCPConn.SetWriteDeadline)
}

func (c *Conn) SetDeadline(t time.Time) error {
	if err := c.SetReadDeadline(t); err != nil {
		return err
	}
	return c.SetWriteDeadline(t)
}

// Close closes the connection and stops checking its deadlines.
func (c *Conn) Close() error {
	c.l.forget(c)
	return c.TCPConn.Close()
}

// set records a future t, or sets a zero or past t on the socket (through
// apply) at once.
func (s *side) set(t time.Time, apply func(time.Time) error) error {
	if !t.IsZero() && time.Until(t) > 0 {
		s.recorded.Store(t.UnixNano())
		s.mu.Lock()
		defer s.mu.Unlock()
		if !s.onSocket {
			return nil
		}
		// A deadline set before (the past one that interrupted a read,
		// say) would fail the next call: clear it.
		s.onSocket = false
		return apply(time.Time{})
	}
	s.recorded.Store(0)
	s.mu.Lock()
	defer s.mu.Unlock()
	if t.IsZero() && !s.onSocket {
		return nil
	}
	s.onSocket = !t.IsZero()
	return apply(t)
}

// beforeFire, when set (by a test), runs between fire's check of a
// deadline and its lock: where the owner may move the deadline.
var beforeFire func()

// fire sets on the socket the recorded deadlines that are due at now,
// unless the owner has moved them meanwhile.
func (c *Conn) fire(now int64) {
	c.read.fire(now, c.TCPConn.SetReadDeadline)
	c.write.fire(now, c.TCPConn.SetWriteDeadline)
}

func (s *side) fire(now int64, apply func(time.Time) error) {
	d := s.recorded.Load()
	if d == 0 || d > now {
		return
	}
	if beforeFire != nil {
		beforeFire()
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.recorded.CompareAndSwap(d, 0) {
		return // moved by the owner since: a new future deadline, or set on the socket
	}
	s.onSocket = true
	_ = apply(time.Unix(0, d)) // in the past: a blocked call returns a timeout now
}

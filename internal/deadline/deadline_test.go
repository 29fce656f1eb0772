package deadline

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"
)

// pair is a connection accepted through Listener and its client end.
func pair(t *testing.T) (net.Listener, *Conn, net.Conn) {
	t.Helper()
	raw, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ln := Listener(raw)
	t.Cleanup(func() { ln.Close() })
	client, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { client.Close() })
	c, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	conn, ok := c.(*Conn)
	if !ok {
		t.Fatalf("Accept returned %T, want *Conn", c)
	}
	return ln, conn, client
}

// readResult runs one Read of c in the background.
func readResult(c net.Conn) <-chan error {
	done := make(chan error, 1)
	go func() {
		_, err := c.Read(make([]byte, 16))
		done <- err
	}()
	return done
}

// wait is the error on done; it fails the test after a long time, which
// no deadline here comes near.
func wait(t *testing.T, done <-chan error) error {
	t.Helper()
	select {
	case err := <-done:
		return err
	case <-time.After(10 * time.Second):
		t.Fatal("the call is still blocked after 10 s")
		return nil
	}
}

func wantTimeout(t *testing.T, err error) {
	t.Helper()
	var ne net.Error
	if !errors.Is(err, os.ErrDeadlineExceeded) || !errors.As(err, &ne) || !ne.Timeout() {
		t.Fatalf("err = %v, want a timeout (os.ErrDeadlineExceeded)", err)
	}
}

func TestFutureReadDeadlineFiresNeverEarly(t *testing.T) {
	_, c, _ := pair(t)
	start := time.Now()
	d := start.Add(250 * time.Millisecond)
	if err := c.SetReadDeadline(d); err != nil {
		t.Fatal(err)
	}
	wantTimeout(t, wait(t, readResult(c)))
	if now := time.Now(); now.Before(d) {
		t.Errorf("the read timed out %v before its deadline", d.Sub(now))
	}
}

func TestPastDeadlineActsAtOnce(t *testing.T) {
	_, c, _ := pair(t)
	done := readResult(c)
	// net/http interrupts its background read so, and waits for it.
	if err := c.SetReadDeadline(time.Unix(1, 0)); err != nil {
		t.Fatal(err)
	}
	if c.read.recorded.Load() != 0 || !c.read.onSocket { // not left for a tick
		t.Errorf("a past deadline was recorded, not set on the socket")
	}
	wantTimeout(t, wait(t, done))
}

func TestDeadlineClearedAfterPast(t *testing.T) {
	for _, next := range []time.Time{{}, time.Now().Add(time.Hour)} {
		t.Run(fmt.Sprintf("then %v", next.IsZero()), func(t *testing.T) {
			_, c, client := pair(t)
			if err := c.SetReadDeadline(time.Unix(1, 0)); err != nil {
				t.Fatal(err)
			}
			wantTimeout(t, wait(t, readResult(c)))
			if err := c.SetReadDeadline(next); err != nil {
				t.Fatal(err)
			}
			if _, err := client.Write([]byte("x")); err != nil {
				t.Fatal(err)
			}
			if err := wait(t, readResult(c)); err != nil {
				t.Fatalf("read after the deadline moved to %v: %v", next, err)
			}
		})
	}
}

func TestMovedDeadlineDoesNotFire(t *testing.T) {
	_, c, client := pair(t)
	if err := c.SetReadDeadline(time.Now().Add(200 * time.Millisecond)); err != nil {
		t.Fatal(err)
	}
	if err := c.SetReadDeadline(time.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	done := readResult(c)
	time.Sleep(200*time.Millisecond + 3*Tick) // past the first deadline
	if _, err := client.Write([]byte("x")); err != nil {
		t.Fatal(err)
	}
	if err := wait(t, done); err != nil {
		t.Fatalf("read: %v, want the byte: the moved deadline fired", err)
	}
}

func TestWriteDeadlineFires(t *testing.T) {
	_, c, _ := pair(t) // the client never reads: writes block once the buffers fill
	d := time.Now().Add(250 * time.Millisecond)
	if err := c.SetWriteDeadline(d); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		chunk := make([]byte, 1<<20)
		for {
			if _, err := c.Write(chunk); err != nil {
				done <- err
				return
			}
		}
	}()
	wantTimeout(t, wait(t, done))
	if now := time.Now(); now.Before(d) {
		t.Errorf("the write timed out %v before its deadline", d.Sub(now))
	}
}

func TestDeadlinesFireAfterListenerClosed(t *testing.T) {
	ln, c, _ := pair(t)
	if err := ln.Close(); err != nil {
		t.Fatal(err)
	}
	if err := c.SetReadDeadline(time.Now().Add(100 * time.Millisecond)); err != nil {
		t.Fatal(err)
	}
	wantTimeout(t, wait(t, readResult(c)))
}

// TestConcurrentMoves moves a connection's deadlines while enforce fires
// them, for the race detector; reads then still work.
func TestConcurrentMoves(t *testing.T) {
	_, c, client := pair(t)
	stop := time.Now().Add(3 * Tick)
	for i := 0; time.Now().Before(stop); i++ {
		d := time.Now().Add(time.Duration(i%7-3) * time.Millisecond)
		if err := c.SetDeadline(d); err != nil {
			t.Fatal(err)
		}
	}
	if err := c.SetDeadline(time.Time{}); err != nil {
		t.Fatal(err)
	}
	if _, err := client.Write([]byte("x")); err != nil {
		t.Fatal(err)
	}
	if err := wait(t, readResult(c)); err != nil {
		t.Fatalf("read after the moves: %v", err)
	}
}

// TestHTTPServer: an http.Server on Listener keeps a connection alive
// across many requests, and still drops a client that sends no headers.
func TestHTTPServer(t *testing.T) {
	raw, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	hs := &http.Server{
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			_, _ = io.Copy(io.Discard, r.Body)
			_, _ = w.Write([]byte("ok"))
		}),
		// Long enough that a loaded machine's pauses do not trip
		// KeepAlive; SlowHeaders waits out the header timeout.
		ReadHeaderTimeout: time.Second,
		ReadTimeout:       10 * time.Second,
		WriteTimeout:      10 * time.Second,
		IdleTimeout:       10 * time.Second,
	}
	go hs.Serve(Listener(raw))
	t.Cleanup(func() { hs.Close() })
	addr := raw.Addr().String()

	t.Run("KeepAlive", func(t *testing.T) {
		conn, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		br := bufio.NewReader(conn)
		for i := range 300 {
			fmt.Fprintf(conn, "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n{}")
			res, err := http.ReadResponse(br, nil)
			if err != nil {
				t.Fatalf("request %d: %v", i, err)
			}
			body, _ := io.ReadAll(res.Body)
			res.Body.Close()
			if string(body) != "ok" {
				t.Fatalf("request %d: %q", i, body)
			}
		}
	})
	t.Run("SlowHeaders", func(t *testing.T) {
		conn, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		start := time.Now()
		fmt.Fprintf(conn, "GET / HTTP/1.1\r\nHost: x\r\n") // and never the blank line
		done := make(chan error, 1)
		go func() {
			_, err := io.ReadAll(conn)
			done <- err
		}()
		if err := wait(t, done); err != nil && !strings.Contains(err.Error(), "reset") {
			t.Fatalf("read: %v", err)
		}
		if took := time.Since(start); took < time.Second {
			t.Errorf("the server hung up after %v, before ReadHeaderTimeout", took)
		}
	})
}

// TestMovedWhileFiring moves a due deadline between fire's check and its
// lock: the socket must not get the old one.
func TestMovedWhileFiring(t *testing.T) {
	_, c, client := pair(t)
	c.l.forget(c) // this test fires it, not enforce
	now := time.Now()
	c.read.recorded.Store(now.Add(-time.Second).UnixNano()) // due, not yet fired
	beforeFire = func() {
		if err := c.SetReadDeadline(now.Add(time.Hour)); err != nil {
			t.Error(err)
		}
	}
	t.Cleanup(func() { beforeFire = nil })
	c.read.fire(now.UnixNano(), c.TCPConn.SetReadDeadline)
	beforeFire = nil
	if c.read.onSocket {
		t.Fatal("the old deadline went to the socket after the owner moved it")
	}
	if _, err := client.Write([]byte("x")); err != nil {
		t.Fatal(err)
	}
	if err := wait(t, readResult(c)); err != nil {
		t.Fatalf("read: %v", err)
	}
}

// TestLimits: every limit is set, and headers are due before the request.
func TestLimits(t *testing.T) {
	var hs http.Server
	Limits(&hs)
	if hs.ReadHeaderTimeout <= 0 || hs.ReadTimeout < hs.ReadHeaderTimeout || hs.WriteTimeout <= 0 ||
		hs.IdleTimeout <= 0 || hs.MaxHeaderBytes <= 0 {
		t.Errorf("Limits left a limit unset: header %v, request %v, write %v, idle %v, header bytes %d",
			hs.ReadHeaderTimeout, hs.ReadTimeout, hs.WriteTimeout, hs.IdleTimeout, hs.MaxHeaderBytes)
	}
}

package server

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/osmstub/osmstub/aksk"
	"github.com/osmstub/osmstub/server/journal"
	"github.com/osmstub/osmstub/server/store"
)

// These tests speak HTTP over raw TCP to a real server on loopback: what
// they check (an answer to a body that never arrives, a connection that
// closes) happens between net/http and the client, where a recorder
// cannot see it.

// rawTimeout bounds every raw exchange. It is generous: the answers come
// at once (or after the 5 s stall interval), and a server that does not
// answer fails the test rather than hanging it.
const rawTimeout = 20 * time.Second

type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (w *syncBuffer) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.Write(p)
}

func (w *syncBuffer) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.String()
}

// rawServer serves a new Server on 127.0.0.1 and returns it with its
// address and its access log.
func rawServer(t *testing.T, opts Options) (*Server, string, *syncBuffer) {
	t.Helper()
	logs := &syncBuffer{}
	opts.Logger = slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	s, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(s)
	t.Cleanup(ts.Close)
	return s, ts.Listener.Addr().String(), logs
}

// dialRaw opens a connection and writes head and body to it.
func dialRaw(t *testing.T, addr, head, body string) *net.TCPConn {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	if err := c.SetDeadline(time.Now().Add(rawTimeout)); err != nil {
		t.Fatal(err)
	}
	if _, err := io.WriteString(c, head+body); err != nil {
		t.Fatal(err)
	}
	return c.(*net.TCPConn)
}

// answerAndClose reads one answer from c, its body, and then expects the
// server to close the connection.
func answerAndClose(t *testing.T, c net.Conn) (*http.Response, []byte) {
	t.Helper()
	r := bufio.NewReader(c)
	resp, err := http.ReadResponse(r, nil)
	if err != nil {
		t.Fatalf("no answer: %v", err)
	}
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("answer's body: %v", err)
	}
	if !resp.Close {
		t.Errorf("answer %d does not say Connection: close", resp.StatusCode)
	}
	if n, err := r.Read(make([]byte, 1)); n != 0 || !errors.Is(err, io.EOF) {
		t.Errorf("after the answer: read %d bytes, %v; want the connection closed (EOF)", n, err)
	}
	return resp, body
}

func postHead(path, token string, header ...string) string {
	h := "POST " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
	if token != "" {
		h += "X-Auth-Token: " + token + "\r\n"
	}
	for _, l := range header {
		h += l + "\r\n"
	}
	return h + "\r\n"
}

const createPath = "/v2/servicerequest/cases/DEMO-1/relations"

// TestIncompleteBody: a body that ends before its announced length, or
// before its last chunk, or stops arriving, is answered 408, journaled and
// logged as 408, and the connection is closed; the store is untouched.
func TestIncompleteBody(t *testing.T) {
	body := `{"related_id_list":["DEMO-2"]}` // 30 bytes
	tests := []struct {
		name, head, body string
		closeWrite       bool // the client ends its side after sending
		msg              string
	}{
		{"short, then closed", postHead(createPath, "demo-token", "Content-Length: 40"), body, true,
			"Request timeout: the body ended before the 40 bytes of its Content-Length"},
		{"chunked, closed before the last chunk", postHead(createPath, "demo-token", "Transfer-Encoding: chunked"),
			fmt.Sprintf("%x\r\n%s\r\n", len(body), body), true,
			"Request timeout: the body ended before its last chunk"},
		{"short, then nothing", postHead(createPath, "demo-token", "Content-Length: 40"), body, false,
			"Request timeout: no byte of the body arrived for 5s"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s, addr, logs := rawServer(t, Options{})
			c := dialRaw(t, addr, tt.head, tt.body)
			if tt.closeWrite {
				if err := c.CloseWrite(); err != nil {
					t.Fatal(err)
				}
			}
			resp, got := answerAndClose(t, c)
			var e struct{ ErrorCode, ErrorMsg string }
			_ = json.Unmarshal(got, &e)
			if resp.StatusCode != http.StatusRequestTimeout || !strings.HasPrefix(string(got), `{"error_code":"APIGW.0201","error_msg":"`+tt.msg+`"`) {
				t.Fatalf("got %d %s, want 408 APIGW.0201 %q", resp.StatusCode, got, tt.msg)
			}
			waitFor(t, s, "the body's reservation to be released", func(b *bodyBudget) bool { return b.free == b.total })
			id := resp.Header.Get(headerRequestID)
			entries := s.Requests(journal.Filter{})
			if len(entries) != 1 || entries[0].RequestID != id || entries[0].Status != http.StatusRequestTimeout || entries[0].ErrorCode != "APIGW.0201" {
				t.Errorf("journal: %+v, want one entry %s with 408 APIGW.0201", entries, id)
			}
			if line := "status=408 "; !strings.Contains(logs.String(), line) || !strings.Contains(logs.String(), "request_id="+id) {
				t.Errorf("access log has no %q for %s:\n%s", line, id, logs)
			}
			var rels []string
			_ = s.Store().View(t.Context(), func(tx store.Tx) (err error) {
				rels, err = tx.Relations("DEMO-1")
				return err
			})
			if len(rels) != 0 {
				t.Errorf("DEMO-1 has relations %v after a body that never arrived", rels)
			}
		})
	}
}

// TestEarlyRefusalClosesConnection: a refusal answered before the body is
// read comes at once, and the connection closes, however much body the
// request announced and did not send.
func TestEarlyRefusalClosesConnection(t *testing.T) {
	tests := []struct {
		name, head string
		status     int
		code       string
	}{
		{"no credential", postHead(createPath, "", "Content-Length: 100000"), http.StatusUnauthorized, CodeUnauthorized},
		{"unknown token", postHead(createPath, "nobody-token", "Content-Length: 100000"), http.StatusUnauthorized, CodeUnauthorized},
		{"unknown path", postHead("/v2/nowhere", "demo-token", "Content-Length: 100000"), http.StatusNotFound, CodeNoSuchAPI},
		{"chunked, no credential", postHead(createPath, "", "Transfer-Encoding: chunked"), http.StatusUnauthorized, CodeUnauthorized},
	}
	_, addr, _ := rawServer(t, Options{})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := dialRaw(t, addr, tt.head, "1") // one byte of the body, then nothing
			resp, got := answerAndClose(t, c)
			if resp.StatusCode != tt.status || !strings.Contains(string(got), tt.code) {
				t.Errorf("got %d %s, want %d %s", resp.StatusCode, got, tt.status, tt.code)
			}
		})
	}
}

// TestOneCredentialCannotStarveOthers: stalled uploads of one credential
// fill its share of the body budget, not the budget: another user's create
// and a control call with a body go through.
func TestOneCredentialCannotStarveOthers(t *testing.T) {
	const memory = 4096 // a share is 1024 bytes
	s, addr, _ := rawServer(t, Options{BodyMemory: memory})
	for range 6 { // 6 KiB announced, nothing sent: they stall
		dialRaw(t, addr, postHead(createPath, "demo-token", "Content-Length: 1024"), "")
	}
	// Wait until an upload waits for room, which shows the others hold
	// what they can (the stall interval, 5 s, lets them hold it longer
	// than this test needs).
	waitFor(t, s, "an upload waiting for room", func(b *bodyBudget) bool { return b.waits })
	client := &http.Client{Timeout: rawTimeout}
	for _, tt := range []struct{ name, method, path, token, body string }{
		{"another user's create", http.MethodPost, "/v2/servicerequest/cases/TEAM-1/relations", "teammate-token", `{"related_id_list":["DEMO-1"],"group_id":"team"}`},
		{"a control call with a body", http.MethodPut, "/_stub/clock", "", `{"advance_ms":0}`},
	} {
		req, err := http.NewRequest(tt.method, "http://"+addr+tt.path, strings.NewReader(tt.body))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/json")
		if tt.token != "" {
			req.Header.Set("X-Auth-Token", tt.token)
		}
		resp, err := client.Do(req)
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		got, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Errorf("%s during the uploads: %d %s", tt.name, resp.StatusCode, got)
		}
	}
}

// TestControlBodiesHaveTheirOwnBudget: with the API's body budget full, a
// control call with a body still goes through.
func TestControlBodiesHaveTheirOwnBudget(t *testing.T) {
	const memory = 4096 // a share is 1024 bytes: four credentials fill it
	s, addr, _ := rawServer(t, Options{BodyMemory: memory})
	signed, err := http.NewRequest(http.MethodPost, "http://"+addr+createPath, strings.NewReader("{}"))
	if err != nil {
		t.Fatal(err)
	}
	if err := aksk.Sign(signed, "DEMOAK0000000000000001", "demo-secret-key", time.Now()); err != nil {
		t.Fatal(err)
	}
	byKey := []string{"Authorization: " + signed.Header.Get("Authorization"), "X-Sdk-Date: " + signed.Header.Get("X-Sdk-Date")}
	for _, head := range []string{
		postHead(createPath, "demo-token", "Content-Length: 1024"),
		postHead(createPath, "teammate-token", "Content-Length: 1024"),
		postHead(createPath, "outsider-token", "Content-Length: 1024"),
		postHead(createPath, "", append(byKey, "Content-Length: 1024")...),
	} {
		dialRaw(t, addr, head, "") // nothing sent: they stall, for 5 s
	}
	waitFor(t, s, "the uploads to fill the budget", func(b *bodyBudget) bool { return b.free == 0 })
	req, err := http.NewRequest(http.MethodPut, "http://"+addr+"/_stub/clock", strings.NewReader(`{"advance_ms":0}`))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := (&http.Client{Timeout: rawTimeout}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("control call with the API's budget full: %d %s", resp.StatusCode, got)
	}
}

// TestResetBodyIsNotSuccess: a body whose connection is reset before it
// has arrived is journaled as the 408 it is, not as a success.
func TestResetBodyIsNotSuccess(t *testing.T) {
	s, addr, _ := rawServer(t, Options{})
	c := dialRaw(t, addr, postHead(createPath, "demo-token", "Content-Length: 40"), `{"related_id_list":["DEMO-2"]}`)
	// Reset once the server reads the body: its reservation is taken.
	waitFor(t, s, "the upload's reservation", func(b *bodyBudget) bool { return b.free < b.total })
	if err := c.SetLinger(0); err != nil { // Close sends a reset
		t.Fatal(err)
	}
	c.Close()
	ctx, cancel := context.WithTimeout(t.Context(), rawTimeout)
	defer cancel()
	entries, err := s.WaitForRequests(ctx, journal.Filter{}, 1)
	if err != nil || len(entries) != 1 {
		t.Fatalf("journal: %v, %+v", err, entries)
	}
	if e := entries[0]; e.Status != http.StatusRequestTimeout || e.ErrorCode != "APIGW.0201" {
		t.Errorf("journal: status %d %s, want 408 APIGW.0201", e.Status, e.ErrorCode)
	}
}

// waitFor polls cond on the server's API body budget, under its lock,
// until it holds; rawTimeout bounds the wait.
func waitFor(t *testing.T, s *Server, what string, cond func(b *bodyBudget) bool) {
	t.Helper()
	for deadline := time.Now().Add(rawTimeout); ; time.Sleep(5 * time.Millisecond) {
		s.bodies.mu.Lock()
		ok := cond(s.bodies)
		s.bodies.mu.Unlock()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("gave up waiting for %s", what)
		}
	}
}

// TestBodyThatProgresses: a body whose bytes keep coming is read to its
// end, however long it takes in all (longer than the stall interval
// here), and the connection serves the next request.
func TestBodyThatProgresses(t *testing.T) {
	s, addr, _ := rawServer(t, Options{})
	// 30 times the gap between two bytes: a loaded machine's pause in the
	// writer does not look like a stall.
	s.bodyStall = 1500 * time.Millisecond
	body := `{"related_id_list":["DEMO-2"]}` + strings.Repeat(" ", 20)
	c := dialRaw(t, addr, postHead(createPath, "demo-token", fmt.Sprintf("Content-Length: %d", len(body))), "")
	for i := range len(body) { // about 2.5 s in all, longer than the stall limit
		time.Sleep(50 * time.Millisecond)
		if _, err := io.WriteString(c, body[i:i+1]); err != nil {
			t.Fatal(err)
		}
	}
	r := bufio.NewReader(c)
	for _, want := range []int{http.StatusOK, http.StatusOK} {
		resp, err := http.ReadResponse(r, nil)
		if err != nil {
			t.Fatalf("no answer: %v", err)
		}
		got, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != want || resp.Close {
			t.Fatalf("got %d (close %v) %s, want %d on an open connection", resp.StatusCode, resp.Close, got, want)
		}
		// The same connection serves a list after the slow create.
		_, _ = io.WriteString(c, "GET "+createPath+" HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Auth-Token: demo-token\r\n\r\n")
	}
}

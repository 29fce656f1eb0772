package server

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"testing"

	"github.com/osmstub/osmstub/server/control"
	"github.com/osmstub/osmstub/server/journal"
)

// TestJournalReplyIsStreamed: a page of the journal's largest entries is
// written entry by entry: reading 1000 of them, 16 MB of JSON, allocates
// a small part of that, where building the reply in memory took twice the
// reply.
func TestJournalReplyIsStreamed(t *testing.T) {
	if raceEnabled {
		t.Skip("under -race, sync.Pool drops the JSON encoder's buffers at random")
	}
	s, err := New(Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	reqBody, resBody := strings.Repeat("r", journal.RequestBodyCap), strings.Repeat("a", journal.ResponseBodyCap)
	for i := range s.journal.Size() {
		s.journal.Record(journal.Entry{RequestID: fmt.Sprint(i), RequestBody: reqBody, ResponseBody: resBody},
			http.Header{"X-Auth-Token": {"secret"}, "Content-Type": {"application/json"}})
	}
	req := httptest.NewRequest(http.MethodGet, fmt.Sprintf("/_stub/requests?limit=%d", control.MaxPage), nil)
	req.Host = "127.0.0.1:8080"
	w := &countingWriter{header: http.Header{}}
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	s.ServeHTTP(w, req)
	runtime.ReadMemStats(&after)
	const bound = 8 << 20
	if w.status != http.StatusOK || w.n < int64(control.MaxPage)*(journal.RequestBodyCap+journal.ResponseBodyCap) {
		t.Fatalf("GET /_stub/requests: %d, %d bytes", w.status, w.n)
	}
	if got := after.TotalAlloc - before.TotalAlloc; got > bound {
		t.Errorf("a reply of %d MB allocated %d MB, want at most %d", w.n>>20, got>>20, bound>>20)
	}
}

// countingWriter is a client that reads the reply and keeps only its size.
type countingWriter struct {
	header http.Header
	status int
	n      int64
}

func (w *countingWriter) Header() http.Header { return w.header }
func (w *countingWriter) WriteHeader(status int) {
	if w.status == 0 {
		w.status = status
	}
}
func (w *countingWriter) Write(p []byte) (int, error) {
	w.WriteHeader(http.StatusOK)
	n, err := io.Discard.Write(p)
	w.n += int64(n)
	return n, err
}

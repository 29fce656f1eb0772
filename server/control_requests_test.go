package server_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/osmstub/osmstub/gen/controlapi"
	"github.com/osmstub/osmstub/server"
	"github.com/osmstub/osmstub/server/journal"
)

type requestList struct {
	Requests  []journal.Entry `json:"requests"`
	TimedOut  bool            `json:"timed_out"`
	NextAfter string          `json:"next_after"`
}

func ctlRequests(t *testing.T, h http.Handler, query string) requestList {
	t.Helper()
	res := ctlDo(t, h, http.MethodGet, "/_stub/requests"+query, "")
	if res.status != http.StatusOK {
		t.Fatalf("GET /_stub/requests%s: %d %s", query, res.status, res.body)
	}
	var l requestList
	if err := json.Unmarshal(res.body, &l); err != nil {
		t.Fatalf("GET /_stub/requests%s: %v", query, err)
	}
	return l
}

func opsOf(l requestList) string {
	var out []string
	for _, e := range l.Requests {
		out = append(out, fmt.Sprintf("%s %s %d", e.Operation, e.CaseID, e.Status))
	}
	return strings.Join(out, ", ")
}

func TestControlRequestsFilters(t *testing.T) {
	srv := ctlServer(t, server.Options{Now: fixedNow, JournalSize: 4})
	do(t, srv, tokenReq("demo-token", http.MethodPost, "DEMO-1", createBody("team", "DEMO-2")))
	do(t, srv, tokenReq("teammate-token", http.MethodGet, "DEMO-1", ""))
	do(t, srv, tokenReq("demo-token", http.MethodPost, "DEMO-1", createBody("team", "NOPE-1")))
	do(t, srv, tokenReq("bad-token", http.MethodGet, "DEMO-3", ""))
	first := srv.Requests(journal.Filter{})[0]
	tests := []struct{ query, want string }{
		{"", "CreateRelations DEMO-1 200, ListRelation DEMO-1 200, CreateRelations DEMO-1 200, ListRelation DEMO-3 401"},
		{"?operation=CreateRelations", "CreateRelations DEMO-1 200, CreateRelations DEMO-1 200"},
		{"?case_id=DEMO-3", "ListRelation DEMO-3 401"},
		{"?user=teammate", "ListRelation DEMO-1 200"},
		{"?status=401", "ListRelation DEMO-3 401"},
		{"?error_code=" + codeUnknown, "CreateRelations DEMO-1 200"},
		{"?after=" + first.RequestID + "&limit=1", "ListRelation DEMO-1 200"},
		{"?since=" + first.Time.Add(-time.Second).UTC().Format(time.RFC3339Nano) + "&operation=ListRelation&user=demo", ""},
		{"?since=2999-01-01T00:00:00Z", ""},
	}
	for _, tc := range tests {
		if got := opsOf(ctlRequests(t, srv, tc.query)); got != tc.want {
			t.Errorf("GET /_stub/requests%s:\n got %s\nwant %s", tc.query, got, tc.want)
		}
	}
	ctlOK(t, srv, http.MethodDelete, "/_stub/requests", "")
	if l := ctlRequests(t, srv, ""); len(l.Requests) != 0 {
		t.Errorf("after DELETE: %s", opsOf(l))
	}
	for _, tc := range []struct{ query, msg string }{
		{"?status=99", "status: number must be at least 100"},
		{"?operation=Nope", "operation: is not one of the allowed values"},
		{"?wait=5s", "wait, min: give both, or neither"},
		{"?wait=5m&min=1", "wait: string doesn't match the regular expression"},
		{"?wait=21s&min=1", "wait: must be at most 20s"},
		{"?wait=20001ms&min=1", "wait: must be at most 20s"},
		{"?limit=0", "limit: number must be at least 1"},
		{"?limit=1001", "limit: number must be at most 1000"},
		{"?wait=1s&min=1001", "min: number must be at most 1000"},
		{"?wait=1s&min=5", "min: must be at most the journal's size, 4"},
		{"?since=yesterday", "since: "},
	} {
		res := ctlDo(t, srv, http.MethodGet, "/_stub/requests"+tc.query, "")
		if code, msg := ctlError(t, res); res.status != http.StatusBadRequest || code != codeInvalid || !strings.Contains(msg, tc.msg) {
			t.Errorf("GET /_stub/requests%s: %d %s %q, want 400 containing %q", tc.query, res.status, code, msg, tc.msg)
		}
	}
}

func TestControlRequestsRedacted(t *testing.T) {
	srv := ctlServer(t, server.Options{Now: fixedNow})
	req := signed(t, http.MethodPost, "DEMO-1", createBody("team", "DEMO-2"), "X-Security-Token", "sts-secret")
	sig := req.Header.Get("Authorization")
	sig = sig[strings.Index(sig, "Signature=")+len("Signature="):]
	do(t, srv, req)
	do(t, srv, tokenReq("demo-token", http.MethodGet, "DEMO-1", ""))
	body := string(ctlDo(t, srv, http.MethodGet, "/_stub/requests", "").body)
	for _, secret := range []string{sig, "demo-token", "sts-secret", demoSK} {
		if strings.Contains(body, secret) {
			t.Errorf("GET /_stub/requests shows %q: %s", secret, body)
		}
	}
	if strings.Count(body, "[redacted]") < 3 {
		t.Errorf("GET /_stub/requests redacts too little: %s", body)
	}
}

func TestControlRequestsWait(t *testing.T) {
	srv := ctlServer(t, server.Options{Now: fixedNow})
	t.Run("returns as soon as the call arrives", func(t *testing.T) {
		got := make(chan requestList)
		go func() {
			res := ctlDo(t, srv, http.MethodGet, "/_stub/requests?case_id=DEMO-4&operation=DeleteRelation&wait=20s&min=1", "")
			var l requestList
			if err := json.Unmarshal(res.body, &l); err != nil {
				t.Error(err)
			}
			got <- l
		}()
		do(t, srv, tokenReq("demo-token", http.MethodGet, "DEMO-4", "")) // not it
		do(t, srv, tokenReq("demo-token", http.MethodDelete, "DEMO-4", deleteBody("team", "DEMO-5")))
		l := <-got
		if l.TimedOut || opsOf(l) != "DeleteRelation DEMO-4 200" {
			t.Errorf("long poll: timed out %v, %s", l.TimedOut, opsOf(l))
		}
	})
	t.Run("already there", func(t *testing.T) {
		if l := ctlRequests(t, srv, "?operation=ListRelation&wait=20s&min=1"); l.TimedOut || len(l.Requests) != 1 {
			t.Errorf("long poll: timed out %v, %s", l.TimedOut, opsOf(l))
		}
	})
	t.Run("times out with what there is", func(t *testing.T) {
		if l := ctlRequests(t, srv, "?case_id=DEMO-4&wait=1ms&min=3"); !l.TimedOut || len(l.Requests) != 2 {
			t.Errorf("long poll: timed out %v, %s", l.TimedOut, opsOf(l))
		}
	})
}

func TestControlClock(t *testing.T) {
	srv := ctlServer(t, server.Options{})
	type clockBody struct {
		Now      time.Time `json:"now"`
		Fixed    bool      `json:"fixed"`
		OffsetMs int64     `json:"offset_ms"`
	}
	call := func(method, body string) clockBody {
		t.Helper()
		res := ctlDo(t, srv, method, "/_stub/clock", body)
		var c clockBody
		if res.status != http.StatusOK || json.Unmarshal(res.body, &c) != nil {
			t.Fatalf("%s /_stub/clock %s: %d %s", method, body, res.status, res.body)
		}
		return c
	}
	if c := call(http.MethodGet, ""); c.Fixed || c.OffsetMs != 0 {
		t.Errorf("a new stub's clock: %+v", c)
	}
	if c := call(http.MethodPut, `{"time":"2026-11-27T08:30:00Z"}`); !c.Fixed || !c.Now.Equal(clock) || !srv.Now().Equal(clock) {
		t.Errorf("after fixing: %+v, server says %v", c, srv.Now())
	}
	// Signed at the fixed time, the call passes; 20 minutes later it is
	// refused for its date, as the service refuses a skewed clock.
	do(t, srv, signed(t, http.MethodGet, "DEMO-1", ""))
	if c := call(http.MethodPut, `{"advance_ms":1200000}`); !c.Now.Equal(clock.Add(20*time.Minute)) || c.OffsetMs != 1200000 {
		t.Errorf("after advancing: %+v", c)
	}
	status, _, body := do(t, srv, signed(t, http.MethodGet, "DEMO-1", ""))
	if code, _ := decodeError(t, body); status != http.StatusUnauthorized || code != codeUnauthorized {
		t.Errorf("a request signed 20 minutes before the stub's time: %d %s", status, body)
	}
	if c := call(http.MethodPut, `{"real":true}`); c.Fixed || c.OffsetMs != 0 || time.Since(c.Now) > time.Hour {
		t.Errorf("after real: %+v", c)
	}
	for _, body := range []string{`{}`, `{"real":false}`, `{"real":true,"advance_ms":1}`, `{"time":"soon"}`} {
		if res := ctlDo(t, srv, http.MethodPut, "/_stub/clock", body); res.status != http.StatusBadRequest {
			t.Errorf("PUT /_stub/clock %s: %d %s, want 400", body, res.status, res.body)
		}
	}
}

func TestControlTargetedFaults(t *testing.T) {
	srv := ctlServer(t, server.Options{Now: fixedNow})
	ctlOK(t, srv, http.MethodPut, "/_stub/faults/ListRelation", `{"case_id":"DEMO-1","sequence":[500,0,500]}`)
	ctlOK(t, srv, http.MethodPut, "/_stub/faults/ListRelation", `{"user":"teammate","status":200,"error_code":"OSM.01010002","error_msg":"no"}`)
	ctlOK(t, srv, http.MethodPut, "/_stub/faults/ListRelation", `{"case_id":"DEMO-3","status":500,"probability":0.5,"seed":7}`)
	res := ctlDo(t, srv, http.MethodGet, "/_stub/faults", "")
	want := `{"targeted":[{"fault":{"case_id":"DEMO-1","sequence":[500,0,500]},"operation_id":"ListRelation"},{"fault":{"error_code":"OSM.01010002","error_msg":"no","status":200,"user":"teammate"},"operation_id":"ListRelation"},{"fault":{"case_id":"DEMO-3","probability":0.5,"seed":7,"status":500},"operation_id":"ListRelation"}]}`
	if got := strings.TrimSpace(string(res.body)); got != want {
		t.Errorf("GET /_stub/faults:\n got %s\nwant %s", got, want)
	}
	statuses := func(token, caseID string, n int) string {
		var out []string
		for range n {
			status, _, body := do(t, srv, tokenReq(token, http.MethodGet, caseID, ""))
			code := ""
			if strings.Contains(string(body), "error_code") {
				code, _ = decodeError(t, body)
			}
			out = append(out, fmt.Sprintf("%d %s", status, code))
		}
		return strings.Join(out, " ")
	}
	if got := statuses("demo-token", "DEMO-1", 4); got != "500 OSM.0004 200  500 OSM.0004 200 " {
		t.Errorf("DEMO-1, a sequence then nothing: %q", got)
	}
	if got := statuses("teammate-token", "TEAM-1", 1); got != "200 OSM.01010002" {
		t.Errorf("user teammate: %q", got)
	}
	// At 50% with seed 7: the same calls fail on every run.
	if got := statuses("demo-token", "DEMO-3", 8); strings.Count(got, "500") == 0 || strings.Count(got, "500") == 8 {
		t.Errorf("DEMO-3, half of the calls: %q", got)
	}
	ctlOK(t, srv, http.MethodDelete, "/_stub/faults/ListRelation?user=teammate", "")
	if got := statuses("teammate-token", "TEAM-1", 1); strings.Contains(got, "OSM.01010002") {
		t.Errorf("after clearing user teammate's fault: %q", got)
	}
	if n := len(srv.AllFaults()); n != 1 {
		t.Errorf("%d faults left, want DEMO-3's", n)
	}
}

// TestFaultProbabilityIsSeeded: with a seed, the same calls fail on every
// run; with probability 1 every call does.
func TestFaultProbabilityIsSeeded(t *testing.T) {
	pattern := func(f server.Fault) string {
		srv := demoServer(t)
		if err := srv.SetFault("ListRelation", f); err != nil {
			t.Fatal(err)
		}
		var b strings.Builder
		for range 32 {
			status, _, _ := do(t, srv, tokenReq("demo-token", http.MethodGet, "DEMO-1", ""))
			b.WriteString(map[int]string{200: ".", 500: "x"}[status])
		}
		return b.String()
	}
	a := pattern(server.Fault{Status: 500, Probability: 0.3, Seed: 42})
	if b := pattern(server.Fault{Status: 500, Probability: 0.3, Seed: 42}); a != b {
		t.Errorf("seed 42 twice:\n%s\n%s", a, b)
	}
	if n := strings.Count(a, "x"); n == 0 || n == 32 {
		t.Errorf("probability 0.3 failed %d of 32 calls: %s", n, a)
	}
	if c := pattern(server.Fault{Status: 500, Probability: 1}); c != strings.Repeat("x", 32) {
		t.Errorf("probability 1: %s", c)
	}
	if err := demoServer(t).SetFault("ListRelation", server.Fault{Status: 500, Probability: 1.5}); err == nil {
		t.Error("probability 1.5 accepted")
	}
	if err := demoServer(t).SetFault("ListRelation", server.Fault{Sequence: []int{503}, Times: 2}); err == nil {
		t.Error("a sequence with times accepted")
	}
}

// TestControlRequestsPages: a read answers a page, 100 entries unless
// limit says otherwise, and next_after leads to the next one.
func TestControlRequestsPages(t *testing.T) {
	srv := ctlServer(t, server.Options{Now: fixedNow})
	const total = server.DefaultJournalPage*2 + 50
	for range total {
		do(t, srv, tokenReq("demo-token", http.MethodGet, "DEMO-1", ""))
	}
	all := srv.Requests(journal.Filter{})
	var seqs []uint64
	query, pages := "", 0
	for {
		l := ctlRequests(t, srv, query)
		for _, e := range l.Requests {
			seqs = append(seqs, e.Seq)
		}
		pages++
		if l.NextAfter == "" {
			break
		}
		if last := l.Requests[len(l.Requests)-1]; l.NextAfter != last.RequestID || len(l.Requests) != server.DefaultJournalPage {
			t.Fatalf("page %d: %d entries, next_after %q, last %q", pages, len(l.Requests), l.NextAfter, last.RequestID)
		}
		query = "?after=" + l.NextAfter
	}
	if pages != 3 || len(seqs) != total || seqs[0] != all[0].Seq || seqs[total-1] != all[total-1].Seq {
		t.Errorf("%d pages, %d entries (%v ... %v); want 3 pages of all %d", pages, len(seqs), seqs[:1], seqs[len(seqs)-1:], total)
	}
	tests := []struct {
		query     string
		n         int
		nextAfter string
	}{
		{"?limit=1", 1, all[0].RequestID},
		{"?limit=1000", total, ""},
		{fmt.Sprintf("?limit=%d", total), total, ""},
		{fmt.Sprintf("?limit=%d", total-1), total - 1, all[total-2].RequestID},
		{"?limit=2&after=" + all[total-2].RequestID, 1, ""},
		{"?limit=10&wait=1s&min=30", 30, all[29].RequestID}, // a long poll's page holds min
		{"?wait=1s&min=3", server.DefaultJournalPage, all[server.DefaultJournalPage-1].RequestID},
	}
	for _, tc := range tests {
		l := ctlRequests(t, srv, tc.query)
		if len(l.Requests) != tc.n || l.NextAfter != tc.nextAfter || l.TimedOut {
			t.Errorf("GET /_stub/requests%s: %d entries, next_after %q, timed out %v; want %d, %q", tc.query, len(l.Requests), l.NextAfter, l.TimedOut, tc.n, tc.nextAfter)
		}
	}
}

// TestControlRequestsBusy: at most MaxJournalWaiters long polls wait and
// MaxJournalReaders replies are written at once; the next call gets 429
// STUB.0006 with Retry-After, and a freed slot serves again.
func TestControlRequestsBusy(t *testing.T) {
	srv := ctlServer(t, server.Options{Now: fixedNow})
	busy := func(query string) {
		t.Helper()
		res := ctlDo(t, srv, http.MethodGet, "/_stub/requests"+query, "")
		code, msg := ctlError(t, res)
		if res.status != http.StatusTooManyRequests || code != "STUB.0006" || res.header.Get("Retry-After") != "1" {
			t.Errorf("GET /_stub/requests%s: %d %s %q, Retry-After %q; want 429 STUB.0006, Retry-After 1", query, res.status, code, msg, res.header.Get("Retry-After"))
		}
	}

	t.Run("long polls", func(t *testing.T) {
		var wg sync.WaitGroup
		for range server.MaxJournalWaiters {
			wg.Go(func() {
				if l := ctlRequests(t, srv, "?case_id=LATE-1&wait=20s&min=1"); l.TimedOut || len(l.Requests) != 1 {
					t.Errorf("a waiting long poll: timed out %v, %s", l.TimedOut, opsOf(l))
				}
			})
		}
		for server.JournalWaiters(srv) < server.MaxJournalWaiters {
			runtime.Gosched()
		}
		busy("?case_id=LATE-1&wait=1ms&min=1")
		ctlRequests(t, srv, "?case_id=LATE-1") // a plain read has slots of its own
		do(t, srv, tokenReq("demo-token", http.MethodGet, "LATE-1", ""))
		wg.Wait()
		ctlRequests(t, srv, "?case_id=LATE-1&wait=1ms&min=1")
	})

	t.Run("reads", func(t *testing.T) {
		release := make(chan struct{})
		writing := make(chan struct{})
		var wg sync.WaitGroup
		for range server.MaxJournalReaders {
			wg.Go(func() {
				req := httptest.NewRequest(http.MethodGet, "/_stub/requests", nil)
				req.Host = "127.0.0.1:8080"
				srv.ServeHTTP(&stalledWriter{ResponseRecorder: httptest.NewRecorder(), writing: writing, release: release}, req)
			})
		}
		for range server.MaxJournalReaders { // every reader holds its slot, writing to a client that does not read
			<-writing
		}
		busy("")
		// A long poll waits in a slot of its own, then queues for a
		// reader's slot to write its reply.
		polled := make(chan requestList)
		go func() { polled <- ctlRequests(t, srv, "?wait=1ms&min=1") }()
		select { // an answer that should not come is watched for a while
		case <-polled:
			t.Error("a long poll was answered while every reader's slot was taken")
		case <-time.After(200 * time.Millisecond):
		}
		close(release)
		if l := <-polled; len(l.Requests) != 1 {
			t.Errorf("the long poll: %s", opsOf(l))
		}
		wg.Wait()
		ctlRequests(t, srv, "")
	})
}

// stalledWriter is a client that stops reading: its first Write tells
// writing, then waits for release.
type stalledWriter struct {
	*httptest.ResponseRecorder
	writing, release chan struct{}
	once             sync.Once
}

func (w *stalledWriter) Write(p []byte) (int, error) {
	w.once.Do(func() {
		w.writing <- struct{}{}
		<-w.release
	})
	return w.ResponseRecorder.Write(p)
}

// TestControlRequestsWrittenAsGenerated: the reply written entry by entry
// is, byte for byte, what the generated response would have sent.
func TestControlRequestsWrittenAsGenerated(t *testing.T) {
	srv := ctlServer(t, server.Options{Now: fixedNow})
	do(t, srv, tokenReq("demo-token", http.MethodPost, "DEMO-1", `{"related_id_list":["<&>\u2028é"],"group_id":"team"}`))
	do(t, srv, tokenReq("demo-token", http.MethodGet, "DEMO-1", ""))
	for _, tc := range []struct {
		query string
		f     journal.Filter
	}{
		{"", journal.Filter{}},
		{"?wait=1s&min=2", journal.Filter{}},
		{"?case_id=NONE", journal.Filter{CaseID: "NONE"}},
	} {
		res := ctlDo(t, srv, http.MethodGet, "/_stub/requests"+tc.query, "")
		var want bytes.Buffer
		if err := json.NewEncoder(&want).Encode(controlapi.RequestList{Requests: srv.Requests(tc.f)}); err != nil {
			t.Fatal(err)
		}
		if got := string(res.body); got != want.String() {
			t.Errorf("GET /_stub/requests%s:\n got %s\nwant %s", tc.query, got, want.String())
		}
		if ct := res.header.Get("Content-Type"); ct != "application/json" {
			t.Errorf("GET /_stub/requests%s: Content-Type %q", tc.query, ct)
		}
	}
}

// TestControlBodyWhereNoneIsTaken: a control call that takes no body is
// refused one, before it can hold the control API's body budget (a long
// poll with a chunked body would hold it for its whole wait).
func TestControlBodyWhereNoneIsTaken(t *testing.T) {
	srv := demoServer(t)
	for _, tc := range []struct{ method, path string }{
		{http.MethodGet, "/_stub/requests?wait=1s&min=1"},
		{http.MethodDelete, "/_stub/faults"},
		{http.MethodPost, "/_stub/reset"},
	} {
		req := httptest.NewRequest(tc.method, tc.path, io.NopCloser(strings.NewReader("{}")))
		req.Host = "127.0.0.1:8080"
		req.ContentLength = -1 // chunked
		req.Header.Set("Content-Type", "application/json")
		rec := httptest.NewRecorder()
		srv.ServeHTTP(rec, req)
		if rec.Code != http.StatusBadRequest || !strings.Contains(rec.Body.String(), "takes none") {
			t.Errorf("%s %s with a body: %d %s, want 400 naming the rule", tc.method, tc.path, rec.Code, rec.Body)
		}
	}
	ctlOK(t, srv, http.MethodPut, "/_stub/faults/ListRelation", `{"status":503}`) // a call that takes one still does
}

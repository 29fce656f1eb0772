package server_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"sync"
	"testing"

	"github.com/osmstub/osmstub/server"
	"github.com/osmstub/osmstub/server/store"
)

// 64 callers race to associate 64 different tickets with one ticket: the
// limit holds, exactly three win, and every association is mutual.
func TestConcurrentAssociations(t *testing.T) {
	const n = 64
	d := &store.Dataset{Users: []store.User{{Name: "busy", Tokens: []string{"busy-token"}}}}
	for i := 0; i <= n; i++ {
		d.Tickets = append(d.Tickets, store.Ticket{ID: fmt.Sprintf("T%02d", i), Owner: "busy", Description: fmt.Sprintf("ticket %d", i)})
	}
	srv := newServer(t, server.Options{Fixtures: d})

	type outcome struct {
		status int
		body   []byte
	}
	results := make([]outcome, n+1)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := 1; i <= n; i++ {
		req := tokenReq("busy-token", "POST", "T00", createBody("g", fmt.Sprintf("T%02d", i)))
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			status, _, body := do(t, srv, req)
			results[i] = outcome{status, body}
		}()
	}
	close(start)
	wg.Wait()

	var won []string
	refused := 0
	for i := 1; i <= n; i++ {
		r := results[i]
		if r.status != http.StatusOK {
			t.Errorf("T%02d: status %d %s", i, r.status, r.body)
			continue
		}
		if string(bytes.TrimSpace(r.body)) == "{}" {
			won = append(won, fmt.Sprintf("T%02d", i))
			continue
		}
		var e errorBody
		if err := json.Unmarshal(r.body, &e); err != nil || e.Code == nil || *e.Code != codeLimit || e.Msg == nil || *e.Msg != "The same caseId relations should not be over 3." {
			t.Errorf("T%02d: %s, want {} or %s", i, r.body, codeLimit)
			continue
		}
		refused++
	}
	if len(won) != 3 || refused != n-3 {
		t.Fatalf("%d succeeded (%q), %d refused; want 3 and %d", len(won), won, refused, n-3)
	}

	got := ids(list(t, srv, "busy-token", "T00"))
	slices.Sort(got)
	if !slices.Equal(got, won) {
		t.Errorf("T00 holds %q, but %q succeeded", got, won)
	}
	for i := 1; i <= n; i++ {
		id := fmt.Sprintf("T%02d", i)
		partner := ids(list(t, srv, "busy-token", id))
		if slices.Contains(won, id) {
			if !slices.Equal(partner, []string{"T00"}) {
				t.Errorf("%s holds %q, want [T00]", id, partner)
			}
		} else if len(partner) != 0 {
			t.Errorf("%s holds %q, want nothing", id, partner)
		}
	}

	// The snapshot agrees: three mutual pairs and nothing else.
	pairs := 0
	for _, tk := range snapshot(t, srv.Store()).Tickets {
		pairs += len(tk.Relations)
	}
	if pairs != 6 {
		t.Errorf("the state holds %d association ends, want 6", pairs)
	}
}

// Readers and writers at once: lists never see a half-made association.
func TestConcurrentReadersAndWriters(t *testing.T) {
	d := &store.Dataset{Users: []store.User{{Name: "busy", Tokens: []string{"busy-token"}}}}
	for i := 0; i < 8; i++ {
		d.Tickets = append(d.Tickets, store.Ticket{ID: fmt.Sprintf("R%d", i), Owner: "busy", Description: "r"})
	}
	srv := newServer(t, server.Options{Fixtures: d})
	var wg sync.WaitGroup
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for k := 0; k < 25; k++ {
				a, b := fmt.Sprintf("R%d", (w+k)%8), fmt.Sprintf("R%d", (w+2*k+1)%8)
				if a == b {
					continue
				}
				do(t, srv, tokenReq("busy-token", "POST", a, createBody("g", b)))
				do(t, srv, tokenReq("busy-token", "DELETE", b, deleteBody("", a)))
			}
		}()
	}
	for r := 0; r < 4; r++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for k := 0; k < 50; k++ {
				status, _, body := do(t, srv, tokenReq("busy-token", "GET", fmt.Sprintf("R%d", k%8), ""))
				if status != http.StatusOK {
					t.Errorf("list: %d %s", status, body)
				}
			}
		}()
	}
	wg.Wait()
	// Every association left over is mutual and within the limit.
	snap := snapshot(t, srv.Store())
	rel := map[string][]string{}
	for _, tk := range snap.Tickets {
		rel[tk.ID] = tk.Relations
		if len(tk.Relations) > 3 {
			t.Errorf("%s holds %d associations", tk.ID, len(tk.Relations))
		}
	}
	for id, rs := range rel {
		for _, r := range rs {
			if !slices.Contains(rel[r], id) {
				t.Errorf("%s holds %s but not the other way round", id, r)
			}
		}
	}
}

package sqlite_test

import (
	"database/sql"
	"path/filepath"
	"testing"

	"github.com/osmstub/osmstub/server/store"
	"github.com/osmstub/osmstub/server/store/sqlite"
)

// BenchmarkTickets1k and BenchmarkTickets1M list the first page (10) of
// one account that holds 1k or 1M tickets (issue 25: at most 2x slower
// with 1M): all of the account, one owner's, one status's (totals from
// ticket_counts), and one key's (a filter whose total is counted, up to
// store.MaxTotal; the key matches every ticket).
//
//	go test -run '^$' -bench Tickets ./server/store/sqlite/
func BenchmarkTickets1k(b *testing.B) { benchTickets(b, 1_000) }
func BenchmarkTickets1M(b *testing.B) { benchTickets(b, 1_000_000) }

func benchTickets(b *testing.B, n int) {
	path := filepath.Join(b.TempDir(), "osm.db")
	s, err := sqlite.Open(b.Context(), path)
	if err != nil {
		b.Fatal(err)
	}
	s.Close()
	db, err := sql.Open("sqlite", path)
	if err != nil {
		b.Fatal(err)
	}
	// n tickets of 10 owners in account acct, a second apart, 5 statuses;
	// and as many rows of ticket_counts as PutTicket would have made.
	_, err = db.Exec(`WITH RECURSIVE seq(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM seq WHERE i < ?)
INSERT INTO tickets (id, owner, description, account, status, created)
SELECT printf('CS%08d', i), 'user' || (i % 10), 'ticket ' || i, 'acct', i % 5, 1700000000000000 + i * 1000000 FROM seq;
INSERT INTO ticket_counts (account, owner, status, n)
SELECT account, owner, status, count(*) FROM tickets GROUP BY account, owner, status`, n)
	db.Close()
	if err != nil {
		b.Fatal(err)
	}
	s, err = sqlite.Open(b.Context(), path)
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	status := 3
	for _, c := range []struct {
		name string
		q    store.TicketQuery
	}{
		{"account", store.TicketQuery{Account: "acct", Limit: 10}},
		{"owner", store.TicketQuery{Account: "acct", Owners: []string{"user1"}, Limit: 10}},
		{"status", store.TicketQuery{Account: "acct", Statuses: []int{status}, Limit: 10}},
		{"key", store.TicketQuery{Account: "acct", Keys: []string{"ticket"}, Limit: 10}},
	} {
		b.Run(c.name, func(b *testing.B) {
			for b.Loop() {
				err := s.View(b.Context(), func(tx store.Tx) error {
					page, _, err := tx.Tickets(c.q)
					if err == nil && len(page) != 10 {
						b.Fatalf("page of %d", len(page))
					}
					return err
				})
				if err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

package conform_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/osmstub/osmstub/internal/conform"
	"github.com/osmstub/osmstub/internal/pgtest"
	"github.com/osmstub/osmstub/server"
	"github.com/osmstub/osmstub/server/store"
	"github.com/osmstub/osmstub/server/store/storeopen"
)

var demoCases = []string{"DEMO-1", "DEMO-2", "DEMO-3", "DEMO-4"}

// upstream starts a stub on 127.0.0.1 with the demo data in st, behind
// wrap when it is not nil.
func upstream(t *testing.T, st store.Store, wrap func(http.Handler) http.Handler) (*server.Server, string) {
	t.Helper()
	srv, err := server.New(server.Options{Store: st})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	var h http.Handler = srv
	if wrap != nil {
		h = wrap(srv)
	}
	ts := httptest.NewServer(h)
	t.Cleanup(ts.Close)
	return srv, ts.URL
}

func run(t *testing.T, ctx context.Context, url string, cases ...string) (*conform.Report, error) {
	t.Helper()
	return conform.Run(ctx, conform.Config{Endpoint: url, Credential: conform.Credential{Token: "demo-token"}, Cases: cases})
}

// relations returns every association the store holds, as "A-B" with A < B.
func relations(t *testing.T, st store.Store) []string {
	t.Helper()
	var out []string
	err := st.View(context.Background(), func(tx store.Tx) error {
		out = nil
		d, err := tx.Snapshot()
		if err != nil {
			return err
		}
		for _, tk := range d.Tickets {
			for _, r := range tk.Relations {
				if tk.ID < r {
					out = append(out, tk.ID+"-"+r)
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestAgainstTheStubEveryStore(t *testing.T) {
	stores := map[string]func(t *testing.T) string{
		"memory":   func(*testing.T) string { return "memory" },
		"sqlite":   func(t *testing.T) string { return "sqlite:" + filepath.Join(t.TempDir(), "stub.db") },
		"postgres": func(t *testing.T) string { return pgtest.Schema(t) },
	}
	for name, spec := range stores {
		t.Run(name, func(t *testing.T) {
			st, err := storeopen.Open(context.Background(), spec(t))
			if err != nil {
				t.Fatal(err)
			}
			_, url := upstream(t, st, nil)
			rep, err := run(t, context.Background(), url, demoCases...)
			if err != nil {
				t.Fatal(err)
			}
			var sb strings.Builder
			_ = rep.Write(&sb, "text")
			if !rep.OK() || rep.Count(conform.Pass) == 0 {
				t.Fatalf("the stub does not conform to itself:\n%s", sb.String())
			}
			if got := relations(t, st); len(got) != 0 {
				t.Errorf("left behind: %v", got)
			}
			t.Log(sb.String())
			_ = os.Stdout
		})
	}
}

package conform_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/osmstub/osmstub/internal/conform"
	"github.com/osmstub/osmstub/internal/pgtest"
	"github.com/osmstub/osmstub/server"
	"github.com/osmstub/osmstub/server/store"
	"github.com/osmstub/osmstub/server/store/memory"
	"github.com/osmstub/osmstub/server/store/storeopen"
)

var demoCases = []string{"DEMO-1", "DEMO-2", "DEMO-3", "DEMO-4", "DEMO-5"}

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
		})
	}
}

// The stub's answers are the reference, so against itself every check
// passes whatever it answers; these are the answers the scenario is built
// to provoke, so a scenario that stopped provoking them fails here.
func TestScenarioProvokesEachAnswer(t *testing.T) {
	_, url := upstream(t, nil, nil)
	rep, err := run(t, context.Background(), url, demoCases...)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"create DEMO-1-DEMO-2":                                                 "200 ",
		"repeat create DEMO-1-DEMO-2 (idempotent)":                             "200 ",
		"self-association DEMO-1-DEMO-1":                                       "200 OSM.01010044",
		"limit: create DEMO-1-DEMO-4":                                          "200 ",
		"limit: repeat create at the limit (idempotent)":                       "200 ",
		"delete again DEMO-1-DEMO-2 (idempotent)":                              "200 ",
		"bad input: related_id_list as a string":                               "400 OSM.0001",
		"bad input: four related IDs":                                          "400 OSM.0001",
		"bad input: a related ID of 65 characters":                             "400 OSM.0001",
		"bad input: trailing garbage after the JSON":                           "400 OSM.0001",
		"bad input: Content-Type text/plain":                                   "415 OSM.0001",
		"wrong credential":                                                     "401 APIGW.0301",
		"unknown method PUT":                                                   "404 APIGW.0101",
		"list DEMO-1 holds three associations":                                 "200 ",
		"list DEMO-2 shows DEMO-1 (mutual)":                                    "200 ",
		"list DEMO-1 unchanged after the bad inputs":                           "200 ",
		"limit: DEMO-1-DEMO-5, over the limit, is refused":                     "200 OSM.01010043",
		"limit: DEMO-5-DEMO-1, over the limit from the other side, is refused": "200 OSM.01010043",
		"unknown ticket: create DEMO-1-" + unknownID(t, rep):                   "200 OSM.01010015",
	}
	got := map[string]string{}
	for _, c := range rep.Checks {
		if c.OptIn {
			continue
		}
		if c.Verdict == conform.Skipped {
			t.Errorf("%s: skipped (%s): five tickets must run every check", c.Name, c.Reason)
			continue
		}
		got[c.Name] = fmt.Sprintf("%d %s", c.Got.Status, c.Got.Code)
	}
	for name, w := range want {
		if got[name] != w {
			t.Errorf("%s: got %q, want %q", name, got[name], w)
		}
	}
	lists := map[string][]string{
		"list DEMO-1 holds three associations":                    {"DEMO-2", "DEMO-3", "DEMO-4"},
		"list DEMO-2 shows DEMO-1 (mutual)":                       {"DEMO-1"},
		"list DEMO-1 no longer shows DEMO-2":                      {},
		"list DEMO-2 unchanged after the bad inputs":              {},
		"list DEMO-5 unchanged after the refusals over the limit": {},
		"list DEMO-1 unchanged after the refusals over the limit": {"DEMO-2", "DEMO-3", "DEMO-4"},
	}
	for _, c := range rep.Checks {
		if want, ok := lists[c.Name]; ok {
			if ids := caseIDs(t, c.Got.Body); !slices.Equal(ids, want) {
				t.Errorf("%s: %v, want %v", c.Name, ids, want)
			}
		}
	}
}

func unknownID(t *testing.T, rep *conform.Report) string {
	t.Helper()
	for _, c := range rep.Checks {
		if id, ok := strings.CutPrefix(c.Name, "unknown ticket: create DEMO-1-"); ok {
			return id
		}
	}
	t.Fatal("no unknown-ticket check")
	return ""
}

func caseIDs(t *testing.T, body string) []string {
	t.Helper()
	var b struct {
		List []struct {
			CaseID string `json:"case_id"`
		} `json:"case_relation_list"`
	}
	if err := json.Unmarshal([]byte(body), &b); err != nil {
		t.Fatalf("%s: %v", body, err)
	}
	ids := []string{}
	for _, e := range b.List {
		ids = append(ids, e.CaseID)
	}
	return ids
}

// Associations that exist before the run are mirrored into the reference
// stub, let the run provoke the limit with four tickets, and survive it.
func TestPreExistingAssociations(t *testing.T) {
	st := memory.New()
	srv, url := upstream(t, st, nil)
	if err := store.Link(context.Background(), srv.Store(), "DEMO-1", "DEMO-5"); err != nil {
		t.Fatal(err)
	}
	rep, err := run(t, context.Background(), url, demoCases[:4]...)
	if err != nil {
		t.Fatal(err)
	}
	if !rep.OK() {
		t.Fatalf("not OK:\n%s", text(t, rep))
	}
	var refused *conform.Check
	for i, c := range rep.Checks {
		if c.Name == "limit: DEMO-1-DEMO-4, over the limit, is refused" {
			refused = &rep.Checks[i]
		}
	}
	if refused == nil || refused.Got.Code != "OSM.01010043" {
		t.Fatalf("no limit refusal check:\n%s", text(t, rep))
	}
	if got := relations(t, st); !slices.Equal(got, []string{"DEMO-1-DEMO-5"}) {
		t.Errorf("relations after the run = %v, want the one from before", got)
	}
}

// Fewer than five tickets free of associations skip limit checks: with
// -allow-skip the run is OK, without it the skips fail it. Tickets that
// already hold associations elsewhere make up for missing ones.
func TestFewTickets(t *testing.T) {
	tests := []struct {
		name    string
		cases   []string
		link    [][2]string
		skipped []string
		refused string // the name of the over-the-limit check, which must get OSM.01010043
	}{
		{name: "two", cases: []string{"DEMO-1", "DEMO-2"}, skipped: []string{"limit: three associations on DEMO-1", "limit: an association over the limit is refused"}},
		{name: "three", cases: []string{"DEMO-1", "DEMO-2", "DEMO-3"}, skipped: []string{"limit: three associations on DEMO-1", "limit: an association over the limit is refused"}},
		{name: "four", cases: demoCases[:4], skipped: []string{"limit: an association over the limit is refused"}},
		{name: "four, one full", cases: demoCases[:4], link: [][2]string{{"DEMO-4", "DEMO-5"}, {"DEMO-4", "DEMO-6"}, {"DEMO-4", "TEAM-1"}},
			skipped: []string{"limit: three associations on DEMO-1"}, refused: "limit: DEMO-1-DEMO-4, over the limit, is refused"},
		{name: "two, one full", cases: []string{"DEMO-1", "DEMO-4"}, link: [][2]string{{"DEMO-1", "DEMO-5"}, {"DEMO-1", "DEMO-6"}, {"DEMO-1", "TEAM-1"}},
			skipped: []string{"the rest of the run"}},
		{name: "three, one full", cases: []string{"DEMO-1", "DEMO-2", "DEMO-4"}, link: [][2]string{{"DEMO-4", "DEMO-5"}, {"DEMO-4", "DEMO-6"}, {"DEMO-4", "TEAM-1"}},
			skipped: []string{"limit: three associations on DEMO-1"}, refused: "limit: DEMO-1-DEMO-4, over the limit, is refused"},
		{name: "already associated", cases: []string{"DEMO-1", "DEMO-2"}, link: [][2]string{{"DEMO-1", "DEMO-2"}}, skipped: []string{"the rest of the run"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := memory.New()
			srv, url := upstream(t, st, nil)
			for _, p := range tt.link {
				if err := store.Link(context.Background(), srv.Store(), p[0], p[1]); err != nil {
					t.Fatal(err)
				}
			}
			before := relations(t, st)
			rep, err := conform.Run(context.Background(), conform.Config{
				Endpoint: url, Credential: conform.Credential{Token: "demo-token"}, Cases: tt.cases, AllowSkip: true,
			})
			if err != nil {
				t.Fatal(err)
			}
			var skipped []string
			for _, c := range rep.Checks {
				if c.Verdict == conform.Skipped && !c.OptIn {
					skipped = append(skipped, c.Name)
					if c.Reason == "" {
						t.Errorf("%s: skipped without a reason", c.Name)
					}
				}
			}
			if !rep.OK() || !slices.Equal(skipped, tt.skipped) {
				t.Errorf("skipped %q, want %q:\n%s", skipped, tt.skipped, text(t, rep))
			}
			if rep.AllowSkip = false; rep.OK() {
				t.Errorf("without AllowSkip, a report with skipped checks is OK")
			}
			if got := relations(t, st); !slices.Equal(got, before) {
				t.Errorf("relations %v, before %v", got, before)
			}
			if tt.refused != "" && !slices.ContainsFunc(rep.Checks, func(c conform.Check) bool {
				return c.Name == tt.refused && c.Verdict == conform.Pass && c.Got.Code == "OSM.01010043"
			}) {
				t.Errorf("no passing check %q with OSM.01010043:\n%s", tt.refused, text(t, rep))
			}
		})
	}
}

// The skip reasons of the limit checks say how many tickets run every
// check, so that a reader knows what to give next time.
func TestSkipReasonsSayWhatIsNeeded(t *testing.T) {
	_, url := upstream(t, nil, nil)
	for _, cases := range [][]string{demoCases[:2], demoCases[:4]} {
		rep, err := run(t, context.Background(), url, cases...)
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, c := range rep.Checks {
			if c.Verdict != conform.Skipped || c.OptIn {
				continue
			}
			n++
			if want := fmt.Sprintf("5 tickets free of associations run every check (%d given)", len(cases)); !strings.HasSuffix(c.Reason, want) {
				t.Errorf("%s: reason %q does not end with %q", c.Name, c.Reason, want)
			}
		}
		if n == 0 || rep.OK() || !strings.Contains(rep.Summary(), "a skipped check fails the run unless -allow-skip") {
			t.Errorf("%d tickets: %d skipped, OK %v, summary %q", len(cases), n, rep.OK(), rep.Summary())
		}
	}
}

// A ticket the user may not read stops the run before anything changes.
func TestUnreadableTicketStopsTheRun(t *testing.T) {
	st := memory.New()
	_, url := upstream(t, st, nil)
	rep, err := run(t, context.Background(), url, "DEMO-1", "OUT-1")
	if err != nil {
		t.Fatal(err)
	}
	last := rep.Checks[len(rep.Checks)-1]
	if rep.OK() || last.Verdict != conform.Skipped || !strings.Contains(last.Reason, "OUT-1") {
		t.Fatalf("report:\n%s", text(t, rep))
	}
	if rep.Checks[1].Verdict != conform.Differs || rep.Checks[1].Got.Code != "OSM.01010002" {
		t.Errorf("list OUT-1: %+v", rep.Checks[1])
	}
	if got := relations(t, st); len(got) != 0 {
		t.Errorf("relations %v", got)
	}
}

// Signed requests work as well as tokens: the reference stub knows the
// same key.
func TestAKSK(t *testing.T) {
	_, url := upstream(t, nil, nil)
	rep, err := conform.Run(context.Background(), conform.Config{
		Endpoint:   url,
		Credential: conform.Credential{AK: "DEMOAK0000000000000001", SK: "demo-secret-key", DomainID: "demo-domain"},
		Cases:      []string{"DEMO-2", "DEMO-3", "DEMO-4", "DEMO-5", "DEMO-6"},
	})
	if err != nil {
		t.Fatal(err)
	}
	if !rep.OK() || rep.Count(conform.Pass) < 20 {
		t.Fatalf("report:\n%s", text(t, rep))
	}
}

func TestConfigErrors(t *testing.T) {
	ok := conform.Config{Endpoint: "http://127.0.0.1:1", Credential: conform.Credential{Token: "t"}, Cases: []string{"A", "B"}}
	tests := []struct {
		name string
		edit func(*conform.Config)
		want string
	}{
		{"one ticket", func(c *conform.Config) { c.Cases = []string{"A"} }, "1 tickets given, want 2 to 5"},
		{"six tickets", func(c *conform.Config) { c.Cases = []string{"A", "B", "C", "D", "E", "F"} }, "6 tickets given"},
		{"twice", func(c *conform.Config) { c.Cases = []string{"A", "A"} }, "ticket A is given twice"},
		{"empty ID", func(c *conform.Config) { c.Cases = []string{"A", ""} }, `ticket "": want 1 to 64 characters`},
		{"no credential", func(c *conform.Config) { c.Credential = conform.Credential{AK: "ak"} }, "no credential"},
		{"no scheme", func(c *conform.Config) { c.Endpoint = "osm.example" }, "want an http:// or https:// URL"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := ok
			tt.edit(&cfg)
			rep, err := conform.Run(context.Background(), cfg)
			if !errors.Is(err, conform.ErrConfig) || !strings.Contains(err.Error(), tt.want) || rep != nil {
				t.Errorf("err = %v, want ErrConfig with %q", err, tt.want)
			}
		})
	}
}

func text(t *testing.T, rep *conform.Report) string {
	t.Helper()
	var sb strings.Builder
	if err := rep.Write(&sb, "text"); err != nil {
		t.Fatal(err)
	}
	return sb.String()
}

// With -group, a teammate's ticket can take part: group_id goes with every
// create and delete.
func TestGroup(t *testing.T) {
	st := memory.New()
	_, url := upstream(t, st, nil)
	rep, err := conform.Run(context.Background(), conform.Config{
		Endpoint: url, Credential: conform.Credential{Token: "demo-token"}, Group: "team",
		Cases: []string{"DEMO-1", "TEAM-1"}, AllowSkip: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	if i := slices.IndexFunc(rep.Checks, func(c conform.Check) bool { return c.Name == "create DEMO-1-TEAM-1" }); !rep.OK() || i < 0 ||
		rep.Checks[i].Request != `POST /v2/servicerequest/cases/DEMO-1/relations {"related_id_list":["TEAM-1"],"group_id":"team"}` {
		t.Fatalf("report:\n%s", text(t, rep))
	}
	// A teammate's ticket is read through the group, too.
	for name, want := range map[string]string{
		"show TEAM-1":                      "GET /v2/servicerequest/cases/TEAM-1?group_id=team",
		"messages of TEAM-1":               "GET /v2/servicerequest/cases/TEAM-1/messages?group_id=team",
		"list tickets: incident_id TEAM-1": "GET /v2/servicerequest/cases?group_id=team&incident_id=TEAM-1",
	} {
		i := slices.IndexFunc(rep.Checks, func(c conform.Check) bool { return c.Name == name })
		if i < 0 || rep.Checks[i].Request != want || rep.Checks[i].Got.Code != "" {
			t.Errorf("%s: not %q with a success:\n%s", name, want, text(t, rep))
		}
	}
	if got := relations(t, st); len(got) != 0 {
		t.Errorf("left behind: %v", got)
	}
}

package sqlite_test

import (
	"database/sql"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	_ "modernc.org/sqlite"

	"github.com/osmstub/osmstub/server/store"
	"github.com/osmstub/osmstub/server/store/sqlite"
	"github.com/osmstub/osmstub/server/store/storetest"
)

func open(t *testing.T, path string) *sqlite.Store {
	t.Helper()
	s, err := sqlite.Open(t.Context(), path)
	if err != nil {
		t.Fatalf("Open(%s): %v", path, err)
	}
	return s
}

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store {
		return open(t, filepath.Join(t.TempDir(), "osm.db"))
	})
}

// TestPragmas checks the settings the store's connections run with.
func TestPragmas(t *testing.T) {
	s := open(t, filepath.Join(t.TempDir(), "osm.db"))
	defer s.Close()
	for _, c := range []struct{ pragma, writer, reader string }{
		{"journal_mode", "wal", "wal"},
		{"synchronous", "2", "2"}, // FULL
		{"foreign_keys", "1", "1"},
		{"busy_timeout", "10000", "10000"},
		{"query_only", "0", "1"},
	} {
		w, r, err := s.Pragmas(t.Context(), c.pragma)
		if err != nil || w != c.writer || r != c.reader {
			t.Errorf("PRAGMA %s = %q (writer), %q (reader), %v; want %q, %q", c.pragma, w, r, err, c.writer, c.reader)
		}
	}
}

// TestReopenKeepsState: what one Store committed, the next one on the same
// file sees; opening twice migrates nothing twice and loads no fixtures
// into a store that has data.
func TestReopenKeepsState(t *testing.T) {
	path := filepath.Join(t.TempDir(), "osm.db")
	d := store.Dataset{
		Users:   []store.User{{Name: "alice", Tokens: []string{"tok"}}},
		Tickets: []store.Ticket{{ID: "A", Owner: "alice", Description: "a"}, {ID: "B", Owner: "alice", Description: "b"}},
	}
	s := open(t, path)
	if loaded, err := store.Load(t.Context(), s, d, false); err != nil || !loaded {
		t.Fatalf("Load = %v, %v", loaded, err)
	}
	if err := store.Associate(t.Context(), s, "alice", "A", []string{"B"}, ""); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		s = open(t, path)
		if loaded, err := store.Load(t.Context(), s, d, false); err != nil || loaded {
			t.Errorf("Load into the reopened store = %v, %v; want false, nil", loaded, err)
		}
		got, err := store.List(t.Context(), s, "alice", "B")
		if err != nil || len(got) != 1 || got[0].CaseID != "A" {
			t.Errorf("List(B) after reopening = %+v, %v", got, err)
		}
		s.Close()
	}
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var n, v int
	if err := db.QueryRow(`SELECT COUNT(*), MAX(version) FROM schema_migrations`).Scan(&n, &v); err != nil {
		t.Fatal(err)
	}
	if n != len(store.Migrations) || v != len(store.Migrations) {
		t.Errorf("schema_migrations has %d rows, version %d; want %d", n, v, len(store.Migrations))
	}
}

// TestOpenConcurrently: several stores opening one new file at once all
// succeed, and the schema is there once.
func TestOpenConcurrently(t *testing.T) {
	path := filepath.Join(t.TempDir(), "osm.db")
	var wg sync.WaitGroup
	errs := make([]error, 8)
	for i := range errs {
		wg.Go(func() {
			s, err := sqlite.Open(t.Context(), path)
			if err == nil {
				_, err = store.Load(t.Context(), s, store.Dataset{Users: []store.User{{Name: "u"}}}, false)
				err = errors.Join(err, s.Close())
			}
			errs[i] = err
		})
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("Open #%d: %v", i, err)
		}
	}
}

func TestNewerSchemaRefused(t *testing.T) {
	path := filepath.Join(t.TempDir(), "osm.db")
	open(t, path).Close()
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`INSERT INTO schema_migrations (version, applied_at) VALUES (999, 'later')`); err != nil {
		t.Fatal(err)
	}
	db.Close()
	_, err = sqlite.Open(t.Context(), path)
	if err == nil || !strings.Contains(err.Error(), "newer") {
		t.Errorf("Open of a database from a newer osm-stub: %v, want an error saying so", err)
	}
}

func TestBadPaths(t *testing.T) {
	for _, p := range []string{"", ":memory:", "file:x.db", "x.db?mode=memory", filepath.Join(t.TempDir(), "no", "such", "dir", "x.db")} {
		if s, err := sqlite.Open(t.Context(), p); err == nil {
			s.Close()
			t.Errorf("Open(%q) succeeded", p)
		}
	}
}

// TestUnwritable: a path that cannot be a writable database file fails
// Open, at start, saying why.
func TestUnwritable(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "file")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	cases := []struct{ name, path, want string }{
		{"a directory", dir, "is a directory"},
		{"a directory with a slash", dir + "/", "is a directory"},
		{"under a file", filepath.Join(file, "x.db"), "is not a directory"},
	}
	if os.Geteuid() != 0 { // root writes whatever the permission bits say
		roDir := filepath.Join(dir, "ro-dir")
		roFile := filepath.Join(dir, "ro-file.db")
		open(t, roFile).Close()
		if err := os.Mkdir(roDir, 0o555); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(roFile, 0o444); err != nil {
			t.Fatal(err)
		}
		cases = append(cases,
			struct{ name, path, want string }{"in a read-only directory", filepath.Join(roDir, "x.db"), "permission denied"},
			struct{ name, path, want string }{"a read-only file", roFile, "permission denied"})
	}
	for _, c := range cases {
		s, err := sqlite.Open(t.Context(), c.path)
		if err == nil {
			s.Close()
			t.Errorf("%s: Open(%s) succeeded", c.name, c.path)
			continue
		}
		if !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: Open(%s) = %v; want it to say %q", c.name, c.path, err, c.want)
		}
	}
}

// TestReadOnlyDatabaseFailsAtStart: a database SQLite can only read (as on
// a read-only mount, which the permission checks may not see) fails the
// schema step with a probe write, not the first request.
func TestReadOnlyDatabaseFailsAtStart(t *testing.T) {
	path := filepath.Join(t.TempDir(), "osm.db")
	open(t, path).Close()
	db, err := sql.Open("sqlite", "file:"+path+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	err = sqlite.Migrate(t.Context(), db)
	if err == nil || !strings.Contains(err.Error(), "cannot be written") || !strings.Contains(err.Error(), "readonly") {
		t.Errorf("migrate on a read-only database = %v; want a refusal to write", err)
	}
}

// TestUpgradeFromV010: a database file written by v0.1.0 opens, migrates in
// place and keeps every user, ticket and relation.
func TestUpgradeFromV010(t *testing.T) {
	path := filepath.Join(t.TempDir(), "osm.db")
	// v0.1.0's schema, made by this package's own migrate knowing only
	// migration 1. Not parallel: store.Migrations is the package's global.
	all := store.Migrations
	store.Migrations = all[:1]
	s, err := sqlite.Open(t.Context(), path)
	store.Migrations = all
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(storetest.V010Rows); err != nil {
		t.Fatal(err)
	}
	db.Close()

	s = open(t, path)
	defer s.Close()
	storetest.CheckUpgraded(t, s)
	db, err = sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var v int
	if err := db.QueryRow(`SELECT MAX(version) FROM schema_migrations`).Scan(&v); err != nil || v != len(all) {
		t.Errorf("schema version %d, %v; want %d", v, err, len(all))
	}
}

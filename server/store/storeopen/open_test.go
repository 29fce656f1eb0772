package storeopen_test

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/osmstub/osmstub/internal/pgtest"
	"github.com/osmstub/osmstub/server/store"
	"github.com/osmstub/osmstub/server/store/memory"
	"github.com/osmstub/osmstub/server/store/postgres"
	"github.com/osmstub/osmstub/server/store/sqlite"
	"github.com/osmstub/osmstub/server/store/storeopen"
)

func TestOpenMemory(t *testing.T) {
	s, err := storeopen.Open(t.Context(), "memory")
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, ok := s.(*memory.Store); !ok {
		t.Errorf("Open(memory) = %T", s)
	}
}

func TestOpenSQLite(t *testing.T) {
	path := filepath.Join(t.TempDir(), "x.db")
	s, err := storeopen.Open(t.Context(), "sqlite:"+path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if sq, ok := s.(*sqlite.Store); !ok || sq.Path() != path {
		t.Errorf("Open(sqlite:%s) = %T %+v", path, s, s)
	}
}

func TestOpenPostgres(t *testing.T) {
	url := pgtest.Schema(t)
	for _, spec := range []string{url, strings.Replace(url, "postgres://", "postgresql://", 1)} {
		s, err := storeopen.Open(t.Context(), spec)
		if err != nil {
			t.Fatal(err)
		}
		if _, ok := s.(*postgres.Store); !ok {
			t.Errorf("Open(%s) = %T", spec, s)
		}
		if _, err := store.Load(t.Context(), s, store.Dataset{Users: []store.User{{Name: "u"}}}, false); err != nil {
			t.Error(err)
		}
		s.Close()
	}
}

func TestBadSpecs(t *testing.T) {
	cases := []struct{ spec, want string }{
		{"", "empty spec; want memory, sqlite:PATH"},
		{"Memory", "unknown kind"},
		{"mem", "unknown kind"},
		{"sqlite:", "sqlite needs a file path"},
		{"sqlite", "unknown kind"},
		{"sqlite::memory:", "plain file path"},
		{"sqlite:" + filepath.Join(t.TempDir(), "missing", "x.db"), "directory of"},
		{"postgres://", "names no host"},
		{"postgres://user:secret@%zz/db", "not a valid PostgreSQL URL"},
		// A password with a raw '/', '?', '#' or '"': the parser's reason
		// would quote part of it.
		{"postgres://user:sec/ret@h/db", "postgres://xxxxx: not a valid PostgreSQL URL: percent-encode"},
		{"postgres://user:12/secret@h/db", "postgres://xxxxx: not a valid"},
		{"postgres://user:12?secret@h/db", "postgres://xxxxx: not a valid"},
		{"postgres://user:12#secret@h/db", "postgres://xxxxx: not a valid"},
		{`postgres://user:"secret"@h/db`, "postgres://xxxxx: not a valid"},
		{"postgres://user:se cret@h/db", "postgres://xxxxx: not a valid"},
		{" postgres://user:secret@h/db", "unknown kind"},
		{"postgres:/user:secret@h/db", `store "postgres:xxxxx@h/db": unknown kind`},
		{"postgres:/user:secret@h/db?sslmode=disable", `store "postgres:xxxxx@h/db?sslmode=disable": unknown kind`},
		{"postgres//user:secret@h/db?a=b", `store "xxxxx@h/db?a=b": unknown kind`},
		{"host=h password=se cret dbname=db", `store "host=h password=xxxxx xxxxx dbname=db": unknown kind`},
		{"mysql://user:secret@host/db", "unknown kind"},
		{"redis:localhost", "unknown kind"},
		// Nothing listens there: a clear connection error, quickly.
		{"postgres://user:secret@127.0.0.1:1/db?connect_timeout=2", "store postgres://user:xxxxx@127.0.0.1:1/db"},
		{"postgres://user@127.0.0.1:1/db?password=secret&connect_timeout=2", "store postgres://user@127.0.0.1:1/db?password=xxxxx"},
		{"postgres://user@127.0.0.1:1/db?sslpassword=secret&sslmode=disable&connect_timeout=2", "sslpassword=xxxxx"},
		{"postgres://user@127.0.0.1:1/db?password=secret&connect_timeout=bad", "password=xxxxx"},
		{"host=127.0.0.1 password='a secret' dbname=db", "password=xxxxx"},
	}
	for _, c := range cases {
		s, err := storeopen.Open(t.Context(), c.spec)
		if err == nil {
			s.Close()
			t.Errorf("Open(%q) succeeded", c.spec)
			continue
		}
		if !strings.Contains(err.Error(), c.want) {
			t.Errorf("Open(%q) = %v; want it to say %q", c.spec, err, c.want)
		}
		if strings.Contains(err.Error(), "secret") || strings.Contains(err.Error(), "cret") {
			t.Errorf("Open(%q) = %v: shows the password", c.spec, err)
		}
		if strings.Contains(c.want, "not a valid") && !errors.Is(err, storeopen.ErrBadURL) {
			t.Errorf("Open(%q) = %v: not ErrBadURL", c.spec, err)
		}
	}
}

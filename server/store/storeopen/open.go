// Package storeopen opens a store.Store from a one-string spec, as the
// osm-stub binary's -store flag (env OSM_STUB_STORE) takes it:
//
//	memory                         in memory, gone when the process ends (the default)
//	sqlite:PATH                    a SQLite database file, created if missing
//	postgres://USER@HOST/DB?...    a PostgreSQL database (postgresql:// too);
//	                               pgx's parameters apply, e.g. search_path, pool_max_conns
//
// It is its own package so that package store need not import its
// implementations (they import it).
package storeopen

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"

	"github.com/osmstub/osmstub/server/store"
	"github.com/osmstub/osmstub/server/store/memory"
	"github.com/osmstub/osmstub/server/store/postgres"
	"github.com/osmstub/osmstub/server/store/sqlite"
)

// Forms lists the accepted specs, for help texts and error messages.
const Forms = "memory, sqlite:PATH, or postgres://USER@HOST:PORT/DB (postgresql:// too)"

// Open opens the store spec names; see the package doc. A SQL store's
// schema is created or migrated here.
func Open(ctx context.Context, spec string) (store.Store, error) {
	kind, err := Kind(spec)
	if err != nil {
		return nil, err
	}
	switch kind {
	case "memory":
		return memory.New(), nil
	case "sqlite":
		s, err := sqlite.Open(ctx, strings.TrimPrefix(spec, "sqlite:"))
		if err != nil {
			return nil, fmt.Errorf("store %q: %w", spec, err)
		}
		return s, nil
	default:
		s, err := postgres.Open(ctx, spec)
		if err != nil {
			return nil, fmt.Errorf("store %s: %w", Redact(spec), redactError(err, spec))
		}
		return s, nil
	}
}

// ErrBadURL is Kind's refusal of a PostgreSQL URL that does not parse.
var ErrBadURL = errors.New("not a valid PostgreSQL URL")

// Kind checks spec's form and returns "memory", "sqlite" or "postgres".
func Kind(spec string) (string, error) {
	switch {
	case spec == "memory":
		return "memory", nil
	case strings.HasPrefix(spec, "sqlite:"):
		if strings.TrimPrefix(spec, "sqlite:") == "" {
			return "", fmt.Errorf("store %q: sqlite needs a file path, e.g. sqlite:./osm-stub.db", spec)
		}
		return "sqlite", nil
	case strings.HasPrefix(spec, "postgres://"), strings.HasPrefix(spec, "postgresql://"):
		// The parser's reason is not given: it quotes the part it
		// stumbled on, which may be part of the password.
		u, err := url.Parse(spec)
		if err != nil || misplacedAt(u) {
			return "", fmt.Errorf("store %s: %w: percent-encode every '@', ':', '/', '?', '#', '%%' and space in the user name, password and parameters (%%40 for '@')", Redact(spec), ErrBadURL)
		}
		if u.Host == "" && u.Query().Get("host") == "" {
			return "", fmt.Errorf("store %s: the PostgreSQL URL names no host", Redact(spec))
		}
		return "postgres", nil
	case spec == "":
		return "", fmt.Errorf("store: empty spec; want %s", Forms)
	}
	return "", fmt.Errorf("store %q: unknown kind; want %s", Redact(spec), Forms)
}

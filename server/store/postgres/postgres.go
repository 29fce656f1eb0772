// Package postgres is the store.Store kept in a PostgreSQL database, on
// github.com/jackc/pgx/v5 (pgxpool). Several stub processes may share one
// database: the association rules hold across all of them.
//
// The rules are not here: they run, unchanged, inside the transactions this
// package supplies (store/rules.go).
//
// # Concurrency: SERIALIZABLE transactions, retried
//
// Every Update runs at isolation level SERIALIZABLE and is re-run from the
// start when PostgreSQL aborts it with serialization_failure (40001) or
// deadlock_detected (40P01). PostgreSQL's serializable snapshot isolation
// then guarantees that the committed Updates of every process have the
// effect of some one-at-a-time order; since each rule keeps the invariants
// (at most three associations per ticket, every association mutual,
// multi-ID creates all or nothing) when run alone, they hold whatever runs
// at once. Two Updates racing for a ticket's last slot both read its
// relations and both insert: one commits, the other fails with 40001, is
// re-run, sees three and is refused with the limit.
//
// Row locks (SELECT ... FOR UPDATE on the tickets touched) were the other
// way. They would need every Update to lock its tickets in one global order
// to avoid deadlocks, but the rules ask for tickets one at a time, in
// request order, and the Tx surface does not know the set up front; they
// would not cover Load (two stubs starting on an empty database both see it
// empty) or the user tables without more locks; and a rule added later
// would have to remember to lock. Serializable isolation protects every
// read of every Update, including ones nobody has written yet, at the price
// of re-running an Update that lost a race: cheap here, since an Update is
// a handful of indexed statements, and the retry loop backs off with jitter.
// That is why store.List and store.Load reset their outputs at the start of
// fn.
//
// View runs at REPEATABLE READ, READ ONLY: one snapshot, which under SSI
// is the state after some serial order of the Updates committed before it,
// so it satisfies the invariants; a read-only snapshot is never aborted.
//
// # Connection loss
//
// Nothing holds a connection between calls: each Update or View acquires
// one from the pool and returns it. When the database goes away, calls fail
// with the connection's error, wrapped in store.ErrUnavailable (the
// server answers 503 APIGW.0202 with Retry-After), and the
// pool discards the broken connections; when it comes back, the next call
// connects afresh. A call that failed before anything reached the server
// (pgconn.SafeToRetry, e.g. a connection that died while idle) is retried.
package postgres

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/osmstub/osmstub/server/store"
)

// MaxAttempts bounds how often one Update or View is run before its last
// serialization failure is returned.
const MaxAttempts = 100

// DefaultConnectTimeout applies when the connection string sets none.
const DefaultConnectTimeout = 5 * time.Second

// Store is the PostgreSQL backend. Open one with Open.
type Store struct {
	pool *pgxpool.Pool
}

var _ store.Store = (*Store)(nil)

// Open connects to the database that connString names (a postgres:// URL or
// a keyword/value string; pgxpool's pool_* parameters apply) and brings its
// schema up to date. The schema's tables live in the first schema of the
// search_path (set it with search_path=... in the connection string).
func Open(ctx context.Context, connString string) (*Store, error) {
	cfg, err := pgxpool.ParseConfig(connString)
	if err != nil {
		return nil, fmt.Errorf("postgres: %w", err)
	}
	if cfg.ConnConfig.ConnectTimeout == 0 {
		cfg.ConnConfig.ConnectTimeout = DefaultConnectTimeout
	}
	if _, ok := cfg.ConnConfig.RuntimeParams["application_name"]; !ok {
		cfg.ConnConfig.RuntimeParams["application_name"] = "osm-stub"
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("postgres: %w", err)
	}
	if err := migrate(ctx, pool); err != nil {
		pool.Close()
		return nil, fmt.Errorf("postgres: %w", err)
	}
	return &Store{pool: pool}, nil
}

// Pool returns the connection pool, for tests and tools.
func (s *Store) Pool() *pgxpool.Pool { return s.pool }

// Update runs fn in a SERIALIZABLE transaction, re-running it on a
// serialization failure or deadlock, and commits if fn returns nil.
func (s *Store) Update(ctx context.Context, fn func(store.Tx) error) error {
	return s.run(ctx, pgx.TxOptions{IsoLevel: pgx.Serializable, AccessMode: pgx.ReadWrite}, fn)
}

// View runs fn in a read-only REPEATABLE READ transaction.
func (s *Store) View(ctx context.Context, fn func(store.Tx) error) error {
	return s.run(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}, fn)
}

func (s *Store) run(ctx context.Context, opts pgx.TxOptions, fn func(store.Tx) error) error {
	for attempt := 1; ; attempt++ {
		err := s.try(ctx, opts, fn)
		if err == nil || !retryable(err) || attempt == MaxAttempts {
			if err != nil && ctx.Err() == nil && lostConnection(err) {
				err = fmt.Errorf("%w: %w", store.ErrUnavailable, err)
			}
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(backoff(attempt)):
		}
	}
}

// retryable: the transaction lost a race (it can be re-run as it is), or
// it failed before anything reached the server.
func retryable(err error) bool {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe.Code == "40001" || pe.Code == "40P01"
	}
	return pgconn.SafeToRetry(err)
}

// lostConnection: err says the database could not be reached or the
// connection broke, rather than that it refused a statement.
func lostConnection(err error) bool {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		// Class 08: connection exception; 57P01-57P03: the server is
		// shutting down, crashed or not yet accepting connections.
		return strings.HasPrefix(pe.Code, "08") || pe.Code == "57P01" || pe.Code == "57P02" || pe.Code == "57P03"
	}
	var ce *pgconn.ConnectError
	var ne net.Error
	return errors.As(err, &ce) || errors.As(err, &ne) || errors.Is(err, pgconn.ErrConnClosed) ||
		errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || pgconn.SafeToRetry(err) || pgconn.Timeout(err)
}

// backoff grows from about 1ms to about 50ms, with jitter, so that Updates
// that keep colliding spread out.
func backoff(attempt int) time.Duration {
	d := time.Millisecond << min(attempt-1, 6)
	d = min(d, 50*time.Millisecond)
	return d/2 + rand.N(d)
}

// try runs fn once in one transaction.
func (s *Store) try(ctx context.Context, opts pgx.TxOptions, fn func(store.Tx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	pgTx, err := s.pool.BeginTx(ctx, opts)
	if err != nil {
		return fmt.Errorf("postgres: begin: %w", err)
	}
	// Ends the transaction unless Commit has: on an error, or a panic that
	// goes on. Also when ctx is done, so that the connection goes back clean.
	defer pgTx.Rollback(context.WithoutCancel(ctx))
	t := &tx{ctx: ctx, tx: pgTx}
	if err := fn(t); err != nil {
		return err
	}
	if err := t.flush(); err != nil {
		return err
	}
	if err := pgTx.Commit(ctx); err != nil {
		return fmt.Errorf("postgres: commit: %w", err)
	}
	return nil
}

// Close closes the pool.
func (s *Store) Close() error {
	s.pool.Close()
	return nil
}

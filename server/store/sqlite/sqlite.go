// Package sqlite is the store.Store kept in one SQLite database file, on
// modernc.org/sqlite (pure Go, no cgo).
//
// The association rules are not here: they run, unchanged, inside the
// transactions this package supplies (store/rules.go). Every Update is one
// SQLite write transaction (BEGIN IMMEDIATE), every View one read
// transaction, so a rule sees one consistent state and a refused request
// leaves no trace.
//
// Connections. A Store holds two database/sql pools on the same file:
//
//   - the writer: exactly one connection, whose transactions start with BEGIN
//     IMMEDIATE (the DSN's _txlock). Concurrent Updates of this process queue
//     in database/sql for that connection (honouring their contexts), so they
//     never meet inside SQLite and never fail with SQLITE_BUSY. A write lock
//     held by another process (a second stub on the same file, or the stub
//     that ran before a restart) is waited for by SQLite for busy_timeout.
//     Taking the write lock at BEGIN, rather than at the first write, matters:
//     a deferred transaction that reads and then tries to write could only be
//     failed with SQLITE_BUSY (its snapshot is stale), whereas BEGIN IMMEDIATE
//     just waits.
//   - the readers: a few connections with query_only on, for View. In WAL mode
//     readers neither block the writer nor wait for it; each read transaction
//     sees the state as of its first statement.
//
// Durability. journal_mode=WAL and synchronous=FULL: a COMMIT returns only
// after its WAL frames have been written and fsync'ed. Surviving a killed
// process needs only the write(2) (the kernel keeps the page cache), which
// NORMAL would also give; FULL adds that an acknowledged write survives an OS
// crash or power loss too, which is what a user of a "persistent" store
// expects, at the price of one fsync per Update. A stub that wants speed over
// that can use the memory store.
package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	sqlitedriver "modernc.org/sqlite" // also registers the "sqlite" database/sql driver

	"github.com/osmstub/osmstub/server/store"
)

// BusyTimeout is how long a transaction waits for a lock that another
// process holds before it fails.
const BusyTimeout = 10 * time.Second

// readers is the size of the read-only pool.
const readers = 4

// Store is the SQLite backend. Open one with Open.
type Store struct {
	path   string
	writer *sql.DB
	reader *sql.DB
}

var _ store.Store = (*Store)(nil)

// Open opens (creating if needed) the database file at path and brings its
// schema up to date. Several processes may open the same file.
func Open(ctx context.Context, path string) (*Store, error) {
	if path == "" {
		return nil, errors.New("sqlite: empty database path")
	}
	if path == ":memory:" || strings.HasPrefix(path, "file:") || strings.Contains(path, "?") {
		return nil, fmt.Errorf("sqlite: %q: want a plain file path, without file: or ? (for an in-memory store use the memory store)", path)
	}
	if err := checkWritable(path); err != nil {
		return nil, fmt.Errorf("sqlite: %w", err)
	}
	if err := create(ctx, path); err != nil {
		return nil, fmt.Errorf("sqlite: %s: %w", path, err)
	}
	writer, err := sql.Open("sqlite", dsn(path, false))
	if err != nil {
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	// One connection, kept open forever: all writes of this process go
	// through it, one transaction at a time.
	writer.SetMaxOpenConns(1)
	s := &Store{path: path, writer: writer}
	if err := migrate(ctx, writer); err != nil {
		writer.Close()
		return nil, fmt.Errorf("sqlite: %s: %w", path, err)
	}
	// The readers are opened after the writer has made the file a WAL
	// database with its schema.
	reader, err := sql.Open("sqlite", dsn(path, true))
	if err != nil {
		writer.Close()
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	reader.SetMaxOpenConns(readers)
	reader.SetMaxIdleConns(readers)
	s.reader = reader
	if err := reader.PingContext(ctx); err != nil {
		s.Close()
		return nil, fmt.Errorf("sqlite: %s: %w", path, err)
	}
	return s, nil
}

// checkWritable fails, with the reason in words the user can act on, when
// path cannot be a database file this process writes: SQLite itself would
// say only "unable to open database file", or open a read-only file
// read-only and fail at the first write.
func checkWritable(path string) error {
	dir := filepath.Dir(path)
	fi, err := os.Stat(dir)
	if err != nil {
		return fmt.Errorf("directory of %s: %w", path, err)
	}
	if !fi.IsDir() {
		return fmt.Errorf("directory of %s: %s is not a directory", path, dir)
	}
	// SQLite creates path-wal and path-shm beside the file.
	if err := canWrite(dir); err != nil {
		return fmt.Errorf("cannot write in the directory of %s: %w", path, err)
	}
	fi, err = os.Stat(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil
	case err != nil:
		return err
	case fi.IsDir():
		return fmt.Errorf("%s is a directory, not a database file", path)
	}
	if err := canWrite(path); err != nil {
		return fmt.Errorf("cannot write %s: %w", path, err)
	}
	return nil
}

// create makes a missing database file appear already in WAL mode with its
// schema, atomically: it is built under a temporary name in the same
// directory and hard-linked into place, and whoever links first wins.
//
// Why: switching a file to WAL (PRAGMA journal_mode, run as each connection
// opens) reads the header and then upgrades to a write lock, an upgrade
// SQLite does not wait for (busy_timeout is not consulted, as waiting could
// deadlock): two processes converting one new file at once could fail
// with SQLITE_BUSY. On a file that is already WAL the pragma writes
// nothing, so only the first creation could race, and creating by link
// takes that race away. A file system without hard links falls back to
// converting in place.
func create(ctx context.Context, path string) error {
	if _, err := os.Lstat(path); !errors.Is(err, fs.ErrNotExist) {
		return nil // there, or not ours to create: Open reports it
	}
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".new-*")
	if err != nil {
		return fmt.Errorf("cannot create a database file in %s: %w", filepath.Dir(path), errors.Unwrap(err))
	}
	tmp := f.Name()
	f.Close()
	defer func() {
		for _, suffix := range []string{"", "-wal", "-shm", "-journal"} {
			_ = os.Remove(tmp + suffix)
		}
	}()
	db, err := sql.Open("sqlite", dsn(tmp, false))
	if err != nil {
		return fmt.Errorf("create: %w", err)
	}
	err = migrate(ctx, db)
	if cerr := db.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("create: %w", cerr)
	}
	if err != nil {
		return err
	}
	// fs.ErrExist: another process won, and its file is as good. Another
	// error (no hard links here): Open creates and converts the file itself.
	_ = os.Link(tmp, path)
	return nil
}

// dsn is the driver's connection string. The pragmas are run on every new
// connection of the pool.
func dsn(path string, readOnly bool) string {
	q := url.Values{}
	q.Add("_pragma", fmt.Sprintf("busy_timeout(%d)", BusyTimeout.Milliseconds()))
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", "synchronous(FULL)")
	q.Add("_pragma", "foreign_keys(1)")
	if readOnly {
		q.Add("_pragma", "query_only(1)")
	} else {
		q.Set("_txlock", "immediate")
	}
	return path + "?" + q.Encode() // a plain file name, not a file: URI
}

// busy: err is SQLITE_BUSY or SQLITE_LOCKED (primary codes 5 and 6).
func busy(err error) bool {
	var se *sqlitedriver.Error
	return errors.As(err, &se) && (se.Code()&0xff == 5 || se.Code()&0xff == 6)
}

// Path returns the database file's path.
func (s *Store) Path() string { return s.path }

// Update runs fn in one write transaction (BEGIN IMMEDIATE) and commits it
// if fn returns nil; otherwise, or if fn panics, it rolls back.
func (s *Store) Update(ctx context.Context, fn func(store.Tx) error) error {
	return s.run(ctx, s.writer, false, fn)
}

// View runs fn in one read transaction.
func (s *Store) View(ctx context.Context, fn func(store.Tx) error) error {
	return s.run(ctx, s.reader, true, fn)
}

func (s *Store) run(ctx context.Context, db *sql.DB, readOnly bool, fn func(store.Tx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	sqlTx, err := db.BeginTx(ctx, &sql.TxOptions{ReadOnly: readOnly})
	if err != nil {
		if busy(err) {
			// Another process held the write lock for all of BusyTimeout.
			return fmt.Errorf("%w: sqlite: begin: %w", store.ErrUnavailable, err)
		}
		return fmt.Errorf("sqlite: begin: %w", err)
	}
	// Ends the transaction unless Commit has: on an error, a panic (which
	// goes on), or a View, which has nothing to keep.
	defer sqlTx.Rollback()
	if err := fn(&tx{ctx: ctx, tx: sqlTx}); err != nil || readOnly {
		return err
	}
	if err := sqlTx.Commit(); err != nil {
		return fmt.Errorf("sqlite: commit: %w", err)
	}
	return nil
}

// Close closes both pools. A WAL checkpoint runs when the last connection
// to the file closes.
func (s *Store) Close() error {
	return errors.Join(s.reader.Close(), s.writer.Close())
}

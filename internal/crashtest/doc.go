// Package crashtest holds process-level tests of the persistent stores: they
// build the osm-stub binary, run it on a SQLite file or a PostgreSQL
// database, and kill it (SIGKILL) mid-stream, run two of it on one
// database, or take its database away, and check the state it keeps.
//
// The package has no code of its own; `go test ./internal/crashtest` runs
// it. PostgreSQL tests need OSM_STUB_TEST_POSTGRES (see internal/pgtest).
package crashtest

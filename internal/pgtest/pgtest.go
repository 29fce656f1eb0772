// Package pgtest gives tests a PostgreSQL schema of their own on the server
// that OSM_STUB_TEST_POSTGRES names (a postgres:// URL), and skips them when
// it is not set or under -short. .ci/run starts a throw-away server and sets it.
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// EnvVar names the server the PostgreSQL tests use.
const EnvVar = "OSM_STUB_TEST_POSTGRES"

// ServerURL returns the server's URL, or skips t.
func ServerURL(t testing.TB) string {
	t.Helper()
	if testing.Short() {
		t.Skip("PostgreSQL tests skipped under -short")
	}
	u := os.Getenv(EnvVar)
	if u == "" {
		t.Skipf("PostgreSQL tests skipped: set %s to a server URL, e.g. postgres://postgres@127.0.0.1:25432/postgres (.ci/run starts one)", EnvVar)
	}
	return u
}

// Schema creates a uniquely named, empty schema on the server, drops it
// when the test ends, and returns a connection URL whose search_path is that
// schema. It skips t if no server is set.
func Schema(t testing.TB) string {
	t.Helper()
	server := ServerURL(t)
	var b [6]byte
	_, _ = rand.Read(b[:])
	name := "osmstub_test_" + hex.EncodeToString(b[:])
	exec(t, server, `CREATE SCHEMA `+name)
	t.Cleanup(func() { exec(t, server, `DROP SCHEMA `+name+` CASCADE`) })
	return WithParam(t, server, "search_path", name)
}

// WithParam returns the URL u with a query parameter set.
func WithParam(t testing.TB, u, key, value string) string {
	t.Helper()
	parsed, err := url.Parse(u)
	if err != nil || (parsed.Scheme != "postgres" && parsed.Scheme != "postgresql") {
		t.Fatalf("%s: want a postgres:// URL, got %q", EnvVar, u)
	}
	q := parsed.Query()
	q.Set(key, value)
	parsed.RawQuery = q.Encode()
	return parsed.String()
}

func exec(t testing.TB, u, sql string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, u)
	if err != nil {
		t.Fatalf("connect to %s: %v", redact(u), err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, sql); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
}

func redact(u string) string {
	if p, err := url.Parse(u); err == nil {
		return p.Redacted()
	}
	return "the server of " + EnvVar
}

package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// announceWriter is a log destination that reports the first line saying
// where the stub listens.
type announceWriter struct {
	syncBuffer
	once      sync.Once
	listening chan struct{}
}

func (w *announceWriter) Write(p []byte) (int, error) {
	n, err := w.syncBuffer.Write(p)
	if strings.Contains(w.String(), "osm-stub listening") {
		w.once.Do(func() { close(w.listening) })
	}
	return n, err
}

// runUntilListening runs the stub with args until it listens, then stops
// it, and returns its log.
func runUntilListening(t *testing.T, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	logs := &announceWriter{listening: make(chan struct{})}
	done := make(chan error, 1)
	go func() { done <- run(ctx, append([]string{"-addr", "127.0.0.1:0"}, args...), logs) }()
	select {
	case <-logs.listening:
	case err := <-done:
		t.Fatalf("run %v: %v before listening:\n%s", args, err, logs.String())
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("run %v: %v", args, err)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("run did not return after its context ended")
	}
	return logs.String()
}

// TestListeningAtEveryLevel: with port 0 the chosen URL is the only way to
// reach the stub, so it is logged whatever -log-level says.
func TestListeningAtEveryLevel(t *testing.T) {
	for _, level := range []string{"debug", "info", "warn", "error"} {
		out := runUntilListening(t, "-log-level", level)
		if !strings.Contains(out, "url=http://127.0.0.1:") {
			t.Errorf("-log-level %s: no URL in the log:\n%s", level, out)
		}
		if level == "error" && strings.Contains(out, "store opened") {
			t.Errorf("-log-level error logged info lines:\n%s", out)
		}
	}
}

// TestFixturesNotReloaded: fixtures given for a store that already holds
// data are not loaded, and the log says so.
func TestFixturesNotReloaded(t *testing.T) {
	dir := t.TempDir()
	fx := filepath.Join(dir, "fixtures.yaml")
	if err := os.WriteFile(fx, []byte("users: [{name: a, tokens: [t]}]\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	args := []string{"-store", "sqlite:" + filepath.Join(dir, "osm.db"), "-fixtures", fx}
	if out := runUntilListening(t, args...); strings.Contains(out, "fixtures not loaded") {
		t.Errorf("first start, on an empty store, did not load the fixtures:\n%s", out)
	}
	if out := runUntilListening(t, args...); !strings.Contains(out, "level=WARN msg=\"fixtures not loaded: the store already holds data\"") {
		t.Errorf("second start does not say the fixtures were not loaded:\n%s", out)
	}
}

// TestStoreSecretsNotShown: a PostgreSQL password, in any form the -store
// flag takes, is in neither the error nor the log.
func TestStoreSecretsNotShown(t *testing.T) {
	for _, spec := range []string{
		"postgres://u:secret@127.0.0.1:1/db?connect_timeout=1",
		"postgres://u@127.0.0.1:1/db?password=secret&connect_timeout=1",
		"postgres://u@127.0.0.1:1/db?sslpassword=secret&connect_timeout=bad",
		"postgres://u:secret@%zz/db",
		"host=127.0.0.1 password='a secret' dbname=db",
	} {
		var logs bytes.Buffer
		err := run(t.Context(), []string{"-addr", "127.0.0.1:0", "-store", spec}, &logs)
		if err == nil {
			t.Errorf("-store %s: started", spec)
			continue
		}
		if strings.Contains(err.Error(), "secret") || strings.Contains(logs.String(), "secret") {
			t.Errorf("-store %s: the password shows:\nerror: %v\nlog: %s", spec, err, logs.String())
		}
	}
}

// TestHelpHidesStoreSecrets: -h shows the -store default taken from the
// environment without its password.
func TestHelpHidesStoreSecrets(t *testing.T) {
	t.Setenv("OSM_STUB_STORE", "postgres://u:secret@127.0.0.1/db?password=secret")
	var help bytes.Buffer
	if err := run(t.Context(), []string{"-h"}, &help); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(help.String(), ":secret@") || strings.Contains(help.String(), "password=secret") || !strings.Contains(help.String(), "postgres://u:xxxxx@127.0.0.1/db?password=xxxxx") {
		t.Errorf("-h shows:\n%s", help.String())
	}
}

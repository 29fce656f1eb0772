package main

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"os"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/osmstub/osmstub/server"
)

// syncBuffer is a log destination the test can read while run writes.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

var listening = regexp.MustCompile(`"addr":"(127\.0\.0\.1:\d+)"`)

// The binary on port 0 says where it listens, serves, logs each request
// as JSON, and shuts down cleanly when its context ends (as on SIGTERM).
func TestRunServesAndShutsDown(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	logs := &syncBuffer{}
	done := make(chan error, 1)
	go func() { done <- run(ctx, []string{"-addr", "127.0.0.1:0", "-log-format", "json"}, logs) }()

	var addr string
	for deadline := time.Now().Add(10 * time.Second); addr == "" && time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if m := listening.FindStringSubmatch(logs.String()); m != nil {
			addr = m[1]
		}
	}
	if addr == "" {
		t.Fatalf("no listening line in the log:\n%s", logs)
	}
	resp, err := http.Get("http://" + addr + "/v2/servicerequest/cases/DEMO-1/relations")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized || resp.Header.Get("X-Request-Id") == "" {
		t.Errorf("got %d, request id %q", resp.StatusCode, resp.Header.Get("X-Request-Id"))
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("run: %v", err)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("run did not return after its context ended")
	}
	out := logs.String()
	for _, want := range []string{`"msg":"request"`, `"method":"GET"`, `"status":401`, `"error_code":"APIGW.0301"`, `"request_id":"`, `"duration":`, `"msg":"shutting down"`} {
		if !strings.Contains(out, want) {
			t.Errorf("log lacks %s:\n%s", want, out)
		}
	}
}

func TestFlags(t *testing.T) {
	t.Setenv("OSM_STUB_ADDR", "127.0.0.1:9999")
	t.Setenv("OSM_STUB_LOG_FORMAT", "json")
	c, err := parseFlags([]string{"-log-level", "debug"}, &bytes.Buffer{})
	if err != nil {
		t.Fatal(err)
	}
	if c.addr != "127.0.0.1:9999" || c.logFormat != "json" || c.logLevel != "debug" {
		t.Errorf("config = %+v", c)
	}
	c, err = parseFlags([]string{"-addr", "127.0.0.1:1"}, &bytes.Buffer{})
	if err != nil || c.addr != "127.0.0.1:1" {
		t.Errorf("a flag must win over its variable: %+v, %v", c, err)
	}
	var help bytes.Buffer
	if err := run(context.Background(), []string{"-h"}, &help); err != nil {
		t.Fatalf("-h: %v", err)
	}
	for _, flag := range []string{"-addr", "-fixtures", "-log-level", "-log-format", "OSM_STUB_ADDR"} {
		if !strings.Contains(help.String(), flag) {
			t.Errorf("-h does not list %s:\n%s", flag, help.String())
		}
	}
	if c.journal != 1000 {
		t.Errorf("default -journal = %d, want 1000", c.journal)
	}
	t.Setenv("OSM_STUB_JOURNAL", "0")
	if c, err := parseFlags(nil, &bytes.Buffer{}); err != nil || c.journal != 0 {
		t.Errorf("OSM_STUB_JOURNAL=0: %+v, %v", c, err)
	}
	if c, err := parseFlags([]string{"-journal", "50"}, &bytes.Buffer{}); err != nil || c.journal != 50 {
		t.Errorf("-journal 50: %+v, %v", c, err)
	}
	t.Setenv("OSM_STUB_JOURNAL", "many")
	if _, err := parseFlags(nil, &bytes.Buffer{}); err == nil {
		t.Error("OSM_STUB_JOURNAL=many: want an error")
	}
	os.Unsetenv("OSM_STUB_JOURNAL") // t.Setenv restores it after the test
	for _, args := range [][]string{{"-log-format", "xml"}, {"-log-level", "loud"}, {"extra"}, {"-fixtures", "/nonexistent.yaml"}, {"-journal", "-1"}} {
		if err := run(context.Background(), append(args, "-addr", "127.0.0.1:0"), &bytes.Buffer{}); err == nil {
			t.Errorf("%v: want an error", args)
		}
	}
}

// The control API reads every secret: off loopback it needs a token.
func TestControlExposure(t *testing.T) {
	tests := []struct {
		args []string
		ok   bool
	}{
		{[]string{"-addr", "127.0.0.1:0"}, true},
		{[]string{"-addr", "localhost:8080"}, true},
		{[]string{"-addr", "[::1]:8080"}, true},
		{[]string{"-addr", "0.0.0.0:8080"}, false},
		{[]string{"-addr", ":8080"}, false},
		{[]string{"-addr", "stub.example:8080"}, false},
		{[]string{"-addr", "0.0.0.0:8080", "-control=false"}, true},
		{[]string{"-addr", "0.0.0.0:8080", "-control-token", "s3cret-control-token"}, true},
	}
	for _, tt := range tests {
		_, err := parseFlags(tt.args, io.Discard)
		if (err == nil) != tt.ok {
			t.Errorf("%v: err = %v, want ok=%v", tt.args, err, tt.ok)
		}
		if err != nil && (!strings.Contains(err.Error(), "-control=false") || !strings.Contains(err.Error(), "-control-token")) {
			t.Errorf("%v: %q does not name both ways out", tt.args, err)
		}
	}
	t.Setenv("OSM_STUB_CONTROL_TOKEN", "from-env-0123456789")
	if c, err := parseFlags([]string{"-addr", "0.0.0.0:8080"}, io.Discard); err != nil || c.controlToken != "from-env-0123456789" {
		t.Errorf("token from the environment: %+v, %v", c, err)
	}
	if _, err := parseFlags([]string{"-rate-limit", "-1"}, io.Discard); err == nil {
		t.Error("-rate-limit -1 accepted")
	}
}

// TestHTTPServerLimits: every limit against slow or greedy clients is set,
// and the headers are due before the whole request.
func TestHTTPServerLimits(t *testing.T) {
	hs := server.NewHTTPServer(http.NotFoundHandler(), slog.New(slog.DiscardHandler))
	if hs.ReadHeaderTimeout <= 0 || hs.ReadTimeout < hs.ReadHeaderTimeout || hs.WriteTimeout <= 0 ||
		hs.IdleTimeout <= 0 || hs.MaxHeaderBytes <= 0 || hs.ErrorLog == nil {
		t.Errorf("a limit is unset: header %v, request %v, write %v, idle %v, header bytes %d, error log %v",
			hs.ReadHeaderTimeout, hs.ReadTimeout, hs.WriteTimeout, hs.IdleTimeout, hs.MaxHeaderBytes, hs.ErrorLog)
	}
}

// Every flag but -version is read from OSM_STUB_ and its name in capitals,
// which -h names; a flag of each type takes its variable.
func TestFlagsFromEnvironment(t *testing.T) {
	tests := []struct {
		env, value string
		got        func(config) any
		want       any
	}{
		{"OSM_STUB_RATE_LIMIT", "7", func(c config) any { return c.rateLimit }, 7},
		{"OSM_STUB_CONTROL", "false", func(c config) any { return c.control }, false},
		{"OSM_STUB_UPSTREAM_TIMEOUT", "5s", func(c config) any { return c.proxy.upstreamTimeout }, 5 * time.Second},
		{"OSM_STUB_VALIDATE_RESPONSES", "1", func(c config) any { return c.proxy.validateResponses }, true},
		{"OSM_STUB_REPLAY_MATCH", "method,path", func(c config) any { return c.proxy.replayMatch }, "method,path"},
	}
	for _, tt := range tests {
		t.Run(tt.env, func(t *testing.T) {
			t.Setenv(tt.env, tt.value)
			c, err := parseFlags(nil, io.Discard)
			if err != nil || tt.got(c) != tt.want {
				t.Errorf("%s=%s: got %v, %v; want %v", tt.env, tt.value, tt.got(c), err, tt.want)
			}
		})
	}
	var help bytes.Buffer
	if err := run(context.Background(), []string{"-h"}, &help); err != nil {
		t.Fatal(err)
	}
	names := regexp.MustCompile(`(?m)^  -([a-z-]+)`).FindAllStringSubmatch(help.String(), -1)
	if len(names) < 20 {
		t.Fatalf("-h lists %d flags:\n%s", len(names), help.String())
	}
	for _, m := range names {
		env := "(env OSM_STUB_" + strings.ToUpper(strings.ReplaceAll(m[1], "-", "_")) + ")"
		if m[1] != "version" && !strings.Contains(help.String(), env) {
			t.Errorf("-h does not name %s for -%s", env, m[1])
		}
	}
	t.Setenv("OSM_STUB_VERSION", "true")
	if c, err := parseFlags(nil, io.Discard); err != nil || c.version {
		t.Errorf("OSM_STUB_VERSION set -version: %+v, %v", c, err)
	}
}

package main

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/osmstub/osmstub/internal/fixtures"
	"github.com/osmstub/osmstub/server"
)

func TestProxyFlags(t *testing.T) {
	tests := []struct {
		args []string
		ok   bool
	}{
		{[]string{"-upstream", "https://osm.cn-south-1.myhuaweicloud.com"}, true},
		{[]string{"-upstream", "https://osm.example", "-record", "x.jsonl", "-strict", "-upstream-timeout", "5s"}, true},
		{[]string{"-replay", "x.jsonl", "-replay-match", "method,path"}, true},
		{[]string{"-validate-responses"}, true},
		{[]string{"-upstream", "https://a.example", "-replay", "x.jsonl"}, false},
		{[]string{"-record", "x.jsonl"}, false},
		{[]string{"-replay", "x.jsonl", "-replay-match", "method,colour"}, false},
		{[]string{"-upstream", "https://a.example", "-upstream-timeout", "0s"}, false},
	}
	for _, tt := range tests {
		if _, err := parseFlags(tt.args, io.Discard); (err == nil) != tt.ok {
			t.Errorf("%v: err = %v, want ok=%v", tt.args, err, tt.ok)
		}
	}
	if err := run(context.Background(), []string{"-upstream", "ftp://a.example", "-addr", "127.0.0.1:0"}, io.Discard); err == nil || !strings.Contains(err.Error(), "-upstream") {
		t.Errorf("ftp upstream: %v", err)
	}
}

// startRun runs the binary's run on a free port until the test ends and
// returns its base URL.
func startRun(t *testing.T, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	logs := &syncBuffer{}
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, append([]string{"-addr", "127.0.0.1:0", "-log-format", "json"}, args...), logs)
	}()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("run: %v", err)
		}
	})
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if m := listening.FindStringSubmatch(logs.String()); m != nil {
			return "http://" + m[1]
		}
	}
	t.Fatalf("no listening line in the log:\n%s", logs)
	return ""
}

func get(t *testing.T, url, token string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, url+"/v2/servicerequest/cases/DEMO-1/relations", nil)
	req.Header.Set("X-Auth-Token", token)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(body)
}

// TestProxyRecordReplayFixtures: the binary proxies to a stub and records
// the session, cassette-fixtures turns it into fixtures, and -replay
// serves it back.
func TestProxyRecordReplayFixtures(t *testing.T) {
	up, err := server.New(server.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer up.Close()
	if err := up.Associate(t.Context(), "DEMO-1", "TEAM-1"); err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(up)
	defer ts.Close()
	dir := t.TempDir()
	tape := filepath.Join(dir, "session.jsonl")

	t.Run("record", func(t *testing.T) {
		proxy := startRun(t, "-upstream", ts.URL, "-record", tape, "-upstream-timeout", "10s")
		if status, body := get(t, proxy, "demo-token"); status != http.StatusOK || !strings.Contains(body, "TEAM-1") {
			t.Fatalf("through the proxy: %d %s", status, body)
		}
	})
	data, err := os.ReadFile(tape)
	if err != nil || strings.Contains(string(data), "demo-token") || !strings.Contains(string(data), "TEAM-1") {
		t.Fatalf("cassette: %v\n%s", err, data)
	}

	out := filepath.Join(dir, "fixtures.yaml")
	if err := run(context.Background(), []string{"cassette-fixtures", "-in", tape, "-out", out}, io.Discard); err != nil {
		t.Fatal(err)
	}
	d, err := fixtures.Load(out)
	if err != nil {
		t.Fatal(err)
	}
	var rel []string
	for _, tk := range d.Tickets {
		if tk.ID == "DEMO-1" {
			rel = tk.Relations
		}
	}
	if len(rel) != 1 || rel[0] != "TEAM-1" {
		t.Errorf("fixtures from the cassette: %+v", d)
	}

	t.Run("replay", func(t *testing.T) {
		replay := startRun(t, "-replay", tape)
		if status, body := get(t, replay, "any-token"); status != http.StatusOK || !strings.Contains(body, "TEAM-1") {
			t.Errorf("replayed: %d %s", status, body)
		}
	})
	if err := run(context.Background(), []string{"cassette-fixtures", "-in", tape}, io.Discard); err == nil {
		t.Error("cassette-fixtures without -out: want an error")
	}
}

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

	"github.com/osmstub/osmstub/aksk"
	"github.com/osmstub/osmstub/client"
	"github.com/osmstub/osmstub/internal/fixtures"
	"github.com/osmstub/osmstub/server"
	"github.com/osmstub/osmstub/server/store"
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
		// Who the proxy serves.
		{[]string{"-upstream", "https://a.example", "-proxy-token", "0123456789abcdef"}, true},
		{[]string{"-upstream", "https://a.example", "-proxy-token", "short"}, false},
		{[]string{"-upstream", "https://a.example", "-proxy-ak", "CALLERAK"}, false}, // no OSM_STUB_PROXY_SK
		{[]string{"-proxy-token", "0123456789abcdef"}, false},                        // not proxy mode
		{[]string{"-proxy-pass-tokens"}, false},
		{[]string{"-upstream", "https://a.example", "-proxy-pass-tokens", "-proxy-unsafe-demo-credentials"}, true},
		// Off loopback: only with a caller credential, never the demo's.
		{[]string{"-upstream", "https://a.example", "-addr", "0.0.0.0:8080", "-control-token", "0123456789abcdef"}, false},
		{[]string{"-upstream", "https://a.example", "-addr", "0.0.0.0:8080", "-control-token", "0123456789abcdef", "-proxy-pass-tokens"}, false},
		{[]string{"-upstream", "https://a.example", "-addr", "0.0.0.0:8080", "-control-token", "0123456789abcdef", "-proxy-token", "0123456789abcdef"}, true},
		{[]string{"-upstream", "https://a.example", "-addr", "0.0.0.0:8080", "-control-token", "0123456789abcdef", "-proxy-token", "0123456789abcdef", "-proxy-unsafe-demo-credentials"}, false},
	}
	for _, tt := range tests {
		if _, err := parseFlags(tt.args, io.Discard); (err == nil) != tt.ok {
			t.Errorf("%v: err = %v, want ok=%v", tt.args, err, tt.ok)
		}
	}
	if err := run(context.Background(), []string{"-upstream", "ftp://a.example", "-addr", "127.0.0.1:0"}, io.Discard); err == nil || !strings.Contains(err.Error(), "-upstream") {
		t.Errorf("ftp upstream: %v", err)
	}
	t.Setenv(envProxyToken, "proxy-token-secret-value")
	t.Setenv(envProxySK, "proxy-sk-secret-value")
	var help strings.Builder
	if _, err := parseFlags([]string{"-h"}, &help); err == nil || strings.Contains(help.String(), "secret-value") || !strings.Contains(help.String(), "-proxy-token") {
		t.Errorf("-h with the proxy's secrets in the environment (%v):\n%s", err, help.String())
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
		proxy := startRun(t, "-upstream", ts.URL, "-record", tape, "-upstream-timeout", "10s", "-proxy-pass-tokens")
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

// TestProxyIsNoConfusedDeputy replays the attack on the binary: the
// operator's real key (HUAWEICLOUD_SDK_AK/SK) is the only one the
// upstream accepts. A caller with the public demo key, a token, or a
// rebound Host name must not act as the operator; the caller credential
// the operator configured does.
func TestProxyIsNoConfusedDeputy(t *testing.T) {
	const operatorAK, operatorSK, callerToken = "OPERATORAK0000000001", "operator-real-secret", "caller-token-0123456789"
	d := fixtures.Demo()
	for i := range d.Users {
		if d.Users[i].Name == "demo" { // the operator's account upstream
			d.Users[i].Keys = []store.AccessKey{{AK: operatorAK, SK: operatorSK}}
		}
	}
	up, err := server.New(server.Options{Fixtures: &d})
	if err != nil {
		t.Fatal(err)
	}
	defer up.Close()
	ts := httptest.NewServer(up)
	defer ts.Close()
	t.Setenv(client.EnvAK, operatorAK)
	t.Setenv(client.EnvSK, operatorSK)
	proxy := startRun(t, "-upstream", ts.URL, "-proxy-token", callerToken)

	create := func(host string, prepare func(*http.Request)) int {
		t.Helper()
		req, _ := http.NewRequest(http.MethodPost, proxy+"/v2/servicerequest/cases/DEMO-1/relations", strings.NewReader(`{"related_id_list":["DEMO-3"]}`))
		req.Header.Set("Content-Type", "application/json")
		if host != "" {
			req.Host = host
		}
		prepare(req)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, res.Body)
		res.Body.Close()
		return res.StatusCode
	}
	related := func() []string {
		got, err := up.Relations(t.Context(), "DEMO-1")
		if err != nil {
			t.Fatal(err)
		}
		return got
	}
	attacks := []struct {
		name    string
		host    string
		prepare func(*http.Request)
		status  int
	}{
		{"the public demo key", "", func(r *http.Request) {
			if err := aksk.Sign(r, "DEMOAK0000000000000001", "demo-secret-key", time.Now()); err != nil {
				t.Fatal(err)
			}
		}, http.StatusUnauthorized},
		{"the demo token", "", func(r *http.Request) { r.Header.Set("X-Auth-Token", "demo-token") }, http.StatusUnauthorized},
		{"any token", "", func(r *http.Request) { r.Header.Set("X-Auth-Token", "whatever-token") }, http.StatusUnauthorized},
		{"the caller token from a web page", "", func(r *http.Request) {
			r.Header.Set("X-Auth-Token", callerToken)
			r.Header.Set("Origin", "http://rebind.example")
		}, http.StatusForbidden},
		{"the demo token from a rebound name", "rebind.example:8080", func(r *http.Request) { r.Header.Set("X-Auth-Token", "demo-token") }, http.StatusUnauthorized},
	}
	for _, a := range attacks {
		if status := create(a.host, a.prepare); status != a.status {
			t.Errorf("%s: %d, want %d", a.name, status, a.status)
		}
	}
	if got := related(); len(got) != 0 {
		t.Fatalf("an attacker changed the operator's tickets upstream: DEMO-1 relations %v", got)
	}
	if status := create("", func(r *http.Request) { r.Header.Set("X-Auth-Token", callerToken) }); status != http.StatusOK {
		t.Fatalf("the operator's caller: %d", status)
	}
	if got := related(); len(got) != 1 || got[0] != "DEMO-3" {
		t.Errorf("after the operator's caller: DEMO-1 relations %v, want [DEMO-3]", got)
	}
}

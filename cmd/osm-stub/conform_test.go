package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"os/signal"
	"regexp"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"

	"github.com/osmstub/osmstub/client"
	"github.com/osmstub/osmstub/internal/conform"
	"github.com/osmstub/osmstub/server"
	"github.com/osmstub/osmstub/server/store"
)

func stubURL(t *testing.T) string {
	t.Helper()
	srv, err := server.New(server.Options{})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv)
	t.Cleanup(func() { ts.Close(); srv.Close() })
	return ts.URL
}

func TestConformSubcommand(t *testing.T) {
	url := stubURL(t)
	t.Setenv(conform.EnvToken, "")
	tests := []struct {
		name    string
		args    []string
		env     map[string]string
		wantErr error
		stdout  []string
		stderr  string
	}{
		{name: "token, text", args: []string{"-endpoint", url, "-token", "demo-token", "-cases", "DEMO-1,DEMO-2,DEMO-3,DEMO-4,DEMO-5"},
			stdout: []string{"PASS     create DEMO-1-DEMO-2\n", "PASS     limit: DEMO-1-DEMO-5, over the limit, is refused\n", "PASS     unknown method PUT\n",
				"PASS     unknown action noop on DEMO-1\n", "SKIPPED  ticket flow: upload, open, show, list, message and cancel a ticket\n",
				"66 checks: 65 pass, 0 differ, 0 violate the contract, 0 failed, 1 skipped (1 opt-in); every ticket is as it was\n"}},
		{name: "-allow-create opens a ticket and cancels it", args: []string{"-endpoint", url, "-token", "demo-token", "-cases", "DEMO-1,DEMO-2,DEMO-3,DEMO-4,DEMO-5", "-allow-create"},
			stdout: []string{"PASS     ticket flow: open a consultation (ECS-CONSULT)\n", "PASS     cleanup: the new ticket's status after the cancel\n",
				"  canceled the ticket the run opened, CS", ": status 4 (canceled)\n", "0 differ, 0 violate the contract, 0 failed, 0 skipped; every ticket is as it was\n"}},
		{name: "four tickets: a skipped check fails the run", args: []string{"-endpoint", url, "-token", "demo-token", "-cases", "DEMO-1,DEMO-2,DEMO-3,DEMO-4"},
			wantErr: conform.ErrNotConforming, stdout: []string{"SKIPPED  limit: an association over the limit is refused\n",
				"         every given ticket is now associated with DEMO-1, so none is left to be one too many; 5 tickets free of associations run every check (4 given)\n",
				"2 skipped (1 opt-in) (a skipped check fails the run unless -allow-skip)"}},
		{name: "four tickets, -allow-skip", args: []string{"-endpoint", url, "-token", "demo-token", "-cases", "DEMO-1,DEMO-2,DEMO-3,DEMO-4", "-allow-skip"},
			stdout: []string{"SKIPPED  limit: an association over the limit is refused\n", "58 checks: 56 pass, 0 differ, 0 violate the contract, 0 failed, 2 skipped (1 opt-in); every ticket is as it was\n"}},
		{name: "token from the environment, markdown", args: []string{"-endpoint", url, "-cases", "DEMO-1,DEMO-2", "-format", "markdown", "-allow-skip"},
			env:    map[string]string{conform.EnvToken: "demo-token"},
			stdout: []string{"# Conformance run against " + url, "| 1 | list DEMO-1 (the state before) | pass |"}},
		{name: "AK/SK from the environment, json", args: []string{"-endpoint", url, "-cases", "DEMO-5,DEMO-6", "-format", "json", "-timeout", "5s", "-allow-skip"},
			env:    map[string]string{client.EnvAK: "DEMOAK0000000000000001", client.EnvSK: "demo-secret-key", client.EnvDomainID: "demo-domain"},
			stdout: []string{`"verdict": "pass"`, `"restored": true`}},
		{name: "a ticket of another user", args: []string{"-endpoint", url, "-token", "demo-token", "-cases", "DEMO-1,OUT-1"},
			wantErr: conform.ErrNotConforming, stdout: []string{"DIFFERS  list OUT-1 (the state before)\n", "SKIPPED  the rest of the run\n"}},
		{name: "help", args: []string{"-h"}, stderr: "Usage: osm-stub conform -endpoint URL"},
		{name: "help warns of -allow-create", args: []string{"-h"}, stderr: "Against the live service that ticket reaches Huawei's support staff"},
		{name: "help says how many tickets each check needs", args: []string{"-h"}, stderr: "Tickets (free of associations) the checks need:\n" +
			"  2  every check but the limit's\n" +
			"  4  limit: fill one ticket up to three associations, repeat at the limit\n" +
			"  5  limit: one association over the limit, refused from either side\n" +
			"A check that cannot run is SKIPPED, with the reason, and fails the run unless -allow-skip.\n"},
		{name: "six tickets", args: []string{"-endpoint", url, "-token", "t", "-cases", "A,B,C,D,E,F"}, wantErr: conform.ErrConfig},
		{name: "no credential", args: []string{"-endpoint", url, "-cases", "A,B"}, wantErr: conform.ErrConfig},
		{name: "one ticket", args: []string{"-endpoint", url, "-token", "t", "-cases", "A"}, wantErr: conform.ErrConfig},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for k, v := range tt.env {
				t.Setenv(k, v)
			}
			var stdout, stderr bytes.Buffer
			err := runConform(context.Background(), tt.args, &stdout, &stderr)
			if (tt.wantErr == nil && err != nil) || (tt.wantErr != nil && !errors.Is(err, tt.wantErr)) {
				t.Fatalf("err = %v, want %v; stderr:\n%s", err, tt.wantErr, stderr.String())
			}
			for _, want := range tt.stdout {
				if !strings.Contains(stdout.String(), want) {
					t.Errorf("stdout lacks %q:\n%s", want, stdout.String())
				}
			}
			if !strings.Contains(stderr.String(), tt.stderr) {
				t.Errorf("stderr lacks %q:\n%s", tt.stderr, stderr.String())
			}
			if strings.Contains(tt.name, "json") && !json.Valid(stdout.Bytes()) {
				t.Errorf("not JSON:\n%s", stdout.String())
			}
		})
	}
}

func TestConformFlagErrors(t *testing.T) {
	for _, args := range [][]string{
		{"-cases", "A,B", "-token", "t"},
		{"-endpoint", "http://127.0.0.1:1", "-token", "t", "-cases", "A,B", "-format", "yaml"},
		{"-endpoint", "http://127.0.0.1:1", "-token", "t", "-cases", "A,B", "extra"},
	} {
		var stdout, stderr bytes.Buffer
		if err := runConform(context.Background(), args, &stdout, &stderr); err == nil || stdout.Len() != 0 {
			t.Errorf("%q: err %v, stdout %q", args, err, stdout.String())
		}
	}
}

// Ctrl-C after the first create is acknowledged: the subcommand stops,
// reports the interruption and leaves no association behind.
func TestConformCtrlC(t *testing.T) {
	srv, err := server.New(server.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	// The test hears SIGINT too, so that it knows the signal arrived, and
	// so that a late one cannot end the test binary.
	heard := make(chan os.Signal, 1)
	signal.Notify(heard, os.Interrupt)
	defer signal.Stop(heard)
	var once sync.Once
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		srv.ServeHTTP(w, r)
		if r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "/relations") {
			once.Do(func() {
				if err := syscall.Kill(os.Getpid(), syscall.SIGINT); err != nil {
					t.Error(err)
					return
				}
				<-heard
			})
		}
	}))
	defer ts.Close()
	var stdout, stderr bytes.Buffer
	err = runConform(context.Background(), []string{"-endpoint", ts.URL, "-token", "demo-token", "-cases", "DEMO-1,DEMO-2,DEMO-3,DEMO-4,DEMO-5"}, &stdout, &stderr)
	if !errors.Is(err, conform.ErrInterrupted) {
		t.Fatalf("err = %v, want ErrInterrupted; stdout:\n%s", err, stdout.String())
	}
	if !strings.Contains(stdout.String(), "removed DEMO-1-DEMO-2") || !strings.Contains(stdout.String(), "; interrupted; every ticket is as it was") {
		t.Errorf("report:\n%s", stdout.String())
	}
	if !strings.Contains(stderr.String(), "interrupted; removing what the run created") {
		t.Errorf("stderr: %s", stderr.String())
	}
	var left []string
	err = srv.Store().View(context.Background(), func(tx store.Tx) error {
		left = nil
		d, err := tx.Snapshot()
		for _, tk := range d.Tickets {
			left = append(left, tk.Relations...)
		}
		return err
	})
	if err != nil || len(left) != 0 {
		t.Errorf("left behind: %v (%v)", left, err)
	}
}

// Ctrl-C right after the run opened a ticket (-allow-create): the
// subcommand stops, and the cleanup cancels the ticket.
func TestConformCtrlCAllowCreate(t *testing.T) {
	srv, err := server.New(server.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	heard := make(chan os.Signal, 1)
	signal.Notify(heard, os.Interrupt)
	defer signal.Stop(heard)
	var once sync.Once
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		srv.ServeHTTP(w, r)
		if r.Method == http.MethodPost && r.URL.Path == "/v2/servicerequest/cases" {
			once.Do(func() {
				if err := syscall.Kill(os.Getpid(), syscall.SIGINT); err != nil {
					t.Error(err)
					return
				}
				<-heard
			})
		}
	}))
	defer ts.Close()
	var stdout, stderr bytes.Buffer
	err = runConform(context.Background(), []string{"-endpoint", ts.URL, "-token", "demo-token", "-cases", "DEMO-1,DEMO-2", "-allow-create"}, &stdout, &stderr)
	if !errors.Is(err, conform.ErrInterrupted) {
		t.Fatalf("err = %v, want ErrInterrupted; stdout:\n%s", err, stdout.String())
	}
	var opened []store.Ticket
	err = srv.Store().View(context.Background(), func(tx store.Tx) error {
		opened = nil
		d, err := tx.Snapshot()
		for _, tk := range d.Tickets {
			if strings.HasPrefix(tk.ID, "CS") && strings.Contains(tk.Description, "osm-stub conform") {
				opened = append(opened, tk)
			}
		}
		return err
	})
	if err != nil || len(opened) != 1 {
		t.Fatalf("opened %d tickets (%v), want 1", len(opened), err)
	}
	if opened[0].Status != store.StatusCanceled || !strings.Contains(stdout.String(), "canceled the ticket the run opened, "+opened[0].ID) ||
		!strings.Contains(stdout.String(), "; interrupted; every ticket is as it was") {
		t.Errorf("status %d; report:\n%s", opened[0].Status, stdout.String())
	}
}

// docs/proxy.md's conform commands run as written: those against a local
// stub print what the page shows (its "..." lines stand for lines left out),
// and those against the live service are accepted as they stand (they are
// pointed at a stub that lacks their tickets, so the run stops at once).
func TestDocsConformCommands(t *testing.T) {
	page, err := os.ReadFile("../../docs/proxy.md")
	if err != nil {
		t.Fatal(err)
	}
	_, sec, ok := strings.Cut(string(page), "\n## The conformance run\n")
	if !ok {
		t.Fatal("docs/proxy.md has no section The conformance run")
	}
	sec, _, _ = strings.Cut(sec, "\n## ")
	t.Setenv(conform.EnvToken, "")
	t.Setenv(client.EnvAK, "DEMOAK0000000000000001")
	t.Setenv(client.EnvSK, "demo-secret-key")
	t.Setenv(client.EnvDomainID, "demo-domain")
	lines := strings.Split(sec, "\n")
	ran := 0
	for i, line := range lines {
		cmd, ok := strings.CutPrefix(line, "$ osm-stub conform ")
		if !ok {
			continue
		}
		var doc []string
		for _, l := range lines[i+1:] {
			if strings.HasPrefix(l, "$ ") || l == "```" {
				break
			}
			doc = append(doc, l)
		}
		cmd, _, _ = strings.Cut(cmd, " > ")
		url := stubURL(t)
		args := strings.Fields(strings.NewReplacer("http://127.0.0.1:8080", url, "https://osm.ap-southeast-3.myhuaweicloud.com", url).Replace(cmd))
		var stdout, stderr bytes.Buffer
		err := runConform(context.Background(), args, &stdout, &stderr)
		ran++
		if strings.Contains(cmd, "127.0.0.1:8080") {
			if err != nil {
				t.Errorf("%s: %v", cmd, err)
			}
			got := nosuch.ReplaceAllString(strings.ReplaceAll(stdout.String(), url, "http://127.0.0.1:8080"), "NOSUCH-ID")
			checkInOrder(t, cmd, got, doc)
		} else if !errors.Is(err, conform.ErrNotConforming) || !strings.Contains(stdout.String(), "list CS1 (the state before)") {
			t.Errorf("%s: err %v, stderr %s", cmd, err, stderr.String())
		}
	}
	if ran < 3 {
		t.Errorf("ran %d commands from docs/proxy.md, want at least 3", ran)
	}
}

var nosuch = regexp.MustCompile(`NOSUCH-[0-9A-F]{16}`)

// checkInOrder checks that the documented lines, but "...", appear in got
// as whole lines and in the same order.
func checkInOrder(t *testing.T, cmd, got string, doc []string) {
	t.Helper()
	rest := strings.Split(got, "\n")
	for _, want := range doc {
		if want == "..." {
			continue
		}
		want = nosuch.ReplaceAllString(want, "NOSUCH-ID")
		i := slices.Index(rest, want)
		if i < 0 {
			t.Errorf("%s: the output lacks, or has out of order, the page's line\n%s\noutput:\n%s", cmd, want, got)
			return
		}
		rest = rest[i+1:]
	}
}

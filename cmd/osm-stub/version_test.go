package main

import (
	"bytes"
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"

	"github.com/osmstub/osmstub/server"
)

var versionLine = regexp.MustCompile(`^osm-stub \S+ \((revision [0-9a-f]{7,}(, modified)?|revision unknown)\) go\S+ [a-z0-9]+/[a-z0-9]+\n$`)

// Both spellings print one line on standard output and nothing else.
func TestVersion(t *testing.T) {
	for _, args := range [][]string{{"version"}, {"-version"}, {"--version"}} {
		var stdout, stderr bytes.Buffer
		if err := command(context.Background(), args, &stdout, &stderr); err != nil {
			t.Fatalf("%v: %v", args, err)
		}
		if !versionLine.MatchString(stdout.String()) || stderr.Len() != 0 {
			t.Errorf("%v: stdout %q, stderr %q", args, stdout.String(), stderr.String())
		}
	}
}

// The link-time version wins over the build info's "(devel)".
func TestVersionFromLinker(t *testing.T) {
	defer func(v string) { version = v }(version)
	version = "v9.8.7-3-gabcdef1"
	if got := versionString(); !strings.HasPrefix(got, "osm-stub v9.8.7-3-gabcdef1 (") {
		t.Errorf("versionString() = %q", got)
	}
}

func TestHealthURL(t *testing.T) {
	for _, tt := range []struct{ addr, want string }{
		{"0.0.0.0:8080", "http://127.0.0.1:8080/healthz"},
		{"[::]:8080", "http://127.0.0.1:8080/healthz"},
		{":8080", "http://127.0.0.1:8080/healthz"},
		{"127.0.0.1:9000", "http://127.0.0.1:9000/healthz"},
		{"[::1]:9000", "http://[::1]:9000/healthz"},
		{"localhost:9000", "http://localhost:9000/healthz"},
		{"127.0.0.1", ""},
		{"127.0.0.1:0", ""},
	} {
		got, err := healthURL(tt.addr)
		if got != tt.want || (err != nil) != (tt.want == "") {
			t.Errorf("healthURL(%q) = %q, %v; want %q", tt.addr, got, err, tt.want)
		}
	}
}

// healthcheck succeeds against a stub, and fails on another answer or on
// no answer at all: a container's health follows.
func TestHealthcheck(t *testing.T) {
	srv, err := server.New(server.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	stub := httptest.NewServer(srv)
	defer stub.Close()
	sick := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "down", http.StatusServiceUnavailable)
	}))
	defer sick.Close()
	closed, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closedAddr := closed.Addr().String()
	closed.Close()

	for _, tt := range []struct {
		name string
		addr string
		ok   bool
	}{
		{"stub", stub.Listener.Addr().String(), true},
		{"503", sick.Listener.Addr().String(), false},
		{"nothing listening", closedAddr, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			err := command(context.Background(), []string{"healthcheck", "-addr", tt.addr}, &stdout, &stderr)
			if (err == nil) != tt.ok {
				t.Errorf("healthcheck -addr %s: %v (stdout %q)", tt.addr, err, stdout.String())
			}
		})
	}

	t.Setenv("OSM_STUB_ADDR", "0.0.0.0:"+stub.URL[strings.LastIndex(stub.URL, ":")+1:])
	var stdout bytes.Buffer
	if err := command(context.Background(), []string{"healthcheck"}, &stdout, &bytes.Buffer{}); err != nil {
		t.Errorf("healthcheck with OSM_STUB_ADDR=%s: %v", env("OSM_STUB_ADDR", ""), err)
	}
}

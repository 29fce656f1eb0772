package main

import (
	"bytes"
	"context"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/osmstub/osmstub/server"
)

// secretEnv sets every variable that can hold a secret to one; each
// secret's text holds "SECRET", which nothing else the binary prints does.
func secretEnv(t *testing.T) {
	t.Setenv("OSM_STUB_CONTROL_TOKEN", "ctl-SECRET-0123456789")
	t.Setenv("OSM_STUB_UPSTREAM", "https://osm-user:up-SECRET@osm.example/?token=q-SECRET")
	t.Setenv("OSM_STUB_STORE", "postgres://db-user:db-SECRET@db.example:5432/osm?sslpassword=ssl-SECRET")
}

// No secret from the environment or the command line reaches -h, the
// usage a flag error prints, an error or the log.
func TestSecretsNotPrinted(t *testing.T) {
	tests := []struct {
		name string
		env  map[string]string
		args []string
	}{
		{"-h", nil, []string{"-h"}},
		{"unknown flag", nil, []string{"-no-such-flag"}},
		{"bad flag value", nil, []string{"-rate-limit", "many"}},
		{"bad flag value after -upstream", nil, []string{"-upstream", "https://u:arg-SECRET@osm.example", "-journal", "x"}},
		{"extra argument", nil, []string{"extra"}},
		{"short control token", map[string]string{"OSM_STUB_CONTROL_TOKEN": "SECRET"}, nil},
		{"-upstream, not http", nil, []string{"-upstream", "ftp://u:arg-SECRET@osm.example"}},
		{"-upstream, no host", nil, []string{"-upstream", "https://u:arg-SECRET@"}},
		{"-upstream, bad escape", nil, []string{"-upstream", "https://u:arg-SECRET%zz@osm.example"}},
		{"-upstream, a '/' in the password", nil, []string{"-upstream", "https://u:12/arg-SECRET@osm.example"}},
		{"-upstream, no scheme", nil, []string{"-upstream", "u:arg-SECRET@osm.example"}},
		{"store, bad escape", map[string]string{"OSM_STUB_STORE": "postgres://u:db-SECRET%zz@h/db"}, nil},
		{"store, space before", map[string]string{"OSM_STUB_STORE": " postgres://u:db-SECRET@h/db"}, nil},
		{"store, unknown kind", map[string]string{"OSM_STUB_STORE": "mysql://u:db-SECRET@h/db"}, nil},
		{"store, one slash", map[string]string{"OSM_STUB_STORE": "postgres:/u:db-SECRET@h/db"}, nil},
		{"store, a '/' in the password", map[string]string{"OSM_STUB_STORE": "postgres://u:db-SECRET/x@h/db"}, nil},
		{"store, a keyword string", map[string]string{"OSM_STUB_STORE": "host=h password=db SECRET"}, nil},
		{"store, no host", map[string]string{"OSM_STUB_STORE": "postgres://u:db-SECRET@/db"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			secretEnv(t)
			for k, v := range tt.env {
				t.Setenv(k, v)
			}
			var out syncBuffer
			// Every case fails before listening, or prints -h.
			err := run(context.Background(), append([]string{"-addr", "127.0.0.1:0"}, tt.args...), &out)
			if tt.name != "-h" && err == nil {
				t.Fatal("want an error")
			}
			text := out.String()
			if err != nil {
				text += "\n" + err.Error()
			}
			if strings.Contains(text, "SECRET") {
				t.Errorf("a secret is shown:\n%s", text)
			}
			if tt.name == "-h" {
				for _, want := range []string{`-control-token string`, `(default "xxxxx")`, `https://xxxxx@osm.example/?xxxxx`, `postgres://db-user:xxxxx@db.example:5432/osm?sslpassword=xxxxx`} {
					if !strings.Contains(text, want) {
						t.Errorf("-h lacks %s:\n%s", want, text)
					}
				}
			}
		})
	}
}

// A control token that is short, blank or padded is refused at start, as
// is an empty one that was given; none is needed when there is no
// control API.
func TestControlTokenAtStart(t *testing.T) {
	tests := []struct {
		name string
		env  *string
		args []string
		ok   bool
	}{
		{"none", nil, nil, true},
		{"16 characters", nil, []string{"-control-token", "0123456789abcdef"}, true},
		{"15 characters", nil, []string{"-control-token", "0123456789abcde"}, false},
		{"15 characters from the environment", ptr("0123456789abcde"), nil, false},
		{"empty variable", ptr(""), nil, false},
		{"empty flag", nil, []string{"-control-token", ""}, false},
		{"blank", nil, []string{"-control-token", strings.Repeat(" ", 16)}, false},
		{"padded", nil, []string{"-control-token", " 0123456789abcdef"}, false},
		{"short, without a control API", ptr("short"), []string{"-control=false"}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.env != nil {
				t.Setenv("OSM_STUB_CONTROL_TOKEN", *tt.env)
			}
			c, err := parseFlags(tt.args, io.Discard)
			if (err == nil) != tt.ok {
				t.Fatalf("err = %v, want ok=%v", err, tt.ok)
			}
			if err == nil { // and the server takes it
				srv, err := server.New(server.Options{ControlToken: c.controlToken, DisableControl: !c.control})
				if err != nil {
					t.Fatalf("server.New: %v", err)
				}
				srv.Close()
			}
			if err != nil && (!errors.Is(err, server.ErrWeakControlToken) || !strings.Contains(err.Error(), "-control-token")) {
				t.Errorf("%v: want ErrWeakControlToken naming -control-token", err)
			}
		})
	}
}

func ptr[T any](v T) *T { return &v }

// conform's -h and errors do not show its token or an endpoint's user info.
func TestConformSecretsNotPrinted(t *testing.T) {
	t.Setenv("OSM_CONFORM_TOKEN", "iam-SECRET-token")
	for _, args := range [][]string{
		{"-h"},
		{"-no-such-flag"},
		{"-endpoint", "ftp://u:arg-SECRET@osm.example", "-cases", "A,B"},
		{"-endpoint", "u:arg-SECRET@osm.example", "-cases", "A,B"},
	} {
		var stdout, stderr bytes.Buffer
		err := runConform(context.Background(), args, &stdout, &stderr)
		text := stdout.String() + stderr.String()
		if err != nil {
			text += "\n" + err.Error()
		}
		if strings.Contains(text, "SECRET") {
			t.Errorf("%v: a secret is shown:\n%s", args, text)
		}
	}
}

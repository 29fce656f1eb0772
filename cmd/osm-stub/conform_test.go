package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/osmstub/osmstub/client"
	"github.com/osmstub/osmstub/internal/conform"
	"github.com/osmstub/osmstub/server"
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
		{name: "token, text", args: []string{"-endpoint", url, "-token", "demo-token", "-cases", "DEMO-1,DEMO-2,DEMO-3,DEMO-4"},
			stdout: []string{"PASS     create DEMO-1-DEMO-2\n", "PASS     unknown method PUT\n", "31 checks: 30 pass, 0 differ, 0 violate the contract, 0 failed, 1 skipped; every ticket is as it was\n"}},
		{name: "token from the environment, markdown", args: []string{"-endpoint", url, "-cases", "DEMO-1,DEMO-2", "-format", "markdown"},
			env:    map[string]string{conform.EnvToken: "demo-token"},
			stdout: []string{"# Conformance run against " + url, "| 1 | list DEMO-1 (the state before) | pass |"}},
		{name: "AK/SK from the environment, json", args: []string{"-endpoint", url, "-cases", "DEMO-5,DEMO-6", "-format", "json", "-timeout", "5s"},
			env:    map[string]string{client.EnvAK: "DEMOAK0000000000000001", client.EnvSK: "demo-secret-key", client.EnvDomainID: "demo-domain"},
			stdout: []string{`"verdict": "pass"`, `"restored": true`}},
		{name: "a ticket of another user", args: []string{"-endpoint", url, "-token", "demo-token", "-cases", "DEMO-1,OUT-1"},
			wantErr: conform.ErrNotConforming, stdout: []string{"DIFFERS  list OUT-1 (the state before)\n", "SKIPPED  the rest of the run\n"}},
		{name: "help", args: []string{"-h"}, stderr: "Usage: osm-stub conform -endpoint URL"},
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

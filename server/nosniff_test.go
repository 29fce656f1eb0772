package server_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/osmstub/osmstub/server"
)

// Every answer the stub gives itself says X-Content-Type-Options: nosniff,
// so that no browser runs JSON or YAML that echoes a caller's input as a
// script or a page.
func TestNosniff(t *testing.T) {
	srv := newServer(t, server.Options{Now: fixedNow, ControlToken: controlToken})
	bearer := "Bearer " + controlToken
	tests := []struct {
		name   string
		req    *http.Request
		status int
		ctype  string
	}{
		{"the contract", newReq("GET", "/openapi.yaml", ""), 200, "yaml"},
		{"the contract on /docs", newReq("GET", "/docs/openapi.yaml", ""), 200, "yaml"},
		{"the control contract", newReq("GET", "/docs/control.openapi.yaml", ""), 200, "yaml"},
		{"an API answer", tokenReq(demoTok, "GET", "DEMO-1", ""), 200, "json"},
		{"an API refusal", tokenReq("nobody", "GET", "DEMO-1", ""), 401, "json"},
		{"an invalid body", tokenReq(demoTok, "POST", "DEMO-1", `{"related_id_list":1}`), 400, "json"},
		{"an unknown path", newReq("GET", "/v2/nowhere", ""), 404, "json"},
		{"a control answer", newReq("GET", "/_stub/state", "", "Authorization", bearer), 200, "json"},
		{"a control refusal", newReq("GET", "/_stub/state", ""), 401, "json"},
		{"an unknown control path", newReq("GET", "/_stub/nowhere", "", "Authorization", bearer), 404, "json"},
		{"the API page", newReq("GET", "/docs", ""), 200, "html"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := httptest.NewRecorder()
			srv.ServeHTTP(rec, tt.req)
			if rec.Code != tt.status || !strings.Contains(rec.Header().Get("Content-Type"), tt.ctype) {
				t.Fatalf("%s %s -> %d %s, want %d %s", tt.req.Method, tt.req.URL, rec.Code, rec.Header().Get("Content-Type"), tt.status, tt.ctype)
			}
			if got := rec.Header().Values("X-Content-Type-Options"); len(got) != 1 || got[0] != "nosniff" {
				t.Errorf("%s %s: X-Content-Type-Options %q, want nosniff", tt.req.Method, tt.req.URL, got)
			}
		})
	}
}

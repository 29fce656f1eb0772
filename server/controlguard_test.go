package server_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/osmstub/osmstub/server"
)

// The control API reads every secret and resets all state: with a token
// it answers whoever sends it; without one, programs on this machine only,
// never a web page.
func TestControlGuard(t *testing.T) {
	open := newServer(t, server.Options{})
	guarded := newServer(t, server.Options{ControlToken: "s3cret", ControlHosts: []string{"stub.internal:8080"}})
	ctl := func(method, path, body string, headers ...string) *http.Request {
		req := newReq(method, path, "", headers...)
		if body != "" {
			req = newReq(method, path, body, headers...)
		}
		return req
	}
	tests := []struct {
		name   string
		srv    *server.Server
		req    *http.Request
		status int
		code   string
	}{
		{"loopback, no token", open, ctl("GET", "/_stub/state", ""), 200, ""},
		{"localhost name", open, ctl("GET", "/_stub/state", "", "Host", "localhost:8080"), 200, ""},
		{"IPv6 loopback", open, ctl("GET", "/_stub/state", "", "Host", "[::1]:8080"), 200, ""},
		{"a rebound name", open, ctl("GET", "/_stub/state", "", "Host", "evil.example:8080"), 403, "STUB.0004"},
		{"a cross-site page", open, ctl("POST", "/_stub/reset", "", "Origin", "https://evil.example"), 403, "STUB.0004"},
		{"Sec-Fetch-Site cross-site", open, ctl("POST", "/_stub/reset", "", "Sec-Fetch-Site", "cross-site"), 403, "STUB.0004"},
		{"a same-origin page", open, ctl("GET", "/_stub/state", "", "Origin", "http://127.0.0.1:8080", "Sec-Fetch-Site", "same-origin"), 200, ""},
		{"text/plain body (a form's CSRF)", open, ctl("POST", "/_stub/relations", `{"case_id":"DEMO-1","related_ids":["DEMO-2"]}`, "Content-Type", "text/plain"), 415, "OSM.0001"},
		{"token mode, no token", guarded, ctl("GET", "/_stub/state", ""), 401, "STUB.0003"},
		{"token mode, wrong token", guarded, ctl("GET", "/_stub/state", "", "Authorization", "Bearer nope"), 401, "STUB.0003"},
		{"token mode, the vendor API's token", guarded, ctl("GET", "/_stub/state", "", "X-Auth-Token", "demo-token"), 401, "STUB.0003"},
		{"token mode, the token", guarded, ctl("GET", "/_stub/state", "", "Authorization", "Bearer s3cret"), 200, ""},
		{"token mode, any host", guarded, ctl("GET", "/_stub/state", "", "Authorization", "Bearer s3cret", "Host", "10.1.2.3:8080"), 200, ""},
		{"token mode, the live view's page opens without it", guarded, ctl("GET", "/_stub/ui", ""), 200, ""},
		{"token mode, cross-site with the token", guarded, ctl("POST", "/_stub/reset", "", "Authorization", "Bearer s3cret", "Origin", "https://evil.example"), 403, "STUB.0004"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if h := tt.req.Header.Get("Host"); h != "" {
				tt.req.Host = h
				tt.req.Header.Del("Host")
			}
			before := snapshot(t, tt.srv.Store())
			rec := httptest.NewRecorder()
			tt.srv.ServeHTTP(rec, tt.req)
			status, body := rec.Code, rec.Body.Bytes()
			ctlCheck(t, tt.req, ctlResponse{rec.Code, rec.Result().Header, body})
			if status != tt.status {
				t.Fatalf("got %d %s, want %d", status, body, tt.status)
			}
			if tt.code != "" {
				if code, _ := decodeError(t, body); code != tt.code {
					t.Errorf("code %s, want %s", code, tt.code)
				}
				checkUnchanged(t, before, snapshot(t, tt.srv.Store()))
			}
			if status != 200 && strings.Contains(string(body), "secret-key") {
				t.Errorf("a refusal shows a secret: %s", body)
			}
		})
	}
	// The vendor API is untouched by the control token.
	if status, _, body := do(t, guarded, tokenReq(demoTok, "GET", "DEMO-1", "")); status != 200 {
		t.Errorf("the vendor API with a control token: %d %s", status, body)
	}
}

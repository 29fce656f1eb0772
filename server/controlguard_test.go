package server_test

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/osmstub/osmstub/server"
	"github.com/osmstub/osmstub/server/control"
)

// controlToken is a control token long enough for server.New.
const controlToken = "s3cret-control-token"

// The control API reads every secret and resets all state: with a token
// it answers whoever sends it; without one, programs on this machine only,
// never a web page.
func TestControlGuard(t *testing.T) {
	open := newServer(t, server.Options{})
	guarded := newServer(t, server.Options{ControlToken: controlToken, ControlHosts: []string{"stub.internal:8080"}})
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
		{"token mode, the token", guarded, ctl("GET", "/_stub/state", "", "Authorization", "Bearer "+controlToken+""), 200, ""},
		{"token mode, any host", guarded, ctl("GET", "/_stub/state", "", "Authorization", "Bearer "+controlToken+"", "Host", "10.1.2.3:8080"), 200, ""},
		{"token mode, the live view's page opens without it", guarded, ctl("GET", "/_stub/ui", ""), 200, ""},
		{"token mode, cross-site with the token", guarded, ctl("POST", "/_stub/reset", "", "Authorization", "Bearer "+controlToken+"", "Origin", "https://evil.example"), 403, "STUB.0004"},
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

// A control token guards every secret: one a guesser could find, or one
// that could never be sent, is refused at start, without showing it.
func TestControlTokenRules(t *testing.T) {
	tests := []struct {
		token string
		ok    bool
	}{
		{"", true}, // no token: loopback callers only
		{"0123456789abcdef", true},
		{"süßes-geheimnis!", true}, // 16 characters, more bytes
		{"0123456789abcde", false},
		{"s3cret", false},
		{strings.Repeat(" ", 20), false},
		{"\t\n", false},
		{" 0123456789abcdef", false},
		{"0123456789abcdef\n", false},
	}
	for _, tt := range tests {
		srv, err := server.New(server.Options{ControlToken: tt.token})
		if srv != nil {
			srv.Close()
		}
		if (err == nil) != tt.ok {
			t.Errorf("ControlToken %q: err = %v, want ok=%v", tt.token, err, tt.ok)
		}
		if err != nil && !errors.Is(err, server.ErrWeakControlToken) {
			t.Errorf("ControlToken %q: %v is not ErrWeakControlToken", tt.token, err)
		}
		if err != nil && strings.TrimSpace(tt.token) != "" && strings.Contains(err.Error(), strings.TrimSpace(tt.token)) {
			t.Errorf("ControlToken %q: the error shows it: %v", tt.token, err)
		}
	}
}

// Wrong control tokens are throttled per remote address: ten tries, then
// one a second; the right token spends none; a throttled address is
// refused even the right token, so that the answer tells a guesser
// nothing, and other addresses are not.
func TestControlTokenThrottle(t *testing.T) {
	srv := newServer(t, server.Options{ControlToken: controlToken})
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	server.SetControlTriesClock(srv, func() time.Time { return now })
	call := func(from, token string) (int, http.Header, string) {
		t.Helper()
		req := newReq("GET", "/_stub/state", "", "Authorization", "Bearer "+token)
		req.RemoteAddr = from
		rec := httptest.NewRecorder()
		srv.ServeHTTP(rec, req)
		ctlCheck(t, req, ctlResponse{rec.Code, rec.Result().Header, rec.Body.Bytes()})
		code := ""
		if rec.Code != 200 {
			code, _ = decodeError(t, rec.Body.Bytes())
		}
		return rec.Code, rec.Result().Header, code
	}
	const a, a2, b = "192.0.2.1:1000", "192.0.2.1:2000", "198.51.100.7:1000"
	for i := range 10 {
		if status, _, code := call(a, "wrong-but-long-enough"); status != 401 || code != control.CodeUnauthorized {
			t.Fatalf("wrong token #%d: %d %s, want 401 %s", i+1, status, code, control.CodeUnauthorized)
		}
		if i == 8 {
			for j := range 30 { // the right token spends no try
				if status, _, _ := call(a, controlToken); status != 200 {
					t.Fatalf("right token #%d after 9 wrong ones: %d", j+1, status)
				}
			}
		}
	}
	for _, tc := range []struct{ from, token string }{{a, "wrong-but-long-enough"}, {a, controlToken}, {a2, controlToken}, {a, ""}} {
		status, h, code := call(tc.from, tc.token)
		if status != 429 || code != control.CodeThrottled || h.Get("Retry-After") != "1" {
			t.Errorf("from %s after 10 wrong tokens: %d %s Retry-After %q, want 429 %s Retry-After 1", tc.from, status, code, h.Get("Retry-After"), control.CodeThrottled)
		}
	}
	if status, _, _ := call(b, controlToken); status != 200 {
		t.Errorf("another address with the right token: %d", status)
	}
	if status, _, _ := call(b, "wrong-but-long-enough"); status != 401 {
		t.Errorf("another address with a wrong token: %d", status)
	}
	now = now.Add(time.Second) // one try back
	if status, _, _ := call(a, controlToken); status != 200 {
		t.Errorf("a second later, the right token: %d", status)
	}
	if status, _, _ := call(a, "wrong-but-long-enough"); status != 401 {
		t.Errorf("a second later, a wrong token: %d, want 401", status)
	}
	if status, _, _ := call(a, "wrong-but-long-enough"); status != 429 {
		t.Errorf("the try after it: %d, want 429", status)
	}
	now = now.Add(time.Hour)
	for i := range 10 {
		if status, _, _ := call(a, "wrong-but-long-enough"); status != 401 {
			t.Fatalf("an hour later, wrong token #%d: %d, want 401", i+1, status)
		}
	}
}

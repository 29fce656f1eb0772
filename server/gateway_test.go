package server_test

import (
	"bufio"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/osmstub/osmstub/server"
)

// What the API gateway answers on its own: every authentication failure a
// 401 APIGW.0301 with the gateway's prefix, every unknown API a 404
// APIGW.0101 without Allow, and request_id in the body equal to the
// X-Request-Id header.
func TestGatewayAnswers(t *testing.T) {
	srv := demoServer(t)
	const iam = "Incorrect IAM authentication information: "
	stale := signedWith(t, "DEMOAK0000000000000001", "demo-secret-key", clock.Add(-20*time.Minute), "GET", "DEMO-1", "")
	wrongSK := signedWith(t, "DEMOAK0000000000000001", "not-the-secret-key", clock, "GET", "DEMO-1", "")
	tests := []struct {
		name   string
		req    *http.Request
		status int
		code   string
		msg    string // a prefix of error_msg
	}{
		{"no credential", newReq("GET", relationsPath("DEMO-1"), ""), 401, "APIGW.0301", iam + "no credential"},
		{"unknown token", tokenReq("nope", "GET", "DEMO-1", ""), 401, "APIGW.0301", iam + "decrypt token fail"},
		{"token too long", tokenReq(strings.Repeat("t", 5001), "GET", "DEMO-1", ""), 401, "APIGW.0301", iam},
		{"stale signature", stale, 401, "APIGW.0301", iam + "verify aksk signature fail"},
		{"wrong SK", wrongSK, 401, "APIGW.0301", iam + "verify aksk signature fail"},
		{"malformed Authorization", newReq("GET", relationsPath("DEMO-1"), "", "Authorization", "SDK-HMAC-SHA256 garbage"), 401, "APIGW.0301", iam + "verify aksk signature fail: malformed"},
		{"unknown AK", newReq("GET", relationsPath("DEMO-1"), "", "Authorization", "SDK-HMAC-SHA256 Access=NOPE, SignedHeaders=host, Signature="+strings.Repeat("0", 64), "X-Sdk-Date", "20261127T083000Z"), 401, "APIGW.0301", iam + "Get secretKey failed"},
		{"unknown path", tokenReq(demoTok, "GET", "DEMO/1", ""), 404, "APIGW.0101", "The API does not exist or has not been published in the environment."},
		{"PUT on a known path", tokenReq(demoTok, "PUT", "DEMO-1", "{}"), 404, "APIGW.0101", "The API does not exist."},
		{"PATCH on a known path", tokenReq(demoTok, "PATCH", "DEMO-1", "{}"), 404, "APIGW.0101", "The API does not exist."},
		{"OPTIONS on a known path", tokenReq(demoTok, "OPTIONS", "DEMO-1", ""), 404, "APIGW.0101", "The API does not exist."},
		{"body too large", tokenReq(demoTok, "POST", "DEMO-1", `{"related_id_list":["DEMO-2"]}`+strings.Repeat(" ", bodyLimit)), 413, "APIGW.0201", "Request entity too large."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, header, body := do(t, srv, tt.req)
			var e struct {
				Code, Msg, RequestID string
			}
			e.Code, e.Msg = decodeError(t, body)
			e.RequestID = requestIDOf(t, body)
			if status != tt.status || e.Code != tt.code || !strings.HasPrefix(e.Msg, tt.msg) {
				t.Errorf("got %d %s, want %d %s %q...", status, body, tt.status, tt.code, tt.msg)
			}
			if e.RequestID == "" || e.RequestID != header.Get("X-Request-Id") {
				t.Errorf("request_id %q, X-Request-Id %q: want equal and set", e.RequestID, header.Get("X-Request-Id"))
			}
			if a := header.Get("Allow"); a != "" {
				t.Errorf("Allow: %s, want none", a)
			}
			checkResponse(t, tt.req, status, header, body)
		})
	}
}

// The service's own refusals carry no request_id in the body.
func TestServiceErrorsHaveNoRequestID(t *testing.T) {
	srv := demoServer(t)
	_, _, body := do(t, srv, tokenReq(demoTok, "POST", "DEMO-1", `{"related_id_list":"x"}`))
	if id := requestIDOf(t, body); id != "" {
		t.Errorf("a 400 OSM.0001 carries request_id %q", id)
	}
}

func TestRateLimit(t *testing.T) {
	now := clock
	var mu sync.Mutex
	srv := newServer(t, server.Options{RateLimit: 2, Now: func() time.Time { mu.Lock(); defer mu.Unlock(); return now }})
	list := func(token string) (int, http.Header, []byte) {
		req := tokenReq(token, "GET", "DEMO-1", "")
		status, header, body := do(t, srv, req)
		checkResponse(t, req, status, header, body)
		return status, header, body
	}
	for i := range 2 {
		if status, _, body := list(demoTok); status != 200 {
			t.Fatalf("request %d within the limit: %d %s", i+1, status, body)
		}
	}
	status, header, body := list(demoTok)
	code, msg := decodeError(t, body)
	if status != 429 || code != "APIGW.0308" || !strings.HasPrefix(msg, "The throttling threshold has been reached: ") || header.Get("Retry-After") != "1" {
		t.Fatalf("over the limit: %d %s Retry-After %q, want 429 APIGW.0308 with Retry-After 1", status, body, header.Get("Retry-After"))
	}
	// Another credential has a bucket of its own; an unknown one is
	// refused for the credential, not throttled.
	if status, _, body := list("teammate-token"); status != 200 {
		t.Errorf("another credential: %d %s", status, body)
	}
	if status, _, _ := list("nope"); status != 401 {
		t.Errorf("an unknown credential: %d, want 401", status)
	}
	mu.Lock()
	now = now.Add(time.Second)
	mu.Unlock()
	if status, _, body := list(demoTok); status != 200 {
		t.Errorf("a second later: %d %s", status, body)
	}
}

// A body the service's Java stack would refuse, or that Go's decoders
// would silently cut, is a 400 that names the problem; nothing changes.
func TestStrictJSON(t *testing.T) {
	srv := demoServer(t)
	tests := []struct {
		name, body, msg string
	}{
		{"text after the value", `{"related_id_list":["DEMO-2"]} xx`, "body: unexpected data after the JSON value (at byte 30)"},
		{"two values", `{"related_id_list":["DEMO-2"]}{"related_id_list":["DEMO-3"]}`, "body: unexpected data after the JSON value (at byte 30)"},
		{"invalid UTF-8", "{\"related_id_list\":[\"DEMO-\xff\"]}", "body: is not valid UTF-8 (at byte 26)"},
		{"cut short", `{"related_id_list":["DEMO-2"`, "body: is not valid JSON (at byte 28)"},
		{"a huge number for an ID", `{"related_id_list":[1e400]}`, "related_id_list[0]: must be a string"},
		{"a huge number for the group", `{"related_id_list":["DEMO-2"],"group_id":1e400}`, "group_id: must be a string"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := snapshot(t, srv.Store())
			expectRefusal(t, srv, tokenReq(demoTok, "POST", "DEMO-1", tt.body), refusal{status: 400, code: codeInvalid, msg: tt.msg})
			checkUnchanged(t, before, snapshot(t, srv.Store()))
		})
	}
	// Duplicate keys: the last one wins, as with Jackson's defaults.
	expectOK(t, srv, tokenReq(demoTok, "POST", "DEMO-1", `{"related_id_list":["NOPE"],"related_id_list":["DEMO-2"]}`))
	if got := ids(list(t, srv, demoTok, "DEMO-1")); len(got) != 1 || got[0] != "DEMO-2" {
		t.Errorf("after a body with a repeated key: %v, want [DEMO-2]", got)
	}
}

// A caller without a credential that could succeed is refused before its
// body is read: the stub never waits for it.
func TestAuthenticatesBeforeReadingTheBody(t *testing.T) {
	srv := demoServer(t)
	hs := &http.Server{Handler: srv, ReadHeaderTimeout: 10 * time.Second}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = hs.Serve(ln) }()
	t.Cleanup(func() { _ = hs.Close() })
	for _, auth := range []string{"", "X-Auth-Token: nope\r\n", "Authorization: SDK-HMAC-SHA256 Access=NOPE, SignedHeaders=host, Signature=" + strings.Repeat("0", 64) + "\r\n"} {
		conn, err := net.Dial("tcp", ln.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		// The body is announced and never sent: a stub that read it first
		// would wait until the deadline below.
		fmt.Fprintf(conn, "POST %s HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 1000000\r\n%s\r\n", relationsPath("DEMO-1"), auth)
		_ = conn.SetReadDeadline(time.Now().Add(30 * time.Second))
		resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
		if err != nil {
			t.Fatalf("%q: no answer before the body was sent: %v", auth, err)
		}
		if resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("%q: %d, want 401", auth, resp.StatusCode)
		}
		resp.Body.Close()
		conn.Close()
	}
}

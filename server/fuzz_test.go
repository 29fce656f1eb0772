package server_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/osmstub/osmstub/aksk"
	"github.com/osmstub/osmstub/server"
)

// fuzzMethods are the methods FuzzRequest picks from: the contract's, the
// other common ones and a few odd ones.
var fuzzMethods = []string{"GET", "POST", "DELETE", "PUT", "PATCH", "HEAD", "OPTIONS", "TRACE", "CONNECT", "get", "Post", "FOO"}

// wireValue is v as a header value can travel: without control characters
// other than tab, and trimmed, as net/http would read it.
func wireValue(v string) string {
	v = strings.Map(func(r rune) rune {
		if r < 0x20 && r != '\t' || r == 0x7f {
			return -1
		}
		return r
	}, v)
	return strings.Trim(v, " \t")
}

// fuzzRequest builds the request FuzzRequest sends; ok is false when no
// client could send it.
func fuzzRequest(method uint8, caseID, contentType, token, site, lang, authz string, body []byte, sign bool) (*http.Request, bool) {
	path := (&url.URL{Path: relationsPath(caseID)}).EscapedPath()
	u, err := url.ParseRequestURI(path)
	if err != nil {
		return nil, false
	}
	req := &http.Request{
		Method:     fuzzMethods[int(method)%len(fuzzMethods)],
		URL:        u,
		Proto:      "HTTP/1.1",
		ProtoMajor: 1, ProtoMinor: 1,
		Header:        http.Header{},
		Host:          "osm.example.com",
		RequestURI:    u.RequestURI(),
		RemoteAddr:    "192.0.2.1:4711",
		Body:          io.NopCloser(bytes.NewReader(body)),
		ContentLength: int64(len(body)),
	}
	for _, h := range [][2]string{
		{"Content-Type", contentType}, {"X-Auth-Token", token}, {"X-Site", site},
		{"X-Language", lang}, {"Authorization", authz},
	} {
		if h[1] != "" {
			req.Header.Set(h[0], wireValue(h[1]))
		}
	}
	if sign {
		if err := aksk.Sign(req, demoAK, demoSK, clock); err != nil {
			return nil, false
		}
	}
	return req, true
}

// FuzzRequest sends arbitrary requests through the whole stack: nothing
// may panic, nothing may fail with a 5xx, every response must pass the
// contract, no error_msg may show internals, and the state must keep its
// invariants (associations mutual, at most three per ticket).
func FuzzRequest(f *testing.F) {
	create := []byte(`{"related_id_list":["DEMO-2"],"group_id":"team"}`)
	f.Add(uint8(1), "DEMO-1", "application/json", "demo-token", "", "", "", create, false)
	f.Add(uint8(1), "DEMO-1", "application/json", "", "1", "en-us", "", append(create, '\n'), true)
	f.Add(uint8(0), "DEMO-1", "application/json", "teammate-token", "0", "zh-cn", "", []byte(nil), false)
	f.Add(uint8(2), "DEMO-1", "application/json", "demo-token", "", "", "", []byte(`{"related_id":"DEMO-2","group_id":"team"}`), false)
	f.Add(uint8(1), "DEMO-1", "application/json", "demo-token", "", "", "", []byte(`{"related_id_list":"123456","group_id":"123456"}`), false)
	f.Add(uint8(1), "DEMO-1", "application/json", "demo-token", "", "", "", []byte(`{"related_id_list":null,"group_id":"team"}`), false)
	f.Add(uint8(1), "", "application/json", "demo-token", "2", strings.Repeat("l", 33), "", []byte(`{"related_id_list":[1,2,3,4],"x":{}}`), false)
	f.Add(uint8(1), strings.Repeat("C", 65), "text/plain", "demo-token", "abc", "", "", []byte("related_id_list=DEMO-2"), false)
	f.Add(uint8(1), "DEMO-1", "", "outsider-token", "", "", "", []byte(`{"related_id_list":["DEMO-1","OUT-1"],"group_id":"team"}`), false)
	f.Add(uint8(0), "DEMO 1/%2F..", "application/json", "", "", "", "SDK-HMAC-SHA256 Access=DEMOAK0000000000000001, SignedHeaders=x-sdk-date, Signature=00", []byte(nil), false)
	f.Add(uint8(0), "DEMO-1", "", "", "", "", "SDK-HMAC-SHA256 Access=\x00, SignedHeaders=;;, Signature=", []byte(nil), false)
	f.Add(uint8(3), "DEMO-1", "application/json", "demo-token", "", "", "", create, false)
	f.Add(uint8(5), "DEMO-1", "", "demo-token", "", "", "", []byte(nil), false)
	f.Add(uint8(11), "\xff\xfe", "application/json; charset=utf-16", strings.Repeat("t", 5001), "\t1 ", "\u00e9", "", []byte("\xef\xbb\xbf{}"), false)
	f.Add(uint8(1), "DEMO-1", "application/json", "demo-token", "", "", "", []byte(`{"related_id_list":["DEMO-2"],"group_id":"team"`+strings.Repeat(" ", 1<<20)+`}`), false)
	f.Add(uint8(1), "DEMO-1", "application/json", "demo-token", "", "", "", []byte(strings.Repeat("[", 10000)), false)

	f.Fuzz(func(t *testing.T, method uint8, caseID, contentType, token, site, lang, authz string, body []byte, sign bool) {
		req, ok := fuzzRequest(method, caseID, contentType, token, site, lang, authz, body, sign)
		if !ok {
			return
		}
		srv := newServer(t, server.Options{Now: fixedNow})
		// One association to begin with, so deletes and lists find something.
		expectOK(t, srv, tokenReq("demo-token", "POST", "DEMO-3", createBody("team", "DEMO-4", "TEAM-1")))

		status, _, respBody := do(t, srv, req)
		if status >= 500 {
			t.Fatalf("%s %q -> %d %s", req.Method, req.URL.EscapedPath(), status, respBody)
		}
		if status >= 400 || bytes.Contains(respBody, []byte(`"error_code"`)) {
			var e errorBody
			if err := json.Unmarshal(respBody, &e); err != nil || e.Code == nil || *e.Code == "" || e.Msg == nil || *e.Msg == "" {
				t.Fatalf("%s -> %d without a complete error body: %s", req.Method, status, respBody)
			}
			checkNoLeak(t, *e.Msg, string(body), req.URL.String(), contentType, token, site, lang, authz)
		}

		rel := map[string][]string{}
		for _, tk := range snapshot(t, srv.Store()).Tickets {
			rel[tk.ID] = tk.Relations
		}
		for id, rs := range rel {
			if len(rs) > 3 {
				t.Errorf("%s holds %d associations", id, len(rs))
			}
			for _, r := range rs {
				if !slices.Contains(rel[r], id) {
					t.Errorf("%s holds %s, not the other way round", id, r)
				}
			}
		}
	})
}

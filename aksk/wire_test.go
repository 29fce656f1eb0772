package aksk_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/osmstub/osmstub/aksk"
)

// TestOverTheWire signs with Sign on a client and verifies on a real
// net/http server, which sees a decoded path, trimmed header values, Host
// outside req.Header and its own Content-Length.
func TestOverTheWire(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err == nil {
			err = serverVerify(r, body)
		}
		if err == nil {
			err = aksk.CheckDate(r, time.Now(), aksk.DefaultMaxSkew)
		}
		if err != nil {
			http.Error(w, err.Error(), http.StatusUnauthorized)
			return
		}
		io.WriteString(w, "ok")
	}))
	defer srv.Close()

	tests := []struct {
		name, method, path, rawPath, query, body string
		header                                   http.Header
	}{
		{name: "get", method: "GET", path: "/v2/servicerequest/cases/C1/relations",
			header: http.Header{"Content-Type": {"application/json"}, "X-Language": {"en-us"}}},
		{name: "post json", method: "POST", path: "/v2/servicerequest/cases/C1/relations", body: postBody,
			header: http.Header{"Content-Type": {"application/json"}, "X-Site": {"1"}, "User-Agent": {"test/1"}}},
		{name: "escaped case ID", method: "DELETE", path: "/v2/servicerequest/cases/a b+é%2F~;x=y/relations", body: `{"related_id":"C2"}` + "\n"},
		{name: "encoded slash", method: "GET", path: "/v2/cases/a/b", rawPath: "/v2/cases/a%2Fb"},
		{name: "trailing slash", method: "GET", path: "/v2/x/"},
		{name: "query", method: "GET", path: "/v2/q", query: "b=2&a=z&a=&a=y%20y&c&k%7B=1&kk=2&p=a+b"},
		{name: "headers", method: "GET", path: "/v2/h", header: http.Header{
			"X-Padded": {"  two  words \t"}, "X_under": {"v"}, "X-Multi": {"b", " c", "a"},
			"Accept-Encoding": {"identity"}, "X-Empty": {""},
		}},
		{name: "unsigned payload", method: "PUT", path: "/v2/upload", body: "raw\n",
			header: http.Header{"Content-Type": {"text/plain"}}},
	}
	client := srv.Client()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u, _ := url.Parse(srv.URL)
			u.Path, u.RawPath, u.RawQuery = tt.path, tt.rawPath, tt.query
			var body io.Reader
			if tt.body != "" {
				body = io.NopCloser(strings.NewReader(tt.body)) // no GetBody: Sign must restore it
			}
			req, err := http.NewRequest(tt.method, u.String(), body)
			if err != nil {
				t.Fatal(err)
			}
			for k, vs := range tt.header {
				req.Header[k] = vs
			}
			if err := aksk.Sign(req, testAK, testSK, time.Now()); err != nil {
				t.Fatal(err)
			}
			resp, err := client.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			msg, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("%s %s: %d %s", tt.method, u.RequestURI(), resp.StatusCode, msg)
			}
		})
	}
}

// An empty body read to sign is put back as http.NoBody, which net/http
// sends with Content-Length: 0 rather than as a body of unknown length.
func TestSignEmptyBodyIsNoBody(t *testing.T) {
	req, _ := http.NewRequest("POST", "http://x/v2", io.NopCloser(strings.NewReader("")))
	if err := aksk.Sign(req, testAK, testSK, testNow); err != nil {
		t.Fatal(err)
	}
	again, _ := req.GetBody()
	if req.Body != http.NoBody || again != http.NoBody || req.ContentLength != 0 {
		t.Errorf("Body %v, GetBody %v, ContentLength %d; want http.NoBody twice and 0", req.Body, again, req.ContentLength)
	}
}

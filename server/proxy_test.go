package server_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/osmstub/osmstub/internal/cassette"
	"github.com/osmstub/osmstub/internal/fixtures"
	"github.com/osmstub/osmstub/internal/violation"
	"github.com/osmstub/osmstub/server"
	"github.com/osmstub/osmstub/server/store"
)

const (
	codeBackend = "APIGW.0201"
	proxyAK     = "PROXYAK00000000000001"
	proxySK     = "proxy-secret-key"
	// The operator's credential for the proxy's callers.
	callerAK    = "CALLERAK000000000001"
	callerSK    = "caller-secret-key-0001"
	callerToken = "caller-token-0123456789"
)

// operatorProxy is a proxy to u that signs with the proxy's key and
// serves the operator's caller credential.
func operatorProxy(t *testing.T, u *url.URL, more ...func(*server.Options)) *server.Server {
	t.Helper()
	opts := server.Options{Upstream: u, UpstreamKey: &server.UpstreamKey{AK: proxyAK, SK: proxySK},
		ProxyCaller: &server.ProxyCaller{AK: callerAK, SK: callerSK, Token: callerToken}}
	for _, f := range more {
		f(&opts)
	}
	return proxyServer(t, opts)
}

// upstreamServer serves h on 127.0.0.1 for the test and counts the
// requests it gets.
func upstreamServer(t *testing.T, h http.Handler) (*url.URL, *atomic.Int64) {
	t.Helper()
	var n atomic.Int64
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		h.ServeHTTP(w, r)
	}))
	t.Cleanup(ts.Close)
	u, err := url.Parse(ts.URL)
	if err != nil {
		t.Fatal(err)
	}
	return u, &n
}

// upstreamStub is a stub upstream whose demo user signs only with the
// proxy's key and knows one more token, upstream-token.
func upstreamStub(t *testing.T) (*server.Server, *url.URL, *atomic.Int64) {
	t.Helper()
	d := fixtures.Demo()
	for i := range d.Users {
		if d.Users[i].Name == "demo" {
			d.Users[i].Keys = []store.AccessKey{{AK: proxyAK, SK: proxySK}}
			d.Users[i].Tokens = append(d.Users[i].Tokens, "upstream-token")
		}
	}
	up := newServer(t, server.Options{Fixtures: &d, Now: fixedNow})
	u, n := upstreamServer(t, up)
	return up, u, n
}

func proxyServer(t *testing.T, opts server.Options) *server.Server {
	t.Helper()
	if opts.Now == nil {
		opts.Now = fixedNow
	}
	return newServer(t, opts)
}

func violations(t *testing.T, srv *server.Server) []violation.Violation {
	t.Helper()
	vs, total := srv.Violations()
	if total != len(vs) {
		t.Errorf("total %d, kept %d", total, len(vs))
	}
	return vs
}

// TestProxyForwardsToAStub: a proxy in front of a stub answers as the
// stub does, changes the upstream's state and not its own, and sees no
// violation.
func TestProxyForwardsToAStub(t *testing.T) {
	up, u, calls := upstreamStub(t)
	p := operatorProxy(t, u)

	expectOK(t, p, tokenReq(callerToken, http.MethodPost, "DEMO-1", `{"related_id_list":["DEMO-2"]}`))
	status, header, body := do(t, p, tokenReq(callerToken, http.MethodGet, "DEMO-1", ""))
	if status != http.StatusOK || !strings.Contains(string(body), `"case_id":"DEMO-2"`) {
		t.Fatalf("list through the proxy: %d %s", status, body)
	}
	if header.Get("X-Request-Id") == "" {
		t.Error("the upstream's X-Request-Id was not passed on")
	}
	if got, _ := up.Relations(t.Context(), "DEMO-1"); !slices.Equal(got, []string{"DEMO-2"}) {
		t.Errorf("upstream relations of DEMO-1 = %v, want [DEMO-2]", got)
	}
	if got, _ := p.Relations(t.Context(), "DEMO-1"); len(got) != 0 {
		t.Errorf("the proxy's own store changed: %v", got)
	}
	if n := calls.Load(); n != 2 {
		t.Errorf("upstream calls = %d, want 2", n)
	}
	if vs := violations(t, p); len(vs) != 0 {
		t.Errorf("violations against a stub: %v", vs)
	}

	// An invalid request is refused by the proxy, never forwarded, and
	// listed as a request violation.
	status, _, body = do(t, p, tokenReq(callerToken, http.MethodPost, "DEMO-1", `{"related_id_list":["DEMO-2","DEMO-3","DEMO-4","DEMO-5"]}`))
	if status != http.StatusBadRequest {
		t.Fatalf("invalid request: %d %s", status, body)
	}
	if n := calls.Load(); n != 2 {
		t.Errorf("an invalid request reached the upstream (%d calls)", n)
	}
	vs := violations(t, p)
	if len(vs) != 1 || vs[0].Direction != violation.Request || vs[0].In != violation.InBody || vs[0].Pointer != "/related_id_list" || vs[0].Operation != "CreateRelations" {
		t.Errorf("request violations = %+v, want one at body /related_id_list", vs)
	}
}

// TestProxyCredentials: the proxy signs with the operator's real key, so
// it serves only the caller credential the operator configured. The
// fixtures' credentials (public demo data) are refused unless the
// operator opts in, and tokens the stub cannot verify are refused unless
// they are passed on, unverified and never signed again.
func TestProxyCredentials(t *testing.T) {
	_, u, calls := upstreamStub(t)
	operator := operatorProxy(t, u)
	unsafeDemo := operatorProxy(t, u, func(o *server.Options) { o.ProxyUnsafeFixtureCredentials = true })
	passing := operatorProxy(t, u, func(o *server.Options) { o.ProxyPassTokens = true })
	noKey := proxyServer(t, server.Options{Upstream: u, ProxyCaller: &server.ProxyCaller{Token: callerToken}})

	// The caller's own signature means nothing upstream.
	direct := signed(t, http.MethodGet, "DEMO-1", "")
	if res, err := http.DefaultClient.Do(withURL(t, direct, u)); err != nil {
		t.Fatal(err)
	} else if res.Body.Close(); res.StatusCode != http.StatusUnauthorized {
		t.Fatalf("the upstream accepted the caller's key: %d", res.StatusCode)
	}

	callerSigned := func(method, body string, headers ...string) *http.Request {
		return signedWith(t, callerAK, callerSK, clock, method, "DEMO-1", body, headers...)
	}
	tests := []struct {
		name     string
		srv      *server.Server
		req      *http.Request
		status   int
		code     string
		upstream bool // reaches the upstream
	}{
		{"the operator's token", operator, tokenReq(callerToken, http.MethodGet, "DEMO-1", ""), http.StatusOK, "", true},
		{"signed by the operator's caller key", operator, callerSigned(http.MethodGet, ""), http.StatusOK, "", true},
		{"signed create by the caller key, any domain, body signed again", operator, callerSigned(http.MethodPost, `{"related_id_list":["DEMO-3"]}`, "X-Domain-Id", "some-domain"), http.StatusOK, "", true},
		{"caller key, wrong secret", operator, signedWith(t, callerAK, "wrong-secret-key-0001", clock, http.MethodGet, "DEMO-1", ""), http.StatusUnauthorized, codeUnauthorized, false},
		{"the operator's token from another host", operator, tokenReq(callerToken, http.MethodGet, "DEMO-1", "", "Host", "stub.example:8080"), http.StatusOK, "", true},
		{"the operator's token from a web page", operator, tokenReq(callerToken, http.MethodGet, "DEMO-1", "", "Origin", "http://evil.example"), http.StatusForbidden, codeForbidden, false},
		{"the demo key: public, refused", operator, signed(t, http.MethodGet, "DEMO-1", ""), http.StatusUnauthorized, codeUnauthorized, false},
		{"the demo key's create: refused", operator, signed(t, http.MethodPost, "DEMO-1", `{"related_id_list":["DEMO-3"]}`), http.StatusUnauthorized, codeUnauthorized, false},
		{"the demo token: refused", operator, tokenReq("demo-token", http.MethodGet, "DEMO-1", ""), http.StatusUnauthorized, codeUnauthorized, false},
		{"a token the upstream knows: not passed by default", operator, tokenReq("upstream-token", http.MethodGet, "DEMO-1", ""), http.StatusUnauthorized, codeUnauthorized, false},
		{"signed by a key nobody knows", operator, signedWith(t, "NOPEAK", "nope", clock, http.MethodGet, "DEMO-1", ""), http.StatusUnauthorized, codeUnauthorized, false},
		{"the demo key, opted in", unsafeDemo, signed(t, http.MethodGet, "DEMO-1", ""), http.StatusOK, "", true},
		{"the demo token, opted in: signed again", unsafeDemo, tokenReq("demo-token", http.MethodGet, "DEMO-1", ""), http.StatusOK, "", true},
		{"the demo key, opted in, rebound Host", unsafeDemo, signed(t, http.MethodGet, "DEMO-1", "", "Host", "rebind.example:8080"), http.StatusForbidden, codeForbidden, false},
		{"the demo token, opted in, cross-site fetch", unsafeDemo, tokenReq("demo-token", http.MethodGet, "DEMO-1", "", "Sec-Fetch-Site", "cross-site"), http.StatusForbidden, codeForbidden, false},
		{"passed token the upstream knows", passing, tokenReq("upstream-token", http.MethodGet, "DEMO-1", ""), http.StatusOK, "", true},
		{"passed token nobody knows: the upstream's 401", passing, tokenReq("nobody-token", http.MethodGet, "DEMO-1", ""), http.StatusUnauthorized, codeUnauthorized, true},
		{"passed token, rebound Host", passing, tokenReq("upstream-token", http.MethodGet, "DEMO-1", "", "Host", "rebind.example"), http.StatusForbidden, codeForbidden, false},
		{"passed demo token: not signed again", passing, tokenReq("demo-token", http.MethodPost, "DEMO-1", `{"related_id_list":["DEMO-4"]}`), http.StatusOK, "", true},
		{"the demo key with pass-tokens: refused", passing, signed(t, http.MethodGet, "DEMO-1", ""), http.StatusUnauthorized, codeUnauthorized, false},
		{"the operator's token, proxy without a key", noKey, tokenReq(callerToken, http.MethodGet, "DEMO-1", ""), http.StatusUnauthorized, codeUnauthorized, false},
		{"no credential", operator, newReq(http.MethodGet, relationsPath("DEMO-1"), ""), http.StatusUnauthorized, codeUnauthorized, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := calls.Load()
			status, _, body := do(t, tt.srv, tt.req)
			if status != tt.status {
				t.Fatalf("%d %s, want %d", status, body, tt.status)
			}
			if tt.code != "" {
				if code, _ := decodeError(t, body); code != tt.code {
					t.Errorf("code %s, want %s", code, tt.code)
				}
			} else if bytes.Contains(body, []byte("error_code")) {
				t.Errorf("refused: %s", body)
			}
			if reached := calls.Load() > before; reached != tt.upstream {
				t.Errorf("reached the upstream: %v, want %v", reached, tt.upstream)
			}
		})
	}
}

// TestProxyRefusesBeforeTheBody: a caller the proxy will not serve never
// gets its body read: the refusal comes from the headers alone.
func TestProxyRefusesBeforeTheBody(t *testing.T) {
	_, u, _ := upstreamStub(t)
	p := operatorProxy(t, u)
	for _, req := range []*http.Request{
		tokenReq("demo-token", http.MethodPost, "DEMO-1", `{"related_id_list":["DEMO-3"]}`),
		tokenReq("upstream-token", http.MethodPost, "DEMO-1", `{"related_id_list":["DEMO-3"]}`),
		signed(t, http.MethodPost, "DEMO-1", `{"related_id_list":["DEMO-3"]}`),
	} {
		body := &countingBody{r: strings.NewReader(`{"related_id_list":["DEMO-3"]}`)}
		req.Body = body
		if status, _, b := do(t, p, req); status != http.StatusUnauthorized {
			t.Errorf("%d %s, want 401", status, b)
		}
		if body.n != 0 {
			t.Errorf("%d bytes of the refused caller's body were read", body.n)
		}
	}
}

type countingBody struct {
	r io.Reader
	n int
}

func (b *countingBody) Read(p []byte) (int, error) {
	n, err := b.r.Read(p)
	b.n += n
	return n, err
}

func (b *countingBody) Close() error { return nil }

// TestProxyHeaders: the proxy forwards neither the hop-by-hop headers nor
// those of the caller's side of the connection (cookies, forwarding
// headers it did not set, the caller's credential), and passes back
// neither cookies nor CORS grants of the upstream.
func TestProxyHeaders(t *testing.T) {
	var got http.Header
	u, _ := upstreamServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = r.Header.Clone()
		h := w.Header()
		h.Set("Content-Type", "application/json")
		h.Set("X-Request-Id", "u1")
		h.Set("Set-Cookie", "session=upstream")
		h.Set("Access-Control-Allow-Origin", "*")
		h.Set("Access-Control-Allow-Credentials", "true")
		h.Set("Connection", "X-Upstream-Hop")
		h.Set("X-Upstream-Hop", "1")
		h.Set("X-Kept", "yes")
		_, _ = w.Write([]byte(`{"case_relation_list":[]}`))
	}))
	p := operatorProxy(t, u)
	req := tokenReq(callerToken, http.MethodGet, "DEMO-1", "",
		"Cookie", "console=secret", "X-Forwarded-For", "10.0.0.1", "X-Forwarded-Host", "evil.example",
		"Forwarded", "for=10.0.0.1", "X-Real-Ip", "10.0.0.1", "Connection", "X-Caller-Hop", "X-Caller-Hop", "1",
		"Proxy-Authorization", "Basic eDp5", "X-Caller-Kept", "yes")
	status, header, body := do(t, p, req)
	if status != http.StatusOK {
		t.Fatalf("%d %s", status, body)
	}
	for _, name := range []string{"Cookie", "X-Forwarded-For", "X-Forwarded-Host", "Forwarded", "X-Real-Ip", "X-Caller-Hop", "Proxy-Authorization", "X-Auth-Token"} {
		if v := got.Get(name); v != "" {
			t.Errorf("forwarded %s: %q", name, v)
		}
	}
	if got.Get("X-Caller-Kept") != "yes" || !strings.HasPrefix(got.Get("Authorization"), "SDK-HMAC-SHA256 Access="+proxyAK) {
		t.Errorf("forwarded headers lack X-Caller-Kept or the proxy's signature: %v", got)
	}
	for _, name := range []string{"Set-Cookie", "Access-Control-Allow-Origin", "Access-Control-Allow-Credentials", "X-Upstream-Hop"} {
		if v := header.Get(name); v != "" {
			t.Errorf("passed back %s: %q", name, v)
		}
	}
	if header.Get("X-Kept") != "yes" || header.Get("X-Request-Id") != "u1" {
		t.Errorf("answer headers = %v", header)
	}
}

// withURL points req at u, keeping its path.
func withURL(t *testing.T, req *http.Request, u *url.URL) *http.Request {
	t.Helper()
	out := req.Clone(t.Context())
	out.RequestURI = ""
	out.URL.Scheme, out.URL.Host, out.Host = u.Scheme, u.Host, u.Host
	return out
}

// TestProxyReportsViolations: a deliberately non-conforming upstream;
// each broken rule is reported exactly once with its pointer, and the
// answer is passed on unchanged (or, with Strict, refused with 502).
func TestProxyReportsViolations(t *testing.T) {
	long := strings.Repeat("x", 300)
	tests := []struct {
		name    string
		method  string
		status  int
		header  map[string]string // X-Request-Id and Content-Type are set unless named with ""
		body    string
		in, ptr string
		rule    string
	}{
		{"extra field", http.MethodGet, 200, nil, `{"case_relation_list":[],"extra":1}`, "body", "/extra", violation.NewField},
		{"extra nested field", http.MethodGet, 200, nil, `{"case_relation_list":[{"case_id":"A","simple_description":"d","user_name":"u","color":"red"}]}`, "body", "/case_relation_list/0/color", violation.NewField},
		{"missing error_msg", http.MethodGet, 400, nil, `{"error_code":"OSM.0001"}`, "body", "/error_msg", "is required in an error body"},
		{"wrong type", http.MethodGet, 200, nil, `{"case_relation_list":"DEMO-2"}`, "body", "/case_relation_list", "must be an array"},
		{"too-long message", http.MethodPost, 200, nil, `{"error_code":"OSM.01010043","error_msg":"` + long + `"}`, "body", "/error_msg", "maximum string length is 256"},
		{"no X-Request-Id", http.MethodGet, 200, map[string]string{"X-Request-Id": ""}, `{"case_relation_list":[]}`, "header", "/X-Request-Id", "is required"},
		{"unknown status", http.MethodGet, 418, nil, `{"error_code":"X","error_msg":"teapot"}`, "status", "", "418 is not a status the contract declares for ListRelation"},
		{"not JSON", http.MethodGet, 200, nil, `<html>`, "body", "", "is not valid JSON"},
		{"wrong media type", http.MethodGet, 200, map[string]string{"Content-Type": "text/plain"}, `{"case_relation_list":[]}`, "header", "/Content-Type", "must be application/json"},
		{"a list and an error_code", http.MethodGet, 200, nil, `{"case_relation_list":[],"error_code":"OSM.01010002","error_msg":"No operation permission."}`, "body", "", "a 200 body is a success (case_relation_list, no error_code or error_msg) or a refusal (error_code and error_msg, no case_relation_list)"},
		{"a contract-generated refusal", http.MethodPost, 200, nil, `{"error_code":"EQUYI"}`, "body", "", "a 200 body is a success (no error_code, no error_msg) or a refusal (error_code and error_msg)"},
		{"Retry-After not a number", http.MethodGet, 503, map[string]string{"Retry-After": "soon"}, `{"error_code":"APIGW.0202","error_msg":"Backend unavailable."}`, "header", "/Retry-After", "must be a number"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u, _ := upstreamServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				h := map[string]string{"X-Request-Id": "upstream-id-1", "Content-Type": "application/json"}
				for k, v := range tt.header {
					h[k] = v
				}
				for k, v := range h {
					if v != "" {
						w.Header().Set(k, v)
					}
				}
				w.WriteHeader(tt.status)
				_, _ = w.Write([]byte(tt.body))
			}))
			body := ""
			if tt.method == http.MethodPost {
				body = `{"related_id_list":["DEMO-2"]}`
			}
			for _, strict := range []bool{false, true} {
				p := proxyServer(t, server.Options{Upstream: u, Strict: strict, ProxyPassTokens: true})
				rec := httptest.NewRecorder()
				p.ServeHTTP(rec, tokenReq("any-token", tt.method, "DEMO-1", body))
				vs := violations(t, p)
				if len(vs) != 1 {
					t.Fatalf("strict=%v: %d violations, want 1: %+v", strict, len(vs), vs)
				}
				v := vs[0]
				if v.In != tt.in || v.Pointer != tt.ptr || v.Rule != tt.rule || v.Direction != violation.Response || v.RequestID == "" {
					t.Errorf("violation = %+v, want %s %q %q", v, tt.in, tt.ptr, tt.rule)
				}
				if id, named := tt.header["X-Request-Id"]; (!named || id != "") && v.UpstreamRequestID != "upstream-id-1" {
					t.Errorf("upstream_request_id = %q, want upstream-id-1", v.UpstreamRequestID)
				}
				if !strict {
					if rec.Code != tt.status || rec.Body.String() != tt.body {
						t.Errorf("passed on %d %s, want the upstream's %d %s", rec.Code, rec.Body, tt.status, tt.body)
					}
					continue
				}
				code, msg := decodeError(t, rec.Body.Bytes())
				if rec.Code != http.StatusBadGateway || code != codeBackend || !strings.Contains(msg, tt.rule) {
					t.Errorf("strict: %d %s %q, want 502 %s naming the rule", rec.Code, code, msg, codeBackend)
				}
				checkResponse(t, tokenReq("any-token", tt.method, "DEMO-1", body), rec.Code, rec.Result().Header, rec.Body.Bytes())
			}
		})
	}
}

// TestProxyUpstreamFailures: a slow upstream is a 504 once the timeout
// passes, a dead one or one whose TLS certificate is not trusted a 502,
// and a redirect is passed on, not followed.
func TestProxyUpstreamFailures(t *testing.T) {
	release := make(chan struct{})
	slow, _ := upstreamServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select { // until the proxy gives up (or the test ends)
		case <-r.Context().Done():
		case <-release:
		}
	}))
	t.Cleanup(func() { close(release) })

	deadTS := httptest.NewServer(http.NotFoundHandler())
	dead, _ := url.Parse(deadTS.URL)
	deadTS.Close()

	tlsTS := httptest.NewUnstartedServer(http.NotFoundHandler())
	tlsTS.Config.ErrorLog = log.New(io.Discard, "", 0) // the refused handshake
	tlsTS.StartTLS()
	t.Cleanup(tlsTS.Close)
	tlsURL, _ := url.Parse(tlsTS.URL)

	other, otherCalls := upstreamServer(t, http.NotFoundHandler())
	redirect, _ := upstreamServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Request-Id", "r1")
		http.Redirect(w, r, other.String()+r.URL.Path, http.StatusFound)
	}))

	tests := []struct {
		name    string
		u       *url.URL
		timeout time.Duration
		status  int
		msg     string
	}{
		{"slow", slow, 50 * time.Millisecond, http.StatusGatewayTimeout, "Backend timeout."},
		{"dead", dead, time.Minute, http.StatusBadGateway, "Backend unavailable."},
		{"untrusted TLS certificate", tlsURL, time.Minute, http.StatusBadGateway, "certificate"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := proxyServer(t, server.Options{Upstream: tt.u, UpstreamTimeout: tt.timeout, ProxyPassTokens: true})
			status, header, body := do(t, p, tokenReq("any-token", http.MethodGet, "DEMO-1", ""))
			code, msg := decodeError(t, body)
			if status != tt.status || code != codeBackend || !strings.Contains(msg, tt.msg) {
				t.Errorf("%d %s %q, want %d %s containing %q", status, code, msg, tt.status, codeBackend, tt.msg)
			}
			if id := requestIDOf(t, body); id == "" || id != header.Get("X-Request-Id") {
				t.Errorf("request_id %q, X-Request-Id %q", id, header.Get("X-Request-Id"))
			}
		})
	}
	t.Run("redirect", func(t *testing.T) {
		p := proxyServer(t, server.Options{Upstream: redirect, ProxyPassTokens: true})
		rec := httptest.NewRecorder()
		p.ServeHTTP(rec, tokenReq("any-token", http.MethodGet, "DEMO-1", ""))
		if rec.Code != http.StatusFound || otherCalls.Load() != 0 {
			t.Errorf("%d, %d calls to the other host: want the 302 passed on and no call", rec.Code, otherCalls.Load())
		}
		if vs := violations(t, p); len(vs) != 1 || vs[0].In != violation.InStatus {
			t.Errorf("violations = %+v, want the undeclared status", vs)
		}
	})
}

// TestViolationsControlAPI lists and clears the violations over HTTP.
func TestViolationsControlAPI(t *testing.T) {
	u, _ := upstreamServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("X-Request-Id", "u1")
		_, _ = w.Write([]byte(`{"case_relation_list":[],"token":"not-listed"}`))
	}))
	p := proxyServer(t, server.Options{Upstream: u, ProxyPassTokens: true})
	p.ServeHTTP(httptest.NewRecorder(), tokenReq("secret-token-value", http.MethodGet, "DEMO-1", "")) // not do: the answer has a new field
	res := ctlDo(t, p, http.MethodGet, "/_stub/violations", "")
	var got struct {
		Total      int                   `json:"total"`
		Violations []violation.Violation `json:"violations"`
	}
	if err := json.Unmarshal(res.body, &got); err != nil || res.status != http.StatusOK {
		t.Fatalf("%d %s: %v", res.status, res.body, err)
	}
	if got.Total != 1 || len(got.Violations) != 1 || got.Violations[0].Pointer != "/token" || got.Violations[0].Value != `"not-listed"` {
		t.Errorf("GET /_stub/violations = %s", res.body)
	}
	if strings.Contains(string(res.body), "secret-token-value") {
		t.Error("a token reached the violations")
	}
	ctlOK(t, p, http.MethodDelete, "/_stub/violations", "")
	if vs, total := p.Violations(); len(vs) != 0 || total != 0 {
		t.Errorf("after DELETE: %d kept, total %d", len(vs), total)
	}
}

// TestReplayServesWebPages: a replay reaches nothing real, so the proxy's
// exposure rules do not apply to it: a request a browser sends cross-site
// is answered from the cassette like any other (it was once answered
// with an empty 200).
func TestReplayServesWebPages(t *testing.T) {
	xs := []cassette.Exchange{{Operation: "ListRelation",
		Request:  cassette.Request{Method: http.MethodGet, Path: relationsPath("DEMO-1")},
		Response: cassette.Response{Status: http.StatusOK, Header: http.Header{"Content-Type": {"application/json"}, "X-Request-Id": {"r1"}}, Body: []byte(`{"case_relation_list":[]}`)}}}
	r := proxyServer(t, server.Options{Replay: cassette.NewPlayer(xs, cassette.DefaultMatch)})
	status, _, body := do(t, r, tokenReq("any-token", http.MethodGet, "DEMO-1", "", "Origin", "http://page.example", "Sec-Fetch-Site", "cross-site"))
	if status != http.StatusOK || string(body) != `{"case_relation_list":[]}` {
		t.Errorf("%d %q, want the recorded answer", status, body)
	}
}

// TestProxyCallerCheck: server.New refuses a caller credential a guesser
// could find, and the error shows no secret.
func TestProxyCallerCheck(t *testing.T) {
	u, _ := upstreamServer(t, http.NotFoundHandler())
	for _, tt := range []struct {
		c  server.ProxyCaller
		ok bool
	}{
		{server.ProxyCaller{Token: callerToken}, true},
		{server.ProxyCaller{AK: callerAK, SK: callerSK}, true},
		{server.ProxyCaller{Token: "short-secret"}, false},
		{server.ProxyCaller{Token: "  short-secret  "}, false}, // 16 with the spaces no header carries
		{server.ProxyCaller{AK: callerAK, SK: "short-secret"}, false},
		{server.ProxyCaller{SK: callerSK}, false},
		{server.ProxyCaller{Token: " " + callerToken}, false},
	} {
		c := tt.c
		_, err := server.New(server.Options{Upstream: u, ProxyCaller: &c})
		if tt.ok != (err == nil) || err != nil && !errors.Is(err, server.ErrWeakProxyCaller) {
			t.Errorf("%+v: %v, want ok=%v or ErrWeakProxyCaller", tt.c, err, tt.ok)
		}
		if err != nil && (strings.Contains(err.Error(), "short-secret") || strings.Contains(err.Error(), callerSK)) {
			t.Errorf("the error shows a secret: %v", err)
		}
	}
}
